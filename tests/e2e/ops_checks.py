"""Issue 4 end-to-end checks: container operations by injected system calls, each
compared with the guest's own view (GUEST-HEARTBEAT frozen=/busy=, GUEST-CGSTAT,
GUEST-CRUN, GUEST-CHECKER lines that tools/lab/guest/init and lab-checker print)."""

import json
import os
import re
import time

from checks import Failed, need, short, vmcall_exits

HB = r"GUEST-HEARTBEAT n=(\d+) uptime=(\S+) com2=(\S+) busy=(\S+) frozen=(\S+)"


def op_json(lab, *args, timeout=120, want_rc=0, pre=()):
    """pre: hvctl options before the verb (--relay ...: through the guest's relay)."""
    # exec's options come before the container (after "--" is the command's own).
    words = ([args[0], "--json", *args[1:]] if args[0] == "exec" else [*args, "--json"])
    rc, out, err = lab.hvctl(*pre, *words, timeout=timeout)
    need(rc == want_rc, f"hvctl {' '.join(args)} -> {rc}, want {want_rc}: {short(err or out)}")
    for line in out.splitlines():
        if line.strip().startswith("{"):
            return json.loads(line), err
    raise Failed(f"hvctl {' '.join(args)}: no JSON in {short(out)}")


def heartbeat(lab, since):
    m = lab.wait_console(HB, 120, since=since)
    frozen = dict(kv.split(":") for kv in m.group(5).split(","))
    return m, m.group(4), frozen


def crun_status(lab, cid, since, timeout=90):
    m = lab.wait_console(rf"GUEST-CRUN n=\d+ id={cid} pid=\S+ status=(\S+)", timeout, since=since)
    return m.group(1)


def check_errors(lab):
    steps = []
    for args, want in ((["pause", "no-such-container"], "no such container"),
                       (["stats", "no-such-container"], "no such container"),
                       (["kill", "-s", "NOSUCHSIG", "busy"], "bad signal"),
                       (["stop", "-t", "x", "busy"], "bad grace period"),
                       (["unpause", "busy"], "not paused"),
                       (["probe"], "which task")):
        rc, out, err = lab.hvctl(*args, timeout=60)
        need(rc == 1 and want in err, f"{' '.join(args)} -> {rc}: {short(err or out)}")
        steps.append(f"{args[0]}:{want}")
    return ", ".join(steps)


def check_pause(lab):
    """pause busy: its cgroup.events says frozen 1, crun says paused, the counter stops;
    unpause: frozen 0, crun running, the counter moves again."""
    return pause_unpause_busy(lab)


def check_pause_loaded(lab, extra=1000):
    """The same pause and unpause of busy (a CPU hog held to 10 % of a CPU) on a loaded
    guest: `extra` more processes started in tree first (stop and kill run after this, on
    the same load). A freeze that is not complete at the first poll must still be seen
    when it completes (the frozen state is read anew at every poll)."""
    # lab-checker (in every container) returns at once and forks them in the background
    # (fork only); the guest's own cgroup file says when they are all there.
    j, _ = op_json(lab, "exec", "tree", "--", "lab-checker", "spawn", str(extra), timeout=300)
    need(j["ok"] and j["exit_code"] == 0, f"starting {extra} sleepers in tree: {j}")
    deadline = time.time() + 600
    while True:
        cg = cgstat_around(lab, "tree", lab.console_mark())
        if int(cg.group(3)) >= extra:
            break
        need(time.time() < deadline, f"tree has only pids_current={cg.group(3)} after 600 s")
    runs = busy_running(lab)
    return (f"tree pids {cg.group(3)}; {runs}; "
            + pause_unpause_busy(lab, timeout=300, attempts=3))


def busy_running(lab, heartbeats=30):
    """Waits (at most `heartbeats` heartbeats) until busy's counter moves between two
    heartbeats in a row. The time of VM exits is charged to whatever task the guest ran
    then, often busy, held to 10 % of a CPU by cpu.max: after a burst of operations (the
    1,000 forks, robustness's 200 injections) it can stay throttled for longer than a
    pause waits for the freeze (10 s; it then fails, and the guest agrees busy is not
    frozen: 2 runs in about 10). A freeze needs busy to run once."""
    m, c0, _ = heartbeat(lab, lab.console_mark())
    for i in range(heartbeats):
        m, c1, _ = heartbeat(lab, m.lineno + 1)
        if c1 != "-" and c0 != "-" and int(c1) > int(c0):
            return f"busy ran again after {i + 1} heartbeat(s)"
        c0 = c1
    raise Failed(f"busy's counter stayed at {c0} for {heartbeats} heartbeats")


def pause_unpause_busy(lab, timeout=120, attempts=1, pre=()):
    """`attempts` > 1 (the loaded guest): a pause the guest did not complete in time may be
    tried again, but only after the monitor said so and undid it, and the guest's own
    cgroup.events agrees busy is not frozen; each retry is reported. pre: hvctl options
    before the verb (--relay ...: every request through the guest's relay)."""
    retried = []
    for attempt in range(attempts):
        rc, out, err = lab.hvctl(*pre, "pause", "busy", "--json", timeout=timeout)
        if rc == 0:
            break
        # what was in busy's cgroup (a task that does not freeze keeps it from frozen)
        ps, _ = op_json(lab, "ps", timeout=300)
        members = [(p["pid"], p.get("comm"), p.get("state"), p.get("ppid"))
                   for p in ps["processes"] if p.get("container") == "busy"]
        _, _, frozen = heartbeat(lab, lab.console_mark())
        said = f"{short(err, 200)}; busy's processes (pid, comm, state, ppid): {members}"
        need("did not report frozen" in err and "the freeze was undone" in err
             and frozen.get("busy") == "0" and attempt + 1 < attempts,
             f"pause busy -> {rc}: {said}; the guest's cgroup.events frozen={frozen}")
        retried.append(said)
        busy_running(lab)
    j = json.loads(next(l for l in out.splitlines() if l.strip().startswith("{")))
    need(j["ok"] and j["via"]["pid"] > 0, f"pause: {j}")
    mark = lab.console_mark()
    # The first heartbeat after the reply may hold values /init read before the pause:
    # /init's own loop may have been the host task the pause ran in. The next two cannot.
    m0, _, _ = heartbeat(lab, mark)
    m1, c1, f1 = heartbeat(lab, m0.lineno + 1)
    m2, c2, f2 = heartbeat(lab, m1.lineno + 1)
    need(f1.get("busy") == "1" and f2.get("busy") == "1", f"guest sees frozen {f1} {f2}")
    need(c1 == c2, f"busy counter moved while paused: {c1} -> {c2}")
    st = crun_status(lab, "busy", m0.lineno + 1)  # a crun list that began after the reply
    need(st == "paused", f"crun says busy is {st}")
    rc, out, err = lab.hvctl(*pre, "pause", "busy", timeout=60)
    need(rc == 1 and "already paused" in err, f"second pause -> {rc}: {short(err)}")
    u, _ = op_json(lab, "unpause", "busy", timeout=timeout, pre=pre)
    need(u["ok"], f"unpause: {u}")
    mark2 = lab.console_mark()
    m3, _, _ = heartbeat(lab, mark2)
    m4, c4, f4 = heartbeat(lab, m3.lineno + 1)
    need(f4.get("busy") == "0", f"guest sees frozen after unpause: {f4}")
    need(int(c4) > int(c2), f"busy counter did not advance after unpause: {c2} -> {c4}")
    st2 = crun_status(lab, "busy", m3.lineno + 1)
    need(st2 == "running", f"crun says busy is {st2} after unpause")
    return (f"pause: {j['exits']} exits {j['guest_us']} us {j['calls']} calls "
            f"{j['polls']} polls via pid {j['via']['pid']}; counter held at {c1}; unpause: "
            f"{u['exits']} exits {u['polls']} polls, counter {c2} -> {c4}; crun {st} -> {st2}"
            + (f"; RETRIED {len(retried)}x after: {' | '.join(retried)}" if retried else ""))


def cgstat_around(lab, name, since):
    pat = rf"GUEST-CGSTAT n=\d+ name={name} usage_usec=(\S+) memory_current=(\S+) pids_current=(\S+)"
    return lab.wait_console(pat, 120, since=since)


def groups3(m):
    return (m.group(1), m.group(2), m.group(3))


def check_stats(lab):
    """stats of a quiet container (tree: only sleeping processes) equals the cgroup files
    the guest read itself just before and just after, when those two agree."""
    for attempt in range(3):
        before = cgstat_around(lab, "tree", lab.console_mark())
        j, _ = op_json(lab, "stats", "tree")
        after = cgstat_around(lab, "tree", lab.console_mark())
        if groups3(before) != groups3(after):
            continue
        need(j["ok"], f"stats: {j}")
        s = j["stats"]
        got = (str(s["cpu_usage_usec"]), str(s["memory_current"]), str(s["pids_current"]))
        need(got == groups3(before), f"monitor {got} != guest {groups3(before)}")
        jb, _ = op_json(lab, "stats", "busy")
        need(jb["stats"]["pids_current"] == 1 and jb["stats"]["cpu_usage_usec"] > 0,
             f"stats busy: {jb}")
        # Without a name: every container, each with its own pids (the guest's heartbeat
        # lines have them too; the quiet ones cannot have changed).
        ja, _ = op_json(lab, "stats")
        got_all = {c["container"]: c["pids_current"] for c in ja["containers"]}
        # the guest's list: every container its heartbeat reported after `before`
        names = {m.group(1) for m in lab.find_console(r"GUEST-CGSTAT n=\d+ name=(\S+) ",
                                                       since=before.lineno)}
        want_all = {}
        for name in sorted(names):
            want_all[name] = int(cgstat_around(lab, name, before.lineno).group(3))
        need(got_all == want_all, f"stats of every container {got_all} != guest's {want_all}")
        return (f"tree usage_usec/memory/pids {got} equal the guest's; {j['exits']} exits, "
                f"{j['calls']} calls")
    raise Failed("tree's cgroup files kept changing between heartbeats")


def checker_line(lab, since):
    return lab.wait_console(
        r"GUEST-CHECKER pid=(\d+) iter=(\d+) calls=(\d+) bad=(\d+) maps=(-?\d+) signals=(\d+)(.*)",
        120,
        since=since)


def check_robust(lab, n_each=100):
    """At least 200 getpid injections into the checker (by pid, and as any process of its
    container) while it runs its own checked syscall loop: every injected result is the
    task's pid, the checker sees zero wrong results (its syscalls' results, and every
    register the kernel preserves) while 20 signals a second hit it (handlers running in
    the middle of injected chains), it keeps running, and no scratch mapping is left."""
    st = lab.wait_console(r"GUEST-CRUN n=\d+ id=checker pid=(\d+) status=running", 120)
    pid = int(st.group(1))
    before = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    c0 = checker_line(lab, lab.console_mark())
    lines = ([f"probe --pid {pid} --json"] * n_each +
             ["probe --container checker --json"] * n_each)
    rc, out, err = lab.hvctl(timeout=60 * 2 * n_each, stdin="\n".join(lines) + "\n")
    results = [json.loads(x) for x in out.splitlines() if x.strip().startswith("{")]
    errors = [x for x in err.splitlines() if x.startswith("hvctl: error")]
    need(len(results) == 2 * n_each, f"{len(results)} replies of {2 * n_each}; errors: "
         f"{short(' | '.join(errors[:5]))}")
    # getpid answers in the caller's pid namespace: the checker is its container's init.
    wrong = [r for r in results if not r["ok"] or r["via"]["pid"] != pid
             or r["getpid"] != r["via"]["nspid"] or r["via"]["nspid"] != 1]
    need(not wrong, f"{len(wrong)} wrong injections, first {wrong[0] if wrong else ''}")
    c1 = checker_line(lab, lab.console_mark())
    need(c1.group(1) == c0.group(1), f"checker restarted: pid {c0.group(1)} -> {c1.group(1)}")
    need(int(c1.group(4)) == 0, f"checker saw wrong results: {c1.line}")
    need(int(c1.group(3)) > int(c0.group(3)), f"checker made no calls: {c0.line} / {c1.line}")
    need(int(c1.group(6)) > int(c0.group(6)),
         f"the checker handled no signals meanwhile: {c0.line} / {c1.line}")
    # The checker counts its own mappings: every scratch area was unmapped again.
    need(c1.group(5) == c0.group(5) and int(c0.group(5)) > 0,
         f"checker's /proc/self/maps lines {c0.group(5)} -> {c1.group(5)}")
    after = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    # The monitor's own counters: each probe is one operation of at least 5 calls
    # (mmap, mask, getpid, unmask, munmap).
    d_ops = after["inject"]["operations"] - before["inject"]["operations"]
    d_calls = after["inject"]["calls"] - before["inject"]["calls"]
    need(d_ops == 2 * n_each and d_calls >= 5 * d_ops and
         after["inject"]["failed"] == before["inject"]["failed"],
         f"status inject counters: {before['inject']} -> {after['inject']}")
    exits = [r["exits"] for r in results]
    return (f"{len(results)} injections into pid {pid}, 0 wrong; checker {c0.group(3)} -> "
            f"{c1.group(3)} calls (registers checked too), bad=0, maps {c1.group(5)} before "
            f"and after, {int(c1.group(6)) - int(c0.group(6))} signals handled meanwhile; "
            f"exits per op min {min(exits)} median "
            f"{sorted(exits)[len(exits) // 2]} max {max(exits)}")


def check_victim(lab):
    """A target that exits during an injected operation (lab-checker victim: its other
    thread calls exit_group 10 s after it starts, while we hold this one in an injected
    nanosleep): a clear error, nothing left running, the guest runs on."""
    m = lab.wait_console(r"GUEST-VICTIM pid=(\d+) ms=(\d+)", 60, since=lab.console_mark())
    pid = m.group(1)
    rc, out, err = lab.hvctl("probe", "--pid", pid, "--hold", "30000", timeout=120)
    need(rc == 1 and f"pid {pid} exited during the operation" in err,
         f"probe --hold into the victim {pid} -> {rc}: {short(err or out)}")
    hb = lab.wait_console(HB, 60, since=lab.console_mark())
    j, _ = op_json(lab, "probe", "--host")
    need(j["ok"], f"probe --host after the victim: {j}")
    nxt = lab.wait_console(r"GUEST-VICTIM pid=(\d+)", 60, since=m.lineno + 1)
    return (f"victim pid {pid}: {short(err, 120)}; heartbeat n={hb.group(1)} after; the "
            f"next victim {nxt.group(1)} started")


def check_exec(lab):
    """exec gives what `crun exec` gave the guest itself for the same commands (stdout,
    stderr, exit status; GUEST-EXEC lines), and clear answers for what cannot run."""
    import base64
    lines = lab.find_console(r"GUEST-EXEC ct=(\S+) cmd=(\S+) status=(\d+) out=(\S*) err=(\S*)")
    need(len(lines) >= 5, f"only {len(lines)} GUEST-EXEC lines")
    done = []
    ls_root = None
    for m in lines:
        ct, cmd = m.group(1), m.group(2).split(",")
        want_out = base64.b64decode(m.group(4)).decode("utf-8", "replace")
        if (ct, cmd) == ("tree", ["ls", "/"]):
            ls_root = want_out.split()
        want_err = base64.b64decode(m.group(5)).decode("utf-8", "replace")
        j, _ = op_json(lab, "exec", ct, "--", *cmd, timeout=180)
        need(j["ok"] and j["exited"], f"exec {ct} {cmd}: {j}")
        got = (j["exit_code"], j["stdout"], j["stderr"])
        need(got == (int(m.group(3)), want_out, want_err),
             f"exec {ct} {' '.join(cmd)}: monitor {got!r} != crun exec "
             f"{(int(m.group(3)), want_out, want_err)!r}")
        # A command that ran reports no start error, whatever PATH entries came first.
        need(j["exec_errno"] == 0, f"exec {ct} {' '.join(cmd)} ran but exec_errno={j}")
        done.append(f"{ct}:{'_'.join(cmd)}={j['exit_code']}/{j['exits']}ex")
    j, _ = op_json(lab, "exec", "tree", "--", "no-such-command", timeout=180)
    need(j["ok"] and j["exit_code"] == 127 and j["exec_errno"] == 2,
         f"exec of a missing command: {j}")
    # The text form a person reads: `ls` is found after earlier PATH entries said ENOENT
    # (/usr/local/sbin has no ls); its listing, exit status 0 and no "not found".
    # The guest's own listing of / in tree comes from crun exec (GUEST-EXEC tree ls /).
    need(ls_root, "no GUEST-EXEC line for tree ls /")
    rc, out, err = lab.hvctl("exec", "tree", "--", "ls", "/", timeout=180)
    need(rc == 0 and "exit status 0" in out and "not found" not in out + err
         and "could not be started" not in out + err
         and all(name in out.split() for name in ls_root),
         f"exec tree -- ls / (text) -> {rc}: {short(out + err, 300)}")
    rc, out, err = lab.hvctl("exec", "tree", "--", "no-such-command", timeout=180)
    need("no-such-command: command not found in the container" in out + err
         and "exit status 127" in out + err,
         f"exec of a missing command (text) -> {rc}: {short(out + err, 300)}")
    rc, out, err = lab.hvctl("exec", "no-such-container", "--", "id", timeout=60)
    need(rc == 1 and "no such container" in err, f"exec no-such-container -> {rc}: {short(err)}")
    rc, out, err = lab.hvctl("exec", "tree", "id", timeout=60)
    need(rc == 1 and "bad-argument" in err, f"exec without -- -> {rc}: {short(err)}")
    return f"{len(lines)} commands equal crun exec: " + ", ".join(done)


STATUS_KEYS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb",
               "Seccomp", "Seccomp_filters")


def parse_exec_status(text):
    """`cat /proc/self/status /proc/self/attr/current /proc/1/status` run in a container:
    (the process's own status fields, its LSM label, the container init's fields)."""
    blocks, label = [{}], None
    for line in text.splitlines():
        key, sep, value = line.partition(":\t")
        if sep and key == "Name" and blocks[-1]:
            blocks.append({})
        if sep:
            blocks[-1][key] = " ".join(value.split())
        elif line.strip():
            label = line.strip()
    need(len(blocks) == 2, f"not two status blocks: {short(text, 200)}")
    return blocks[0], label, blocks[1]


def check_exec_restrictions(lab):
    """exec's command gets what `crun exec` gives in the guest (GUEST-EXECSTATUS lines): ids,
    groups, capability sets, seccomp mode and filters, pid-namespace depth, LSM label; and
    no_new_privs as the container's own init has it (crun 1.8 leaves it off, a weaker
    process than the container's own). In the locked container (user namespace, two
    capabilities, a filter answering mkdir with EPERM) mkdir fails as the filter says."""
    import base64
    lines = lab.find_console(r"GUEST-EXECSTATUS ct=(\S+) status=(\d+) out=(\S*) err=(\S*)")
    need(len(lines) >= 5, f"only {len(lines)} GUEST-EXECSTATUS lines")
    seen = []
    for m in lines:
        ct = m.group(1)
        want, want_label, init = parse_exec_status(
            base64.b64decode(m.group(3)).decode("utf-8", "replace"))
        j, _ = op_json(lab, "exec", ct, "--", "cat", "/proc/self/status",
                       "/proc/self/attr/current", "/proc/1/status", timeout=180)
        need(j["ok"] and j["exited"], f"exec {ct} cat status: {j}")
        got, got_label, _ = parse_exec_status(j["stdout"])
        diff = [f"{k}: monitor {got.get(k)!r} != crun exec {want.get(k)!r}"
                for k in STATUS_KEYS if got.get(k) != want.get(k)]
        if len(got.get("NSpid", "").split()) != len(want.get("NSpid", "").split()):
            diff.append(f"NSpid depth: {got.get('NSpid')!r} vs {want.get('NSpid')!r}")
        if got_label != want_label:
            diff.append(f"attr/current: {got_label!r} != {want_label!r}")
        if got.get("NoNewPrivs") != init.get("NoNewPrivs"):
            diff.append(f"NoNewPrivs {got.get('NoNewPrivs')!r} != the container init's "
                        f"{init.get('NoNewPrivs')!r}")
        need(not diff, f"exec in {ct}: " + "; ".join(diff))
        seen.append(f"{ct}:Bnd={got['CapBnd']},Seccomp={got['Seccomp']}/"
                    f"{got['Seccomp_filters']},NNP={got['NoNewPrivs']}")
    j, _ = op_json(lab, "exec", "locked", "--", "mkdir", "/tmp/made-by-exec", timeout=180)
    need(j["ok"] and j["exit_code"] != 0 and "Operation not permitted" in j["stderr"],
         f"mkdir in locked (its seccomp filter answers EPERM): {j}")
    return "; ".join(seen) + "; mkdir in locked: EPERM"


def check_exec_timeout(lab):
    """A command that would run (block) past exec's --timeout ends with a clear error at the
    timeout; the command is killed, not left running in the container, and the next
    operation runs (nothing of the monitor's stays behind in the guest)."""
    t0 = time.monotonic()
    rc, out, err = lab.hvctl("exec", "--timeout", "5", "tree", "--", "sleep", "777",
                             timeout=300)
    took = time.monotonic() - t0
    need(rc == 1 and "timed out after 5000 ms" in err,
         f"exec --timeout 5 tree -- sleep 777 -> {rc}: {short(err or out)}")
    said, left = err, None
    # the guest's own list of tree's processes, a few heartbeats later (the operation
    # that timed out is still cleaning up for a moment: "busy" until it is done)
    for attempt in range(10):
        rc, out, err = lab.hvctl("exec", "--json", "tree", "--", "ps", "-o", "pid,args",
                                 timeout=180)
        if rc == 1 and "another operation is running" in err:
            time.sleep(5)
            continue
        need(rc == 0, f"exec tree -- ps -> {rc}: {short(err or out)}")
        j = json.loads(next(l for l in out.splitlines() if l.startswith("{")))
        left = [l for l in j["stdout"].splitlines() if l.split()[1:] == ["sleep", "777"]]
        if not left:
            break
        time.sleep(5)
    need(left == [], f"the timed-out command is still running in tree: {left}")
    return (f"refused after {took:.0f} s of wall time: {short(said, 100)}; no sleep 777 in "
            f"tree {attempt + 1} tries later")


def check_sandbox(lab, tmpdir):
    """uid 1001 makes a sandbox named like the real container sleeper (unshare -Urpmf in a
    cgroup /lab-user/sleeper delegated to it). `containers` tells them apart (the sandbox
    is 1001's, named 1001/sleeper), and a plain name reaches only the real one: exec
    sleeper runs in lab-sleeper. check_stop_kill then stops sleeper and sees the sandbox
    live on."""
    import os
    req = os.path.join(tmpdir, "sandbox-request")
    with open(req, "w") as f:
        f.write("sleeper\n")
    mark = lab.console_mark()
    rc, out, err = lab.hvctl("cp", req, "tree:/sandbox-request", timeout=300)
    need(rc == 0, f"cp of the sandbox request -> {rc}: {short(err or out)}")
    m = lab.wait_console(r"GUEST-SANDBOX name=sleeper parent=(\d+)", 180, since=mark)
    parent = int(m.group(1))
    lab.wait_console(rf"GUEST-SANDBOX-ALIVE n=\d+ parent={parent} alive=1", 120,
                     since=m.lineno)
    sandbox = real = None
    for attempt in range(10):
        j, _ = op_json(lab, "containers", timeout=300)
        ps, _ = op_json(lab, "ps", timeout=300)
        ppid = {p["pid"]: p.get("ppid") for p in ps["processes"]}
        for c in j["containers"]:
            if c["id"] == "sleeper" and ppid.get(c["init_pid"]) == parent:
                sandbox = c
            elif c["id"] == "sleeper":
                real = c
        if sandbox:
            break
        time.sleep(5)
    need(sandbox is not None, f"no container whose init is the child of {parent}: {j}")
    need(sandbox["rootless"] and sandbox["owner_uid"] == 1001
         and sandbox["ref"] == "1001/sleeper", f"the sandbox is listed as {sandbox}")
    need(real is not None and not real["rootless"] and real["owner_uid"] == 0
         and real["ref"] == "sleeper", f"the real sleeper is listed as {real}")
    j, _ = op_json(lab, "exec", "sleeper", "--", "hostname", timeout=180)
    need(j["ok"] and j["stdout"].strip() == "lab-sleeper",
         f"exec sleeper reached {j['stdout']!r}, not the real sleeper")
    js, _ = op_json(lab, "exec", "1001/sleeper", "--", "hostname", timeout=180)
    need(js["ok"] and js["stdout"].strip() not in ("", "lab-sleeper"),
         f"exec 1001/sleeper: {js}")
    rc, out, err = lab.hvctl("inspect", "1001/sleeper", timeout=120)
    need(rc == 0 and "owner:       1001 (a rootless sandbox" in out,
         f"inspect 1001/sleeper -> {rc}: {short(out + err)}")
    lab.sandbox_parent = parent
    return (f"sandbox pid {sandbox['init_pid']} (1001/sleeper) and sleeper pid "
            f"{real['init_pid']} told apart; exec sleeper -> lab-sleeper, exec 1001/sleeper "
            f"-> {js['stdout'].strip()!r}")


def check_cp(lab, tmpdir):
    """A file copied in and back out round-trips byte-exact, and the guest's own md5sum
    inside the container agrees; over the size limit, missing paths and a symbolic link
    pointing out of the container get clear errors."""
    import hashlib
    import os
    import random
    rnd = random.Random(4)
    data = bytes(rnd.getrandbits(8) for _ in range(3000))
    src, back = os.path.join(tmpdir, "cp-in.bin"), os.path.join(tmpdir, "cp-out.bin")
    with open(src, "wb") as f:
        f.write(data)
    rc, out, err = lab.hvctl("cp", src, "tree:/tmp/rt.bin", timeout=600)
    need(rc == 0, f"cp in -> {rc}: {short(err or out)}")
    rc, out, err = lab.hvctl("cp", "tree:/tmp/rt.bin", back, timeout=300)
    need(rc == 0, f"cp out -> {rc}: {short(err or out)}")
    with open(back, "rb") as f:
        got = f.read()
    need(got == data, f"round trip differs: {len(got)} bytes back of {len(data)}")
    j, _ = op_json(lab, "exec", "tree", "--", "md5sum", "/tmp/rt.bin", timeout=180)
    md5 = hashlib.md5(data).hexdigest()
    need(j["stdout"].split()[:1] == [md5], f"guest md5sum {j['stdout']!r}, want {md5}")
    big = os.path.join(tmpdir, "cp-big.bin")
    with open(big, "wb") as f:
        f.write(b"x" * 70000)
    rc, out, err = lab.hvctl("cp", big, "tree:/tmp/big.bin", timeout=120)
    need(rc == 1 and "limit" in err, f"cp over the limit -> {rc}: {short(err)}")
    j, _ = op_json(lab, "exec", "tree", "--", "dd", "if=/dev/zero", "of=/tmp/big.bin", "bs=1024",
                   "count=70", timeout=180)
    need(j["exit_code"] == 0, f"dd in tree: {j}")
    rc, out, err = lab.hvctl("cp", "tree:/tmp/big.bin", back, timeout=300)
    need(rc == 1 and "larger than cp's limit" in err, f"cp out over the limit -> {rc}: {short(err)}")
    rc, out, err = lab.hvctl("cp", "tree:/no/such/file", back, timeout=120)
    need(rc == 1 and "no such file" in err, f"cp of a missing file -> {rc}: {short(err)}")
    # A final symbolic link is never followed, wherever it points (/init exists on the host,
    # not in the container); a link on the way resolves inside the container's root.
    j, _ = op_json(lab, "exec", "tree", "--", "ln", "-s", "/init", "/tmp/escape", timeout=180)
    need(j["exit_code"] == 0, f"ln -s in tree: {j}")
    rc, out, err = lab.hvctl("cp", "tree:/tmp/escape", back, timeout=120)
    need(rc == 1 and "is a symbolic link" in err,
         f"cp of a link to /init -> {rc} (must not reach the host's /init): {short(err)}")
    j, _ = op_json(lab, "exec", "tree", "--", "ln", "-s", "/", "/tmp/up", timeout=180)
    rc, out, err = lab.hvctl("cp", "tree:/tmp/up/init", back, timeout=120)
    need(rc == 1 and "no such file" in err,
         f"cp through a link to / -> {rc} (must stay in the container): {short(err)}")
    refused = ["final link", "link on the way"]
    # A FIFO (the container makes one) and a block device node (the lab's init made
    # tree:/tmp/disk, 8:0: tree lacks CAP_MKNOD) are refused before they are opened, in
    # both directions, at once; nothing is left behind and the guest goes on.
    j, _ = op_json(lab, "exec", "tree", "--", "mkfifo", "/tmp/fifo", timeout=180)
    need(j["exit_code"] == 0, f"mkfifo in tree: {j}")
    # the host's lasting processes: in two listings 12 s of guest time apart (the
    # heartbeat's children come and go; the victim, a host process, lives 10 s)
    first = host_pids(lab)
    m0, _, _ = heartbeat(lab, lab.console_mark())
    m1 = m0
    while float(m1.group(2)) - float(m0.group(2)) < 12:
        m1, _, _ = heartbeat(lab, m1.lineno + 1)
    host_before = first & host_pids(lab)
    mark = lab.console_mark()
    for path, kind in (("/tmp/fifo", "a FIFO"), ("/tmp/disk", "a block device")):
        t0 = time.monotonic()
        rc, out, err = lab.hvctl("cp", f"tree:{path}", back, timeout=120)
        need(rc == 1 and f"is {kind}; cp copies regular files only" in err,
             f"cp out of {path} -> {rc}: {short(err)}")
        rc, out, err = lab.hvctl("cp", src, f"tree:{path}", timeout=300)
        need(rc == 1 and f"is {kind}; cp copies regular files only" in err,
             f"cp into {path} -> {rc}: {short(err)}")
        refused.append(f"{kind} ({time.monotonic() - t0:.0f} s both ways)")
    lab.wait_console(r"GUEST-HEARTBEAT ", 120, since=mark)
    gone = host_before - host_pids(lab)
    need(1 in host_before and not gone,
         f"host processes gone after the refused copies: {sorted(gone)}")
    return (f"{len(data)} bytes round-trip, md5 {md5} in the guest too; over-limit and "
            f"missing refused; refused: {', '.join(refused)}; all {len(host_before)} lasting "
            f"host processes still there")


def host_pids(lab):
    """The host's user processes: kernel threads are left out, since the kernel ends idle
    workers of its own accord (a kworker gone after 5 idle minutes is no harm done)."""
    j, _ = op_json(lab, "ps", timeout=300)
    return {p["pid"] for p in j["processes"] if p.get("container") is None and not p["kthread"]}


def check_idle_container(lab, ps_json):
    """Every process of sleeper is asleep (the guest's ps says S): an injection that needs
    one of them says so; work inside sleeper goes through the helper instead (it joins the
    container's namespaces and cgroup), and gives what crun exec gave."""
    procs = [p for p in ps_json()["processes"] if p.get("container") == "sleeper"]
    need(procs and all(p["state"] == "S" for p in procs),
         f"sleeper's processes are not all asleep: {[(p['pid'], p['state']) for p in procs]}")
    rc, out, err = lab.hvctl("probe", "--container", "sleeper", timeout=120)
    need(rc == 1 and "no suitable task" in err, f"probe --container sleeper -> {rc}: {short(err or out)}")
    j, _ = op_json(lab, "exec", "sleeper", "--", "hostname", timeout=180)
    want = lab.find_console(r"GUEST-EXEC ct=sleeper cmd=hostname status=0 out=(\S*)")
    import base64
    need(want, "no GUEST-EXEC line for sleeper hostname")
    need(j["ok"] and j["stdout"] == base64.b64decode(want[0].group(1)).decode(),
         f"exec sleeper hostname: {j}")
    return (f"{len(procs)} sleeping processes; probe: {short(err, 100)}; exec via the helper: "
            f"{j['stdout'].strip()!r}, {j['exits']} exits")


def check_helper(lab, ps_json):
    """The resident helper: forked from a host task, adopted by init, parked in injected
    naps; host work then runs in it at once; stopped, it exits, init reaps it, and the
    syscall trap is off again (no VMCALL exits while the guest runs on)."""
    j, _ = op_json(lab, "helper", "start", timeout=180)
    pid = j.get("helper_pid", 0)
    need(j["ok"] and pid > 0, f"helper start: {j}")
    procs = {p["pid"]: p for p in ps_json()["processes"]}
    hp = procs.get(pid)
    need(hp is not None, f"helper pid {pid} not in ps")
    need(hp["ppid"] == 1 and hp["uid"] == 0 and hp["container"] is None,
         f"helper is not a root host process adopted by init: {hp}")
    st, _ = op_json(lab, "stats", "tree")
    need(st["ok"] and st["via"]["pid"] == pid, f"stats did not run in the helper: {st['via']}")
    ex, _ = op_json(lab, "exec", "sleeper", "--", "hostname", timeout=180)
    need(ex["ok"] and ex["via"]["pid"] == pid and ex["stdout"].strip() == "lab-sleeper",
         f"exec via the helper: {ex}")
    rc, out, err = lab.hvctl("helper", "status", "--json", timeout=60)
    hs = json.loads(out.strip().splitlines()[0])
    need(hs["present"] and hs["pid"] == pid and hs["naps"] > 0, f"helper status: {hs}")
    # Parked, it costs one exit per nap (its sled's VMCALL), not one per guest syscall: over
    # two heartbeats, the VMCALL exits are the naps, with the trap off.
    s1 = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    h1 = json.loads(lab.hvctl("helper", "status", "--json", timeout=60)[1].strip().splitlines()[0])
    lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    s2 = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    h2 = json.loads(lab.hvctl("helper", "status", "--json", timeout=60)[1].strip().splitlines()[0])
    vmcalls = vmcall_exits(s2) - vmcall_exits(s1)
    naps = h2["naps"] - h1["naps"]
    t = trap_status(lab)
    need(not t["armed"], f"the trap is armed while the helper is parked: {t}")
    if h2.get("waits") == "blocked":
        # blocked in a read of the wake port: no exit while it waits; the work above came
        # at a ring, through the guest's own interrupt for the port
        wp = s2["wake_port"]
        need(vmcalls <= 2 and naps <= 2 and h2["wakes"] >= 2 and wp["rings"] >= 2
             and wp["line_raises"] >= 1,
             f"blocked: {vmcalls} VMCALL exits, {naps} waits over two heartbeats; "
             f"helper {h2}; wake port {wp}")
    else:
        need(naps > 0 and vmcalls <= naps + 8,
             f"parked: {vmcalls} VMCALL exits for {naps} naps (the trap's cost, not the naps')")
    rc, out, err = lab.hvctl("helper", "stop", timeout=60)
    need(rc == 0, f"helper stop -> {rc}: {short(err)}")
    lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    gone = pid not in {p["pid"] for p in ps_json()["processes"]}
    need(gone, f"helper pid {pid} still there after stop (not reaped?)")
    v1 = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    v2 = json.loads(lab.hvctl("status", "--json", timeout=60)[1].strip().splitlines()[0])
    need(vmcall_exits(v1) == vmcall_exits(v2),
         f"VMCALL exits (the channel's left out) still grow with no helper: "
         f"{vmcall_exits(v1)} -> {vmcall_exits(v2)}")
    return (f"helper pid {pid} (ppid 1, {h2.get('waits')}) did stats ({st['exits']} exits) "
            f"and exec ({ex['exits']} exits), {h2.get('wakes')} wakes; parked: {vmcalls} "
            f"VMCALL exits for {naps} waits over two heartbeats, trap off; stopped and reaped; "
            f"no VMCALL exit after")


def status_json(lab, what):
    """`WHAT status --json` (the helper's, the trap's): its one JSON line."""
    rc, out, err = lab.hvctl(what, "status", "--json", timeout=60)
    need(rc == 0, f"{what} status -> {rc}: {short(err)}")
    return json.loads(out.strip().splitlines()[0])


def helper_status(lab):
    return status_json(lab, "helper")


def set_helper_mode(lab, mode):
    rc, out, err = lab.hvctl("helper", mode, timeout=60)
    need(rc == 0, f"helper {mode} -> {rc}: {short(err or out)}")
    hs = helper_status(lab)
    need(hs["mode"] == mode, f"helper {mode}: status says {hs}")
    return hs


def use_helper_manual(lab):
    """The host-task paths for the checks that follow (the boot e2e's helper-mode check
    shows the default)."""
    hs = set_helper_mode(lab, "manual")
    return f"helper = manual, helper present: {hs['present']}"


def check_helper_mode(lab):
    """hv.cfg says nothing of the helper, so it is `auto`, and no operation ran yet, so
    there is none. The checks after this one show the paths through host tasks, with
    `helper manual`; ops-helper-auto shows auto."""
    hs = helper_status(lab)
    need(hs["mode"] == "auto" and not hs["present"], f"at boot: {hs}")
    set_helper_mode(lab, "manual")
    return "default auto, no helper before the first operation; manual for the next checks"


def busy_as_guest_sees_it(lab, frozen, crun, after):
    """busy's cgroup.events frozen and crun's status, from a heartbeat that began after the
    reply; each must be what the reply said."""
    m0, _, _ = heartbeat(lab, lab.console_mark())
    m1, _, f1 = heartbeat(lab, m0.lineno + 1)
    need(f1.get("busy") == frozen, f"the guest sees busy frozen={f1.get('busy')} after {after}")
    st = crun_status(lab, "busy", m0.lineno + 1)
    need(st == crun, f"crun says busy is {st} after {after}")
    return f1.get("busy"), st


def check_helper_auto(lab, ps_json):
    """helper = auto: the first operation needing a host task starts the helper and runs in
    it; the helper is kept (no linger time); the next operation runs in it at once, with
    no syscall trap armed and no guest syscall passed over. Each reply agrees with the
    guest's own view (its cgroup.events, crun list)."""
    set_helper_mode(lab, "auto")
    need(not helper_status(lab)["present"], "a helper is there before the check")
    p, _ = op_json(lab, "pause", "busy", timeout=180)
    pid = p.get("helper_started", 0)
    need(p["ok"] and pid > 0 and p["via"]["pid"] == pid,
         f"pause did not start the helper and run in it: {p}")
    hp = {q["pid"]: q for q in ps_json()["processes"]}.get(pid)
    need(hp is not None and hp["ppid"] == 1 and hp["uid"] == 0 and hp["container"] is None,
         f"the helper is not a root host process adopted by init: {hp}")
    f1, st = busy_as_guest_sees_it(lab, "1", "paused", "pause")
    hs = helper_status(lab)
    need(hs["present"] and hs["pid"] == pid and hs["linger_ms"] == -1 and hs["mode"] == "auto",
         f"helper status after the pause: {hs}")
    t = trap_status(lab)
    need(not t["armed"], f"the trap is armed with the helper parked: {t}")
    u, _ = op_json(lab, "unpause", "busy", timeout=120)
    need(u["ok"] and u["via"]["pid"] == pid and "helper_started" not in u and u["passed"] == 0,
         f"unpause did not run at once in the kept helper: {u}")
    f4, st2 = busy_as_guest_sees_it(lab, "0", "running", "unpause")
    # back to the state the other checks expect: manual, no helper
    set_helper_mode(lab, "manual")
    rc, out, err = lab.hvctl("helper", "stop", timeout=60)
    need(rc == 0, f"helper stop -> {rc}: {short(err)}")
    lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    need(pid not in {q["pid"] for q in ps_json()["processes"]},
         f"helper pid {pid} still there after stop")
    return (f"pause started helper pid {pid} (ppid 1) and ran in it ({p['exits']} exits, "
            f"{p['guest_us']} us); kept (linger -1), trap off; unpause in it at once "
            f"({u['exits']} exits, {u['guest_us']} us, 0 syscalls passed); guest: frozen "
            f"{f1}->{f4}, crun {st}->{st2}")


def trap_status(lab):
    return status_json(lab, "trap")


def check_stop_kill(lab):
    """stop -t 2 sleeper: its sh is the init of its pid namespace and ignores SIGTERM, so
    the grace period ends in SIGKILL; crun then sees it stopped and its pids are gone.
    kill -s KILL tree: the same through kill. A stopped container gets a clear error."""
    j, _ = op_json(lab, "stop", "-t", "2", "sleeper", timeout=180)
    need(j["ok"] and j["signal"] == "KILL", f"stop: {j}")
    mark = lab.console_mark()
    first, _, _ = heartbeat(lab, mark)  # what /init read before the reply ends here
    st = crun_status(lab, "sleeper", first.lineno + 1)
    need(st == "stopped", f"crun says sleeper is {st}")
    cg = cgstat_around(lab, "sleeper", first.lineno + 1)
    need(cg.group(3) == "0", f"sleeper pids_current={cg.group(3)} after stop")
    # Its processes are gone, so memory shows nothing of it: the error says so.
    rc, out, err = lab.hvctl("stop", "sleeper", timeout=60)
    need(rc == 1 and "stopped" in err, f"stop of a stopped container -> {rc}: {short(err)}")
    # the sandbox named like it (check_sandbox) was not touched: its owner's process lives
    sandbox = getattr(lab, "sandbox_parent", None)
    if sandbox:
        lab.wait_console(rf"GUEST-SANDBOX-ALIVE n=\d+ parent={sandbox} alive=1", 120,
                         since=first.lineno + 1)
        j2, _ = op_json(lab, "containers", timeout=300)
        need(any(c["ref"] == "1001/sleeper" and c["state"] == "running"
                 for c in j2["containers"]), f"the sandbox is gone after stop sleeper: {j2}")
    k, _ = op_json(lab, "kill", "-s", "KILL", "tree", timeout=120)
    need(k["ok"] and k["signal"] == 9, f"kill: {k}")
    first2, _, _ = heartbeat(lab, lab.console_mark())
    st2 = crun_status(lab, "tree", first2.lineno + 1)
    need(st2 == "stopped", f"crun says tree is {st2} after kill")
    return (f"stop: {j['exits']} exits {j['guest_us']} us; kill: {k['exits']} exits "
            f"{k['guest_us']} us; crun: sleeper {st}, tree {st2}")
