#!/usr/bin/env bash
# Fetches a Debian source package's upstream tarball and unpacks it, checked against the
# signed Sources index as APT checks it.
#
#   tools/debsrc.sh PACKAGE VERSION SUITE DIR   -> the source tree in DIR (made anew)
#
# From the mirror this machine's APT already uses (deb822 .sources or one-line
# sources.list), with a sources list of its own (the machine's APT set-up is not changed).
# The mirror seen here serves the source tarballs but not always the .dsc: the tarball APT
# fetched (it checked it against the signed index) is checked again against that index
# here. Used by tools/lab/build-bochs.sh (Bochs 3.0 from Debian 13) and
# tools/build-bearssl.sh (the core's BearSSL).
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: debsrc.sh PACKAGE VERSION SUITE DIR" >&2; exit 2; }
PACKAGE=$1
VERSION=$2
SUITE=$3
DEST=$4
die() { echo "debsrc: $*" >&2; exit 1; }

mirror=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
[ -n "$mirror" ] || mirror=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)
[ -n "$mirror" ] || die "no Debian mirror found in this machine's APT sources"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/lists/partial" "$WORK/archives/partial"
echo "deb-src $mirror $SUITE main" >"$WORK/sources.list"
APT=(apt-get -q -o "Dir::Etc::SourceList=$WORK/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$WORK/lists" -o "Dir::Cache::Archives=$WORK/archives")
echo "debsrc: fetching the source of $PACKAGE $VERSION ($SUITE)" >&2
"${APT[@]}" update >&2 || die "apt-get update of the $SUITE sources failed"
(cd "$WORK" && "${APT[@]}" source --download-only "$PACKAGE=$VERSION" >&2) || true
orig=$(ls "$WORK/${PACKAGE}_"*.orig.tar.* 2>/dev/null | head -n 1)
[ -n "$orig" ] || die "apt-get source $PACKAGE=$VERSION fetched no source tarball"
sum=$(sha256sum "$orig" | awk '{print $1}')
# (APT keeps its lists compressed; apt-helper cat-file reads them whatever the format.
# Into a file first: `grep -q` on a pipe stops reading at the first match, and with
# pipefail the writer's SIGPIPE would fail the check.)
/usr/lib/apt/apt-helper cat-file "$WORK"/lists/*_source_Sources* >"$WORK/Sources" 2>/dev/null ||
	die "cannot read the $SUITE Sources index"
grep -q " $sum [0-9]* $(basename "$orig")\$" "$WORK/Sources" ||
	die "$(basename "$orig") does not match the $SUITE Sources index"
rm -rf "$DEST"
mkdir -p "$DEST"
tar -xf "$orig" -C "$DEST" --strip-components=1
