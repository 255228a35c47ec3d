#!/usr/bin/env python3
"""End-to-end test of the monitor on a machine with two CPUs (issue 8): ONE Bochs boot of
DIR/lab/disk.img with `cpu: count=2`, then checks.

    tests/e2e/smp_e2e.py --build DIR --hvctl PATH [--disk IMG] [--rundir RUNDIR]

What is checked, each against the guest's own view or the monitor's counters, not
constants: the loader virtualized both CPUs before the kernel (the monitor reports two
vCPUs); OVMF's own INIT-SIPI-SIPI of its AP at ExitBootServices was emulated (the AP took
INIT and SIPI exits and did not stop); the guest still reaches /init, finds no monitor byte
in reserved memory and sees our CPUID; the guest keeps running. Output as boot_e2e.py.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, LabError  # noqa: E402
from checks import need  # noqa: E402
import boot_e2e  # noqa: E402

HB = boot_e2e.HB


def check_vcpus(lab, st):
    need(st is not None, "no status --json from the monitor")
    vcpus = st.get("vcpus")
    need(isinstance(vcpus, list) and len(vcpus) == 2, f"vcpus={vcpus!r} (want 2)")
    need([v["id"] for v in vcpus] == [0, 1], f"vcpu ids {[v['id'] for v in vcpus]}")
    need(vcpus[0]["console"] and not vcpus[1]["console"], "the console is not on vcpu 0 alone")
    ap = vcpus[1]
    need(not ap["stopped"], f"vcpu 1 stopped: {ap}")
    # OVMF restarts its APs with INIT-SIPI-SIPI at ExitBootServices, after the loader ran.
    need(ap["inits"] >= 1 and ap["sipis"] >= 1,
         f"vcpu 1 took no emulated INIT/SIPI: {ap}")
    need(ap["exits"].get("INIT_SIGNAL", 0) >= ap["inits"], f"INIT exits vs inits: {ap}")
    need(sum(v["exits_total"] for v in vcpus) == st["exits_total"],
         "per-vCPU exits do not add up to exits_total")
    return (f"vcpu0 {vcpus[0]['exits_total']} exits; vcpu1 {ap['exits_total']} exits, "
            f"{ap['inits']} INIT ({ap['init_echoes_ignored']} Bochs echoes ignored), "
            f"{ap['sipis']} SIPI, last vector 0x{ap['sipi_vector']:x}")


def check_guest_cpus(lab):
    m = lab.find_console(r"GUEST-CPUS ")
    need(m, "no GUEST-CPUS line")
    kv = m[0].kv()
    # Every CPU of the machine: the loader no longer limits the kernel.
    need(kv.get("online") == "0-1", f"guest CPUs online: {kv}")
    return f"guest: {m[0].line}"


def check_runs_on(lab):
    hb = lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    return f"two more heartbeats ({hb.line[:60]})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl", required=True)
    ap.add_argument("--disk", help="default: BUILD/lab/disk.img")
    ap.add_argument("--rundir", help="default: BUILD/e2e/run-smp")
    ap.add_argument("--bochs", help="the Bochs binary (tools/lab/build-bochs.sh: Debian 12's "
                    "Bochs 2.7 cannot run an AP under VMX)")
    ap.add_argument("--boot-timeout", type=int, default=600,
                    help="seconds (wall) from Bochs start to GUEST-READY")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    disk = a.disk or os.path.join(build, "lab", "disk.img")
    rundir = a.rundir or os.path.join(build, "e2e", "run-smp")
    res = boot_e2e.Results()
    t0 = time.time()
    lab = Lab(build, disk, rundir, hvctl=os.path.abspath(a.hvctl),
              timeout=a.boot_timeout + 600, cpus=2, bochs=a.bochs)
    boot_ok = False
    try:
        lab.start()
        try:
            lab.wait_console(r"GUEST-INIT ", a.boot_timeout)
            lab.wait_console(r"GUEST-READY",
                             max(30, a.boot_timeout - (time.time() - lab.t_bochs)))
            boot_ok = True
            res.ok("smp-boot", f"GUEST-READY after {time.time() - lab.t_bochs:.0f}s on 2 CPUs")
        except LabError as e:
            res.fail("smp-boot", str(e))
        if boot_ok:
            st = None
            try:
                st = boot_e2e.hvctl_json(lab, "status", "--json", timeout=30)
            except Exception as e:  # reported by the checks that need it
                print(f"smp-e2e: status --json: {e}", flush=True)
            res.run("smp-vcpus", check_vcpus, lab, st)
            res.run("smp-guest-cpuid", boot_e2e.check_cpuid, lab, st)
            mem = None
            try:
                mem = boot_e2e.hvctl_json(lab, "mem", "--json", timeout=30)
            except Exception as e:
                print(f"smp-e2e: mem --json: {e}", flush=True)
            res.run("smp-mem-hidden", boot_e2e.check_mem, lab, mem)
            res.run("smp-guest-cpus", check_guest_cpus, lab)
            res.run("smp-runs-on", check_runs_on, lab)
            if not lab.alive():
                res.fail("lab-alive", "Bochs ended during the checks")
    except LabError as e:
        res.fail("lab", str(e))
    finally:
        lab.stop()
    if not boot_ok or res.failed:
        print("smp-e2e: diagnostics follow", flush=True)
        lab.diagnose()
    print(f"smp-e2e: wall {time.time() - t0:.0f}s", flush=True)
    print(f"smp-e2e: {res.passed} passed, {res.failed} failed", flush=True)
    return 1 if res.failed or not boot_ok else 0


if __name__ == "__main__":
    sys.exit(main())
