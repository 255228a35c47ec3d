#!/usr/bin/env python3
"""Container-operation figures of the monitor in Bochs (prints, not a test).

    tests/bench/ops_bench.py --build DIR [--hvctl PATH] [--repeat N] [--cpus N --bochs PATH]

One boot of DIR/lab/disk.img, then, all in that run:
  - idle: VM exits per guest second with nothing pending (two `status --json`, three
    heartbeats apart), by reason;
  - armed: the syscall-entry trap armed for every task over two heartbeats: syscall
    entries, VMCALL and EPT-violation exits per entry, and EPT-violation exits per guest
    interrupt (the heartbeat's /proc/stat intr count);
  - per operation through the monitor (pause and unpause of busy, which cpu.max holds to
    10 % of a CPU, and of sleeper, which is not held; stats, exec, cp out, probe): VM
    exits, guest time and injected calls, from each reply, N times, median;
  - the same operation done by crun inside the guest (pause, resume, exec): guest time
    as the guest measures it (lab-checker time) and VM exits over that window less the
    idle rate, and the ratio monitor / crun. `crun pause` returns once it has written
    cgroup.freeze; the monitor's pause returns once the kernel reports the cgroup frozen
    (a task held by cpu.max freezes only when it next runs). So pause and resume are also
    timed in the guest from crun's start to the frozen state it asked for (settled), and
    the monitor is given against both.
With --cpus N the machine has N CPUs (the Bochs of tools/lab/build-bochs.sh); the idle
rate is then also given per vCPU.
Exit status 1 when the boot failed (the figures that exist are still printed).
"""

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from checks import vmcall_exits  # noqa: E402
from lab import Lab, LabError  # noqa: E402

HB = r"GUEST-HEARTBEAT n=(\d+) uptime=(\S+) .* intr=(\d+)"


def js(lab, *args, timeout=180):
    rc, out, err = lab.hvctl(*args, timeout=timeout)
    for line in out.splitlines():
        if line.strip().startswith("{"):
            return json.loads(line)
    raise LabError(f"hvctl {' '.join(args)} -> {rc}: {(err or out).strip()[:200]}")


def syscall_names():
    """x86-64 call numbers -> names, from the engine's own definitions (linux_abi.h)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "hv", "inject",
                        "linux_abi.h")
    names = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"#define LINUX_NR_(\w+)\s+(\d+)u?", line)
            if m:
                names[int(m.group(2))] = m.group(1)
    return names


def call_time(runs, names, top=6):
    """The calls that took the most guest time, summed over the runs, per run."""
    tot = {}
    for r in runs:
        for c in r.get("call_time", []):
            t = tot.setdefault(c["nr"], [0, 0])
            t[0] += c["calls"]
            t[1] += c["us"]
    n = max(len(runs), 1)
    best = sorted(tot.items(), key=lambda kv: -kv[1][1])[:top]
    return ", ".join(f"{names.get(nr, nr)} {c / n:.0f}x {us / n / 1000:.1f} ms"
                     for nr, (c, us) in best)


NAMES = syscall_names()


def exits(st):
    return st["exits_total"], st["uptime_ms"], st["exits"]


def idle_rate(lab):
    s1 = js(lab, "status", "--json")
    lab.wait_console(HB, 120, since=lab.console_mark(), count=3)
    s2 = js(lab, "status", "--json")
    d = s2["exits_total"] - s1["exits_total"]
    dt = (s2["uptime_ms"] - s1["uptime_ms"]) / 1000.0
    by = {k: s2["exits"].get(k, 0) - s1["exits"].get(k, 0) for k in s2["exits"]}
    print(f"idle, nothing pending: {d / dt:.1f} exits per guest second over {dt:.1f} s")
    for a1, a2 in zip(s1.get("vcpus", []), s2.get("vcpus", [])):
        print(f"    vcpu {a2['id']}{' (console)' if a2.get('console') else ''}: "
              f"{(a2['exits_total'] - a1['exits_total']) / dt:.1f} exits per guest second")
    work = {k: s2.get("exit_work_us", {}).get(k, 0) - s1.get("exit_work_us", {}).get(k, 0)
            for k in s2.get("exit_work_us", {})}
    total = s2.get("exit_work_us_total", 0) - s1.get("exit_work_us_total", 0)
    print(f"    monitor work in exits: {total / 1000:.1f} ms of {dt * 1000:.0f} ms "
          f"({100 * total / max(dt * 1e6, 1):.2f} %)")
    for k, v in sorted(by.items(), key=lambda kv: -kv[1]):
        if v:
            print(f"    {k:24s} {v / dt:10.1f}/s  {100.0 * v / max(d, 1):5.1f} %  "
                  f"{work.get(k, 0) / v:7.1f} us/exit")
    return d / dt


def armed(lab):
    rc, out, err = lab.hvctl("trap", "arm", timeout=60)
    if rc != 0:
        raise LabError(f"trap arm -> {rc}: {err.strip()}")
    s1 = js(lab, "status", "--json")
    t1 = js(lab, "trap", "status", "--json")
    h1 = lab.wait_console(HB, 120, since=lab.console_mark())
    h2 = lab.wait_console(HB, 120, since=h1.lineno + 1, count=2)
    s2 = js(lab, "status", "--json")
    t2 = js(lab, "trap", "status", "--json")
    lab.hvctl("trap", "disarm", timeout=60)
    entries = t2["entries"] - t1["entries"]
    vmcall = vmcall_exits(s2) - vmcall_exits(s1)  # the relay's polls left out
    eptv = s2["exits"].get("EPT_VIOLATION", 0) - s1["exits"].get("EPT_VIOLATION", 0)
    intr = int(h2.group(3)) - int(h1.group(3))
    print(f"trap armed (every task): {entries} syscall entries, {vmcall} VMCALL exits "
          f"({vmcall / max(entries, 1):.2f} per entry), {eptv} EPT-violation exits "
          f"({eptv / max(entries, 1):.3f} per entry); {intr} guest interrupts in "
          f"{h1.group(1)}..{h2.group(1)}: {eptv / max(intr, 1):.3f} EPT exits per interrupt "
          f"(interrupt and fault stubs run from the shadow without exiting)")


def ours(lab, repeat, tmp):
    cp_src = os.path.join(tmp, "bench.bin")
    with open(cp_src, "wb") as f:
        f.write(os.urandom(4096))
    rc, out, err = lab.hvctl("cp", cp_src, "tree:/tmp/bench.bin", timeout=600)
    if rc != 0:
        raise LabError(f"cp in -> {rc}: {err.strip()}")
    ops = {
        "pause busy": ["pause", "busy", "--json"],
        "unpause busy": ["unpause", "busy", "--json"],
        "pause sleeper": ["pause", "sleeper", "--json"],
        "unpause sleeper": ["unpause", "sleeper", "--json"],
        "stats tree": ["stats", "tree", "--json"],
        "exec tree id": ["exec", "--json", "tree", "--", "id"],
        "cp out 4 KiB": ["cp", "tree:/tmp/bench.bin", "-", "--json"],
        "probe --host": ["probe", "--host", "--json"],
    }
    runs = {name: [] for name in ops}
    for _ in range(repeat):  # in this order each time: pause before unpause
        for name, args in ops.items():
            j = js(lab, *args)
            if not j.get("ok"):
                raise LabError(f"{name}: {j}")
            runs[name].append(j)
    res = {}
    for name in ops:
        ex = statistics.median(r["exits"] for r in runs[name])
        us = statistics.median(r["guest_us"] for r in runs[name])
        work = statistics.median(r.get("monitor_us", 0) for r in runs[name])
        calls = statistics.median(r["calls"] for r in runs[name])
        res[name] = (ex, us)
        print(f"monitor {name:14s}: {ex:8.0f} exits  {us / 1000:9.1f} ms guest  {calls:4.0f} "
              f"injected calls  {ex / max(calls, 1):5.1f} exits/call  monitor work "
              f"{work / 1000:7.1f} ms ({100 * work / max(us, 1):4.1f} %, "
              f"{work / max(ex, 1):6.1f} us/exit)  (median of {repeat})")
        print(f"        calls by guest time (mean of {repeat}): "
              f"{call_time(runs[name], NAMES)}")
        if name.startswith("pause "):
            # how each pause ended: the kernel's frozen, or every task waiting off-CPU
            # with the freezer's trap pending (how many still to run into it)
            ends = ["frozen" if r.get("frozen_after") else
                    f"trap pending ({r.get('trap_pending')} waiting for a CPU)"
                    for r in runs[name]]
            print(f"        ended: {', '.join(ends)}")
    return res


CRUN = (("pause busy", "pause"), ("resume busy", "resume"), ("pause sleeper", "pause"),
        ("resume sleeper", "resume"), ("exec tree id", "exec"))


def crun(lab, idle, repeat):
    """Each CRUN request timed by the guest: {request: (exits, us, settled us or None)}."""
    res = {}
    times = {request: [] for request, _ in CRUN}
    for _ in range(repeat):  # pause before resume each time
        for request, tag in CRUN:
            s1 = js(lab, "status", "--json")
            path = os.path.join(tempfile.gettempdir(), "bench-request")
            with open(path, "w") as f:
                f.write(request + "\n")
            mark = lab.console_mark()
            rc, out, err = lab.hvctl("cp", path, "tree:/bench-request", timeout=300)
            if rc != 0:
                raise LabError(f"cp bench-request -> {rc}: {err.strip()}")
            m = lab.wait_console(rf"GUEST-TIME tag={tag} ns=(\d+) status=(\d+)"
                                 r"(?: settled_ns=(-?\d+))?", 120, since=mark)
            if m.group(2) != "0":
                raise LabError(f"crun {request} -> {m.group(2)}")
            s2 = js(lab, "status", "--json")
            window_s = (s2["uptime_ms"] - s1["uptime_ms"]) / 1000.0
            t = int(m.group(1)) / 1e9
            settled = int(m.group(3)) / 1e9 if m.group(3) and int(m.group(3)) >= 0 else None
            # Exits of the crun run: those of the window, less the idle rate outside it.
            ex = max(0.0, (s2["exits_total"] - s1["exits_total"]) - idle * (window_s - t))
            times[request].append((ex, t, settled))
    for request, v in times.items():
        settled = [x[2] for x in v if x[2] is not None]
        res[request] = (statistics.median(x[0] for x in v),
                        statistics.median(x[1] for x in v) * 1e6,
                        statistics.median(settled) * 1e6 if len(settled) == len(v) else None)
        extra = ""
        if res[request][2] is not None:
            extra = f", {res[request][2] / 1000:.1f} ms to the cgroup's state it asked for"
        print(f"crun    {request:14s}: {res[request][0]:8.0f} exits (approx.) "
              f"{res[request][1] / 1000:9.1f} ms guest{extra} (median of {repeat})")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the machine (default 1)")
    ap.add_argument("--bochs", help="the Bochs binary (needed for --cpus 2)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    hvctl = os.path.abspath(a.hvctl or os.path.join(build, "hvctl"))
    tag = f"-{a.cpus}cpu" if a.cpus != 1 else ""
    lab = Lab(build, os.path.join(build, "lab", "disk.img"),
              os.path.join(build, "bench", "ops" + tag), hvctl=hvctl, timeout=3000, quiet=True,
              cpus=a.cpus, bochs=a.bochs)
    print(f"== {a.cpus} CPU(s)")
    ok = False
    try:
        lab.start()
        lab.wait_console(r"GUEST-TRUTH-END seq=0 ", 600)
        lab.wait_console(HB, 120, since=lab.console_mark(), count=2)
        idle = idle_rate(lab)
        armed(lab)
        with tempfile.TemporaryDirectory() as tmp:
            print("-- operations, each waiting for a host task's own syscall (helper manual):")
            lab.hvctl("helper", "manual", timeout=60)
            mon = ours(lab, a.repeat, tmp)
            print("-- the same with helper = auto, the default (the first operation starts the "
                  "helper; it stays parked, no wait for a syscall):")
            lab.hvctl("helper", "auto", timeout=60)
            h = js(lab, "stats", "tree", "--json")
            if not h.get("ok") or not h.get("helper_started"):
                raise LabError(f"stats did not start the helper: {h}")
            print(f"helper started by the first operation (stats): {h['exits']} exits, "
                  f"{h['guest_us'] / 1000:.0f} ms of guest time")
            s1 = js(lab, "status", "--json")
            lab.wait_console(HB, 120, since=lab.console_mark(), count=2)
            s2 = js(lab, "status", "--json")
            dt = (s2["uptime_ms"] - s1["uptime_ms"]) / 1000.0
            print(f"helper parked: {(s2['exits_total'] - s1['exits_total']) / dt:.1f} exits "
                  f"per guest second (idle without it: {idle:.1f})")
            mon_h = ours(lab, a.repeat, tmp)
            lab.hvctl("helper", "manual", timeout=60)
            lab.hvctl("helper", "stop", timeout=60)
        cr = crun(lab, idle, a.repeat)
        for m_name, c_name in (("pause busy", "pause busy"), ("unpause busy", "resume busy"),
                               ("pause sleeper", "pause sleeper"),
                               ("unpause sleeper", "resume sleeper"),
                               ("exec tree id", "exec tree id")):
            ce, cu, cs = cr[c_name]
            for label, table in (("", mon), (" (helper)", mon_h)):
                me, mu = table[m_name]
                settled = f", to the state {mu / max(cs, 1):.2f}" if cs is not None else ""
                print(f"ratio monitor{label}/crun {c_name:12s}: exits {me / max(ce, 1):.2f}, "
                      f"guest time {mu / max(cu, 1):.2f}{settled}")
        ok = True
    except LabError as e:
        print(f"ops_bench: {e}")
    finally:
        lab.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
