#!/usr/bin/env python3
"""The lab guest's GUEST-TRUTH block: parser, and a consistency check of one block.

The block is printed by `lab-probe truth` in the guest (its format is documented at the top
of the "truth" section of tools/lab/guest/lab-probe.c). Tests import this module:

    sys.path.insert(0, "tools/lab"); import truth
    t = truth.parse(open("build/lab/dump/truth.txt").read())     # the last block in the text
    t.procs[1]["comm"], t.containers["busy"]["hostname"], t.ps["tree"]  # -> [pids]

usage: truth.py FILE [--min-containers N] [--min-procs N]
    checks the last block in FILE (a console log or a truth.txt) and prints a summary;
    exit 0 if consistent, 1 with the reasons if not.
"""
import sys
import urllib.parse

# Fields whose values are %-encoded text (see lab-probe.c); cmdline is a list of them.
TEXT_FIELDS = {"comm", "name", "bundle", "hostname", "cgroup", "detail", "status", "id"}
INT_FIELDS = {"pid", "ppid", "uid", "threads", "kthread", "start", "nspid", "ns_pid", "ns_mnt",
              "ns_uts", "ns_ipc", "ns_net", "ns_cgroup", "seq", "self", "settled", "procs",
              "containers", "errors"}


def decode(value):
    """One %-encoded value -> str (bytes that are not UTF-8 become U+FFFD)."""
    return urllib.parse.unquote_to_bytes(value).decode("utf-8", "replace")


def fields(line):
    """'TAG a=1 b=x' -> ('TAG', {'a': 1, 'b': 'x'}); '-' (unknown) -> None."""
    words = line.split(" ")
    out = {}
    for w in words[1:]:
        if "=" not in w:
            continue
        k, v = w.split("=", 1)
        if v == "-" and k != "cmdline":
            out[k] = None
        elif k == "cmdline":
            out[k] = None if v == "-" else ([] if v == "" else [decode(a) for a in v.split(",")])
        elif k == "pids":
            out[k] = [int(p) for p in v.split(",") if p]
        elif k in INT_FIELDS:
            out[k] = int(v)
        elif k in TEXT_FIELDS:
            out[k] = decode(v)
        else:
            out[k] = v
    return words[0], out


class Truth:
    def __init__(self):
        self.begin = {}
        self.end = {}
        self.containers = {}  # id -> CONTAINER fields
        self.ps = {}          # id -> [host pids] (CONTAINER-PS)
        self.procs = {}       # pid -> PROC fields
        self.errors = []      # ERROR fields


def blocks(text):
    """The lines of each complete block in text, BEGIN and END included."""
    out, cur = [], None
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.startswith("GUEST-TRUTH-BEGIN"):
            cur = [line]
        elif cur is not None:
            cur.append(line)
            if line.startswith("GUEST-TRUTH-END"):
                out.append(cur)
                cur = None
    return out


def parse(text, index=-1):
    """The block number index (default: the last) of text, as a Truth."""
    found = blocks(text)
    if not found:
        raise ValueError("no complete GUEST-TRUTH-BEGIN..GUEST-TRUTH-END block")
    t = Truth()
    for line in found[index]:
        tag, f = fields(line)
        if tag == "GUEST-TRUTH-BEGIN":
            t.begin = f
        elif tag == "GUEST-TRUTH-END":
            t.end = f
        elif tag == "CONTAINER":
            t.containers[f["id"]] = f
        elif tag == "CONTAINER-PS":
            t.ps[f["id"]] = f["pids"]
        elif tag == "PROC":
            t.procs[f["pid"]] = f
        elif tag == "ERROR":
            t.errors.append(f)
        else:
            raise ValueError("unexpected line in the truth block: %r" % line[:80])
    return t


def check(t, min_containers=3, min_procs=1):
    """Reasons the block is not consistent (empty: it is)."""
    bad = []
    if t.begin.get("seq") != t.end.get("seq"):
        bad.append("BEGIN and END have different seq")
    if t.end.get("procs") != len(t.procs):
        bad.append("END says procs=%s, the block has %d PROC lines" % (t.end.get("procs"), len(t.procs)))
    if t.end.get("containers") != len(t.containers):
        bad.append("END says containers=%s, the block has %d" % (t.end.get("containers"), len(t.containers)))
    for e in t.errors:
        bad.append("ERROR what=%s detail=%s" % (e.get("what"), e.get("detail")))
    if len(t.containers) < min_containers:
        bad.append("%d containers, want at least %d" % (len(t.containers), min_containers))
    if len(t.procs) < min_procs:
        bad.append("%d processes, want at least %d" % (len(t.procs), min_procs))
    init = t.procs.get(1)
    if not init:
        bad.append("no PROC line for pid 1")
        return bad
    for p in t.procs.values():
        if p["kthread"] == 0 and p["ppid"] == 2:
            bad.append("pid %d: child of kthreadd but not a kernel thread" % p["pid"])
        if p["kthread"] == 1 and p["cmdline"]:
            bad.append("pid %d: kernel thread with a cmdline" % p["pid"])
    seen_ns = set()
    for cid, c in t.containers.items():
        if c["status"] != "running":
            bad.append("container %s: status %s" % (cid, c["status"]))
            continue
        proc = t.procs.get(c["pid"])
        if not proc:
            bad.append("container %s: no PROC line for its init pid %s" % (cid, c["pid"]))
            continue
        if proc["nspid"] != 1:
            bad.append("container %s: init pid %d has nspid %s, not 1" % (cid, c["pid"], proc["nspid"]))
        if not c["hostname"]:
            bad.append("container %s: no hostname" % cid)
        pids = t.ps.get(cid)
        if not pids:
            bad.append("container %s: no CONTAINER-PS pids" % cid)
            continue
        if c["pid"] not in pids:
            bad.append("container %s: crun ps lacks its init pid %d" % (cid, c["pid"]))
        for pid in pids:
            p = t.procs.get(pid)
            if not p:
                bad.append("container %s: crun ps pid %d has no PROC line" % (cid, pid))
                continue
            for ns in ("ns_pid", "ns_mnt", "ns_uts", "ns_ipc", "ns_net", "ns_cgroup"):
                if p[ns] is None or p[ns] == init[ns]:
                    bad.append("container %s: pid %d shares %s with pid 1" % (cid, pid, ns))
                if p[ns] != proc[ns]:
                    bad.append("container %s: pid %d %s differs from its init's" % (cid, pid, ns))
            if p["cgroup"] != c["cgroup"]:
                bad.append("container %s: pid %d in cgroup %s, not %s" % (cid, pid, p["cgroup"], c["cgroup"]))
        key = (proc["ns_pid"], proc["ns_uts"])
        if key in seen_ns:
            bad.append("container %s shares namespaces with another container" % cid)
        seen_ns.add(key)
        # Every process in the container's pid namespace is one crun ps lists.
        members = sorted(p["pid"] for p in t.procs.values() if p["ns_pid"] == proc["ns_pid"])
        if members != sorted(pids):
            bad.append("container %s: crun ps %s, processes in its pid ns %s" % (cid, pids, members))
    return bad


def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__.split("usage: ", 1)[1])
    path, opts = args[0], {"--min-containers": 3, "--min-procs": 1}
    rest = args[1:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            sys.exit("truth.py: unknown or incomplete option %r" % rest[0])
        opts[rest[0]] = int(rest[1])
        rest = rest[2:]
    with open(path, encoding="utf-8", errors="replace") as f:
        t = parse(f.read())
    bad = check(t, opts["--min-containers"], opts["--min-procs"])
    kthreads = sum(1 for p in t.procs.values() if p["kthread"])
    in_ctr = sum(len(v) for v in t.ps.values())
    print("truth seq=%s: %d processes (%d kernel threads, %d in containers), %d containers: %s"
          % (t.begin.get("seq"), len(t.procs), kthreads, in_ctr, len(t.containers),
             " ".join("%s(pid %s, %s)" % (c, v["pid"], v["hostname"]) for c, v in sorted(t.containers.items()))))
    for b in bad:
        print("truth.py: " + b, file=sys.stderr)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
