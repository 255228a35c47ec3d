#!/usr/bin/env bash
# Builds one of the lab guest's kernel modules, tools/lab/guest/NAME, as DIR/lab/NAME.ko,
# against Debian's headers of the lab kernel (DIR/lab/kernel-release, written by
# fetch-kernel.sh). Installs the package linux-headers-<release> first when it is missing
# (tools/deps.sh headers). mkinitrd.sh puts each module into the initramfs as
# /lib/NAME.ko; the guest's /init loads them on request:
#   wakeap   the attack of issue 8 (a CPU taken from the monitor with INIT-SIPI-SIPI),
#            with lab.wakeap=APICID:PHYS:LEN or a wakeap-request;
#   rootkit  the attacks of issue 9 (kernel integrity), with a rootkit-request.
#
# usage: build-module.sh NAME [--build DIR]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
NAME=${1:-}
case "$NAME" in
wakeap | rootkit) shift ;;
*) die "usage: build-module.sh wakeap|rootkit [--build DIR]" ;;
esac
parse_build_arg "$@"
[ ${#LAB_ARGS[@]} -eq 0 ] || die "unknown argument: ${LAB_ARGS[0]} (usage: build-module.sh NAME [--build DIR])"

[ -s "$LAB_DIR/kernel-release" ] || die "$LAB_DIR/kernel-release missing (run tools/lab/fetch-kernel.sh)"
read -r RELEASE <"$LAB_DIR/kernel-release"
[ -n "$RELEASE" ] || die "$LAB_DIR/kernel-release is empty"
bash "$REPO_ROOT/tools/deps.sh" headers "$RELEASE" || die "cannot install linux-headers-$RELEASE"
KDIR=/usr/src/linux-headers-$RELEASE
[ -s "$KDIR/Module.symvers" ] || die "$KDIR/Module.symvers missing (package linux-headers-$RELEASE)"

SRC=$LAB_TOOLS/guest/$NAME
SOURCES=("$SRC/$NAME.c" "$SRC/Kbuild") # (a Makefile there is for builds by hand)
OUT=$LAB_DIR/$NAME.ko
if up_to_date "$OUT" "${SOURCES[@]}" "$KDIR/Module.symvers" "$LAB_DIR/kernel-release" \
    "${BASH_SOURCE[0]}"; then
    log "$NAME.ko up to date"
    exit 0
fi

# Kbuild builds an external module in its own directory (M=): build a copy, so the source
# tree stays clean and two build directories do not share objects.
WORK=$LAB_DIR/$NAME-build
rm -rf "$WORK"
mkdir -p "$WORK"
cp "${SOURCES[@]}" "$WORK/"
log "building $NAME.ko for $RELEASE"
make -s -C "$KDIR" M="$WORK" modules >&2 || die "$NAME.ko does not build"
# The kernel refuses a module whose vermagic names another release ("disagrees about
# version of symbol" / "invalid module format"): check here rather than in the guest.
grep -aq "vermagic=$RELEASE " "$WORK/$NAME.ko" || die "$NAME.ko was not built for $RELEASE"
# Without its debug information (~290 KB of the ~300): the initramfs stays small.
strip --strip-debug -o "$OUT.tmp" "$WORK/$NAME.ko" || die "strip failed"
mv -f "$OUT.tmp" "$OUT"
log "$NAME.ko: $(stat -c %s "$OUT") bytes"
