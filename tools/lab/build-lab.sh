#!/usr/bin/env bash
# Builds everything the lab guest needs (`make lab` calls this):
#   1. Debian packages (tools/deps.sh)
#   2. the Debian kernel        -> DIR/lab/vmlinuz, DIR/lab/kernel-release   (fetch-kernel.sh)
#   3. the lab modules          -> DIR/lab/wakeap.ko, rootkit.ko (Debian's headers) (build-module.sh)
#   4. the busybox initramfs    -> DIR/lab/initrd.img                         (mkinitrd.sh)
#   5. the kernel's profile     -> DIR/lab/guest-profile.json                 (guest-profile.sh)
#   6. the boot disks           -> DIR/lab/disk.img, DIR/lab/disk-bare.img    (mkdisk.sh)
# Each step skips its work when its inputs have not changed, so a warm re-run takes about a
# second and needs no network (downloads are cached in DIR/lab/cache).
#
# usage: build-lab.sh [--build DIR]     DIR defaults to build; DIR/hvboot.efi and DIR/hv.elf
#                                       come from `make` (without them only disk-bare.img)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
if [ ${#LAB_ARGS[@]} -gt 0 ]; then
    case "${LAB_ARGS[0]}" in
    -h | --help)
        sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
        exit 0
        ;;
    *) die "unknown argument: ${LAB_ARGS[0]} (usage: build-lab.sh [--build DIR])" ;;
    esac
fi

bash "$REPO_ROOT/tools/deps.sh" || die "tools/deps.sh failed"
bash "$LAB_TOOLS/fetch-kernel.sh" --build "$BUILD_DIR"
bash "$LAB_TOOLS/build-module.sh" wakeap --build "$BUILD_DIR"
bash "$LAB_TOOLS/build-module.sh" rootkit --build "$BUILD_DIR"
bash "$LAB_TOOLS/mkinitrd.sh" --build "$BUILD_DIR"
bash "$LAB_TOOLS/guest-profile.sh" --build "$BUILD_DIR"
bash "$LAB_TOOLS/mkdisk.sh" --build "$BUILD_DIR"
