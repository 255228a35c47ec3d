#!/usr/bin/env bash
# Boots the lab guest in QEMU TCG (tools/lab/run-qemu.sh), waits until its containers run and
# it has printed its own view of them (the GUEST-TRUTH block, seq=0), dumps its memory, and
# stops QEMU (by pid). The introspection tests and the benchmark compare what they read from
# the dump with the truth stored beside it:
#   OUT/guest.elf        `dump-guest-memory` (paging off): an ELF core with the guest's RAM
#                        as PT_LOAD segments (p_paddr = guest-physical address) and one
#                        NT_PRSTATUS + QEMU CPU-state note per vCPU (registers, CR3, GS base);
#                        holes punched where it is all zeros, so it takes less disk than its
#                        ~1 GiB size
#   OUT/truth.txt        the first block, GUEST-TRUTH-BEGIN..GUEST-TRUTH-END, both included
#                        (format: tools/lab/guest/lab-probe.c; parser: tools/lab/truth.py)
#   OUT/console.log      the guest's whole console (\r\n as the serial line sent it)
#   OUT/kernel-release   the guest kernel's release: names the profile it needs
#   OUT/info.txt         how it was made: spawn count, timings, sizes
# The truth is checked (tools/lab/truth.py) before anything is stored: three running
# containers, every crun ps pid with a PROC line in the container's namespaces and cgroup.
#
# The dump is taken right after the block: since then, /init's heartbeat has started a
# `sleep 2` (a child of pid 1) that the dump holds and the block cannot; everything else is
# the same processes (see "Consistency" in lab-probe.c).
#
# usage: make-dump.sh [--build DIR] [--spawn N] [--hide CT] [--out OUT] [--timeout SEC] [--paged]
#                     [--force]
#   --build DIR    lab files from DIR/lab (build-lab.sh / `make lab`; default build)
#   --spawn N      boot with lab.spawn=N: N extra sleeping processes before the truth
#                  (benchmarks). Default 0. The guest gets 1024 MiB, and 160 KiB more
#                  for each process past 1000 (16000 then boot in 3.4 GiB)
#   --hide CT      boot with lab.hide=CT: the lab's rootkit takes container CT's init off
#                  the tasks list before the truth (GUEST-HIDDEN in the console; issue 9)
#   --out OUT      default DIR/lab/dump, DIR/lab/dump-N with --spawn N, or
#                  DIR/lab/dump-hide-CT with --hide CT
#   --timeout SEC  give up after SEC seconds of wall time (default 300)
#   --paged        also OUT/guest-paged.elf: the same memory (QEMU stopped between the two)
#                  dumped with paging, for drgn (make bench), which cannot read the kernel's
#                  addresses from the physical-only dump
#   --force        make a new dump even if OUT is up to date
# OUT is up to date when it was made from the current vmlinuz and initrd.img with the same
# spawn count: then this does nothing (a test can call it every time).
# Takes ~15 s (~18 s with --spawn 1000) on the lab machines (2 cores); see info.txt.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    sed -n '/^# usage:/,/^# Takes/{/^# Takes/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

parse_build_arg "$@"
SPAWN=0
HIDE=
OUT=
TIMEOUT=300
FORCE=no
PAGED=no
set -- "${LAB_ARGS[@]+"${LAB_ARGS[@]}"}"
while [ $# -gt 0 ]; do
    case "$1" in
    --spawn)
        [ $# -ge 2 ] || usage
        SPAWN=$2
        shift 2
        ;;
    --hide)
        [ $# -ge 2 ] || usage
        HIDE=$2
        shift 2
        ;;
    --out)
        [ $# -ge 2 ] || usage
        OUT=$2
        shift 2
        ;;
    --timeout)
        [ $# -ge 2 ] || usage
        TIMEOUT=$2
        shift 2
        ;;
    --force)
        FORCE=yes
        shift
        ;;
    --paged)
        PAGED=yes
        shift
        ;;
    -h | --help) usage ;;
    *)
        echo "${0##*/}: unknown argument: $1" >&2
        usage
        ;;
    esac
done
case "$SPAWN" in '' | *[!0-9]*) die "--spawn needs a whole number" ;; esac
case "$TIMEOUT" in '' | *[!0-9]*) die "--timeout needs whole seconds" ;; esac
SPAWN=$((10#$SPAWN))
case "$HIDE" in *[!a-z0-9_-]*) die "--hide needs a lab container's name" ;; esac
if [ -z "$OUT" ]; then
    if [ -n "$HIDE" ]; then
        OUT=$LAB_DIR/dump-hide-$HIDE
    elif [ "$SPAWN" -gt 0 ]; then
        OUT=$LAB_DIR/dump-$SPAWN
    else
        OUT=$LAB_DIR/dump
    fi
fi

VMLINUZ=$LAB_DIR/vmlinuz
INITRD=$LAB_DIR/initrd.img
RELEASE=$LAB_DIR/kernel-release
for f in "$VMLINUZ" "$INITRD" "$RELEASE"; do
    [ -s "$f" ] || die "$f missing (run tools/lab/build-lab.sh --build $BUILD_DIR, or make lab)"
done
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run tools/deps.sh)"

OUTPUTS=(guest.elf truth.txt console.log kernel-release info.txt)
[ "$PAGED" = no ] || OUTPUTS+=(guest-paged.elf)
# The stamp records the inputs' identity (not only mtimes): the spawn count, and the sizes
# and mtimes of the kernel and initramfs it booted.
inputs_id() {
    echo "spawn=$SPAWN hide=$HIDE paged=$PAGED"
    stat -c '%n %s %Y' "$VMLINUZ" "$INITRD"
    cat "$RELEASE"
}
if [ "$FORCE" = no ] && [ -f "$OUT/.stamp" ] && inputs_id | cmp -s - "$OUT/.stamp"; then
    complete=yes
    for f in "${OUTPUTS[@]}"; do
        [ -s "$OUT/$f" ] || complete=no
    done
    if [ "$complete" = yes ] && up_to_date "$OUT/.stamp" "$VMLINUZ" "$INITRD" \
        "${BASH_SOURCE[0]}" "$LAB_TOOLS/run-qemu.sh"; then
        log "$OUT up to date (--force to remake)"
        exit 0
    fi
fi

# Work in a fresh directory beside OUT and replace OUT only when everything is there and
# checked: a failed or interrupted run never leaves a dump without its truth.
mkdir -p "$(dirname "$OUT")"
OUT=$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")
WORK=$(mktemp -d "$OUT.tmp.XXXXXX")
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# lab.vmcoreinfo=1: the dump carries the kernel's VMCOREINFO note (drgn, in make bench)
WORDS=lab.vmcoreinfo=1
[ "$SPAWN" -eq 0 ] || WORDS="$WORDS lab.spawn=$SPAWN"
[ -z "$HIDE" ] || WORDS="${WORDS:+$WORDS }lab.hide=$HIDE"
APPEND=()
MEM=1024
[ "$SPAWN" -le 1000 ] || MEM=$((1024 + (SPAWN - 1000) * 160 / 1024))
[ "$MEM" -le 16384 ] || die "--spawn $SPAWN needs more than the 16 GiB a lab guest may have"
[ -z "$WORDS" ] || APPEND=(--append "$WORDS")
PAGED_ARGS=()
[ "$PAGED" = no ] || PAGED_ARGS=(--dump-paged "$WORK/guest-paged.elf")
log "booting the lab guest in QEMU TCG${APPEND[*]:+ (${APPEND[1]})}"
t0=$SECONDS
# The first block's end (later blocks have seq=1, 2...).
if ! bash "$LAB_TOOLS/run-qemu.sh" --build "$BUILD_DIR" --logs "$WORK" --quiet \
    --timeout "$TIMEOUT" --mem "$MEM" --until '^GUEST-TRUTH-END seq=0 ' \
    "${APPEND[@]+"${APPEND[@]}"}" --dump "$WORK/guest.elf" \
    "${PAGED_ARGS[@]+"${PAGED_ARGS[@]}"}"; then
    [ ! -s "$WORK/qemu-console.log" ] || tail -n 20 "$WORK/qemu-console.log" | sed 's/^/guest: /' >&2
    die "the guest did not print its truth block (or the dump failed)"
fi
wall=$((SECONDS - t0))

mv "$WORK/qemu-console.log" "$WORK/console.log"
# The first block, markers included, without the serial line's \r.
tr -d '\r' <"$WORK/console.log" |
    sed -n '/^GUEST-TRUTH-BEGIN seq=0 /,/^GUEST-TRUTH-END seq=0 /p' >"$WORK/truth.txt"
[ -s "$WORK/truth.txt" ] || die "no truth block in the console"
min_procs=$((SPAWN + 20))
python3 "$LAB_TOOLS/truth.py" "$WORK/truth.txt" --min-containers 3 --min-procs "$min_procs" >&2 ||
    die "the guest's truth block is not consistent (console: kept in $WORK)"
cp "$RELEASE" "$WORK/kernel-release"

# Zero pages as holes: most of the guest's 1 GiB was never touched.
elf_size=$(stat -c %s "$WORK/guest.elf")
if command -v fallocate >/dev/null; then
    fallocate --dig-holes "$WORK/guest.elf" 2>/dev/null || true
fi
elf_disk=$(($(stat -c %b "$WORK/guest.elf") * $(stat -c %B "$WORK/guest.elf")))
uptime=$(sed -n 's/^GUEST-TRUTH-BEGIN .*uptime=\([^ ]*\).*/\1/p' "$WORK/truth.txt")
procs=$(sed -n 's/^GUEST-TRUTH-END .*procs=\([0-9]*\).*/\1/p' "$WORK/truth.txt")
{
    echo "spawn=$SPAWN"
    echo "hide=$HIDE"
    echo "kernel_release=$(cat "$RELEASE")"
    echo "cmdline=$LAB_CMDLINE${APPEND[1]:+ ${APPEND[1]}}"
    echo "procs=$procs"
    echo "guest_uptime_at_truth=$uptime"
    echo "wall_seconds=$wall"
    echo "elf_bytes=$elf_size"
    echo "elf_disk_bytes=$elf_disk"
    echo "truth_bytes=$(stat -c %s "$WORK/truth.txt")"
    echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
} >"$WORK/info.txt"
chmod 644 "$WORK/guest.elf"
rm -f "$WORK/qemu-com2.log" "$WORK/qemu-stderr.log"
inputs_id >"$WORK/.stamp"

rm -rf "$OUT"
mv "$WORK" "$OUT"
trap - EXIT
log "$OUT: guest.elf ($((elf_size >> 20)) MiB, $((elf_disk >> 20)) MiB on disk), $procs processes in truth.txt, ${wall}s"
