#!/usr/bin/env python3
"""End-to-end test of the monitor on a machine with two CPUs (issue 8): ONE Bochs boot of
DIR/lab/disk.img with `cpu: count=2`, then checks.

    tests/e2e/smp_e2e.py --build DIR --hvctl PATH --bochs BOCHS [--disk IMG] [--rundir RUNDIR]

What is checked, each against the guest's own view or the monitor's counters, not
constants: the loader virtualized both CPUs before the kernel (the monitor reports two
vCPUs); OVMF's own INIT-SIPI-SIPI of its AP at ExitBootServices and Linux's were emulated;
both CPUs are online in the guest and each, pinned with taskset, sees our CPUID leaf; CPU 1
taken offline and online again through sysfs comes back virtualized (new INIT and SIPI
exits, our CPUID leaf again); no monitor byte in reserved memory; `ps` says what runs on
each CPU (busy, pinned to CPU 1, runs there); the syscall-entry trap fires on both CPUs;
the container operations (stats, pause, exec, cp, the resident helper, 200 injections into
the checker while it moves between the CPUs) give what the guest itself sees, with busy and tree on CPU 1 and
sleeper on CPU 0; the wakeap module's INIT-SIPI-SIPI into code of its own reads none of the
monitor's bytes, while the same code reads the kernel (the control); the guest runs on.
Output as boot_e2e.py.
"""


import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab import Lab, LabError  # noqa: E402
from checks import need, short  # noqa: E402
import boot_e2e  # noqa: E402
import ops_checks  # noqa: E402

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


def check_cpuid_each(lab, st):
    """Each CPU, pinned with taskset, sees the monitor's CPUID leaf: both at boot, and
    CPU 1 again after it was taken offline and brought back."""
    need(st is not None, "no status --json from the monitor")
    want = boot_e2e.sanitize_signature(st.get("cpuid_signature", ""))
    seen = {}
    for m in lab.find_console(r"GUEST-CPUID-ON "):
        kv = m.kv()
        seen[(kv.get("cpu"), kv.get("phase"))] = kv
    bad = []
    for key in (("0", "boot"), ("1", "boot"), ("1", "online")):
        kv = seen.get(key)
        if kv is None:
            bad.append(f"no GUEST-CPUID-ON cpu={key[0]} phase={key[1]}")
        elif kv.get("signature") != want or kv.get("hypervisor_bit") != "1" or \
                kv.get("vmx_bit") != "0":
            bad.append(f"cpu {key[0]} ({key[1]}): {kv}")
    need(not bad, "; ".join(bad))
    return f"signature {want} on CPU 0, CPU 1, and CPU 1 after offline/online"


def check_hotplug(lab, st):
    """CPU 1 offline and online through sysfs: Linux wakes it with INIT-SIPI-SIPI; the
    monitor emulated them (OVMF's, Linux's boot-time and this one: three SIPIs at least)."""
    m = lab.find_console(r"GUEST-CPU-HOTPLUG ")
    need(m, "no GUEST-CPU-HOTPLUG line")
    kv = m[0].kv()
    need(kv.get("offline") == "0" and kv.get("online") == "0" and
         kv.get("cpus") == "0,0-1", f"hotplug: {m[0].line}")
    ap = st["vcpus"][1]
    need(ap["sipis"] >= 3 and ap["inits"] >= 3 and not ap["stopped"],
         f"vcpu 1 after offline/online: {ap}")
    return f"{m[0].line}; vcpu 1: {ap['inits']} INIT, {ap['sipis']} SIPI emulated"


HOG_SECS = 60


def check_ps_oncpu(lab, rundir):
    """`ps --json` says what each CPU runs (read from each vCPU's registers while it is
    held): a CPU hog that /init pins to CPU 1 on request (a loop of shell builtins, pid from
    the guest's own GUEST-HOG line) is current there and its entry says on_cpu [1]; every
    running entry is a listed process or an idle task."""
    boot_e2e.wait_heartbeats(lab, 1, 0, timeout=180)  # the heartbeat loop acts on requests
    since = guest_request(lab, rundir, "hog-request", str(HOG_SECS))
    m = lab.wait_console(r"GUEST-HOG pid=(\d+) cpu=(\d+)", 120, since=since)
    hog_pid, hog_cpu = int(m.group(1)), int(m.group(2))
    need(hog_cpu == 1, f"the hog is on CPU {hog_cpu}, want 1: {m.line}")
    last = None
    looks = 0
    unknown = []  # looks where a CPU's task could not be named, with the reason
    seen_cpu = seen_entry = None
    t_end = time.time() + 0.8 * HOG_SECS  # Bochs keeps guest time close to wall time
    try:
        # The hog shares CPU 1 with what else Linux runs there (busy at a tenth of a CPU,
        # interrupts): a few looks while it runs. A look where a CPU's current task is not
        # yet or no longer a plausible task (seen in 2 of many runs, cause not found) is
        # reported in the result and taken again; three such looks fail the check.
        # Up to 10 looks: the CPU list is what CPU 1 ran at one moment (ps's last exit),
        # and the lab's checker, which moves itself between the CPUs, was there instead of
        # the hog in all 5 looks of one run this session (the hog's on_cpu said [1]).
        while looks < 10 and time.time() < t_end:
            looks += 1
            ps = boot_e2e.hvctl_json(lab, "ps", "--json", timeout=180)
            cpus = ps.get("cpus")
            need(isinstance(cpus, list) and [c["cpu"] for c in cpus] == [0, 1],
                 f"ps cpus={cpus!r}")
            procs = {p["pid"]: p for p in ps["processes"]}
            odd = [c for c in cpus if c["state"] != "running"]
            if odd:
                unknown.append(f"look {looks}: " + "; ".join(
                    f"cpu {c['cpu']} {c['state']} ({c.get('why')})" for c in odd))
                need(len(unknown) < 3, f"a CPU not named in {len(unknown)} looks: {unknown}")
                continue
            for c in cpus:
                # A task that reaped itself leaves every list and then runs once more.
                need(c["tgid"] == 0 or c["tgid"] in procs or c.get("exiting") is True,
                     f"cpu {c['cpu']} runs an unlisted {c}")
            hog = procs.get(hog_pid)
            need(hog is not None and hog["state"] == "R",
                 f"the hog (pid {hog_pid}) is not a running process in ps: {hog}")
            last = cpus
            # `ps` goes over several exits (128 tasks each) and reads what the CPUs run at
            # each: the CPU list comes from its last exit, a process's on_cpu from the exit
            # that wrote it. Each must say the hog runs on CPU 1, in the same look or not.
            if cpus[1]["tgid"] == hog_pid and seen_cpu is None:
                seen_cpu = (looks, cpus[0]["comm"], cpus[0]["tgid"], cpus[1]["comm"])
            if hog.get("on_cpu") == [1] and seen_entry is None:
                seen_entry = looks
            if seen_cpu and seen_entry:
                return (f"look {seen_cpu[0]}: cpu 0 runs {seen_cpu[1]!r} (pid {seen_cpu[2]}), "
                        f"cpu 1 runs the hog {seen_cpu[3]!r} (pid {hog_pid}); look "
                        f"{seen_entry}: its entry says on_cpu [1]"
                        + (f"; TAKEN AGAIN after {unknown}" if unknown else ""))
        need(False, f"the hog (pid {hog_pid}) never seen on CPU 1 in {looks} looks (CPU list "
             f"look {seen_cpu and seen_cpu[0]}, on_cpu look {seen_entry}): {last}"
             + (f"; {unknown}" if unknown else ""))
    finally:
        # The next checks run without the hog.
        lab.wait_console(r"GUEST-HOG-END ", 120 + HOG_SECS, since=since)


def check_trap_every_cpu(lab):
    """The syscall-entry trap, armed for every task, fires on both CPUs."""
    rc, out, err = lab.hvctl("trap", "arm", timeout=60)
    need(rc == 0, f"trap arm -> {rc}: {short(err or out)}")
    try:
        boot_e2e.wait_heartbeats(lab, 2, lab.console_mark(), timeout=120)
        t = boot_e2e.hvctl_json(lab, "trap", "status", "--json", timeout=60)
    finally:
        lab.hvctl("trap", "disarm", timeout=60)
    need(t["armed"] and int(t["cpus_entered"], 16) == 0x3 and t["entries"] > 0,
         f"trap status: {t}")
    return f"{t['entries']} entries, on CPUs {t['cpus_entered']}"


def check_robust_both_cpus(lab):
    """200 injections into the checker (ops_checks.check_robust) while it moves itself
    between the CPUs at 20 signals a second: it ran on both."""
    detail = ops_checks.check_robust(lab)
    c = ops_checks.checker_line(lab, lab.console_mark())
    cpus = c.kv().get("cpus")
    need(cpus == "0x3", f"the checker ran on cpus={cpus}: {c.line}")
    return f"{detail}; checker on CPUs {cpus}"


def guest_request(lab, rundir, name, line):
    """Puts `line` into tree's /NAME through the monitor (cp): /init acts on it at its next
    heartbeat (tools/lab/guest/init). Returns the console mark from before."""
    req = os.path.join(rundir, name)
    with open(req, "w") as f:
        f.write(line + "\n")
    since = lab.console_mark()
    rc, out, err = lab.hvctl("cp", req, f"tree:/{name}", timeout=300)
    need(rc == 0, f"cp {name} -> {rc}: {short(err or out)}")
    return since


def wakeap(lab, apic, phys, length, rundir):
    """Has /init run the wakeap module (tools/lab/guest/init, wakeap-request): returns the
    GUEST-WAKEAP line's fields and the GUEST-WAKEAP-CPU line."""
    since = guest_request(lab, rundir, "wakeap-request", f"{apic}:{phys}:{length}")
    m = lab.wait_console(r"GUEST-WAKEAP(-ERROR)? ", 120, since=since)
    need(m.group(1) is None, f"wakeap failed: {m.line}")
    cpu = lab.wait_console(r"GUEST-WAKEAP-CPU ", 60, since=since)
    return m.kv(), cpu


def check_wakeap(lab, st, mem, rundir):
    """The attack of issue 8 under the monitor: a guest kernel module wakes CPU 1 (taken
    offline first) with INIT-SIPI-SIPI into real-mode code of its own, which reads physical
    memory. At the monitor's image it reads only the sink page (no byte, no magic); the
    control, the same code at the kernel's text, reads what the kernel reads there. The
    woken code runs as a guest (it sees our CPUID leaf), CPU 1 comes back online, and the
    monitor counted the INIT and SIPI exits."""
    need(st is not None and mem is not None, "no status/mem from the monitor")
    apic = st["vcpus"][1]["apic_id"]
    base = boot_e2e.parse_hex(mem["ranges"][0]["start"], "monitor range start")
    sipis0 = st["vcpus"][1]["sipis"]
    ctl, ctl_cpu = wakeap(lab, apic, "kernel", 256, rundir)
    need(ctl.get("done") == "1" and int(ctl.get("nonzero", 0)) > 0 and
         ctl.get("same_as_kernel") == "1" and ctl.get("ap_hv") == "1",
         f"control (kernel text): {ctl}")
    atk, atk_cpu = wakeap(lab, apic, f"{base:#x}", 2048, rundir)
    need(atk.get("done") == "1" and atk.get("nonzero") == "0" and
         atk.get("magic_hits") == "0" and atk.get("ap_hv") == "1",
         f"attack (monitor at {base:#x}): {atk}")
    for c in (ctl_cpu, atk_cpu):
        kv = c.kv()
        need(kv.get("online") == "0" and kv.get("cpus") == "0-1", f"CPU 1 back: {c.line}")
    st2 = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
    ap = st2["vcpus"][1]
    need(ap["sipis"] >= sipis0 + 4 and not ap["stopped"],
         f"vcpu 1 SIPIs {sipis0} -> {ap['sipis']} (two attacks and two onlines: >= 4 more)")
    boot_e2e.wait_heartbeats(lab, 1, lab.console_mark(), timeout=60)
    return (f"control: {ctl.get('nonzero')} nonzero bytes of the kernel read; attack at "
            f"{base:#x}: nonzero=0 magic_hits=0 ap_hv=1; vcpu 1 SIPIs {sipis0} -> "
            f"{ap['sipis']}; CPU 1 online again")


def pciw(lab, rundir, dev, fn, off, value):
    """A PCI configuration write by the guest (lab-probe pciw): the dword before and after."""
    since = guest_request(lab, rundir, "pciw-request", f"{dev} {fn} {off:#x} {value:#x}")
    m = lab.wait_console(r"GUEST-PCIW(-ERROR)? ", 60, since=since)
    need(m.group(1) is None, f"pciw: {m.line}")
    kv = m.kv()
    return int(kv["before"], 16), int(kv["after"], 16)


def check_pm_base_locked(lab, rundir):
    """The guest cannot move the ACPI PM1 block (to enter S3 at a port the monitor does not
    watch): its write of the PCI register that places it (the PIIX4's PMBA, found by the
    monitor at start) is dropped. The control: the same program's write of the register
    next to it (SMBBA) takes (and is put back)."""
    st = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
    reg = int(st["sleep"]["pm_base_register"], 16)
    need(reg & 0x80000000, f"the monitor found no PM base register: {st['sleep']}")
    dev, fn, off = (reg >> 11) & 31, (reg >> 8) & 7, reg & 0xFC
    c_before, c_after = pciw(lab, rundir, dev, fn, 0x90, 0xB201)
    need(c_after == 0xB201 and c_before != c_after,
         f"control (SMBBA): {c_before:#x} -> {c_after:#x}")
    before, after = pciw(lab, rundir, dev, fn, off, 0xC001)
    st2 = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
    need(after == before and st2["sleep"]["pm_base_writes_refused"] >= 1,
         f"PM base {before:#x} -> {after:#x}; {st2['sleep']}")
    return (f"PM base register {dev}:{fn}.{off:#x} stays {after:#x} (write of 0xc001 dropped, "
            f"{st2['sleep']['pm_base_writes_refused']} refused); control SMBBA "
            f"{c_before:#x} -> {c_after:#x}")


def check_s3_fails_closed(lab, rundir):
    """Last: the guest asks for S3 (echo mem > /sys/power/state with the lab's \\_S3). After
    S3 the firmware would resume the guest at its waking vector without VMX, so the monitor
    refuses the PM1 control write that enters it and stops the guest: the monitor reports
    it with the SLP_TYP asked for, the guest prints nothing more, the console answers."""
    st0 = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
    sl = st0.get("sleep", {})
    need(sl.get("pm1a_cnt") and sl.get("s5_known"), f"monitor's sleep registers: {sl}")
    since = guest_request(lab, rundir, "suspend-request", "mem")
    tried = lab.wait_console(r"GUEST-SUSPEND-TRY ", 60, since=since)
    need("deep" in tried.line, f"Linux offers no S3: {tried.line}")
    deadline = time.time() + 120
    st = None
    while time.time() < deadline:
        st = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
        if st["guest"]["running"] is False or st.get("sleep", {}).get("refused"):
            break
        time.sleep(2)
    need(st and st["sleep"]["refused"] == 1, f"sleep not refused: {st and st.get('sleep')}")
    reason = st["guest"]["stop_reason"]
    need(not st["guest"]["running"] and "SLP_TYP=1" in reason, f"guest: {st['guest']}")
    mark = lab.console_mark()
    time.sleep(10)
    later = lab.find_console(r"GUEST-(HEARTBEAT|SUSPEND-RETURNED)", since=mark)
    need(not later, f"the guest ran on after the refused S3: {later[0].line if later else ''}")
    rc, out, err = lab.hvctl("version", timeout=30)
    need(rc == 0, f"the console after the stop: {rc} {short(err or out)}")
    return f"refused: {reason[:90]}...; no guest output for 10 s; console answers"


def show_tasks(lab, container):
    """Diagnostics after a failed operation: where the container's tasks are and what each
    CPU runs, as the monitor sees them."""
    try:
        ps = boot_e2e.hvctl_json(lab, "ps", "--json", timeout=180)
        for p in ps["processes"]:
            if p.get("container") == container or p["comm"] in ("(helper)", "dd"):
                print(f"smp-e2e:   pid {p['pid']} {p['comm']!r} state {p['state']} "
                      f"on_cpu {p.get('on_cpu')} cgroup {p.get('cgroup')}", flush=True)
        print(f"smp-e2e:   cpus {ps.get('cpus')}", flush=True)
        st = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)
        for v in st.get("vcpus", []):
            print(f"smp-e2e:   vcpu {v['id']}: {v['exits_total']} exits, kicks {v.get('kicks')}",
                  flush=True)
        print(f"smp-e2e:   inject {st.get('inject')}", flush=True)
    except Exception as e:
        print(f"smp-e2e:   (no diagnostics: {e})", flush=True)


def check_runs_on(lab):
    hb = lab.wait_console(HB, 60, since=lab.console_mark(), count=2)
    return f"two more heartbeats ({hb.line[:60]})"


def check_integrity_two_cpus(lab):
    """Kernel protection on two CPUs: locked, the entry MSRs and CR bits pinned on both
    (CPU 1 went offline and online again in between), a check now finds nothing to repair,
    and the whole run raised no alert."""
    integ = boot_e2e.hvctl_json(lab, "integrity", "--check", "--json", timeout=180)
    need(integ.get("state") == "locked", f"state {integ.get('state')}: {integ.get('why')}")
    c = integ.get("check", {})
    need(c.get("vouched") is True and c.get("repaired") == 0, f"check: {c}")
    need(integ.get("alerts") == 0, f"{integ.get('alerts')} alerts: {integ.get('last_alerts')}")
    return (f"locked, {integ['checks']} checks, 0 alerts, {integ['text_pages_opened']} text "
            f"pages opened, {c.get('accepted')} legal patch sites accepted now")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl", required=True)
    ap.add_argument("--disk", help="default: the lab disk (protect = enforce)")
    ap.add_argument("--rundir", help="default: BUILD/e2e/run-smp")
    ap.add_argument("--bochs", help="the Bochs binary (tools/lab/build-bochs.sh: Debian 12's "
                    "Bochs 2.7 cannot run an AP under VMX)")
    ap.add_argument("--boot-timeout", type=int, default=600,
                    help="seconds (wall) from Bochs start to GUEST-READY")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    # protect = enforce, as the lab's hv.cfg has it (the checks before operations compare
    # only the text pages written since the last one: with the whole text compared each
    # time, an exec through a short-lived host task timed out on two CPUs)
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
            res.run("smp-helper-manual", ops_checks.use_helper_manual, lab)
            res.run("smp-guest-cpuid", boot_e2e.check_cpuid, lab, st)
            mem = None
            try:
                mem = boot_e2e.hvctl_json(lab, "mem", "--json", timeout=30)
            except Exception as e:
                print(f"smp-e2e: mem --json: {e}", flush=True)
            res.run("smp-mem-hidden", boot_e2e.check_mem, lab, mem)
            res.run("smp-guest-cpus", check_guest_cpus, lab)
            res.run("smp-cpuid-each", check_cpuid_each, lab, st)
            res.run("smp-hotplug", check_hotplug, lab, st)
            res.run("smp-ps-oncpu", check_ps_oncpu, lab, rundir)
            res.run("smp-trap-every-cpu", check_trap_every_cpu, lab)
            res.run("smp-ops-stats", ops_checks.check_stats, lab)
            res.run("smp-ops-pause-unpause", ops_checks.check_pause, lab)
            res.run("smp-ops-robustness", check_robust_both_cpus, lab)
            res.run("smp-ops-exec", ops_checks.check_exec, lab)
            failed = res.failed
            res.run("smp-ops-cp", ops_checks.check_cp, lab, rundir)
            if res.failed > failed:
                show_tasks(lab, "tree")
            res.run("smp-ops-helper", ops_checks.check_helper, lab,
                    lambda: boot_e2e.hvctl_json(lab, "ps", "--json", timeout=180))
            res.run("smp-wakeap", check_wakeap, lab, st, mem, rundir)
            res.run("smp-runs-on", check_runs_on, lab)
            res.run("smp-integrity", check_integrity_two_cpus, lab)
            res.run("smp-pm-base-locked", check_pm_base_locked, lab, rundir)
            # last: it stops the guest
            res.run("smp-s3-fails-closed", check_s3_fails_closed, lab, rundir)
            if not lab.alive():
                res.fail("lab-alive", "Bochs ended during the checks")
            else:
                try:
                    c = boot_e2e.hvctl_json(lab, "status", "--json", timeout=60)["console"]
                    print(f"smp-e2e: console: {c['requests']} requests, {c['rx_bytes']} bytes "
                          f"in, {c['rx_overruns']} receive overruns", flush=True)
                except Exception as e:
                    print(f"smp-e2e: status --json at the end: {e}", flush=True)
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
