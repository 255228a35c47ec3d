#!/usr/bin/env bash
# Boots the lab guest in QEMU with TCG (no VT-x needed, ~5 s to /init), shows its console and
# stops once the guest has printed GUEST-HEARTBEAT n=3 (so every GUEST-* line of the boot,
# and the GUEST-TRUTH block of its containers, is there), or after a timeout. Optionally
# dumps guest memory (ELF with CPU state) first, for the introspection tests on the host
# (tools/lab/make-dump.sh does that and keeps the guest's truth beside the dump).
#
# usage: run-qemu.sh [--build DIR] [--dump FILE [--dump-paged FILE2]] [--timeout SEC] [--uefi DISK]
#                    [--append ARGS] [--until REGEX] [--logs LOGDIR] [--mem MB] [--quiet]
#   --build DIR     lab files from DIR/lab (default build; see build-lab.sh)
#   --dump FILE     once the guest got there, `dump-guest-memory` to FILE (QEMU's ELF
#                   format: the guest's RAM plus one note per vCPU with its registers)
#   --dump-paged FILE2  also the same memory (the guest stopped between) with paging:
#                   virtual addresses too, for drgn (make bench)
#   --timeout SEC   give up after SEC seconds of wall time (default 180)
#   --uefi DISK     boot DISK (e.g. DIR/lab/disk-bare.img) with OVMF instead of -kernel:
#                   checks the disk image and its startup.nsh (much slower under TCG)
#   --append ARGS   more kernel command line after the lab's (e.g. lab.spawn=1000); not
#                   with --uefi (the disk's startup.nsh has its own)
#   --until REGEX   stop at the first console line matching REGEX (grep -E) instead of
#                   "GUEST-HEARTBEAT n=3 "
#   --logs LOGDIR   where the logs below go (default DIR/lab), so runs can overlap
#   --mem MB        guest RAM (default 1024; the lab under Bochs has 1024 too)
#   --quiet         do not copy the console to stdout
# Exit status: 0 line seen, 1 timeout or QEMU ended first, 2 usage.
# The console is also kept in LOGDIR/qemu-console.log; what the guest wrote to COM2 (its
# lab-probe com2 bytes: in QEMU nobody intercepts them) in LOGDIR/qemu-com2.log; QEMU's
# own messages in LOGDIR/qemu-stderr.log.
#
# QEMU's TCG has no VMX, so this runs the guest without the monitor. On a machine with
# VT-x and KVM (bare metal, or a VM with nested virtualization: kvm_intel nested=1), the
# whole stack, monitor included, boots like this (not possible on the build machines):
#
#   qemu-system-x86_64 -enable-kvm -cpu host -m 1024 -smp 1 \
#       -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd \
#       -drive if=pflash,format=raw,file=OVMF_VARS.fd   (a writable copy of OVMF_VARS.fd) \
#       -drive file=DIR/lab/disk.img,format=raw,if=ide \
#       -display none -net none -serial file:console.log \
#       -serial unix:/tmp/hvcon,server=on,wait=off
#
# The first serial port is the guest console (COM1), the second the monitor's console (COM2,
# reach it with `hvctl --console` on a pty bridged by socat, or use -serial pty directly).
# The disk has no \EFI\BOOT\BOOTX64.EFI: OVMF falls back to its shell, which runs the
# disk's startup.nsh (labacpi.efi, which leaves QEMU's own ACPI tables alone, then
# hvboot.efi); -net none spares the network boot attempts before the shell. `-cpu host`
# passes VMX through, which hvboot.efi needs.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '/^# usage:/,/^# Exit status/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

parse_build_arg "$@"
DUMP=
DUMP_PAGED=
TIMEOUT=180
UEFI_DISK=
APPEND=
UNTIL='GUEST-HEARTBEAT n=3 '
LOGS=$LAB_DIR
QUIET=no
MEM=1024
set -- "${LAB_ARGS[@]+"${LAB_ARGS[@]}"}"
while [ $# -gt 0 ]; do
    case "$1" in
    --dump)
        [ $# -ge 2 ] || usage
        DUMP=$2
        shift 2
        ;;
    --dump-paged)
        [ $# -ge 2 ] || usage
        DUMP_PAGED=$2
        shift 2
        ;;
    --timeout)
        [ $# -ge 2 ] || usage
        TIMEOUT=$2
        shift 2
        ;;
    --uefi)
        [ $# -ge 2 ] || usage
        UEFI_DISK=$2
        shift 2
        ;;
    --append)
        [ $# -ge 2 ] || usage
        APPEND=$2
        shift 2
        ;;
    --until)
        [ $# -ge 2 ] || usage
        [ -n "$2" ] || usage
        UNTIL=$2
        shift 2
        ;;
    --logs)
        [ $# -ge 2 ] || usage
        LOGS=$2
        shift 2
        ;;
    --mem)
        [ $# -ge 2 ] || usage
        MEM=$2
        shift 2
        ;;
    --quiet)
        QUIET=yes
        shift
        ;;
    -h | --help) usage ;;
    *)
        echo "${0##*/}: unknown argument: $1" >&2
        usage
        ;;
    esac
done
case "$TIMEOUT" in '' | *[!0-9]*) die "--timeout needs whole seconds" ;; esac
case "$MEM" in '' | *[!0-9]*) die "--mem needs whole MiB" ;; esac
[ "$((10#$MEM))" -ge 256 ] && [ "$((10#$MEM))" -le 16384 ] || die "--mem: 256 to 16384 MiB"
[ -z "$APPEND" ] || [ -z "$UEFI_DISK" ] || die "--append does not work with --uefi"
mkdir -p "$LOGS" || die "cannot create $LOGS"

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run tools/deps.sh)"
VMLINUZ=$LAB_DIR/vmlinuz
INITRD=$LAB_DIR/initrd.img
CONSOLE_LOG=$LOGS/qemu-console.log
COM2_LOG=$LOGS/qemu-com2.log
QEMU_LOG=$LOGS/qemu-stderr.log
QMP_SOCK=$LOGS/qemu-qmp.sock
# A unix socket path must fit in sun_path (108 bytes): fall back to a private directory.
QMP_DIR=
if [ ${#QMP_SOCK} -gt 100 ]; then
    QMP_DIR=$(mktemp -d)
    QMP_SOCK=$QMP_DIR/qmp.sock
fi
OVMF=/usr/share/ovmf/OVMF.fd

if [ -n "$UEFI_DISK" ]; then
    [ -s "$UEFI_DISK" ] || die "$UEFI_DISK missing (run tools/lab/build-lab.sh)"
    [ -s "$OVMF" ] || die "$OVMF missing (package ovmf)"
    # A snapshot: QEMU must not write to the image another runner may be using.
    BOOT=(-bios "$OVMF" -drive "file=$UEFI_DISK,format=raw,if=ide,snapshot=on")
else
    for f in "$VMLINUZ" "$INITRD"; do
        [ -s "$f" ] || die "$f missing (run tools/lab/build-lab.sh)"
    done
    BOOT=(-kernel "$VMLINUZ" -initrd "$INITRD" -append "$LAB_CMDLINE${APPEND:+ $APPEND}")
fi
if [ -n "$DUMP" ]; then
    mkdir -p "$(dirname "$DUMP")"
    DUMP=$(cd "$(dirname "$DUMP")" && pwd)/$(basename "$DUMP")
fi

# qemu64, not max: TCG's max offers LA57, and a guest on 5-level paging would not look like
# the one under Bochs (corei7_haswell_4770) that the introspection code is written for.
# pc (i440fx) like the Bochs machine; a second UART so the guest sees a real COM2 at 0x2f8.
# vmcoreinfo: a guest that loads qemu_fw_cfg (lab.vmcoreinfo=1) hands it its VMCOREINFO,
# which dump-guest-memory writes into the dump as a note (make-dump.sh).
: >"$CONSOLE_LOG"
: >"$COM2_LOG"
rm -f "$QMP_SOCK"
qemu-system-x86_64 -accel tcg -machine pc -cpu qemu64 -m "$((10#$MEM))" -smp 1 \
    "${BOOT[@]}" \
    -display none -no-reboot \
    -serial "file:$CONSOLE_LOG" -serial "file:$COM2_LOG" \
    -qmp "unix:$QMP_SOCK,server=on,wait=off" \
    -device vmcoreinfo -net none 2>"$QEMU_LOG" &
QEMU_PID=$!
TAIL_PID=

cleanup() {
    [ -z "$TAIL_PID" ] || kill "$TAIL_PID" 2>/dev/null || true
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        kill "$QEMU_PID" 2>/dev/null || true
        wait "$QEMU_PID" 2>/dev/null || true
    fi
    rm -f "$QMP_SOCK"
    [ -z "$QMP_DIR" ] || rm -rf "$QMP_DIR"
}
trap cleanup EXIT

if [ "$QUIET" = no ]; then
    tail -n +1 -f "$CONSOLE_LOG" &
    TAIL_PID=$!
fi

# dump_memory FILE [PAGED]: QMP dump-guest-memory, synchronous (detach=false), so QEMU has
# written the whole file when the command returns; the guest is stopped first, so PAGED (the
# same memory dumped with paging, for drgn) holds what FILE holds. QMP needs its capabilities
# handshake first.
dump_memory() {
    python3 - "$QMP_SOCK" "$@" <<'EOF'
import json, socket, sys

sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
stream = sock.makefile("rw")

def command(name, **arguments):
    stream.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
    stream.flush()
    for line in stream:
        reply = json.loads(line)
        if "return" in reply:
            return
        if "error" in reply:
            sys.exit("dump-guest-memory: %s" % reply["error"]["desc"])
    sys.exit("dump-guest-memory: QEMU closed the QMP socket")

json.loads(stream.readline())  # the greeting
command("qmp_capabilities")
command("stop")  # the same memory in both dumps
command("dump-guest-memory", paging=False, protocol="file:" + sys.argv[2])
if len(sys.argv) > 3:
    command("dump-guest-memory", paging=True, protocol="file:" + sys.argv[3])
EOF
}

status=1
deadline=$((SECONDS + TIMEOUT))
while [ $SECONDS -lt $deadline ]; do
    if grep -Eq -- "$UNTIL" "$CONSOLE_LOG"; then
        status=0
        break
    fi
    if ! kill -0 "$QEMU_PID" 2>/dev/null; then
        break
    fi
    sleep 0.5
done
if [ -n "$TAIL_PID" ]; then
    sleep 0.2 # let tail print the last line before we stop it
    kill "$TAIL_PID" 2>/dev/null || true
    wait "$TAIL_PID" 2>/dev/null || true
    TAIL_PID=
fi

if [ $status -ne 0 ]; then
    if kill -0 "$QEMU_PID" 2>/dev/null; then
        log "timeout: no /$UNTIL/ after ${TIMEOUT}s (console: $CONSOLE_LOG)"
    else
        log "QEMU ended before /$UNTIL/ (console: $CONSOLE_LOG)"
        sed 's/^/qemu: /' "$QEMU_LOG" >&2
    fi
    exit 1
fi

missing=()
for line in GUEST-INIT GUEST-CPUID GUEST-RESERVED-DONE GUEST-SERIAL GUEST-READY; do
    grep -q "^$line" "$CONSOLE_LOG" || missing+=("$line")
done
[ ${#missing[@]} -eq 0 ] || log "warning: the console lacks ${missing[*]}"

if [ -n "$DUMP" ]; then
    log "dumping guest memory to $DUMP"
    dump_memory "$DUMP" ${DUMP_PAGED:+"$DUMP_PAGED"} || die "dump-guest-memory failed"
    log "dump: $(stat -c %s "$DUMP") bytes"
fi
log "guest reached /$UNTIL/"
