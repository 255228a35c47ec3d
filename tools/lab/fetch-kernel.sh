#!/usr/bin/env bash
# Fetches Debian's current amd64 kernel for the lab guest and installs it as
#   DIR/lab/vmlinuz          the EFI-stub bzImage
#   DIR/lab/kernel-release   its release string (e.g. 6.1.0-56-amd64), which names the
#                            guest profile (guest-profiles/<release>.json)
# The .deb and its /boot (config, System.map) stay in DIR/lab/cache for the profile tools.
#
# usage: fetch-kernel.sh [--build DIR]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
[ ${#LAB_ARGS[@]} -eq 0 ] || die "unknown argument: ${LAB_ARGS[0]}"

META=linux-image-amd64
DEB_CACHE=$LAB_CACHE/deb

# Everything the lab guest uses must be built in: the initramfs carries no modules, so a
# driver that is `=m` silently disappears (no console, no /dev/mem) instead of failing loudly.
REQUIRED_CONFIG=(
    SERIAL_8250 SERIAL_8250_CONSOLE    # console on ttyS0; the probe of COM2 at 0x2f8
    DEVMEM DEVPORT                     # lab-probe reserved (/dev/mem), com2 (/dev/port)
    DEVTMPFS BLK_DEV_INITRD RD_GZIP    # /dev, the gzip initramfs
    PROC_FS SYSFS FIRMWARE_MEMMAP      # /proc/cpuinfo, /sys/firmware/memmap
    BINFMT_ELF BINFMT_SCRIPT           # static lab-probe, /init as a #! script
    EFI_STUB                           # the bare disk starts vmlinuz from the UEFI shell
    CGROUPS MEMCG CGROUP_PIDS CGROUP_SCHED CGROUP_FREEZER  # cgroup v2 for crun's containers
    NAMESPACES PID_NS NET_NS IPC_NS UTS_NS                 # the containers' namespaces
    TMPFS POSIX_MQUEUE UNIX98_PTYS                         # crun's default mounts
)

# resolve_package: the real kernel package behind the meta package, and its version, from the
# local apt lists. The candidate's record pins it: "Depends: linux-image-6.1.0-NN-amd64
# (= 6.1.X-Y)". One apt-cache call (each takes most of a second).
resolve_package() {
    local dep
    dep=$(apt-cache show --no-all-versions "$META" 2>/dev/null |
        sed -n 's/^Depends: .*\(linux-image-[0-9][^ ,]*\)\( (= \([^)]*\))\)\{0,1\}.*/\1 \3/p' |
        head -n 1) || true
    PKG=${dep%% *}
    VERSION=${dep#* }
    if [ -n "$PKG" ] && [ -z "$VERSION" ]; then
        VERSION=$(apt-cache policy "$PKG" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
    fi
    [ -n "$PKG" ] && [ -n "$VERSION" ] && [ "$VERSION" != "(none)" ]
}

# The .deb name apt-get download gives: an epoch's ':' is written as %3a.
deb_path() {
    echo "$DEB_CACHE/${PKG}_${VERSION//:/%3a}_amd64.deb"
}

download() {
    # Run as root, apt drops to the _apt user, which cannot write into our cache: say so
    # explicitly instead of getting a warning on every run.
    (cd "$DEB_CACHE" && apt-get -q -o APT::Sandbox::User=root download "$PKG=$VERSION") >&2
}

mkdir -p "$DEB_CACHE"
updated=no
if ! resolve_package; then
    log "apt lists do not know $META; running apt-get update"
    apt-get update -q >&2 || die "apt-get update failed"
    updated=yes
    resolve_package || die "cannot resolve $META to a kernel package (is Debian's archive in the apt sources?)"
fi
DEB=$(deb_path)
if [ ! -s "$DEB" ]; then
    log "downloading $PKG $VERSION"
    if ! download; then
        # Stale lists point at a version the archive no longer has: refresh once.
        [ "$updated" = no ] || die "apt-get download $PKG=$VERSION failed"
        log "download failed; running apt-get update and retrying"
        apt-get update -q >&2 || die "apt-get update failed"
        resolve_package || die "cannot resolve $META to a kernel package after apt-get update"
        DEB=$(deb_path)
        download || die "apt-get download $PKG=$VERSION failed"
    fi
    [ -s "$DEB" ] || die "apt-get download did not produce $DEB"
fi

# Only ./boot: the modules are 400 MB the lab does not use (checked below).
EXTRACT=$LAB_CACHE/kernel/${PKG}_${VERSION//:/%3a}
if [ ! -d "$EXTRACT/boot" ]; then
    log "extracting $(basename "$DEB")"
    rm -rf "$EXTRACT.tmp"
    mkdir -p "$EXTRACT.tmp"
    dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$EXTRACT.tmp" --wildcards './boot/*' ||
        die "cannot extract /boot from $DEB"
    rm -rf "$EXTRACT"
    mv "$EXTRACT.tmp" "$EXTRACT"
fi

images=("$EXTRACT"/boot/vmlinuz-*)
[ -f "${images[0]}" ] || die "no /boot/vmlinuz-* in $DEB"
[ ${#images[@]} -eq 1 ] || die "more than one /boot/vmlinuz-* in $DEB"
vmlinuz=${images[0]}
release=${vmlinuz##*/vmlinuz-}
config=$EXTRACT/boot/config-$release
[ -f "$config" ] || die "no /boot/config-$release in $DEB"

missing=()
for opt in "${REQUIRED_CONFIG[@]}"; do
    grep -qx "CONFIG_$opt=y" "$config" || missing+=("CONFIG_$opt")
done
[ ${#missing[@]} -eq 0 ] ||
    die "kernel $release lacks built-in ${missing[*]} (the lab initramfs has no modules)"

if ! cmp -s "$vmlinuz" "$LAB_DIR/vmlinuz" 2>/dev/null; then
    cp -f "$vmlinuz" "$LAB_DIR/vmlinuz.tmp"
    mv -f "$LAB_DIR/vmlinuz.tmp" "$LAB_DIR/vmlinuz"
fi
# One module from the package: qemu_fw_cfg, which hands the kernel's VMCOREINFO to QEMU's
# vmcoreinfo device (make-dump.sh), so a QEMU dump carries the note a crash tool such as drgn
# needs (make bench compares with drgn). Loaded only when lab.vmcoreinfo=1 says so.
FWCFG=$LAB_DIR/qemu_fw_cfg.ko
if [ "$(cat "$FWCFG.release" 2>/dev/null)" != "$release" ] || [ ! -s "$FWCFG" ]; then
    dpkg-deb --fsys-tarfile "$DEB" |
        tar -xO --wildcards "./lib/modules/$release/kernel/drivers/firmware/qemu_fw_cfg.ko" \
            >"$FWCFG.tmp" 2>/dev/null && [ -s "$FWCFG.tmp" ] ||
        die "no qemu_fw_cfg.ko for $release in $DEB"
    mv -f "$FWCFG.tmp" "$FWCFG"
    echo "$release" >"$FWCFG.release"
fi
echo "$release" | write_if_changed "$LAB_DIR/kernel-release"
log "kernel $release ($PKG $VERSION)"
