#!/usr/bin/env bash
# Installs ctrvisor on a real machine's EFI system partition (or a USB stick's FAT
# volume), beside the kernel it will boot:
#
#   ESP/EFI/ctrvisor/hvboot.efi   the loader
#   ESP/hv/hv.elf                 the monitor core
#   ESP/hv/vmlinuz, ESP/hv/initrd.img
#   ESP/hv/hv.cfg                 written from the options below
#
# usage: install-esp.sh --esp MOUNTPOINT --kernel VMLINUZ [--initrd INITRD]
#                       --cmdline "root=... ro" [--console 0x3f8|COM1..COM4]
#                       [--build DIR] [--boot-entry]
#   --boot-entry   also add a UEFI boot entry with efibootmgr (needs the ESP's disk and
#                  partition; printed, not guessed, when they cannot be found)
#
# The console must be a 16550-compatible port at a legacy I/O address the OS will not
# need: the monitor takes it over and the OS can no longer reach it. hvboot.efi refuses to
# boot the kernel unprotected if anything fails (see `allow_unprotected` in README).
# Not exercised on the project's build machines (they have no VT-x): test on a spare box.
set -euo pipefail

BUILD=build ESP= KERNEL= INITRD= CMDLINE= CONSOLE=COM1 ENTRY=0
while [ $# -gt 0 ]; do
	case $1 in
	--esp) ESP=$2; shift 2 ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) INITRD=$2; shift 2 ;;
	--cmdline) CMDLINE=$2; shift 2 ;;
	--console) CONSOLE=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	--boot-entry) ENTRY=1; shift ;;
	*) sed -n '2,22p' "$0" >&2; exit 2 ;;
	esac
done
die() { echo "install-esp: $*" >&2; exit 1; }
[ -n "$ESP" ] && [ -d "$ESP" ] || die "--esp MOUNTPOINT: the mounted EFI system partition"
[ -n "$KERNEL" ] && [ -s "$KERNEL" ] || die "--kernel: the Linux kernel image (EFI stub)"
[ -z "$INITRD" ] || [ -s "$INITRD" ] || die "--initrd $INITRD: not found"
[ -s "$BUILD/hvboot.efi" ] && [ -s "$BUILD/hv.elf" ] || die "build first: make"
case $CMDLINE in *$'\n'*) die "--cmdline: one line only" ;; esac

mkdir -p "$ESP/EFI/ctrvisor" "$ESP/hv"
install -m 0644 "$BUILD/hvboot.efi" "$ESP/EFI/ctrvisor/hvboot.efi"
install -m 0644 "$BUILD/hv.elf" "$ESP/hv/hv.elf"
install -m 0644 "$KERNEL" "$ESP/hv/vmlinuz"
{
	echo "# ctrvisor loader configuration, written by tools/install-esp.sh"
	echo "core = \\hv\\hv.elf"
	echo "kernel = \\hv\\vmlinuz"
	if [ -n "$INITRD" ]; then
		install -m 0644 "$INITRD" "$ESP/hv/initrd.img"
		echo "initrd = \\hv\\initrd.img"
	fi
	echo "cmdline = $CMDLINE"
	echo "console = $CONSOLE"
	echo "baud = 115200"
	echo "allow_unprotected = no"
} > "$ESP/hv/hv.cfg"
echo "install-esp: installed in $ESP (config: $ESP/hv/hv.cfg)"

if [ "$ENTRY" = 1 ]; then
	command -v efibootmgr >/dev/null || die "efibootmgr not installed (apt-get install efibootmgr)"
	src=$(findmnt -no SOURCE "$ESP") || die "cannot find the device of $ESP"
	disk=/dev/$(lsblk -no pkname "$src")
	part=$(cat "/sys/class/block/$(basename "$src")/partition")
	efibootmgr --create --disk "$disk" --part "$part" --label ctrvisor \
		--loader '\EFI\ctrvisor\hvboot.efi'
else
	echo "install-esp: add a boot entry with: efibootmgr --create --disk DISK --part N" \
	     "--label ctrvisor --loader '\\EFI\\ctrvisor\\hvboot.efi'"
fi
