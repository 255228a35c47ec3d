#!/usr/bin/env bash
# Introspection benchmark (prints, not a test): makes (or reuses) a lab dump with at least
# 1000 tasks (tools/lab/make-dump.sh --spawn N), builds tests/bench/vmi_bench.c (-O2, no
# sanitizers) and runs it: processes introspected per second and guest memory reads
# (read_phys calls) per process, cold caches, and for the ps/containers/inspect verbs, with
# the longest run of each, and in steps as the monitor runs them (128 tasks per VM exit:
# its longest exit); the bytes on the wire per process in each form; then drgn on the same
# dump (make bench also runs it with --spawn 20000: 20,062 tasks, a 4 GiB guest, a dump of
# ~2 GiB on disk made in ~10 min).
#
# usage: vmi_bench.sh [--build DIR] [--spawn N] [--profile FILE] [--seconds S]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=build
SPAWN=1000
PROFILE=
SECONDS_PER=2
while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --spawn) SPAWN=$2; shift 2 ;;
    --profile) PROFILE=$2; shift 2 ;;
    --seconds) SECONDS_PER=$2; shift 2 ;;
    *) echo "usage: vmi_bench.sh [--build DIR] [--spawn N] [--profile FILE] [--seconds S]" >&2
       exit 2 ;;
    esac
done
cd "$REPO"
bash tools/lab/make-dump.sh --build "$BUILD" --spawn "$SPAWN" --paged
DUMP=$BUILD/lab/dump-$SPAWN
[ -n "$PROFILE" ] || PROFILE=guest-profiles/$(cat "$DUMP/kernel-release").json
# a kernel newer than the committed profiles: the one the lab made from its BTF
[ -s "$PROFILE" ] || PROFILE=$BUILD/lab/guest-profile.json

mkdir -p "$BUILD/bench"
# shellcheck disable=SC2046  # word splitting of the file lists is wanted
gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -I. -Ihv -D_GNU_SOURCE -DHV_HOST=1 \
    -o "$BUILD/bench/vmi_bench" tests/bench/vmi_bench.c tools/hvctl/dump.c \
    $(ls hv/vmi/*.c) hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c hv/lib/json.c \
    hv/console/zbody.c hv/lib/base64.c -lz

echo "== introspection on $DUMP ($(grep '^procs=' "$DUMP/info.txt" | cut -d= -f2) processes in the guest's truth)"
"$BUILD/bench/vmi_bench" --dump "$DUMP/guest.elf" --profile "$PROFILE" --seconds "$SECONDS_PER" |
    tee "$BUILD/bench/vmi-$SPAWN.txt"

# drgn on the same dump, the same facts per process (issue 12: introspection at least 10x
# faster per process): Debian's python3-drgn with the kernel's vmlinux from its -dbg package.
bash tools/deps.sh bench
REL=$(cat "$DUMP/kernel-release")
bash tests/bench/fetch-vmlinux-dbg.sh "$REL" "$BUILD"
echo "== drgn on the same dump"
/usr/bin/python3 tests/bench/drgn_bench.py --dump "$DUMP/guest-paged.elf" \
    --vmlinux "$BUILD/bench/vmlinux-$REL" --seconds "$SECONDS_PER" | tee "$BUILD/bench/drgn-$SPAWN.txt"
ours=$(awk '$1 == "vmi_us_per_process" { print $2 }' "$BUILD/bench/vmi-$SPAWN.txt")
theirs=$(awk '$1 == "drgn_us_per_process" { print $2 }' "$BUILD/bench/drgn-$SPAWN.txt")
awk -v o="$ours" -v t="$theirs" 'BEGIN { printf "per process: ctrvisor %.2f us, drgn %.2f us: %.1fx faster\n", o, t, t / o }'
