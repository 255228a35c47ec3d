#!/usr/bin/env bash
# Builds the lab guest's wakeap kernel module (tools/lab/guest/wakeap: the attack of issue 8,
# a CPU taken from the monitor with INIT-SIPI-SIPI) as DIR/lab/wakeap.ko, against Debian's
# headers of the lab kernel (DIR/lab/kernel-release, written by fetch-kernel.sh). Installs
# the package linux-headers-<release> first when it is missing (tools/deps.sh headers).
# mkinitrd.sh puts the module into the initramfs as /lib/wakeap.ko when it exists; the
# guest's /init loads it with lab.wakeap=APICID:PHYS:LEN on the kernel command line.
#
# usage: build-wakeap.sh [--build DIR]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
[ ${#LAB_ARGS[@]} -eq 0 ] || die "unknown argument: ${LAB_ARGS[0]} (usage: build-wakeap.sh [--build DIR])"

[ -s "$LAB_DIR/kernel-release" ] || die "$LAB_DIR/kernel-release missing (run tools/lab/fetch-kernel.sh)"
read -r RELEASE <"$LAB_DIR/kernel-release"
[ -n "$RELEASE" ] || die "$LAB_DIR/kernel-release is empty"
bash "$REPO_ROOT/tools/deps.sh" headers "$RELEASE" || die "cannot install linux-headers-$RELEASE"
KDIR=/usr/src/linux-headers-$RELEASE
[ -s "$KDIR/Module.symvers" ] || die "$KDIR/Module.symvers missing (package linux-headers-$RELEASE)"

SRC=$LAB_TOOLS/guest/wakeap
SOURCES=("$SRC/wakeap.c" "$SRC/Kbuild" "$SRC/Makefile")
OUT=$LAB_DIR/wakeap.ko
if up_to_date "$OUT" "${SOURCES[@]}" "$KDIR/Module.symvers" "$LAB_DIR/kernel-release" \
    "${BASH_SOURCE[0]}"; then
    log "wakeap.ko up to date"
    exit 0
fi

# Kbuild builds an external module in its own directory (M=): build a copy, so the source
# tree stays clean and two build directories do not share objects.
WORK=$LAB_DIR/wakeap-build
rm -rf "$WORK"
mkdir -p "$WORK"
cp "${SOURCES[@]}" "$WORK/"
log "building wakeap.ko for $RELEASE"
make -s -C "$KDIR" M="$WORK" modules >&2 || die "wakeap.ko does not build"
# The kernel refuses a module whose vermagic names another release ("disagrees about
# version of symbol" / "invalid module format"): check here rather than in the guest.
grep -aq "vermagic=$RELEASE " "$WORK/wakeap.ko" || die "wakeap.ko was not built for $RELEASE"
# Without its debug information (~290 KB of the ~300): the initramfs stays small.
strip --strip-debug -o "$OUT.tmp" "$WORK/wakeap.ko" || die "strip failed"
mv -f "$OUT.tmp" "$OUT"
log "wakeap.ko: $(stat -c %s "$OUT") bytes"
