#!/usr/bin/env bash
# Writes guest-profiles/<release>.json (DESIGN §5) from a kernel's BTF: from a distro
# vmlinuz (the vmlinux is unpacked from it into a temporary file first), a vmlinux, or a
# raw BTF blob such as /sys/kernel/btf/vmlinux. Builds build/mkprofile when it is missing
# or older than its sources, so no make rule is needed.
#
#   tools/mkprofile/mkprofile.sh --vmlinuz build/lab/vmlinuz \
#       --release "$(cat build/lab/kernel-release)" --out guest-profiles/
#   tools/mkprofile/mkprofile.sh --btf /sys/kernel/btf/vmlinux --release "$(uname -r)" \
#       --banner "$(cat /proc/version)" --out /tmp/
#
# A vmlinuz is a bzImage: its setup header (Documentation/x86/boot.rst) tells where the
# compressed vmlinux starts (payload_offset, from the protected-mode code at
# (setup_sects + 1) * 512) and how long it is; its first bytes tell the compressor. Images
# without that header are searched for a compressed stream the way the kernel's
# scripts/extract-vmlinux does: try every place a known magic appears.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkprofile=${MKPROFILE:-$root/build/mkprofile}

usage() {
	echo "usage: $0 (--vmlinuz FILE | --vmlinux FILE | --btf FILE) [--release R]" \
		"[--banner TEXT] --out DIR|FILE.json" >&2
	exit 2
}

vmlinuz= btf= release= banner= out=
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--vmlinuz) vmlinuz=$2 ;;
	--vmlinux | --btf) btf=$2 ;;
	--release) release=$2 ;;
	--banner) banner=$2 ;;
	--out) out=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$out" ] && { [ -n "$vmlinuz" ] || [ -n "$btf" ]; } || usage

build_tool() {
	local srcs=("$root/tools/mkprofile/mkprofile.c" "$root/tools/mkprofile/kallsyms.c"
		"$root/hv/vmi/profile.c" "$root/hv/lib/json.c" "$root/hv/lib/fmt.c")
	local stale=0 s
	[ -x "$mkprofile" ] || stale=1
	for s in "${srcs[@]}" "$root/tools/mkprofile/kallsyms.h" "$root/hv/vmi/profile.h" \
		"$root/hv/lib/json.h" "$root/hv/lib/fmt.h"; do
		[ "$s" -nt "$mkprofile" ] && stale=1
	done
	[ $stale = 1 ] || return 0
	pkg-config --exists libbpf 2>/dev/null || bash "$root/tools/deps.sh"
	mkdir -p "$(dirname "$mkprofile")"
	# shellcheck disable=SC2046 # pkg-config prints several words on purpose
	${CC:-gcc} -std=gnu11 -O2 -g -Wall -Wextra -Werror -I"$root" -I"$root/hv" -D_GNU_SOURCE \
		-DHV_HOST=1 -o "$mkprofile" "${srcs[@]}" $(pkg-config --cflags --libs libbpf)
}

# u8/u16/u32 (little-endian) at byte offset $2 of file $1
le() { od -An -tu"$3" -j "$2" -N "$3" "$1" | tr -d ' '; }

# Decompresses $1 (a compressed stream, maybe followed by other bytes) into $2 with the
# tool its magic names. Exit status is ignored: the kernel appends the uncompressed size
# after the stream, which the tools call trailing garbage. The output must be an ELF.
decompress() {
	local magic
	magic=$(od -An -tx1 -N6 "$1" | tr -d ' \n')
	case "$magic" in
	1f8b08*) gzip -dc <"$1" >"$2" 2>/dev/null || true ;;
	fd377a585a00) xz -dc <"$1" >"$2" 2>/dev/null || true ;;
	28b52ffd*) zstd -dcq <"$1" >"$2" 2>/dev/null || true ;;
	425a68*) bzip2 -dc <"$1" >"$2" 2>/dev/null || true ;;
	5d0000*) xz --format=lzma -dc <"$1" >"$2" 2>/dev/null || true ;;
	894c5a*) lzop -dc <"$1" >"$2" 2>/dev/null || true ;;
	02214c18*) lz4 -dc <"$1" >"$2" 2>/dev/null || true ;;
	*) return 1 ;;
	esac
	[ "$(od -An -tx1 -N4 "$2" | tr -d ' \n')" = 7f454c46 ]
}

# Unpacks the vmlinux in bzImage $1 into $2.
extract_vmlinux() {
	local img=$1 dst=$2 tmp=$3
	if [ "$(od -An -c -j 514 -N4 "$img" | tr -d ' ')" = HdrS ]; then
		local setup_sects payload_offset payload_length start
		setup_sects=$(le "$img" 497 1)
		[ "$setup_sects" -ne 0 ] || setup_sects=4
		payload_offset=$(le "$img" 584 4)
		payload_length=$(le "$img" 588 4)
		start=$(((setup_sects + 1) * 512 + payload_offset))
		dd if="$img" of="$tmp/payload" bs=64K iflag=skip_bytes,count_bytes skip="$start" \
			count="$payload_length" status=none
		if decompress "$tmp/payload" "$dst"; then
			return 0
		fi
	fi
	# scripts/extract-vmlinux's way: every offset where a compressor's magic appears
	local m off
	for m in '\x1f\x8b\x08' '\xfd7zXZ\x00' '\x28\xb5\x2f\xfd' 'BZh' '\x5d\x00\x00\x00' \
		'\x89LZO' '\x02\x21\x4c\x18'; do
		for off in $(LC_ALL=C grep -obUaP "$m" "$img" | cut -d: -f1 | head -20); do
			tail -c +$((off + 1)) "$img" >"$tmp/payload"
			if decompress "$tmp/payload" "$dst"; then
				return 0
			fi
		done
	done
	echo "$0: no compressed vmlinux found in $img" >&2
	return 1
}

build_tool

args=()
[ -n "$release" ] && args+=(--release "$release")
[ -n "$banner" ] && args+=(--banner "$banner")
if [ -n "$vmlinuz" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	extract_vmlinux "$vmlinuz" "$tmp/vmlinux" "$tmp"
	if [ -z "$release" ] && [ "$(od -An -c -j 514 -N4 "$vmlinuz" | tr -d ' ')" = HdrS ]; then
		# the setup header's kernel_version: "<release> (<builder>) #1 SMP ..."
		kv=$(le "$vmlinuz" 526 2)
		release=$(dd if="$vmlinuz" bs=200 iflag=skip_bytes skip=$((kv + 512)) count=1 \
			status=none | tr '\0' '\n' | sed -n '1s/ .*//p')
		[ -n "$release" ] && args+=(--release "$release")
	fi
	"$mkprofile" --btf "$tmp/vmlinux" --source "$(basename "$vmlinuz")" "${args[@]}" --out "$out"
else
	"$mkprofile" --btf "$btf" "${args[@]}" --out "$out"
fi
