#!/usr/bin/env bash
# Writes the lab's boot disks, FAT superfloppies (no partition table: OVMF still finds the
# volume as FS0) made with mtools, so no root, loop device or mount is needed:
#
#   DIR/lab/disk.img       the monitor: \hvboot.efi (DIR/hvboot.efi with the lab's operator
#                          key built in), \hv\hv.sig (its signature of the next three),
#                          \hv\hv.elf, \hv\hv.cfg,
#                          \boot\vmlinuz, \boot\initrd.img, \labacpi.efi, and a \startup.nsh
#                          that runs labacpi.efi, then hvboot.efi, from the UEFI shell
#   DIR/lab/disk-bare.img  the same guest started by the UEFI shell directly (EFI stub), no
#                          monitor: the baseline for boot-time and exit-count comparisons
#
# labacpi.efi (DIR/lab/labacpi.efi, tools/lab/acpi) installs the ACPI tables OVMF cannot
# build under Bochs (no fw_cfg there): without a MADT Linux starts one CPU whatever the
# machine has. Neither disk has a \EFI\BOOT\BOOTX64.EFI: OVMF would start that before the
# shell, and so before labacpi.efi; without it OVMF falls back to its shell and startup.nsh.
#
# The size is a whole number of 16-head, 63-sector cylinders: Bochs's flat ata disk derives
# its geometry from the file size and refuses other sizes.
#
# usage: mkdisk.sh [--build DIR]
#        mkdisk.sh [--build DIR] --image IMG SRC:DEST...
#            only IMG, a disk made the same way holding each file SRC at DEST (DOS path,
#            '/' separators): the purpose-built disks of tests/e2e/failclosed_e2e.py
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
case ${LAB_ARGS[0]:-} in
'' | --image) ;;
*) die "unknown argument: ${LAB_ARGS[0]}" ;;
esac

HEADS=16
SECTORS=63
CYLINDER_BYTES=$((HEADS * SECTORS * 512))
MIN_CYLINDERS=130 # 64 MiB: room for a bigger initramfs (containers) without resizing

VMLINUZ=$LAB_DIR/vmlinuz
INITRD=$LAB_DIR/initrd.img
HVBOOT=$BUILD_DIR/hvboot.efi
LABACPI=$LAB_DIR/labacpi.efi
CORE=$BUILD_DIR/hv.elf
STAGE=$LAB_DIR/disk-files
mkdir -p "$STAGE"

[ -s "$VMLINUZ" ] || die "$VMLINUZ missing (run tools/lab/fetch-kernel.sh)"
[ -s "$INITRD" ] || die "$INITRD missing (run tools/lab/mkinitrd.sh)"

# mtools warns about odd geometry of image files it did not make; ours is exact.
export MTOOLS_SKIP_CHECK=1

# The UEFI shell runs startup.nsh from the first volume it finds it on. CRLF: the shell
# accepts LF too, but other UEFI shells and editors on the ESP expect DOS text.
crlf() {
    sed 's/$/\r/'
}

# The channel's operator key pair of this lab (docs/channel.md): made once, kept with the
# lab; its public half goes into hv.cfg, its private half stays on the host.
OPERATOR_KEY=$LAB_DIR/operator.key
if [ ! -s "$OPERATOR_KEY.pub" ]; then
    rm -f "$OPERATOR_KEY" "$OPERATOR_KEY.pub"
    "$BUILD_DIR/hvctl" keygen "$OPERATOR_KEY" >/dev/null || die "hvctl keygen failed"
fi
OPERATOR_PUB=$(sed -n 's/^operator_key = \([0-9a-f]*\)$/\1/p' "$OPERATOR_KEY.pub")
[ ${#OPERATOR_PUB} -eq 130 ] || die "$OPERATOR_KEY.pub holds no operator_key line"
sed -e "s|@CMDLINE@|$LAB_CMDLINE|" -e "s|@OPERATOR_KEY@|$OPERATOR_PUB|" "$LAB_TOOLS/hv.cfg.in" |
    write_if_changed "$STAGE/hv.cfg"

# labacpi_lines FS: run FS:\labacpi.efi if the volume has it (it does nothing where the
# firmware has ACPI tables; a disk made with --image may lack it).
labacpi_lines() {
    printf '%s\n' "  if exist $1:\\labacpi.efi then" "    $1:\\labacpi.efi" '  endif'
}

# Try each volume: the lab disk is FS0 in Bochs and QEMU, but a machine with more disks or
# a USB stick can put it elsewhere. hvboot.efi does not return on success; if it fails, the
# shell prompt stays for a look around.
{
    printf '%s\n' '@echo -off' \
        '# ctrvisor lab: the ACPI tables, then the monitor'\''s loader (it reads \hv\hv.cfg)'
    for fs in fs0 fs1 fs2 fs3; do
        printf '%s\n' "if exist $fs:\\hvboot.efi then"
        labacpi_lines "$fs"
        printf '%s\n' "  $fs:\\hvboot.efi" '  goto done' 'endif'
    done
    printf '%s\n' 'echo "ctrvisor: hvboot.efi not found on fs0: to fs3:"' ':done'
} | crlf | write_if_changed "$STAGE/startup.nsh"

# initrd= is resolved by the kernel's EFI stub on the volume vmlinuz was loaded from.
{
    printf '%s\n' '@echo -off' \
        '# ctrvisor lab, bare: the guest kernel without the monitor (EFI stub)'
    for fs in fs0 fs1 fs2 fs3; do
        printf '%s\n' "if exist $fs:\\boot\\vmlinuz then"
        labacpi_lines "$fs"
        printf '%s\n' "  $fs:\\boot\\vmlinuz $LAB_CMDLINE initrd=\\boot\\initrd.img" \
            '  goto done' 'endif'
    done
    printf '%s\n' 'echo "ctrvisor: \boot\vmlinuz not found on fs0: to fs3:"' ':done'
} | crlf | write_if_changed "$STAGE/startup-bare.nsh"

# make_disk IMG SRC:DEST... : a fresh FAT image holding each SRC at DEST (DOS path, '/'
# separators). Built beside IMG and renamed over it, so a Bochs or QEMU still running on the
# old image keeps its own copy instead of reading a half-written one.
make_disk() {
    local img=$1 spec src dst total=0 cylinders tmp
    shift
    for spec in "$@"; do
        src=${spec%%:*}
        total=$((total + $(stat -c %s "$src")))
    done
    # FAT, directories and cluster slack: 1/8 extra plus 1 MiB is ample.
    cylinders=$(((total + total / 8 + 1048576 + CYLINDER_BYTES - 1) / CYLINDER_BYTES))
    [ "$cylinders" -ge "$MIN_CYLINDERS" ] || cylinders=$MIN_CYLINDERS

    tmp=$img.tmp
    rm -f "$tmp"
    truncate -s $((cylinders * CYLINDER_BYTES)) "$tmp"
    mformat -i "$tmp" -h "$HEADS" -s "$SECTORS" -t "$cylinders" -v CTRVISOR :: ||
        die "mformat failed on $tmp"
    for spec in "$@"; do
        src=${spec%%:*}
        dst=${spec#*:}
        # Parent directories first (mtools has no mkdir -p). mmd fails on one that exists,
        # which is fine; a real failure shows up as mcopy's error just below.
        local dir='' part parts
        IFS=/ read -ra parts <<<"${dst#/}"
        unset 'parts[-1]'
        for part in "${parts[@]}"; do
            dir=$dir/$part
            mmd -i "$tmp" "::$dir" 2>/dev/null || true
        done
        mcopy -i "$tmp" -o "$src" "::$dst" || die "mcopy $src to $dst failed"
    done
    mv -f "$tmp" "$img"
    log "$(basename "$img"): ${cylinders} cylinders x $HEADS heads x $SECTORS sectors" \
        "($((cylinders * CYLINDER_BYTES)) bytes)"
}

if [ "${LAB_ARGS[0]:-}" = --image ]; then
    [ ${#LAB_ARGS[@]} -ge 3 ] || die "usage: mkdisk.sh [--build DIR] --image IMG SRC:DEST..."
    make_disk "${LAB_ARGS[@]:1}"
    exit 0
fi

[ -s "$LABACPI" ] || die "$LABACPI missing (run make lab)"
SELF=("${BASH_SOURCE[0]}" "$LAB_TOOLS/lib.sh")

BARE=$LAB_DIR/disk-bare.img
if up_to_date "$BARE" "$VMLINUZ" "$INITRD" "$LABACPI" "$STAGE/startup-bare.nsh" "${SELF[@]}"; then
    log "disk-bare.img up to date"
else
    make_disk "$BARE" \
        "$VMLINUZ:/boot/vmlinuz" \
        "$INITRD:/boot/initrd.img" \
        "$LABACPI:/labacpi.efi" \
        "$STAGE/startup-bare.nsh:/startup.nsh"
fi

DISK=$LAB_DIR/disk.img
if [ ! -s "$HVBOOT" ] || [ ! -s "$CORE" ]; then
    # Not an error: the loader and core may not be built yet (run `make` first); the bare
    # disk is still useful on its own.
    log "skipping disk.img: $([ -s "$HVBOOT" ] || echo "$HVBOOT ")$([ -s "$CORE" ] || echo "$CORE ")missing (run make)"
    exit 0
fi
# The lab kernel's profile (guest-profile.sh: the committed one, or made from its BTF)
# goes beside the core: the monitor's introspection verbs need it.
PROFILE=$LAB_DIR/guest-profile.json
[ -s "$PROFILE" ] || die "$PROFILE missing (run tools/lab/guest-profile.sh)"
# The verified boot chain (docs/boot-signature.md): the lab's loader has the lab's operator
# key built in, and \hv\hv.sig signs hv.cfg, the core and the profile with it, as an
# operator's ESP would be (under Secure Boot the loader would then be sbsign'd: not here).
SIGNED_HVBOOT=$STAGE/hvboot.efi
if ! up_to_date "$SIGNED_HVBOOT" "$HVBOOT" "$OPERATOR_KEY.pub" "${SELF[@]}"; then
    cp "$HVBOOT" "$SIGNED_HVBOOT.tmp"
    "$BUILD_DIR/hvctl" --key "$OPERATOR_KEY" embed-key "$SIGNED_HVBOOT.tmp" >/dev/null ||
        die "hvctl embed-key failed"
    mv "$SIGNED_HVBOOT.tmp" "$SIGNED_HVBOOT"
fi
if ! up_to_date "$STAGE/hv.sig" "$STAGE/hv.cfg" "$CORE" "$PROFILE" "$OPERATOR_KEY.pub" \
    "${SELF[@]}"; then
    "$BUILD_DIR/hvctl" --key "$OPERATOR_KEY" sign-boot "$STAGE/hv.cfg" "$CORE" "$PROFILE" \
        "$STAGE/hv.sig" >/dev/null || die "hvctl sign-boot failed"
fi
if up_to_date "$DISK" "$SIGNED_HVBOOT" "$CORE" "$VMLINUZ" "$INITRD" "$LABACPI" "$STAGE/hv.cfg" \
    "$STAGE/hv.sig" "$PROFILE" "$STAGE/startup.nsh" "${SELF[@]}"; then
    log "disk.img up to date"
else
    make_disk "$DISK" \
        "$SIGNED_HVBOOT:/hvboot.efi" \
        "$LABACPI:/labacpi.efi" \
        "$CORE:/hv/hv.elf" \
        "$STAGE/hv.cfg:/hv/hv.cfg" \
        "$STAGE/hv.sig:/hv/hv.sig" \
        "$PROFILE:/hv/profile.json" \
        "$VMLINUZ:/boot/vmlinuz" \
        "$INITRD:/boot/initrd.img" \
        "$STAGE/startup.nsh:/startup.nsh"
fi
