"""Kernel protection against the lab's rootkit (issue 9, item 7; tools/lab/guest/rootkit):
each attack runs on its own in the guest kernel, the monitor's alert names it, the guest
keeps running, and a management operation afterwards has its real effect, checked against
the guest's own view (cgroup.events through the heartbeats, crun list). Run with
protect = enforce, after the no-false-alarm check and before stop/kill (which then run
through the repaired kill path)."""
import json
import os

from checks import Failed, need, short
import ops_checks


def integrity(lab):
    j, _ = ops_checks.op_json(lab, "integrity", timeout=120)
    return j


def attack(lab, rundir, name):
    """/init runs the attack (rootkit-request; NAME or NAME ARG): its GUEST-ROOTKIT line's
    fields."""
    req = os.path.join(rundir, "rootkit-request")
    with open(req, "w") as f:
        f.write(name + "\n")
    since = lab.console_mark()
    rc, out, err = lab.hvctl("cp", req, "tree:/rootkit-request", timeout=300)
    need(rc == 0, f"cp rootkit-request -> {rc}: {short(err or out)}")
    m = lab.wait_console(rf"GUEST-ROOTKIT {name.split()[0]} ", 180, since=since)
    need("error=" not in m.line, f"the attack did not run: {m.line}")
    return m.kv(), m.line


def new_alerts(before, after, kind):
    """The alerts of `kind` raised between two integrity readings."""
    return [a for a in after["last_alerts"]
            if a["seq"] > before["alerts"] and a["kind"] == kind]


def check_blocked(lab, rundir, name, kind, expect):
    """An attack the monitor refuses outright: the guest module sees its write not take,
    the alert says blocked. expect: field -> accepted value (or tuple of values)."""
    before = integrity(lab)
    kv, line = attack(lab, rundir, name)
    for k, v in expect.items():
        ok = kv.get(k) in v if isinstance(v, tuple) else kv.get(k) == v
        need(ok, f"{name}: {k}={kv.get(k)!r}, want {v!r}: {line}")
    after = integrity(lab)
    got = new_alerts(before, after, kind)
    need(got and all(a["action"] == "blocked" for a in got),
         f"{name}: alerts of kind {kind}: {got or after['last_alerts'][-3:]}")
    return f"{name}: {line.split(' ', 2)[2]}; alert {kind} blocked: {got[0]['what']}"


def check_wp(lab, rundir):
    return check_blocked(lab, rundir, "wp", "cr-pin",
                         {"cr0_write": "refused", "wp_cleared": "0", "table_changed": "0"})


def check_alias(lab, rundir):
    # The write is stepped onto a scratch page (it "succeeds", 0) where the CPU offers the
    # monitor trap flag; where it does not (Bochs here), it is refused with #GP (-EFAULT
    # through the module's fixup). Either way sys_call_table keeps its entry.
    return check_blocked(lab, rundir, "alias", "rodata-write",
                         {"write": ("0", "-14"), "alias_reads_stub": "0", "table_changed": "0"})


def check_lstar(lab, rundir):
    return check_blocked(lab, rundir, "lstar", "entry-msr", {"moved": "0"})


def attack_then_check(lab, rundir, name, expect):
    """The integrity reading before, the attack (its fields as `expect` says), then a check
    that repairs it, or finds it repaired already by a periodic one since (the alerts say
    which: either way, action repaired). The reading before and the attack's line."""
    before = integrity(lab)
    kv, line = attack(lab, rundir, name)
    for k, v in expect.items():
        need(kv.get(k) == v, f"{name}: {k}={kv.get(k)!r}, want {v!r}: {line}")
    rc, out, err = lab.hvctl("integrity", "--check", timeout=120)
    need(rc == 0 and ("integrity: repaired" in out or "integrity: clean" in out),
         f"integrity --check -> {rc}: {short(out)}")
    return before, line


def check_repaired(lab, rundir, name, expect, subkind):
    """An attack on kernel text (not blocked: text is checked and repaired): the module's
    patch lands; a check restores it (alert `text`, repaired) and an operation afterwards,
    pause of tree, has its real effect: the guest's cgroup.events says frozen; then
    unpause. (Not busy: a check's time in its exit is charged to whatever the guest ran
    then, often busy, a CPU hog held to 10 % by cpu.max, which is then throttled for
    seconds; its freeze took 5 to 10 s after an attack, and once did not come within the
    pause's 10 s.)"""
    before, line = attack_then_check(lab, rundir, name, expect)
    pause = pause_tree_checked(lab, timeout=300)
    after = integrity(lab)
    got = new_alerts(before, after, "text")
    need(got and all(a["action"] == "repaired" for a in got) and
         any(a["what"].startswith(subkind) for a in got),
         f"{name}: text alerts: {got or after['last_alerts'][-3:]}")
    return (f"{name}: {line.split(' ', 2)[2]}; {len(got)} text alert(s) repaired "
            f"({got[0]['what']}); {pause.split(';')[0]}")


def check_inline(lab, rundir):
    return check_repaired(lab, rundir, "inline", {"write": "0", "patched": "1"}, "other")


def check_ftrace(lab, rundir):
    return check_repaired(lab, rundir, "ftrace", {"register": "0"}, "ftrace")


def check_kprobe(lab, rundir):
    """(c) with kprobes: int3 on the instruction after each function's ftrace site (so not
    ftrace again), pre-handlers that return for the function."""
    return check_repaired(lab, rundir, "kprobe", {"freeze": "0", "kill": "0", "int3": "1,1"},
                          "kprobe")


def attack_then_read(lab, rundir, name, expect, read, read_expect, kind):
    """An attack the check puts right (expect: the attack's fields), then the module's own
    reading of what it changed (read_expect: its fields after the check), and the alerts
    of `kind` it raised, all repaired. The attack's and the reading's lines, the alerts."""
    before, line = attack_then_check(lab, rundir, name, expect)
    kv2, line2 = attack(lab, rundir, read)
    for k, v in read_expect.items():
        need(kv2.get(k) == v, f"the guest after the check: {k}={kv2.get(k)!r}: {line2}")
    got = new_alerts(before, integrity(lab), kind)
    need(got and all(a["action"] == "repaired" for a in got), f"{kind} alerts: {got}")
    return line.split(" ", 2)[2], line2.split(" ", 2)[2], got


def check_gdt(lab, rundir):
    """The lower half of a DPL 3 call gate written into the GDT slot Linux leaves empty,
    through a writable alias of the GDT's page: the check restores the slot (alert `gdt`,
    repaired) and the guest's own GDT, read by the module, has the slot empty again (the
    control boot reads the gate there)."""
    line, line2, got = attack_then_read(lab, rundir, "gdt", {"write": "0", "planted": "1"},
                                        "gdt-read", {"empty": "1"}, "gdt")
    return f"{line}; alert gdt repaired ({got[0]['what']}); guest: {line2}"


def check_gdtr(lab, rundir):
    """GDTR loaded on CPU 0 with a 64 KiB limit (selectors past Linux's 16 slots then reach
    what follows the GDT): the check loads the recorded GDTR again (alert `gdtr`,
    repaired), the guest's own SGDT says so, and an operation has its real effect. The
    control boot's GDTR stays as the module left it."""
    line, line2, got = attack_then_read(lab, rundir, "gdtr", {"load": "0", "moved": "1"},
                                        "gdtr-read", {"back": "1"}, "gdtr")
    pause = pause_tree_checked(lab)
    return f"{line}; alert gdtr repaired ({got[0]['what']}); guest: {line2}; {pause}"


def init_state(lab, cid, since):
    """The state of container cid's init (/proc/PID/stat: S, R, T stopped, ...) in the
    guest's first GUEST-CRUN line after `since`."""
    m = lab.wait_console(rf"GUEST-CRUN n=\d+ id={cid} pid=\S+ status=\S+ state=(\S+)", 90,
                         since=since)
    return m.group(1)


def kill_json(lab, signal, cid):
    """`kill -s SIGNAL cid --json`: the reply's JSON (ok or not) and the error text."""
    rc, out, err = lab.hvctl("kill", "-s", signal, cid, "--json", timeout=300)
    j = next((json.loads(x) for x in out.splitlines() if x.strip().startswith("{")), None)
    need(j is not None, f"kill -s {signal} {cid} -> {rc}: no JSON: {short(err or out)}")
    return j, j.get("error") or err


def stop_and_cont(lab, cid):
    """kill -s STOP has its real effect (the guest says the init is stopped), CONT too."""
    j, e = kill_json(lab, "STOP", cid)
    need(j["ok"], f"kill -s STOP {cid}: {e}")
    st = init_state(lab, cid, lab.console_mark())
    need(st == "T", f"kill -s STOP {cid} said ok, the guest says its init is {st}")
    j2, e2 = kill_json(lab, "CONT", cid)
    need(j2["ok"], f"kill -s CONT {cid}: {e2}")
    st2 = init_state(lab, cid, lab.console_mark())
    need(st2 != "T", f"kill -s CONT {cid} said ok, the guest says its init is {st2}")
    return f"STOP: init {st}, CONT: init {st2}"


def wait_guest_time(lab, until):
    while float(ops_checks.heartbeat(lab, lab.console_mark())[0].group(2)) <= until:
        pass


def check_flash(lab, rundir, name="flash", secs=30):
    """A hook put in and taken out again (rootkit `flash`): for SECS seconds a kernel thread
    patches the kill path for 8-9 ms at a time and puts the original back in between, so a
    check often finds the text as recorded. `kill -s STOP tree` meanwhile must never be
    reported done without its effect: it fails, saying the kernel was written (or changed)
    while it ran, or it succeeds and the guest's /proc says tree's init is stopped. After
    the thread's end, STOP and CONT have their real effect. `remap` does the same through
    the page table (the entry that maps the kill path points at a patched copy); `oneshot`
    keeps a hook armed that takes itself out at its first call, so the text is as
    recorded right after the kill it fooled. The control boot's kill is reported done and
    does nothing."""
    kv, line = attack(lab, rundir, f"{name} {secs}")
    need(kv.get("started") == "1", f"{name}: {line}")
    start = float(ops_checks.heartbeat(lab, lab.console_mark())[0].group(2))
    j, err = kill_json(lab, "STOP", "tree")
    if j["ok"]:
        st = init_state(lab, "tree", lab.console_mark())
        need(st == "T", f"kill -s STOP tree during {name} said ok, the guest says its init "
             f"is {st}")
        during = f"done (the guest says tree's init is {st})"
    else:
        need("written while the operation ran" in err or "changed while the operation ran" in err,
             f"kill -s STOP tree during {name} failed for another reason: {err}")
        during = f"refused: {err}"
    wait_guest_time(lab, start + secs + 2)
    # a refused STOP may have reached tree's init (it ran while the text was clean): CONT
    j2, e2 = kill_json(lab, "CONT", "tree")
    need(j2["ok"], f"kill -s CONT tree after {name}: {e2}")
    return f"during: {during}; after: {stop_and_cont(lab, 'tree')}"


def check_remap(lab, rundir):
    return check_flash(lab, rundir, "remap")


def check_oneshot(lab, rundir):
    return check_flash(lab, rundir, "oneshot")


def check_hide(lab, rundir):
    """(f) The rootkit takes sleeper's init off the tasks list (list_del_init under
    tasklist_lock). The guest's own /proc still lists it (GUEST-HIDDEN in_proc=1); the
    tasks-list view of `ps` (its "processes") no longer does: that is the attack working,
    the control. The cross-view must flag it, seen by the pid IDR; `containers` must still
    give sleeper that init. ops-stop-kill, next, stops sleeper through it and checks crun
    and the cgroup's pids.current."""
    cts, _ = ops_checks.op_json(lab, "containers", timeout=120)
    sl = [c for c in cts["containers"] if c["id"] == "sleeper"]
    need(sl, f"no sleeper container: {[c['id'] for c in cts['containers']]}")
    pid = sl[0]["init_pid"]
    since = lab.console_mark()
    kv, line = attack(lab, rundir, f"hide {pid}")
    need(kv.get("unlinked") == "1", f"hide: {line}")
    g = lab.wait_console(rf"GUEST-HIDDEN pid={pid} ", 60, since=since).kv()
    need(g.get("in_proc") == "1", f"the guest's /proc lost pid {pid}: {g}")
    ps, _ = ops_checks.op_json(lab, "ps", timeout=120)
    listed = [p["pid"] for p in ps["processes"]]
    need(pid not in listed, f"pid {pid} is still in the tasks-list view: the attack did not "
         "work (no control)")
    hid = [h for h in ps.get("hidden", []) if h["thread_id"] == pid]
    need(hid and "pids" in hid[0]["seen_by"] and "tasks" not in hid[0]["seen_by"],
         f"pid {pid} not flagged as seen by the pid IDR only: {ps.get('hidden')} "
         f"(views {ps.get('views')})")
    others = [h["thread_id"] for h in ps["hidden"] if h["thread_id"] != pid]
    need(not others, f"other tasks flagged hidden: {others}")
    cts2, _ = ops_checks.op_json(lab, "containers", timeout=120)
    sl2 = [c for c in cts2["containers"] if c["id"] == "sleeper"]
    need(sl2 and sl2[0]["init_pid"] == pid,
         f"containers gives sleeper {sl2 and sl2[0]['init_pid']}, want its hidden init {pid}")
    return (f"pid {pid} ({hid[0]['comm']}) off the tasks list, in the guest's /proc; ps: "
            f"hidden, seen by {hid[0]['seen_by']}; containers: sleeper init {pid}; "
            f"{ps['views']['tasks_seen']} tasks in the cross-view")


def all_events(lab, since=0):
    """Every event after `since` (asking again while the monitor says there is more)."""
    out, lost = [], None
    for _ in range(20):
        j, _ = ops_checks.op_json(lab, "events", "--since", str(since), timeout=120)
        lost = j["lost"] if lost is None else lost
        out += j["events"]
        need(j["next_since"] >= since, f"events: next_since went back: {j}")
        since = j["next_since"]
        if not j["more"]:
            return out, lost, since
    raise Failed("events: still more after 20 replies")


def check_events(lab):
    """`events` (issue 9, item 6): every alert `integrity` lists is an event of type
    alert with the same kind and action; an operation run now is exactly one new event
    (type op, its verb, ok, its container, the pre-operation check's summary)."""
    integ = integrity(lab)
    evs, lost, last = all_events(lab)
    alerts = [e for e in evs if e["type"] == "alert"]
    for a in integ["last_alerts"]:
        same = [e for e in alerts if e["name"] == a["kind"] and e["status"] == a["action"]
                and e["text"].startswith(a["what"][:60])]
        need(same, f"alert #{a['seq']} {a['kind']} {a['action']} ({a['what']}) is not an "
             f"event: {[(e['name'], e['status']) for e in alerts][-8:]}")
    ops = [e for e in evs if e["type"] == "op"]
    need(all(e["status"] in ("ok", "failed", "refused") for e in ops),
         f"op events with odd status: {[e for e in ops if e['status'] not in ('ok', 'failed', 'refused')][:3]}")
    j, _ = ops_checks.op_json(lab, "stats", "tree", timeout=120)
    new, lost2, _ = all_events(lab, last)
    need(lost2 == 0 and len(new) == 1, f"after one stats: {new} (lost {lost2})")
    e = new[0]
    need(e["type"] == "op" and e["name"] == "stats" and e["status"] == "ok" and
         e["subject"] == "tree" and j["integrity"]["summary"] in e["text"],
         f"the stats event: {e}, reply integrity {j['integrity']}")
    return (f"{len(evs)} events kept ({lost} lost from the ring), {len(alerts)} alerts, all "
            f"{len(integ['last_alerts'])} of integrity's among them; {len(ops)} op events; "
            f"stats tree -> #{e['seq']} {e['text']!r}")


def pause_tree_checked(lab, timeout=300):
    """pause tree, the guest's own cgroup.events (through a heartbeat that began after the
    reply) says frozen, then unpause. tree has no CPU limit: busy (cpu.max 10 %) may stay
    throttled for seconds after the exits of an attack were charged to it."""
    j, _ = ops_checks.op_json(lab, "pause", "tree", timeout=timeout)
    need(j["ok"], f"pause tree: {j}")
    m0, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
    m1, _, f1 = ops_checks.heartbeat(lab, m0.lineno + 1)
    need(f1.get("tree") == "1", f"pause tree said ok, the guest sees {f1}")
    u, _ = ops_checks.op_json(lab, "unpause", "tree", timeout=timeout)
    need(u["ok"], f"unpause tree: {u}")
    # the guest's own view of the thaw too. With ops-pause-loaded's 1,000 processes in tree
    # they all wake at once, and the next operation's tasks wait behind them: in the CI of
    # this session the guest's next heartbeat came 29 s later, and a cp sent at once timed
    # out in its helper's move into tree's cgroup
    m2, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
    m3, _, f3 = ops_checks.heartbeat(lab, m2.lineno + 1)
    need(f3.get("tree") == "0", f"unpause tree said ok, the guest sees {f3}")
    return (f"pause tree: {j['guest_us']} us, integrity {j['integrity']['summary']!r}; "
            f"guest: frozen, then thawed")


def check_loop(lab, rundir, secs=30):
    """(g) A kernel thread puts the inline patch of cgroup_freeze_write back every
    millisecond for SECS seconds of guest time, while `pause tree` runs. The pause may win
    (the check before it repaired the patch and its write came first) or lose; either way it
    must not say done on a kernel it cannot vouch for: it fails naming the change made while
    it ran, or it succeeds and the guest's own cgroup.events says tree is frozen. A refused
    pause undoes its freeze, and says truthfully whether the undo took (the hooked kernel
    may swallow it too): the guest's view must agree with what it says. After the loop a
    pause has its real effect."""
    kv, line = attack(lab, rundir, f"loop {secs}")
    need(kv.get("started") == "1", f"loop: {line}")
    start = float(ops_checks.heartbeat(lab, lab.console_mark())[0].group(2))
    unpause_after = False
    try:
        rc, out, err = lab.hvctl("pause", "tree", "--json", timeout=300)
        j = next((json.loads(x) for x in out.splitlines() if x.strip().startswith("{")), None)
        need(j is not None, f"pause during the loop -> {rc}: no JSON: {short(err or out)}")
        m0, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
        m1, _, f1 = ops_checks.heartbeat(lab, m0.lineno + 1)
        if j["ok"]:
            unpause_after = True
            need(f1.get("tree") == "1", f"pause said ok during the loop, the guest sees {f1}")
            during = (f"pause won the race (guest: frozen), integrity "
                      f"{j['integrity']['summary']!r}")
        else:
            e = j.get("error") or err
            need("while the operation ran" in e,
                 f"pause during the loop failed for another reason: {e}")
            # what the monitor last read of the cgroup, against the guest's own view
            left = j.get("frozen_after")
            need(left in (True, False), f"a refused pause says nothing of its freeze: {j}")
            need(f1.get("tree") == ("1" if left else "0"),
                 f"the reply says frozen_after={left}, the guest sees {f1}: {e}")
            unpause_after = left
            during = f"pause refused (frozen_after={left}, the guest agrees): {e}"
    finally:
        # the loop's end, in the guest's time, whatever happened above (the checks after
        # this one need a kernel nobody is changing); only then the unpause of a freeze
        # that stayed (an unpause during the loop is refused the same way: not vouched for)
        while True:
            m, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
            if float(m.group(2)) > start + secs + 2:
                break
    if unpause_after:
        u, _ = ops_checks.op_json(lab, "unpause", "tree", timeout=300)
        need(u["ok"], f"unpause tree after the loop: {u}")
    return f"during the loop: {during}; after it: {pause_tree_checked(lab)}"
