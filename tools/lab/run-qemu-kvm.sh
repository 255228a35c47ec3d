#!/usr/bin/env bash
# Boots the lab disk (OVMF -> hvboot.efi -> monitor -> Linux) in QEMU with KVM, on a host
# whose CPU has VT-x — bare metal, or a VM with nested virtualization (kvm_intel nested=1).
# `-cpu host` passes VMX through to OVMF, where hvboot.efi needs it. The disk has no
# \EFI\BOOT\BOOTX64.EFI: OVMF's shell runs its startup.nsh (labacpi.efi, which does nothing
# where QEMU supplies ACPI tables, then hvboot.efi); -net none: no network boot before that.
#
# THE PROJECT'S BUILD MACHINES CANNOT RUN THIS: they have no VT-x and their /dev/kvm runs
# no ordinary guests. It is here for users; the lab there is Bochs (tools/lab/run-bochs.sh).
#
# usage: run-qemu-kvm.sh [--build DIR] [--rundir DIR]
#   Guest console (COM1): RUNDIR/com1.log. Monitor console (COM2): the unix socket
#   RUNDIR/hvcon.sock; talk to it with `build/hvctl --console unix:RUNDIR/hvcon.sock status`.
#   Ctrl-C stops QEMU.
set -euo pipefail

BUILD=build
RUNDIR=
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--rundir) RUNDIR=$2; shift 2 ;;
	*) sed -n '2,16p' "$0" >&2; exit 2 ;;
	esac
done
RUNDIR=${RUNDIR:-$BUILD/lab/run-kvm}
DISK=$BUILD/lab/disk.img
CODE=/usr/share/OVMF/OVMF_CODE.fd
VARS=/usr/share/OVMF/OVMF_VARS.fd

die() { echo "run-qemu-kvm: $*" >&2; exit 1; }
[ -s "$DISK" ] || die "$DISK missing: run 'make lab' first"
[ -r "$CODE" ] && [ -r "$VARS" ] || die "OVMF not found: apt-get install ovmf"
[ -w /dev/kvm ] || die "/dev/kvm is not usable here: this needs a CPU with VT-x and KVM"
grep -qw vmx /proc/cpuinfo || die "the CPU shows no 'vmx' flag: enable VT-x (or nested virtualization) first"
if [ -r /sys/module/kvm_intel/parameters/nested ]; then
	case $(cat /sys/module/kvm_intel/parameters/nested) in
	Y|1) ;;
	*) die "kvm_intel nested=0: the guest firmware would see no VMX (modprobe kvm_intel nested=1)" ;;
	esac
fi

mkdir -p "$RUNDIR"
cp "$VARS" "$RUNDIR/OVMF_VARS.fd"
cp "$DISK" "$RUNDIR/disk.img"
echo "run-qemu-kvm: guest console $RUNDIR/com1.log, monitor console unix:$RUNDIR/hvcon.sock" >&2
exec qemu-system-x86_64 -enable-kvm -cpu host -smp 1 -m 1024 \
	-drive if=pflash,format=raw,readonly=on,file="$CODE" \
	-drive if=pflash,format=raw,file="$RUNDIR/OVMF_VARS.fd" \
	-drive file="$RUNDIR/disk.img",format=raw,if=ide \
	-display none -no-reboot -net none \
	-serial file:"$RUNDIR/com1.log" \
	-chardev socket,id=hvcon,path="$RUNDIR/hvcon.sock",server=on,wait=off -serial chardev:hvcon
