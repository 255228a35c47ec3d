#!/usr/bin/env bash
# Host check of `lab-probe reserved` (the part with real logic: chunking, the magic across
# chunk boundaries, zero pages, FNV-1a, failures), against a fake /sys/firmware/memmap and a
# file standing in for /dev/mem ($LAB_PROBE_ROOT). The guest-only sub-commands (cpuid, tsc,
# com2) are checked by booting the lab guest: tools/lab/run-qemu.sh.
#
# usage: test-lab-probe.sh [--build DIR]     (compiles DIR/lab/test/lab-probe; exit 0 = pass)
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
[ ${#LAB_ARGS[@]} -eq 0 ] || die "unknown argument: ${LAB_ARGS[0]}"

T=$LAB_DIR/test
rm -rf "$T"
mkdir -p "$T/root/dev" "$T/root/sys/firmware/memmap"
gcc -static -O2 -Wall -Wextra -Werror -o "$T/lab-probe" "$LAB_TOOLS/guest/lab-probe.c"

# The fake machine and the lines lab-probe must print for it, both from one description.
python3 - "$T/root" "$T/expected" <<'EOF'
import os, sys

root, expected_path = sys.argv[1], sys.argv[2]
MAGIC = b"CTRVISOR-CORE-MAGIC"
mem = bytearray(0x80000)  # physical memory 0..512 KiB; beyond it reads hit end of file

def put(addr, data):
    mem[addr:addr + len(data)] = data

# 0x10000-0x2ffff: two 64 KiB chunks. One magic inside the first page, one straddling the
# chunk boundary at 0x20000, and two overlapping ones ("...MAGI" + "CTRVISOR..." share 'C').
put(0x10000 + 100, MAGIC)
put(0x20000 - 7, MAGIC)
put(0x28000, MAGIC + MAGIC[1:])
# 0x40000-0x407ff: 2 KiB, not a whole page, all zero.
entries = [
    (0x0, 0xfffff, "System RAM"),
    (0x10000, 0x2ffff, "Reserved"),
    (0x7f000, 0x80fff, "Reserved"),        # runs past the end of "memory": EIO
    (0x1000000, 0x5ffffff, "Reserved"),    # 80 MiB: too big, skipped
    (0x50000, 0x50fff, "ACPI Tables"),      # not Reserved, skipped
    (0x40000, 0x407ff, "Reserved"),
]
# Directory names 0..4 and 10: the order must be numeric (10 after 4), not lexical.
names = ["0", "1", "2", "3", "4", "10"]
for name, (start, end, kind) in zip(names, entries):
    d = os.path.join(root, "sys/firmware/memmap", name)
    os.makedirs(d)
    for field, value in (("start", "0x%x" % start), ("end", "0x%x" % end), ("type", kind)):
        with open(os.path.join(d, field), "w") as f:
            f.write(value + "\n")
with open(os.path.join(root, "dev/mem"), "wb") as f:
    f.write(mem)

def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h

def count(data):
    n, i = 0, data.find(MAGIC)
    while i >= 0:
        n, i = n + 1, data.find(MAGIC, i + 1)
    return n

lines = []
for start, end, kind in entries:
    size = end - start + 1
    if kind != "Reserved" or size > 64 << 20:
        continue
    pages = (size + 4095) // 4096
    if end < len(mem):
        data = bytes(mem[start:end + 1])
        zero = sum(1 for p in range(0, size, 4096) if not any(data[p:p + 4096]))
        lines.append("GUEST-RESERVED start=0x%x end=0x%x readable=1 pages=%d zero_pages=%d "
                     "magic_hits=%d first_page_fnv1a64=%s"
                     % (start, end + 1, pages, zero, count(data), fnv1a64(data[:4096])))
    else:
        # lab-probe counts what it read before the failure: whole chunks only.
        read = bytes(mem[start:len(mem)]) if len(mem) - start >= 65536 else b""
        zero = sum(1 for p in range(0, len(read), 4096) if not any(read[p:p + 4096]))
        lines.append("GUEST-RESERVED start=0x%x end=0x%x readable=0 pages=%d zero_pages=%d "
                     "magic_hits=%d first_page_fnv1a64=- error=EIO"
                     % (start, end + 1, pages, zero, count(read)))
lines.append("GUEST-RESERVED-DONE count=%d" % (len(lines)))
with open(expected_path, "w") as f:
    f.write("\n".join(lines) + "\n")
EOF

LAB_PROBE_ROOT=$T/root "$T/lab-probe" reserved >"$T/actual"
if ! diff -u "$T/expected" "$T/actual"; then
    die "lab-probe reserved differs from the expected lines (above)"
fi
grep -q 'magic_hits=4 ' "$T/actual" || die "the test lost its magic (expected 4 hits in one range)"
log "lab-probe reserved: pass ($(wc -l <"$T/actual") lines)"
