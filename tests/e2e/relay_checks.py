"""Issue 11 end-to-end checks: requests through the guest (docs/channel.md). hvctl signs
each request with the lab's operator key and sends it to hvrelay in the guest over the
guest's third serial port (Bochs com3 on RUNDIR/relay); hvrelay passes it to the monitor with
VMCALL and the monitor's signed reply back. The answers must equal the serial console's and
the guest's own view; a hostile relay in the guest (chanattack) and a kernel module must get
every forged, altered, replayed, reordered, cut or malformed call refused and counted."""

import os
import re
import time

import ops_checks
from checks import Failed, need, short


def relay_args(lab):
    """hvctl options for a request through the relay: the transport, the operator's key
    (the lab's, whose public half is in hv.cfg) and the monitor key hvctl pair pinned in
    the channel-key check."""
    pin = os.path.join(lab.rundir, "monitor.key")
    need(os.path.exists(pin), "no pinned monitor key (the channel-key check pins it)")
    return ["--relay", lab.path("relay"), "--key",
            os.path.join(lab.build, "lab", "operator.key"), "--pin", pin]


def channel_status(lab):
    j, _ = ops_checks.op_json(lab, "status", timeout=120)
    ch = j.get("channel")
    need(isinstance(ch, dict) and "refused" in ch, f"status has no channel counters: {ch}")
    return ch


def counters(ch):
    c = {f"refused.{k}": v for k, v in ch["refused"].items()}
    c.update({f"ud.{k}": v for k, v in ch["ud"].items()})
    c["taken"] = ch["frames_taken"]
    c["out"] = ch["frames_out"]
    return c


def diff(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def container_procs(ps):
    return sorted((p["pid"], p.get("comm"), p.get("container")) for p in ps["processes"]
                  if p.get("container"))


def check_relay_ops(lab):
    """ps, containers, pause/unpause and exec through the relay equal the serial console's
    answers and the guest's own view (cgroup.events, crun list)."""
    m = lab.find_console(r"GUEST-RELAY pid=(\d+)")
    need(m, "the guest did not start hvrelay (no GUEST-RELAY line)")
    rel = relay_args(lab)
    before = counters(channel_status(lab))
    t0 = time.time()
    rc, out, err = lab.hvctl(*rel, "version", timeout=180)
    first = time.time() - t0
    need(rc == 0, f"version through the relay -> {rc}: {short(err or out)}")
    rc2, out2, _ = lab.hvctl("version", timeout=60)
    need(rc2 == 0 and out == out2, f"version: relay {out!r}, console {out2!r}")
    # containers: the same as the console's
    direct, _ = ops_checks.op_json(lab, "containers", timeout=120)
    via, _ = ops_checks.op_json(lab, "containers", timeout=180, pre=rel)
    key = lambda c: (c.get("id"), c.get("init_pid"), c.get("state"))
    a = sorted(key(c) for c in direct["containers"])
    b = sorted(key(c) for c in via["containers"])
    need(a == b and a, f"containers: relay {b}, console {a}")
    # ps: the containers' processes (host processes come and go: lab-checker's victim)
    for attempt in range(2):
        p1, _ = ops_checks.op_json(lab, "ps", timeout=300)
        p2, _ = ops_checks.op_json(lab, "ps", timeout=300, pre=rel)
        if container_procs(p1) == container_procs(p2):
            break
        need(attempt == 0, f"ps: relay {container_procs(p2)} != console {container_procs(p1)}")
    ps_n = len(p2["processes"])
    # pause and unpause through the relay, checked against the guest's view
    pause = ops_checks.pause_unpause_busy(lab, pre=rel)
    # exec: the same output as through the console
    e1, _ = ops_checks.op_json(lab, "exec", "tree", "--", "id", timeout=180)
    e2, _ = ops_checks.op_json(lab, "exec", "tree", "--", "id", timeout=180, pre=rel)
    need(e2["ok"] and (e1["exit_code"], e1["stdout"]) == (e2["exit_code"], e2["stdout"]),
         f"exec tree -- id: relay {e2}, console {e1}")
    d = diff(before, counters(channel_status(lab)))
    refused = {k: v for k, v in d.items() if k.startswith(("refused.", "ud."))
               and k not in ("refused.busy", "refused.rate")}
    need(not refused, f"an honest relay's frames were refused: {refused}")
    need(d.get("taken", 0) >= 8, f"frames taken: {d}")
    return (f"version {first:.1f}s, {len(b)} containers, ps {ps_n} processes, exec id "
            f"'{e2['stdout'].strip()[:40]}', equal to the console; {pause}; frames {d}")


ATTACK_WANT = {  # step: the reason its call must get (chanattack prints want= itself)
    "reorder-later": "taken", "reorder-earlier": "seq", "replay": "seq",
    "flip": "signature", "truncate": "length", "huge-length": "length",
    "zero-length": "length", "unmapped": "fault", "kernel-address": "fault",
    "recv-readonly": "fault", "recv-small": "small", "control": "taken",
}


def check_relay_attacks(lab, rundir):
    """A hostile relay in the guest (chanattack, ring 3) replays, reorders, alters, cuts,
    oversizes and misplaces frames the operator signed, and makes 2000 VMCALLs with random
    registers; the lab's kernel module makes 2000 more from ring 0. Each call gets the
    reason it must (the unaltered frame is taken: the control), every refusal is counted in
    status by reason, the serial console answers throughout, the guest goes on, and the
    relay works again afterwards."""
    d = os.path.join(rundir, "chanattack")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    before = counters(channel_status(lab))
    key = os.path.join(lab.build, "lab", "operator.key")
    rc, out, err = lab.hvctl("--key", key, "sign-requests", d, "3", "version", timeout=60)
    need(rc == 0, f"sign-requests -> {rc}: {short(err or out)}")
    for i in (1, 2, 3):
        rc, out, err = lab.hvctl("cp", os.path.join(d, f"frame{i}.bin"),
                                 f"tree:/chanattack/frame{i}.bin", timeout=300)
        need(rc == 0, f"cp frame{i}.bin -> {rc}: {short(err or out)}")
    req = os.path.join(d, "request")
    with open(req, "w") as f:
        f.write("go\n")
    since = lab.console_mark()
    rc, out, err = lab.hvctl("cp", req, "tree:/chanattack-request", timeout=300)
    need(rc == 0, f"cp chanattack-request -> {rc}: {short(err or out)}")
    # the console answers while the attack runs
    answered = 0
    deadline = time.time() + 600
    while not lab.find_console(r"GUEST-CHANATTACK-END", since=since):
        need(time.time() < deadline, "no GUEST-CHANATTACK-END within 600 s")
        rc, _, err = lab.hvctl("version", timeout=60)
        need(rc == 0, f"the serial console did not answer during the attack: {short(err)}")
        answered += 1
        time.sleep(2)
    steps = {}
    for m in lab.find_console(r"GUEST-CHANATTACK step=(\S+) rax=(\S+) want=(\S+) ok=(\d)",
                              since=since):
        steps[m.group(1)] = (m.group(3), m.group(4) == "1", m.line)
    for name, want in ATTACK_WANT.items():
        need(name in steps, f"chanattack printed no step {name}")
        need(steps[name][0] == want and steps[name][1], f"{name}: {steps[name][2]}")
    ru = lab.find_console(r"GUEST-CHANATTACK step=random-user calls=(\d+) ud=(\d+) "
                          r"returned=(\d+)(.*)", since=since)
    need(ru, "no random-user line")
    ru = ru[-1]
    user_ud, user_ret = int(ru.group(2)), int(ru.group(3))
    hist = dict(kv.split("=") for kv in ru.group(4).split() if "=" in kv)
    rk = lab.find_console(r"GUEST-ROOTKIT vmcall calls=(\d+) ud=(\d+) returned=(\d+)",
                          since=since)
    need(rk, "no GUEST-ROOTKIT vmcall line")
    rk = rk[-1]
    need(int(rk.group(3)) == 0 and int(rk.group(2)) == int(rk.group(1)) > 0,
         f"ring 0: every channel call must get #UD: {rk.line}")
    after = counters(channel_status(lab))
    dd = diff(before, after)
    # what the monitor counted is what the callers saw
    ud = sum(v for k, v in dd.items() if k.startswith("ud."))
    need(ud == user_ud + int(rk.group(2)), f"#UD counted {ud}, seen {user_ud} + {rk.group(2)}: {dd}")
    want = {}
    for name, (w, _, _) in steps.items():
        if w not in ("taken", "ud") and name in ATTACK_WANT:
            want[f"refused.{w}"] = want.get(f"refused.{w}", 0) + 1
    for k, v in hist.items():
        if k not in ("taken", "ud"):
            want[f"refused.{k}"] = want.get(f"refused.{k}", 0) + int(v)
    got = {k: v for k, v in dd.items() if k.startswith("refused.") and k != "refused.rate"}
    need(got == {k: v for k, v in want.items() if k != "refused.rate"},
         f"refusals counted {got}, callers saw {want}")
    need(dd.get("taken", 0) == 2 + int(hist.get("taken", 0)), f"frames taken: {dd}")
    # the guest goes on, and so does the channel
    ops_checks.heartbeat(lab, lab.console_mark())
    need(not lab.panics(), f"guest panic: {lab.panics()}")
    rc, out, err = lab.hvctl(*relay_args(lab), "version", timeout=180)
    need(rc == 0, f"the relay after the attack -> {rc}: {short(err or out)}")
    return (f"{len(ATTACK_WANT)} steps as wanted; random ring 3: {user_ud} #UD, {user_ret} "
            f"returned {hist}; ring 0: {rk.group(2)} #UD; counted {dd}; console answered "
            f"{answered}x during it; relay works after")
