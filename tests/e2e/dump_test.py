#!/usr/bin/env python3
"""Introspection on a real dump: hvctl --dump against the guest's own view of itself.

Takes the lab guest's memory dump and the GUEST-TRUTH block it printed just before
(tools/lab/make-dump.sh: DIR/lab/dump/guest.elf + truth.txt; made when missing or stale),
runs `hvctl --dump ... ps --json` and `containers --json` and compares EVERY process and
container the guest printed with what hvctl read from its memory:

  per process    pid, ppid, comm, uid, threads, kernel-thread flag, start time (clock
                 ticks), pid inside its namespace, the inode of each of its pid, mnt, uts,
                 ipc, net and cgroup namespaces, cgroup path, cmdline, container membership
  per container  id, init pid, state, hostname, cgroup path, member pids

All must match. Processes hvctl sees that the truth cannot hold are allowed only when they
are what /init ran after printing it (children of pid 1 named sleep or lab-probe, started
after the block) or pid 0 (init_task, which /proc does not list). The process state letter
and the last workqueue a kernel worker served (the "-events" of "kworker/0:2-events") are
compared but only reported: they are a moment's values, and the truth and the dump are two
different moments (the busy container is R in one and may be S in the other).

Also checks that the text verbs run (ps, containers, inspect of each container and of pid
1) and that a name matching nothing fails with hvctl's error status.

usage: dump_test.py [--build DIR] [--hvctl PATH] [--dump-dir DIR] [--profile FILE]
                    [--spawn N] [--no-make]
Prints "processes matched N/N, containers M/M, fields F"; exit 0 when all match, 1 with
a diff otherwise, 2 when it cannot run (no dump, no hvctl).
"""
import argparse
import json
import os
import re
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools", "lab"))
import truth as truthmod  # noqa: E402  (tools/lab/truth.py: the block's parser)

NS = ("pid", "mnt", "uts", "ipc", "net", "cgroup")
TICKS_NS = 10_000_000  # USER_HZ = 100: /proc/PID/stat start time is start_boottime / 1e7
AFTER_TRUTH_COMMS = {"sleep", "lab-probe", "crun", "memfd:crun_clon", "exe"}
# ("memfd:crun_clon": crun re-executes itself from a memfd copy before it runs; caught in
# that moment, its comm is the memfd's name, cut at 15 bytes; "exe": caught while it
# executes /proc/self/exe, seen once live in this session's boot e2e)
# /init's forks (subshells keep its comm "init") and lab-checker's victim, which ends and is
# started again every 3 s (tools/lab/guest/init): a live view differs from the truth block
# by them, by design.
TRANSIENT_CMDLINE = "lab-checker victim "


def transient(p):
    cmd = p.get("cmdline", "")
    if isinstance(cmd, list):
        cmd = " ".join(cmd)
    return (cmd + " ").startswith(TRANSIENT_CMDLINE)


def die(msg, code=2):
    print("dump_test: " + msg, file=sys.stderr)
    sys.exit(code)


def hvctl(args, opts, expect_rc=0):
    cmd = [opts.hvctl, "--dump", opts.elf, "--profile", opts.profile] + args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != expect_rc:
        die("%s: exit %d (want %d)\nstdout: %s\nstderr: %s"
            % (" ".join(args), p.returncode, expect_rc, p.stdout[-2000:], p.stderr[-2000:]), 1)
    return p


class Compare:
    def __init__(self):
        self.fields = 0
        self.diffs = []
        self.notes = []
        self.views_moved = None  # live: (tasks seen, want) to look at again (settle_views)

    def eq(self, what, ours, theirs):
        self.fields += 1
        if ours != theirs:
            self.diffs.append("%s: hvctl %r, guest %r" % (what, ours, theirs))
            return False
        return True


def split_worker(name):
    """'kworker/0:2-events' -> ('kworker/0:2', '-events')."""
    for i, ch in enumerate(name):
        if ch in "+-" and i > len("kworker/"):
            return name[:i], name[i:]
    return name, ""


def compare_process(c, t, o, container_of_pid):
    """t: the truth's PROC fields, o: hvctl's ps --json object."""
    pid = t["pid"]
    ok = True
    ok &= c.eq("pid %d ppid" % pid, o["ppid"], t["ppid"])
    # hvctl's comm is the name /proc/PID/stat shows (a kernel thread's full name, a
    # worker's "-workqueue" suffix); the truth has that as name= and task->comm as comm=.
    ours_comm, their_comm = o["comm"], t.get("name") or t["comm"]
    if o["kthread"] and ours_comm.startswith("kworker/") and their_comm.startswith("kworker/"):
        # A workqueue worker's name ends in "-" or "+" and the last workqueue it served
        # (wq_worker_comm): a moment's value, like the state.
        ours_comm, ours_wq = split_worker(ours_comm)
        their_comm, their_wq = split_worker(their_comm)
        if ours_wq != their_wq:
            c.notes.append("pid %d worker: hvctl %s, guest %s (last workqueue: not a failure)"
                           % (pid, o["comm"], t["comm"]))
    ok &= c.eq("pid %d comm" % pid, ours_comm, their_comm)
    ok &= c.eq("pid %d uid" % pid, o["uid"], t["uid"])
    ok &= c.eq("pid %d kthread" % pid, 1 if o["kthread"] else 0, t["kthread"])
    ok &= c.eq("pid %d start (ticks)" % pid, o["start_ns"] // TICKS_NS, t["start"])
    ok &= c.eq("pid %d nspid" % pid, o["nspid"], t["nspid"])
    if o["state"] in ("Z", "X") and t["state"] not in ("Z", "X"):
        # It exited between the truth block and the dump (the lab's checker victims do
        # every 10 s): do_exit() already dropped its threads, memory and namespaces, so
        # only what names it is compared.
        c.notes.append("pid %d exited after the truth block (hvctl %s, guest %s): threads, "
                       "namespaces, cgroup and cmdline not compared" % (pid, o["state"], t["state"]))
        c.fields += 1
        return ok
    ok &= c.eq("pid %d threads" % pid, o["threads"], t["threads"])
    for ns in NS:
        ok &= c.eq("pid %d ns %s" % (pid, ns), o["ns"][ns], t["ns_" + ns])
    ok &= c.eq("pid %d cgroup" % pid, o["cgroup"], t["cgroup"])
    # cmdline: the truth's arguments joined as hvctl joins them; hvctl keeps 255 bytes.
    if t["cmdline"] is not None:
        want = " ".join(t["cmdline"])
        got = o["cmdline"]
        if got is not None and "cmdline truncated" in o["partial"]:
            want = want[: len(got)]
        ok &= c.eq("pid %d cmdline" % pid, got, want)
    ok &= c.eq("pid %d container" % pid, o["container"], container_of_pid.get(pid))
    c.fields += 1
    if o["state"] != t["state"]:
        c.notes.append("pid %d state: hvctl %s, guest %s (a moment's value: not a failure)"
                       % (pid, o["state"], t["state"]))
    return ok


def compare_container(c, cid, t, pids, o):
    ok = True
    ok &= c.eq("container %s init pid" % cid, o["init_pid"], t["pid"])
    ok &= c.eq("container %s init nspid" % cid, o["init_nspid"], 1)
    ok &= c.eq("container %s state" % cid, o["state"], t["status"])
    ok &= c.eq("container %s hostname" % cid, o["hostname"], t["hostname"])
    ok &= c.eq("container %s cgroup" % cid, o["cgroup"], t["cgroup"])
    ok &= c.eq("container %s pids" % cid, sorted(o["pids"]), sorted(pids))
    return ok


def compare_views(c, ps, hidden=(), live=False):
    """The cross-view of ps (issue 9 item 5): all three views complete, exactly the pids in
    `hidden` (processes the lab rootkit took off the tasks list) flagged, each seen by the
    pid IDR and missing from `processes` (the tasks-list view: the attack's control), and as
    many tasks as the processes' thread counts say (plus init_task, and each other CPU's
    idle task, which are on no list)."""
    v = ps.get("views")
    if v is None:
        c.diffs.append("ps: no cross-view (\"views\" missing)")
        return
    c.fields += 1
    if not v["done"] or sorted(v["complete"]) != ["cpus", "pids", "tasks"]:
        c.diffs.append("ps: cross-view incomplete: %r" % v)
    flagged = {h["thread_id"] for h in ps["hidden"]}
    for h in ps["hidden"]:
        if h["thread_id"] not in hidden:
            c.diffs.append("ps: task %s (pid %s, %s) flagged hidden, seen by %s"
                           % (h["task"], h["thread_id"], h["comm"], h["seen_by"]))
        elif "pids" not in h["seen_by"] or "tasks" in h["seen_by"]:
            c.diffs.append("ps: hidden pid %s seen by %s (want the pid IDR, not the tasks list)"
                           % (h["thread_id"], h["seen_by"]))
    listed = {p["pid"] for p in ps["processes"]}
    for pid in sorted(hidden):
        c.fields += 1
        if pid not in flagged:
            c.diffs.append("ps: pid %d, taken off the tasks list, is not flagged hidden" % pid)
        if pid in listed:
            c.diffs.append("ps: pid %d, taken off the tasks list, is still in the tasks-list "
                           "view: the attack did not work (no control)" % pid)
    leaders = [h for h in ps["hidden"] if h["pid"] == h["thread_id"]]
    idle = sum(1 for k in ps.get("cpus", []) if k["cpu"] != 0 and k["state"] == "running"
               and k["pid"] == 0)
    want = 1 + idle + sum(p["threads"] or 0 for p in ps["processes"] + leaders if p["pid"] != 0)
    if live and v["tasks_seen"] != want:
        c.fields += 1
        c.views_moved = (v["tasks_seen"], want)  # a fork or exit between its exits?
        return
    c.eq("ps: tasks in the cross-view (1 + idle CPUs + the threads of every process)",
         v["tasks_seen"], want)


def settle_views(c, again, hidden=(), tries=3):
    """Live, the cross-view is taken over several exits with the guest running between
    them: a task forked or exited meanwhile moves its count from the threads' sum by one.
    Such a mismatch is looked at again with fresh `ps --json` replies (again()); it is a
    difference only if every one of them disagrees too."""
    if c.views_moved is None:
        return
    seen, want = c.views_moved
    for i in range(tries):
        c2 = Compare()
        compare_views(c2, again(), hidden)
        if not c2.diffs:
            c.notes.append("ps: tasks in the cross-view %d, the threads' sum %d: the guest "
                           "forked or exited meanwhile; look %d agreed" % (seen, want, i + 2))
            return
    c.diffs.append("ps: tasks in the cross-view (1 + idle CPUs + the threads of every "
                   "process): hvctl %d, want %d, and in %d more looks: %s"
                   % (seen, want, tries, "; ".join(c2.diffs)))


def compare_all(t, ps, cts, live=False, hidden=()):
    """Compare every process and container of the truth block t with hvctl's `ps --json`
    and `containers --json` objects. Returns (Compare, processes matched, containers
    matched). live: the truth was printed a while before the monitor looked (a running
    guest, not a dump taken right after it), so kernel threads that came or went in
    between (kworkers) are notes, not differences."""
    c = Compare()
    if ps["truncated"]:
        c.diffs.append("ps: task list truncated: %s" % ps["reason"])
    if cts["truncated"]:
        c.diffs.append("containers: truncated: %s" % cts["reason"])

    compare_views(c, ps, hidden, live)
    # a hidden process is compared with the guest's /proc like the others
    ours = {p["pid"]: p for p in ps["processes"] + ps.get("hidden", [])
            if p["pid"] == p["thread_id"]}
    container_of_pid = {pid: cid for cid, pids in t.ps.items() for pid in pids}
    matched = 0
    for pid in sorted(t.procs):
        o = ours.get(pid)
        if o is None:
            # (a dump too: QEMU dumps after the block, and the victim may restart between)
            if transient(t.procs[pid]):
                c.notes.append("pid %d (%s): the victim process, restarted since the truth "
                               "block" % (pid, t.procs[pid]["comm"]))
                continue
            if live and t.procs[pid]["kthread"] and t.procs[pid]["comm"].startswith("kworker/"):
                c.notes.append("pid %d (%s): a worker that ended since the truth block"
                               % (pid, t.procs[pid]["comm"]))
                continue
            c.diffs.append("pid %d (%s): in the guest's truth, not found by hvctl"
                           % (pid, t.procs[pid]["comm"]))
            continue
        if compare_process(c, t.procs[pid], o, container_of_pid):
            matched += 1
    uptime_ns = float(t.begin.get("uptime", 0)) * 1e9
    for pid, o in sorted(ours.items()):
        if pid in t.procs or pid == 0 or pid == t.begin.get("self"):
            continue
        if transient(o) and o["start_ns"] >= uptime_ns:
            c.notes.append("pid %d (%s): the victim process, restarted since the truth block"
                           % (pid, o["comm"]))
            continue
        if live and o["comm"] == "init" and o["ppid"] == 1 and o["start_ns"] >= uptime_ns:
            c.notes.append("pid %d: a subshell of /init started after the truth block" % pid)
            continue
        by_init = o["ppid"] == 1 or ours.get(o["ppid"], {}).get("comm") == "init"
        if by_init and o["comm"] in AFTER_TRUTH_COMMS and o["start_ns"] >= uptime_ns:
            c.notes.append("pid %d (%s %s): started by /init after the truth block"
                           % (pid, o["comm"], o["cmdline"]))
            continue
        if live and o["kthread"] and o["start_ns"] >= uptime_ns:
            c.notes.append("pid %d (%s): a kernel thread started after the truth block"
                           % (pid, o["comm"]))
            continue
        c.diffs.append("pid %d (%s): found by hvctl, not in the guest's truth" % (pid, o["comm"]))

    by_id = {o["id"]: o for o in cts["containers"]}
    c_matched = 0
    for cid in sorted(t.containers):
        o = by_id.get(cid)
        if o is None:
            c.diffs.append("container %s: in crun list, not found by hvctl" % cid)
            continue
        if compare_container(c, cid, t.containers[cid], t.ps.get(cid, []), o):
            c_matched += 1
    for cid in sorted(set(by_id) - set(t.containers)):
        c.diffs.append("container %s: found by hvctl, not in crun list" % cid)
    return c, matched, c_matched


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build"))
    ap.add_argument("--hvctl")
    ap.add_argument("--dump-dir")
    ap.add_argument("--profile")
    ap.add_argument("--spawn", type=int, default=0)
    ap.add_argument("--hide", help="a dump where the lab rootkit hid this container's init "
                    "(make-dump.sh --hide): ps must flag it, and nothing else")
    ap.add_argument("--no-make", action="store_true", help="do not (re)make the dump")
    opts = ap.parse_args()
    opts.hvctl = opts.hvctl or os.path.join(opts.build, "hvctl")
    if opts.dump_dir is None:
        sub = "dump" if opts.spawn == 0 else "dump-%d" % opts.spawn
        if opts.hide:
            sub = "dump-hide-" + opts.hide
        opts.dump_dir = os.path.join(opts.build, "lab", sub)
    if not opts.no_make:
        cmd = ["bash", os.path.join(REPO, "tools", "lab", "make-dump.sh"), "--build", opts.build,
               "--out", opts.dump_dir]
        if opts.spawn:
            cmd += ["--spawn", str(opts.spawn)]
        if opts.hide:
            cmd += ["--hide", opts.hide]
        if subprocess.run(cmd).returncode != 0:
            die("tools/lab/make-dump.sh failed")
    opts.elf = os.path.join(opts.dump_dir, "guest.elf")
    truth_path = os.path.join(opts.dump_dir, "truth.txt")
    for f in (opts.elf, truth_path, opts.hvctl):
        if not os.path.exists(f):
            die("%s missing" % f)
    if opts.profile is None:
        with open(os.path.join(opts.dump_dir, "kernel-release")) as f:
            release = f.read().strip()
        opts.profile = os.path.join(REPO, "guest-profiles", release + ".json")
        if not os.path.exists(opts.profile):  # a kernel newer than the committed ones
            opts.profile = os.path.join(opts.build, "lab", "guest-profile.json")

    with open(truth_path, encoding="utf-8", errors="replace") as f:
        t = truthmod.parse(f.read())
    # A paused or stopped container is a state to compare, not an inconsistency here.
    bad = [b for b in truthmod.check(t, min_containers=3, min_procs=1) if ": status " not in b]
    if bad:
        die("the truth block itself is inconsistent: " + "; ".join(bad))

    hidden = set()
    if opts.hide:
        with open(os.path.join(opts.dump_dir, "console.log"), errors="replace") as f:
            m = re.search(r"GUEST-HIDDEN pid=(\d+) in_proc=(\d)", f.read())
        if m is None or m.group(2) != "1":
            die("the rootkit's hide did not run, or /proc lost the process: %r"
                % (m and m.group(0)))
        hidden = {int(m.group(1))}
    ps = json.loads(hvctl(["ps", "--json"], opts).stdout)
    cts = json.loads(hvctl(["containers", "--json"], opts).stdout)
    c, matched, c_matched = compare_all(t, ps, cts, hidden=hidden)
    if hidden:
        print("dump_test: pid %s hidden by the rootkit: flagged, seen by %s"
              % (sorted(hidden), [h["seen_by"] for h in ps["hidden"]]))

    # The text verbs run, and an unknown name is an error (exit 1) naming it.
    hvctl(["ps"], opts)
    hvctl(["containers"], opts)
    hvctl(["inspect", "1"], opts)
    for cid in sorted(t.containers):
        out = hvctl(["inspect", cid], opts).stdout
        if "container:   %s" % cid not in out:
            c.diffs.append("inspect %s: no 'container:   %s' line" % (cid, cid))
    err = hvctl(["inspect", "no-such-container"], opts, expect_rc=1).stderr
    if "no container or process matches 'no-such-container'" not in err:
        c.diffs.append("inspect no-such-container: stderr %r" % err)

    for n in c.notes:
        print("dump_test: note: " + n)
    print("processes matched %d/%d, containers %d/%d, fields %d"
          % (matched, len(t.procs), c_matched, len(t.containers), c.fields))
    if c.diffs:
        print("dump_test: %d differences between hvctl and the guest's truth:" % len(c.diffs),
              file=sys.stderr)
        for d in c.diffs:
            print("  " + d, file=sys.stderr)
        sys.exit(1)
    print("dump_test: ok (%s)" % opts.dump_dir)


if __name__ == "__main__":
    main()
