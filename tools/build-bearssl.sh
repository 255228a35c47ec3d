#!/usr/bin/env bash
# Builds the core's BearSSL from Debian's source package, with the core's compiler flags,
# and the loader's, with the loader's (it checks the boot signature: docs/boot-signature.md).
#
#   CORE_CFLAGS='...' tools/build-bearssl.sh --build DIR
#       -> DIR/bearssl/libbearssl-core.a, headers in DIR/bearssl/src/inc
#   CORE_CFLAGS='...' tools/build-bearssl.sh --build DIR --flavour efi
#       -> DIR/bearssl/libbearssl-efi.a (CORE_CFLAGS then holds the loader's flags)
#
# The monitor's channel (hv/chan/, docs/channel.md) signs and checks frames with BearSSL:
# a maintained library in Debian's archive, made for small freestanding programs (no
# allocation, no libc beyond memcpy/memset/memmove/memcmp/strlen). Debian ships it built for
# user space (libbearssl-dev: fortified, stack protector, SSE); the core is freestanding and
# keeps the guest's SIMD registers untouched (-mgeneral-regs-only), so it is built here from
# the same version's source. The host tools link Debian's libbearssl-dev, of that version.
# Does nothing when DIR/bearssl holds this version built with these flags.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=build
FLAVOUR=core
while [ $# -gt 0 ]; do
	case "$1" in
	--build) BUILD=$2; shift 2 ;;
	--flavour) FLAVOUR=$2; shift 2 ;;
	*) echo "build-bearssl: unknown argument: $1" >&2; exit 2 ;;
	esac
done
SUITE=bookworm
VERSION=0.6+dfsg.1-3
: "${CORE_CFLAGS:?build-bearssl: CORE_CFLAGS must hold the compiler flags of the core}"
case "$FLAVOUR" in core | efi) ;; *) echo "build-bearssl: --flavour core|efi" >&2; exit 2 ;; esac
OUT=$(mkdir -p "$BUILD" && cd "$BUILD" && pwd)/bearssl
LIB=$OUT/libbearssl-$FLAVOUR.a
OBJ=$OUT/obj-$FLAVOUR
STAMP=$OUT/.version-$FLAVOUR
STAMP_TEXT="$VERSION $(echo "$CORE_CFLAGS" | sha256sum | cut -c1-16)"
die() { echo "build-bearssl: $*" >&2; exit 1; }

if [ -f "$LIB" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$STAMP_TEXT" ]; then
	exit 0
fi
have=$(dpkg-query -W -f='${Version}' libbearssl-dev 2>/dev/null || true)
[ "$have" = "$VERSION" ] ||
	echo "build-bearssl: warning: libbearssl-dev is '$have', the core's BearSSL $VERSION" >&2

# the source once for both flavours (its own stamp: the version)
if [ "$(cat "$OUT/.source" 2>/dev/null)" != "$VERSION" ]; then
	rm -rf "$OUT"
	bash "$HERE/debsrc.sh" bearssl "$VERSION" "$SUITE" "$OUT/src" ||
		die "cannot fetch the source of bearssl $VERSION"
	echo "$VERSION" >"$OUT/.source"
fi
rm -rf "$OBJ" "$LIB"
mkdir -p "$OBJ"
# Third-party code: the core's flags without -Werror (a newer compiler's warning in
# BearSSL must not stop the build), its own include directories.
flags=${CORE_CFLAGS//-Werror/}
objs=()
while IFS= read -r c; do
	o="$OBJ/$(echo "${c#"$OUT"/src/src/}" | tr / _).o"
	# shellcheck disable=SC2086
	gcc $flags -w -I"$OUT/src/src" -I"$OUT/src/inc" -c "$c" -o "$o" || die "cannot compile $c"
	objs+=("$o")
done < <(find "$OUT/src/src" -name '*.c' | sort)
ar rcs "$LIB" "${objs[@]}"
echo "$STAMP_TEXT" >"$STAMP"
echo "build-bearssl: built $LIB (${#objs[@]} objects)" >&2
