#!/usr/bin/env python3
"""What kernel protection costs (issue 9, item 8), measured in one run (not a test).

    tests/bench/protect_bench.py --build DIR [--hvctl PATH] [--idle SEC] [--rounds N]

Boots the lab under the monitor twice, one after the other: with the lab's hv.cfg
(protect = enforce, the default) and with `protect = off` added (the control disk of
tests/e2e/rootkit_control_e2e.py). For each boot it prints:
  - the guest-measured time to /init and to GUEST-READY (uptime), and their ratio on/off;
  - idle VM exits per guest second: two `status --json` IDLE s (wall) apart while the guest
    runs only its heartbeat loop, with the exit reasons that differ most;
  - N rounds of stats tree, pause busy, unpause busy and exec tree -- true: each
    operation's guest time (its reply's guest_us), and with protection the check before it
    (integrity.check_us, the bytes of text compared): check / operation, per verb.
The goal of the issue is a check under 10 % of the operation's guest time.
"""

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from lab import Lab, LabError  # noqa: E402
from rootkit_control_e2e import lab_disk_with  # noqa: E402

BOOT_TIMEOUT = 600
OPS = (("stats", ("stats", "tree")), ("pause", ("pause", "busy")),
       ("unpause", ("unpause", "busy")), ("exec", ("exec", "tree", "--", "true")))


def hvctl_json(lab, *words, timeout=120):
    if words[0] == "exec":
        words = (words[0], "--json") + words[1:]
    else:
        words = words + ("--json",)
    rc, out, err = lab.hvctl(*words, timeout=timeout)
    for line in out.splitlines():
        if line.strip().startswith("{"):
            return json.loads(line)
    raise LabError(f"hvctl {' '.join(words)} -> {rc}: {(err or out).strip()[:200]}")


def boot(name, build, disk, rundir, hvctl, idle, rounds):
    r = {"name": name, "ops": {k: [] for k, _ in OPS}}
    lab = Lab(build, disk, rundir, hvctl=hvctl, timeout=BOOT_TIMEOUT + idle + 900, quiet=True)
    try:
        lab.start()
        r["init_uptime_s"] = float(lab.wait_console(r"GUEST-INIT ", BOOT_TIMEOUT).kv()["uptime"])
        lab.wait_console(r"GUEST-READY", BOOT_TIMEOUT)
        hb = lab.wait_console(r"GUEST-HEARTBEAT n=\d+ uptime=(\S+)", BOOT_TIMEOUT)
        r["heartbeat_uptime_s"] = float(hb.group(1))
        s1 = hvctl_json(lab, "status")
        time.sleep(idle)
        s2 = hvctl_json(lab, "status")
        r["s1"], r["s2"] = s1, s2
        for _ in range(rounds):
            for key, words in OPS:
                j = hvctl_json(lab, *words, timeout=300)
                if not j.get("ok"):
                    raise LabError(f"{' '.join(words)}: {j}")
                r["ops"][key].append((j["guest_us"], j["integrity"].get("check_us", 0),
                                      j["integrity"].get("compared", 0)))
        r["integrity"] = hvctl_json(lab, "integrity")
    except (LabError, KeyError, ValueError) as e:
        r["error"] = str(e)
        print(f"bench: {name}: {e}", file=sys.stderr)
        lab.diagnose(out=sys.stderr)
    finally:
        lab.stop()
    return r


def idle_rate(r):
    s1, s2 = r.get("s1"), r.get("s2")
    if not s1 or not s2:
        return None, {}
    d_ms = s2["uptime_ms"] - s1["uptime_ms"]
    if d_ms <= 0:
        return None, {}
    e1, e2 = s1.get("exits", {}), s2.get("exits", {})
    by = {k: (e2.get(k, 0) - e1.get(k, 0)) * 1000.0 / d_ms for k in set(e1) | set(e2)}
    return (s2["exits_total"] - s1["exits_total"]) * 1000.0 / d_ms, by


def fmt(v, digits=2):
    return "n/a" if v is None else f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl")
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    hvctl = os.path.abspath(a.hvctl or os.path.join(build, "hvctl"))
    on_disk = os.path.join(build, "lab", "disk.img")
    work = os.path.join(build, "bench", "protect")
    off_disk = lab_disk_with(build, os.path.join(work, "off-disk"), "protect = off")

    on = boot("protect=enforce", build, on_disk, os.path.join(work, "on"), hvctl, a.idle,
              a.rounds)
    off = boot("protect=off", build, off_disk, os.path.join(work, "off"), hvctl, a.idle,
               a.rounds)

    print("== boot, guest-measured uptime (s)")
    print(f"{'':28}{'enforce':>12}{'off':>12}{'enforce/off':>14}")
    for key, label in (("init_uptime_s", "to /init (GUEST-INIT)"),
                       ("heartbeat_uptime_s", "to the first heartbeat")):
        x, y = on.get(key), off.get(key)
        print(f"{label:28}{fmt(x):>12}{fmt(y):>12}"
              f"{fmt(x / y if x and y else None, 3):>14}")

    print("== idle VM exits per guest second (only the heartbeat loop running)")
    (ron, byon), (roff, byoff) = idle_rate(on), idle_rate(off)
    print(f"{'all':28}{fmt(ron, 1):>12}{fmt(roff, 1):>12}"
          f"{fmt(ron / roff if ron and roff else None, 3):>14}")
    diffs = sorted(set(byon) | set(byoff), key=lambda k: -abs(byon.get(k, 0) - byoff.get(k, 0)))
    for k in diffs[:5]:
        print(f"  {k:26}{byon.get(k, 0):>12.1f}{byoff.get(k, 0):>12.1f}")

    print(f"== operations ({a.rounds} rounds; medians; guest us)")
    print(f"{'':10}{'op (on)':>12}{'check':>10}{'check/op':>10}{'compared B':>12}"
          f"{'op (off)':>12}{'on/off':>9}")
    for key, _ in OPS:
        xs, ys = on["ops"].get(key, []), off["ops"].get(key, [])
        if not xs:
            print(f"{key:10}n/a")
            continue
        op_on = statistics.median(x[0] for x in xs)
        chk = statistics.median(x[1] for x in xs)
        cmp_b = statistics.median(x[2] for x in xs)
        op_off = statistics.median(y[0] for y in ys) if ys else None
        print(f"{key:10}{op_on:>12.0f}{chk:>10.0f}{fmt(chk / op_on if op_on else None, 3):>10}"
              f"{cmp_b:>12.0f}{fmt(op_off, 0):>12}"
              f"{fmt((op_on + chk) / op_off if op_off else None, 3):>9}")
    integ = on.get("integrity", {})
    if integ:
        print(f"text {integ['text']['size']} bytes, writes tracked: {integ.get('text_tracked')}, "
              f"{integ.get('text_pages_opened')} pages opened at a first write, "
              f"{integ.get('checks')} checks, {integ.get('alerts')} alerts")
    failed = [r["name"] for r in (on, off) if "error" in r]
    if failed:
        print(f"bench: boot(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
