#!/usr/bin/env bash
# Builds the core's deflate compressor from Debian's zlib source package, with the core's
# compiler flags: console replies compressed on request (docs/console-protocol.md,
# "Compressed replies").
#
#   CORE_CFLAGS='...' tools/build-zlib.sh --build DIR
#       -> DIR/zlib/libz-core.a, headers in DIR/zlib/src
#
# zlib is a maintained library in Debian's archive; built with Z_SOLO it needs no libc
# (its own memcpy/memset, allocation through the caller's functions) and with NO_GZIP only
# the zlib format is kept (its Adler-32, not gzip's CRC). Only the compressing half is
# built: the monitor never inflates. hvctl links Debian's zlib1g-dev (the same version) to inflate. Does nothing when
# DIR/zlib holds this version built with these flags.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=build
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift 2 ;;
	*) echo "build-zlib: unknown argument: $1" >&2; exit 2 ;;
	esac
done
SUITE=bookworm
VERSION=1:1.2.13.dfsg-1
: "${CORE_CFLAGS:?build-zlib: CORE_CFLAGS must hold the compiler flags of the core}"
OUT=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)/zlib
LIB=$OUT/libz-core.a
STAMP_TEXT="$VERSION $(echo "$CORE_CFLAGS" | sha256sum | cut -c1-16)"
die() { echo "build-zlib: $*" >&2; exit 1; }

if [ -f "$LIB" ] && [ "$(cat "$OUT/.version" 2>/dev/null)" = "$STAMP_TEXT" ]; then
	exit 0
fi
if [ "$(cat "$OUT/.source" 2>/dev/null)" != "$VERSION" ]; then
	rm -rf "$OUT"
	bash "$HERE/debsrc.sh" zlib "$VERSION" "$SUITE" "$OUT/src" ||
		die "cannot fetch the source of zlib $VERSION"
	echo "$VERSION" >"$OUT/.source"
fi
rm -rf "$OUT/obj" "$LIB"
mkdir -p "$OUT/obj"
# Third-party code: the core's flags without -Werror, no warnings.
flags=${CORE_CFLAGS//-Werror/}
objs=()
for f in adler32 deflate trees zutil; do
	# shellcheck disable=SC2086
	gcc $flags -w -DZ_SOLO -DNO_GZIP -c "$OUT/src/$f.c" -o "$OUT/obj/$f.o" ||
		die "cannot compile $f.c"
	objs+=("$OUT/obj/$f.o")
done
ar rcs "$LIB" "${objs[@]}"
echo "$STAMP_TEXT" >"$OUT/.version"
echo "build-zlib: built $LIB" >&2
