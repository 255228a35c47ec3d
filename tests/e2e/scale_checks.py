"""Issue 12 end-to-end checks at scale, on the loaded guest (ops-pause-loaded's 1,000 extra
sleepers in tree): the monitor's live ps, containers and inspect against a truth block the
guest prints then (every field vmi-live compares); the compact format and the filters say
the same as ps --json; the bytes on the wire per process of ps in each form, counted in
hvctl's log of every byte received."""

import json
import os
import re

import dump_test
import truth as truthmod
from checks import Failed, need, short

# The goal of issue 12: ps of 1,000 processes in at most 2 s of wire time at 115200 baud
# (10 bits a byte): 23,040 bytes.
WIRE_GOAL_PER_1000 = 23040


def new_truth(lab, rundir, min_procs):
    """Asks the guest for a truth block (tree's /truth-request, copied through the monitor)
    and returns it parsed, with its line index."""
    req = os.path.join(rundir, "truth-request")
    with open(req, "w") as f:
        f.write("1\n")
    mark = lab.console_mark()
    rc, out, err = lab.hvctl("cp", req, "tree:/truth-request", timeout=300)
    need(rc == 0, f"cp truth-request -> {rc}: {short(err or out)}")
    end = lab.wait_console(r"GUEST-TRUTH-END seq=\d+ ", timeout=900, since=mark)
    lines = lab.console_lines()
    begin = max(i for i in range(mark, end.lineno + 1)
                if lines[i].startswith("GUEST-TRUTH-BEGIN"))
    t = truthmod.parse("\n".join(lines[begin:end.lineno + 1]) + "\n")
    bad = [b for b in truthmod.check(t, min_containers=3, min_procs=min_procs)
           if ": status " not in b]
    need(not bad, "the guest's truth block is inconsistent: " + "; ".join(bad))
    return t


def first_json(text):
    for line in text.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise Failed(f"no JSON object in {short(text)}")


def received(lab, *args, timeout=300):
    """hvctl ARGS: (stdout, bytes hvctl received for it: its --log grew by that much)."""
    log = lab.path("hvctl.log")
    before = os.path.getsize(log) if os.path.exists(log) else 0
    rc, out, err = lab.hvctl(*args, timeout=timeout)
    need(rc == 0, f"hvctl {' '.join(args)} -> {rc}: {short(err or out)}")
    return out, os.path.getsize(log) - before


def parse_compact(text):
    """A compact listing: (field names, rows as dicts), the escapes undone."""
    def unescape(s):
        if s == "\\N":
            return None
        return re.sub(r"\\(x[0-9a-f]{2}|.)",
                      lambda m: {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(
                          m.group(1), chr(int(m.group(1)[1:], 16))
                          if m.group(1).startswith("x") else m.group(1)), s)
    lines = text.splitlines()
    need(lines and lines[0].startswith("#"), f"compact: no header: {short(text)}")
    names = lines[0][1:].split("\t")
    rows = []
    for line in lines[1:]:
        if line.startswith("#"):
            continue
        vals = line.split("\t")
        need(len(vals) == len(names), f"compact: {len(vals)} values for {len(names)} fields: "
             f"{short(line)}")
        rows.append(dict(zip(names, map(unescape, vals))))
    return names, rows


def check_vmi_loaded(lab, rundir, min_procs=1000):
    t = new_truth(lab, rundir, min_procs)
    ps_text, b_json = received(lab, "ps", "--json")
    ps = first_json(ps_text)
    cts_text, _ = received(lab, "containers", "--json")
    cts = first_json(cts_text)
    c, matched, c_matched = dump_test.compare_all(t, ps, cts, live=True)
    dump_test.settle_views(c, lambda: first_json(received(lab, "ps", "--json")[0]))
    # inspect of every container, the loaded one's members against the truth
    for cid in sorted(t.containers):
        out, _ = received(lab, "inspect", cid, "--json")
        j = first_json(out)
        need("container" in j, f"inspect {cid}: not a container: {short(out)}")
        got = {p["pid"] for p in j["container"].get("processes", [])}
        want = set(t.ps.get(cid, []))
        missing = [p for p in want - got if not dump_test.transient(t.procs.get(p, {}))]
        if missing:
            c.diffs.append(f"inspect {cid}: {len(missing)} of the truth's processes missing, "
                           f"e.g. {sorted(missing)[:5]}")
    for n in c.notes[:10]:
        print("e2e: vmi note: " + n, flush=True)
    need(not c.diffs, f"{len(c.diffs)} difference(s): " + "; ".join(c.diffs[:8]))

    # the compact format says what JSON says; the filters keep exactly their processes
    names_of = {x["id"]: x["name"] for x in cts["containers"]}
    compact_text, b_compact = received(lab, "ps", "--compact")
    _, rows = parse_compact(compact_text)
    by_pid = {p["pid"]: p for p in ps["processes"] if p["pid"] == p["thread_id"]}
    same = 0
    for r in rows:
        p = by_pid.get(int(r["pid"]))
        if p is None or p["comm"] != r["comm"]:
            continue  # came or went between the two reads
        want = {k: None if p[k] is None else str(p[k]) for k in ("ppid", "uid", "threads")}
        want.update(cmdline=p["cmdline"], container=names_of.get(p["container"]))
        got = {k: r[k] for k in want}
        need(got == want, f"pid {p['pid']}: compact {got}, JSON {want}")
        same += 1
    need(same >= 0.98 * len(by_pid), f"only {same} of {len(by_pid)} processes in both reads")
    busy_id = next(x["id"] for x in cts["containers"] if x["name"] == "busy")
    out, _ = received(lab, "ps", "--container", "busy", "--json")
    f = first_json(out)
    want = sorted(p["pid"] for p in by_pid.values() if p["container"] == busy_id)
    got = sorted(p["pid"] for p in f["processes"])
    need(got == want and got, f"ps --container busy: {got}, ps --json says {want}")
    out, _ = received(lab, "ps", "--pid", "1", "--fields", "pid,comm,cmdline", "--compact")
    _, one = parse_compact(out)
    need(len(one) == 1 and one[0]["pid"] == "1" and one[0]["comm"] == by_pid[1]["comm"]
         and one[0]["cmdline"] == by_pid[1]["cmdline"], f"ps --pid 1: {one}")

    # bytes on the wire per process, each form (hvctl compresses unless told not to)
    _, b_text = received(lab, "ps")
    _, b_text_plain = received(lab, "--compress", "no", "ps", timeout=600)
    _, b_compact_plain = received(lab, "--compress", "no", "ps", "--compact", timeout=600)
    n = len(rows)
    per = {"text": b_text_plain, "text+deflate": b_text, "compact": b_compact_plain,
           "compact+deflate": b_compact, "json+deflate": b_json}
    figures = ", ".join(f"{k} {v / n:.1f} B/process" for k, v in per.items())
    need(b_compact * 1000 / n <= WIRE_GOAL_PER_1000,
         f"ps --compact with deflate: {b_compact} bytes for {n} processes, over the goal of "
         f"{WIRE_GOAL_PER_1000} per 1,000 ({figures})")
    return (f"{len(t.procs)} processes in the truth: matched {matched}, containers "
            f"{c_matched}/{len(t.containers)}, fields {c.fields}; compact = JSON for {same}; "
            f"wire for {n} processes: {figures}; ps --compact +deflate "
            f"{b_compact * 10 / 115200:.2f} s at 115200 baud")
