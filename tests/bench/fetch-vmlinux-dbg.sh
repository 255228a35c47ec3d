#!/usr/bin/env bash
# The guest kernel's vmlinux with debug info, for drgn in make bench (drgn_bench.py): from
# Debian's linux-image-RELEASE-dbg (about 860 MB to download), only the one file (about
# 630 MB) kept, in DIR/bench/vmlinux-RELEASE. Does nothing when it is there.
#
# usage: fetch-vmlinux-dbg.sh RELEASE DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: fetch-vmlinux-dbg.sh RELEASE DIR" >&2; exit 2; }
REL=$1
OUT=$(mkdir -p "$2/bench" && cd "$2/bench" && pwd)/vmlinux-$REL
[ -s "$OUT" ] && exit 0
WORK=$(mktemp -d "$2/bench/dbg.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "fetch-vmlinux-dbg: downloading linux-image-$REL-dbg" >&2
(cd "$WORK" && apt-get download -q "linux-image-$REL-dbg" >&2) ||
    { echo "fetch-vmlinux-dbg: apt-get download linux-image-$REL-dbg failed" >&2; exit 1; }
dpkg-deb --fsys-tarfile "$WORK"/linux-image-*-dbg_*.deb |
    tar -xO "./usr/lib/debug/boot/vmlinux-$REL" >"$WORK/vmlinux"
[ -s "$WORK/vmlinux" ] || { echo "fetch-vmlinux-dbg: no vmlinux-$REL in the package" >&2; exit 1; }
mv -f "$WORK/vmlinux" "$OUT"
