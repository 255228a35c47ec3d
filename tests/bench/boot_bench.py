#!/usr/bin/env python3
"""Boot figures of the lab in Bochs, without and with the monitor (not a test).

    tests/bench/boot_bench.py --build DIR [--hvctl PATH] [--idle SEC] [--cpus N --bochs PATH]

Boots DIR/lab/disk-bare.img (Linux alone), then DIR/lab/disk.img (Linux under the
monitor), one after the other (run-bochs.sh holds the machine-wide Bochs lock), and
prints:
  - guest-measured time to /init (GUEST-INIT uptime and TSC) with and without the
    monitor, and their ratios;
  - idle VM exits per guest second: two `hvctl status --json` IDLE s (wall) apart
    while the guest only runs its heartbeat loop: d(exits_total)/d(uptime_ms)*1000,
    with the per-reason breakdown of the delta;
  - the same per vCPU (with --cpus 2: the boot CPU, which polls the console, and the AP);
  - the wall time of each boot (Bochs start -> GUEST-INIT, -> GUEST-READY, whole run).
With --cpus N both boots run on an N-CPU machine (the Bochs of tools/lab/build-bochs.sh).
Exit status 1 when a boot failed (the figures that exist are still printed).
"""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from lab import Lab, LabError  # noqa: E402

BOOT_TIMEOUT = 420


def status_json(lab):
    rc, out, err = lab.hvctl("status", "--json", timeout=20)
    if rc != 0:
        raise LabError(f"hvctl status --json -> {rc}: {err.strip() or out.strip()}")
    for line in out.splitlines():
        if line.strip().startswith("{"):
            return json.loads(line)
    raise LabError(f"no JSON in hvctl status --json: {out.strip()[:200]}")


def boot(name, build, disk, rundir, hvctl, idle, cpus=1, bochs=None):
    """One boot; returns a dict of figures (partial on failure, with 'error')."""
    r = {"name": name, "disk": disk}
    lab = Lab(build, disk, rundir, hvctl=hvctl, timeout=BOOT_TIMEOUT + idle + 300, quiet=True,
              cpus=cpus, bochs=bochs)
    t0 = time.time()
    try:
        lab.start()
        r["lock_wait_s"] = lab.t_bochs - t0
        m = lab.wait_console(r"GUEST-INIT ", BOOT_TIMEOUT)
        kv = m.kv()
        r["init_uptime_s"] = float(kv["uptime"])
        r["init_tsc"] = int(kv["tsc"])
        r["wall_to_init_s"] = m.seen - lab.t_bochs
        m = lab.wait_console(r"GUEST-READY", BOOT_TIMEOUT)
        r["wall_to_ready_s"] = m.seen - lab.t_bochs
        if hvctl:
            hb0 = lab.find_console(r"GUEST-HEARTBEAT n=(\d+) uptime=(\S+)")
            s1 = status_json(lab)
            t1 = time.time()
            time.sleep(idle)
            s2 = status_json(lab)
            t2 = time.time()
            hb1 = lab.find_console(r"GUEST-HEARTBEAT n=(\d+) uptime=(\S+)")
            r["idle_wall_s"] = t2 - t1
            r["s1"], r["s2"] = s1, s2
            if hb0 and hb1:
                r["guest_idle_s"] = float(hb1[-1].group(2)) - float(hb0[-1].group(2))
    except (LabError, KeyError, ValueError) as e:
        r["error"] = str(e)
        print(f"bench: {name}: {e}", file=sys.stderr)
        lab.diagnose(out=sys.stderr)
    finally:
        lab.stop()
        r["wall_total_s"] = time.time() - t0
    return r


def fmt(v, unit="", digits=2):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}{unit}"
    return f"{v}{unit}"


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl", help="default: BUILD/hvctl")
    ap.add_argument("--idle", type=float, default=60.0,
                    help="wall seconds between the two status calls (default 60)")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the machine (default 1)")
    ap.add_argument("--bochs", help="the Bochs binary (needed for --cpus 2)")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    hvctl = os.path.abspath(a.hvctl or os.path.join(build, "hvctl"))
    bare_disk = os.path.join(build, "lab", "disk-bare.img")
    mon_disk = os.path.join(build, "lab", "disk.img")
    for p in (bare_disk, mon_disk, hvctl):
        if not os.path.exists(p):
            print(f"bench: missing {p} (make lab)", file=sys.stderr)
            return 1

    tag = f"-{a.cpus}cpu" if a.cpus != 1 else ""
    bare = boot("bare", build, bare_disk, os.path.join(build, "bench", "bare" + tag), None, a.idle,
                a.cpus, a.bochs)
    mon = boot("monitor", build, mon_disk, os.path.join(build, "bench", "monitor" + tag), hvctl,
               a.idle, a.cpus, a.bochs)

    print(f"== {a.cpus} CPU(s)")
    print("== boot to /init, guest-measured (GUEST-INIT)")
    print(f"{'':24}{'bare':>16}{'monitor':>16}{'monitor/bare':>14}")
    for key, label in (("init_uptime_s", "uptime (s)"), ("init_tsc", "TSC")):
        b, m = bare.get(key), mon.get(key)
        print(f"{label:24}{fmt(b):>16}{fmt(m):>16}{fmt(ratio(m, b), digits=4):>14}")
    print("== wall time (s)")
    for key, label in (("lock_wait_s", "waiting for the lock"),
                       ("wall_to_init_s", "Bochs start -> /init"),
                       ("wall_to_ready_s", "Bochs start -> READY"),
                       ("wall_total_s", "whole run")):
        b, m = bare.get(key), mon.get(key)
        print(f"{label:24}{fmt(b, digits=1):>16}{fmt(m, digits=1):>16}"
              f"{fmt(ratio(m, b), digits=3):>14}")

    print("== idle exits (monitor boot, guest running only its heartbeat loop)")
    s1, s2 = mon.get("s1"), mon.get("s2")
    if s1 and s2:
        d_ms = s2["uptime_ms"] - s1["uptime_ms"]
        d_ex = s2["exits_total"] - s1["exits_total"]
        print(f"wall between calls      {mon['idle_wall_s']:.1f} s")
        print(f"monitor uptime delta    {d_ms} ms"
              + (f"  (guest heartbeat uptime delta {mon['guest_idle_s']:.2f} s)"
                 if "guest_idle_s" in mon else ""))
        print(f"exits delta             {d_ex}")
        print(f"exits per guest second  {fmt(d_ex / d_ms * 1000 if d_ms > 0 else None, digits=1)}")
        e1, e2 = s1.get("exits", {}), s2.get("exits", {})
        deltas = sorted(((e2.get(k, 0) - e1.get(k, 0), k) for k in set(e1) | set(e2)),
                        reverse=True)
        for d, k in deltas:
            if d:
                print(f"  {k:28}{d:>10}  {d / d_ms * 1000 if d_ms > 0 else 0:>10.1f}/s"
                      f"  {100.0 * d / d_ex if d_ex else 0:5.1f}%")
        v1, v2 = s1.get("vcpus", []), s2.get("vcpus", [])
        for a1, a2 in zip(v1, v2):
            d = a2["exits_total"] - a1["exits_total"]
            print(f"  vcpu {a2['id']}{' (console)' if a2.get('console') else '':10}"
                  f"{d:>10} exits  {d / d_ms * 1000 if d_ms > 0 else 0:>10.1f}/guest s")
        print(f"exits_total at boot end {s1['exits_total']} (first status call)")
    else:
        print("n/a" + (f" ({mon.get('error')})" if mon.get("error") else ""))

    failed = [r["name"] for r in (bare, mon) if "error" in r]
    if failed:
        print(f"bench: boot(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
