#!/usr/bin/env bash
# Builds the Bochs the two-CPU lab needs, from Debian's source package, into DIR/bochs/.
#
#   tools/lab/build-bochs.sh [--build DIR]     -> DIR/bochs/bin/bochs (prints its path)
#
# Why: Debian 12's Bochs 2.7 keeps an INIT pending after it caused a VM exit (fixed in 2.8;
# DESIGN §8): every VM entry of an application processor that an INIT-SIPI-SIPI started
# exits again with INIT before the processor runs one instruction, so no AP can run as a
# guest. Debian 13 ("trixie") ships Bochs 3.0, which clears it. Its binary package needs
# Debian 13's C library, so this takes the source package (tools/debsrc.sh: apt-get
# source, checked against the signed Sources index), and builds it with the options the
# lab uses: x86-64, SMP, VMX with EPT, the debugger (the lab passes -rc), the rfb and nogui
# displays, sound (the lab's bochsrc names its dummy drivers), with the patches in
# tools/lab/bochs-patches/ (each says what it fixes). The one-CPU lab keeps Debian 12's packaged Bochs.
#
# Takes a few minutes on two cores; does nothing when DIR/bochs holds this version already.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=build
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift 2 ;;
	*) echo "build-bochs: unknown argument: $1" >&2; exit 2 ;;
	esac
done
SUITE=trixie
VERSION=3.0+dfsg-1
PATCHES=("$HERE"/bochs-patches/*.patch)
# The stamp names the patches too: a new patch rebuilds.
STAMP_TEXT="$VERSION $(cat "${PATCHES[@]}" | sha256sum | cut -c1-16)"
PREFIX=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)/bochs
STAMP=$PREFIX/.version
log() { echo "build-bochs: $*" >&2; }
die() { echo "build-bochs: $*" >&2; exit 1; }

if [ -x "$PREFIX/bin/bochs" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$STAMP_TEXT" ]; then
	echo "$PREFIX/bin/bochs"
	exit 0
fi
bash "$HERE/../deps.sh"
bash "$HERE/../deps.sh" bochs-build

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
bash "$HERE/../debsrc.sh" bochs "$VERSION" "$SUITE" "$WORK/src" || die "cannot fetch the source of bochs $VERSION"
for p in "${PATCHES[@]}"; do
	log "applying $(basename "$p")"
	patch -d "$WORK/src" -p1 --forward --batch <"$p" >&2 || die "$(basename "$p") does not apply"
done

log "building (log: $WORK/build.log while it runs)"
cd "$WORK/src"
./configure --prefix="$PREFIX" --enable-x86-64 --enable-smp --enable-cpu-level=6 \
	--enable-vmx=2 --enable-avx --enable-evex --enable-pci --enable-debugger --enable-sb16 \
	--enable-all-optimizations --with-rfb --with-nogui --without-x11 --without-sdl2 \
	--without-wx >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; die "configure failed"; }
make -j"$(nproc)" >>"$WORK/build.log" 2>&1 || { tail -30 "$WORK/build.log" >&2; die "make failed"; }
rm -rf "$PREFIX"
make install >>"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log" >&2; die "make install failed"; }
echo "$STAMP_TEXT" >"$STAMP"
log "installed $PREFIX/bin/bochs ($("$PREFIX/bin/bochs" --help 2>&1 | head -n 1 || true))"
echo "$PREFIX/bin/bochs"
