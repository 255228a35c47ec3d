#!/usr/bin/env bash
# Host check of `lab-probe reserved` (the part with real logic: chunking, the magic across
# chunk boundaries, zero pages, FNV-1a, failures), against a fake /sys/firmware/memmap and a
# file standing in for /dev/mem ($LAB_PROBE_ROOT); and of `lab-probe truth` (the block's
# form and encoding, crun's JSON through a stand-in crun, spawn and idle) on the host's own
# /proc. The guest-only sub-commands (cpuid, tsc, com2) and the truth with real containers
# are checked by booting the lab guest: tools/lab/run-qemu.sh, tools/lab/make-dump.sh.
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

# ---- truth: the block's form, the encoding, crun's JSON, the settle step, on the host's own
# /proc. A stand-in `crun` prints canned `list`/`ps` JSON naming a real process of ours, so
# the parser, the setns hostname and the cgroup lookup run without containers (the real
# thing is checked in the guest: tools/lab/make-dump.sh checks every block it stores).
BG_PIDS=()
# spawn_pids: the pids of the `lab-probe spawn` children of this test (their parent has
# exited): our own binary's path in their cmdline tells them from anything else.
spawn_pids() {
    local d
    for d in /proc/[0-9]*; do
        [ "$(cat "$d/comm" 2>/dev/null)" = lab-spawn ] || continue
        tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$T/lab-probe spawn 3" || continue
        echo "${d#/proc/}"
    done
}
stop_background() {
    local p
    for p in "${BG_PIDS[@]+"${BG_PIDS[@]}"}" $(spawn_pids); do
        kill "$p" 2>/dev/null || true
    done
}
trap stop_background EXIT

sleep 1000 &
SLEEP_PID=$!
BG_PIDS+=("$SLEEP_PID")
# An awkward cmdline: spaces, a comma, '%', an empty argument, a non-ASCII byte (one process:
# nothing left behind when it is killed).
python3 -c 'import time; time.sleep(1000)' 'a b,c%d' '' $'\xe9' &
BG_PIDS+=($!)
"$T/lab-probe" idle 2 &
BG_PIDS+=($!)
"$T/lab-probe" spawn 3 || die "lab-probe spawn 3 failed"

mkdir -p "$T/bin"
cat >"$T/bin/crun" <<CRUN
#!/bin/sh
case "\$1" in
list) printf '[\n    {\n        "id": "fake \\\\"one\\\\"",\n        "pid": $SLEEP_PID,\n        "status": "running",\n        "bundle": "/b/x y",\n        "created": "now",\n        "owner": ""\n    }\n]\n' ;;
ps) printf '[\n  $SLEEP_PID\n]\n' ;;
*) exit 1 ;;
esac
CRUN
chmod 755 "$T/bin/crun"
sleep 0.2 # let the background processes exec, so the block is settled on the first try
PATH="$T/bin:$PATH" "$T/lab-probe" truth 7 >"$T/truth.txt" || die "lab-probe truth failed"

python3 - "$T/truth.txt" "$LAB_TOOLS" "$SLEEP_PID" "${BG_PIDS[1]}" "${BG_PIDS[2]}" "$T/lab-probe" <<'PY' ||
import os, socket, sys
path, tools, sleep_pid, awkward_pid, idle_pid, probe = sys.argv[1:]
sys.path.insert(0, tools)
import truth
text = open(path).read()
t = truth.parse(text)
bad = []
def need(ok, what):
    if not ok:
        bad.append(what)
need(text.startswith("GUEST-TRUTH-BEGIN seq=7 "), "the block does not start with BEGIN seq=7")
need(t.end.get("seq") == 7 and t.end.get("errors") == 0, "END: %r" % t.end)
need(t.end.get("procs") == len(t.procs) and t.end.get("containers") == 1, "END counts: %r" % t.end)
need(t.begin.get("self") not in t.procs, "lab-probe's own pid has a PROC line")
need(t.begin.get("settled") == 1, "not settled")
c = t.containers.get('fake "one"')
need(c is not None, "the container id was not decoded: %r" % list(t.containers))
if c:
    need(c["pid"] == int(sleep_pid) and c["status"] == "running" and c["bundle"] == "/b/x y",
         "CONTAINER fields: %r" % c)
    need(c["hostname"] == os.uname().nodename, "hostname %r" % c["hostname"])
    cg = [l[3:].strip() for l in open("/proc/%s/cgroup" % sleep_pid) if l.startswith("0::")]
    need(cg and c["cgroup"] == cg[0], "cgroup %r, want %r" % (c["cgroup"], cg))
need(t.ps.get('fake "one"') == [int(sleep_pid)], "CONTAINER-PS: %r" % t.ps)
keys = ["pid", "ppid", "comm", "uid", "state", "threads", "kthread", "start", "nspid", "ns_pid",
        "ns_mnt", "ns_uts", "ns_ipc", "ns_net", "ns_cgroup", "cgroup", "cmdline", "name"]
for line in text.splitlines():
    if line.startswith("PROC "):
        got = [w.split("=", 1)[0] for w in line.split(" ")[1:]]
        need(got == keys, "PROC fields %r" % got)
        break
b = t.procs.get(int(awkward_pid))
# argv[0] is whatever python3 the PATH gives (a shim may re-exec the real one): skip it.
need(b and b["cmdline"][1:] == ["-c", "import time; time.sleep(1000)", "a b,c%d", "", "\ufffd"],
     "awkward cmdline: %r" % (b and b["cmdline"]))
raw = [l for l in text.splitlines() if l.startswith("PROC pid=%s " % awkward_pid)]
need(raw and raw[0].split(" cmdline=")[1].split(" ")[0].endswith(
    ",-c,import%20time;%20time.sleep(1000),a%20b%2Cc%25d,,%E9"),
     "awkward cmdline encoded as %r" % (raw and raw[0].split("cmdline=")[1]))
i = t.procs.get(int(idle_pid))
need(i and i["threads"] == 3 and i["kthread"] == 0, "idle 2: %r" % i)
spawned = [p for p in t.procs.values() if p["comm"] == "lab-spawn" and p["cmdline"] == [probe, "spawn", "3"]]
need(len(spawned) == 3, "%d lab-spawn processes, want 3" % len(spawned))
me = t.procs.get(os.getppid())
need(me and me["uid"] == os.getuid() and me["nspid"] == os.getppid(), "the test's shell: %r" % me)
# comm is task->comm (15 bytes at most), name what /proc shows: they differ only for kernel
# threads with long names and workqueue workers.
for p in t.procs.values():
    need(len(p["comm"].encode()) <= 15, "pid %d: comm %r longer than 15 bytes" % (p["pid"], p["comm"]))
    need(p["name"].startswith(p["comm"]), "pid %d: name %r does not start with comm %r"
         % (p["pid"], p["name"], p["comm"]))
    need(p["kthread"] or p["name"] == p["comm"], "pid %d: user process with name %r, comm %r"
         % (p["pid"], p["name"], p["comm"]))
kthreadd = t.procs.get(2)
if kthreadd and kthreadd["comm"] == "kthreadd":
    need(kthreadd["kthread"] == 1 and kthreadd["cmdline"] == [], "kthreadd: %r" % kthreadd)
for p in bad:
    print("truth: " + p, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
    die "lab-probe truth: the block is wrong (above; block in $T/truth.txt)"

# A crun that fails: an ERROR line in a still complete block, and exit status 1.
printf '#!/bin/sh\necho "crun: broken" >&2\nexit 3\n' >"$T/bin/crun"
if PATH="$T/bin:$PATH" "$T/lab-probe" truth >"$T/truth-error.txt" 2>/dev/null; then
    die "lab-probe truth exited 0 although crun failed"
fi
grep -q '^ERROR what=crun-list detail=exit-status-3$' "$T/truth-error.txt" ||
    die "no ERROR line for the failing crun in $T/truth-error.txt"
grep -q '^GUEST-TRUTH-END seq=0 .* containers=0 errors=1$' "$T/truth-error.txt" ||
    die "the block with a failing crun does not end right ($T/truth-error.txt)"
log "lab-probe truth: pass ($(grep -c '^PROC ' "$T/truth.txt") processes)"
