#!/usr/bin/env python3
"""The control of the rootkit checks (issue 9, item 7): the same lab, the same attacks,
with `protect = off` in hv.cfg. Each attack must take effect and fool what it targets —
so that the checks in boot_e2e.py, which see them blocked or repaired, can fail.

    tests/e2e/rootkit_control_e2e.py --build DIR --hvctl PATH [--rundir RUNDIR]

One Bochs boot (one CPU), then:
  control-protect-off  `integrity` says off, nothing recorded
  control-lstar        LSTAR moves (the module puts it back at once)
  control-ftrace       __x64_sys_kill hooked with ftrace: `kill -s KILL sleeper` reports
                       success and sleeper keeps running (crun list)
  control-inline       cgroup_freeze_write patched: `pause tree` has no effect (the
                       monitor reports the cgroup never froze; the guest says not frozen)
  control-alias        sys_call_table[kill] changed through an alias of its page (this
                       kernel, like every 6.1 since 6.1.85, dispatches system calls with a
                       switch, x64_sys_call, so the table is not on the kill path: the
                       control shows the write that protection refuses taking effect)
  control-wp           CR0.WP cleared
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot_e2e  # noqa: E402
import ops_checks  # noqa: E402
import rootkit_checks  # noqa: E402
from checks import need, short  # noqa: E402
from lab import REPO, Lab, LabError  # noqa: E402

MKDISK = os.path.join(REPO, "tools", "lab", "mkdisk.sh")


def lab_disk_with(build, workdir, line):
    """The lab disk (tools/lab/mkdisk.sh's own layout: the shell runs labacpi.efi, then the
    loader) with `line` added to its hv.cfg."""
    lab_dir = os.path.join(build, "lab")
    with open(os.path.join(lab_dir, "disk-files", "hv.cfg")) as f:
        cfg = f.read()
    key = line.split("=")[0].strip()
    need(not any(ln.split("=")[0].strip() == key for ln in cfg.splitlines()),
         f"the lab's hv.cfg already sets {key}")
    os.makedirs(workdir, exist_ok=True)
    cfg_path = os.path.join(workdir, "hv.cfg")
    with open(cfg_path, "w") as f:
        f.write(cfg + line + "\n")
    disk = os.path.join(workdir, "disk.img")
    files = [(os.path.join(build, "hvboot.efi"), "/hvboot.efi"),
             (os.path.join(lab_dir, "labacpi.efi"), "/labacpi.efi"),
             (os.path.join(build, "hv.elf"), "/hv/hv.elf"),
             (cfg_path, "/hv/hv.cfg"),
             (os.path.join(lab_dir, "guest-profile.json"), "/hv/profile.json"),
             (os.path.join(lab_dir, "vmlinuz"), "/boot/vmlinuz"),
             (os.path.join(lab_dir, "initrd.img"), "/boot/initrd.img"),
             (os.path.join(lab_dir, "disk-files", "startup.nsh"), "/startup.nsh")]
    p = subprocess.run(["bash", MKDISK, "--build", build, "--image", disk]
                       + [f"{src}:{dst}" for src, dst in files],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    need(p.returncode == 0, f"mkdisk.sh --image failed: {short(p.stderr)}")
    return disk


def control_disk(build, workdir):
    """The lab disk with `protect = off`."""
    return lab_disk_with(build, workdir, "protect = off")


def check_off(lab):
    j = rootkit_checks.integrity(lab)
    need(j["mode"] == "off" and j["state"] == "disabled", f"integrity: {j['mode']} {j['state']}")
    return f"mode {j['mode']}, state {j['state']} ({j['why']})"


def check_lstar(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "lstar")
    need(kv.get("write") == "0" and kv.get("moved") == "1", f"lstar: {line}")
    return line


def check_inline(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "inline")
    need(kv.get("patched") == "1", f"inline: {line}")
    rc, out, err = lab.hvctl("pause", "tree", timeout=300)
    need(rc != 0 and "frozen" in err, f"pause tree with the freeze hooked -> {rc}: {short(err or out)}")
    m, _, frozen = ops_checks.heartbeat(lab, lab.console_mark())
    m2, _, frozen2 = ops_checks.heartbeat(lab, m.lineno + 1)
    need(frozen2.get("tree") == "0", f"the guest says tree frozen={frozen2.get('tree')}")
    return f"{line}; pause: {short(err)}; guest: tree frozen={frozen2.get('tree')}"


def check_ftrace(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "ftrace")
    need(kv.get("register") == "0", f"ftrace: {line}")
    j, _ = ops_checks.op_json(lab, "kill", "-s", "KILL", "sleeper", timeout=180)
    need(j["ok"], f"kill reported failure: {j}")
    first, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
    st = ops_checks.crun_status(lab, "sleeper", first.lineno + 1)
    need(st == "running", f"crun says sleeper is {st}: the hook did not fool kill")
    return f"{line}; kill reported ok ({j['integrity']['summary']}), crun says sleeper {st}"


def check_kprobe(lab, rundir):
    """The kprobes fool pause (the freeze path returns success and does nothing); then
    they are unregistered, so the attacks after this one are seen on their own."""
    kv, line = rootkit_checks.attack(lab, rundir, "kprobe")
    need(kv.get("freeze") == "0" and kv.get("int3") == "1,1", f"kprobe: {line}")
    try:
        rc, out, err = lab.hvctl("pause", "tree", timeout=300)
        need(rc != 0 and "frozen" in err,
             f"pause tree with the freeze kprobed -> {rc}: {short(err or out)}")
        m, _, _ = ops_checks.heartbeat(lab, lab.console_mark())
        _, _, frozen = ops_checks.heartbeat(lab, m.lineno + 1)
        need(frozen.get("tree") == "0", f"the guest says tree frozen={frozen.get('tree')}")
    finally:
        kv2, line2 = rootkit_checks.attack(lab, rundir, "kprobe-off")
    need(kv2.get("unregistered") == "1", f"kprobe-off: {line2}")
    return f"{line}; pause: {short(err)}; guest: tree frozen={frozen.get('tree')}"


def check_gdt(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "gdt")
    need(kv.get("planted") == "1", f"gdt: {line}")
    rc, out, err = lab.hvctl("integrity", "--check", timeout=120)
    kv2, line2 = rootkit_checks.attack(lab, rundir, "gdt-read")
    need(kv2.get("empty") == "0" and kv2.get("now") == kv.get("now"),
         f"the gate is not in the guest's GDT any more: {line2}")
    return f"{line}; after integrity --check: {line2}"


def check_gdtr(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "gdtr")
    need(kv.get("moved") == "1", f"gdtr: {line}")
    lab.hvctl("integrity", "--check", timeout=120)
    kv2, line2 = rootkit_checks.attack(lab, rundir, "gdtr-read")
    kv3, line3 = rootkit_checks.attack(lab, rundir, "gdtr-restore")
    need(kv2.get("back") == "0" and kv2.get("limit") == "65535",
         f"GDTR is not as the module left it: {line2}")
    need(kv3.get("back") == "1", f"gdtr-restore: {line3}")
    return f"{line}; after integrity --check: {line2}"


def check_flash(lab, rundir, name="flash", secs=20):
    """kill -s STOP tree while the kill path flashes (or its mapping: remap; or a one-shot
    hook waits on it) is reported done and does nothing (the guest says tree's init is
    not stopped). A flash is clean 0.2-0.3 ms in 9, so a kill may miss it: then, once the
    thread is done, CONT and another round (three at most)."""
    tries = []
    for _ in range(3):
        kv, line = rootkit_checks.attack(lab, rundir, f"{name} {secs}")
        need(kv.get("started") == "1", f"{name}: {line}")
        start = float(ops_checks.heartbeat(lab, lab.console_mark())[0].group(2))
        j, err = rootkit_checks.kill_json(lab, "STOP", "tree")
        need(j["ok"], f"kill -s STOP tree with protection off: {err}")
        tries.append(rootkit_checks.init_state(lab, "tree", lab.console_mark()))
        rootkit_checks.wait_guest_time(lab, start + secs + 2)
        if tries[-1] != "T":
            break
        j2, e2 = rootkit_checks.kill_json(lab, "CONT", "tree")  # the thread is done
        need(j2["ok"], f"kill -s CONT tree: {e2}")
    need(tries[-1] != "T", f"kill -s STOP tree took effect in every round: {tries}")
    return (f"{line}; kill -s STOP tree reported done, the guest says tree's init is "
            f"{tries[-1]} (rounds: {tries})")


def check_remap(lab, rundir):
    return check_flash(lab, rundir, "remap")


def check_oneshot(lab, rundir):
    return check_flash(lab, rundir, "oneshot")


def check_alias(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "alias")
    need(kv.get("write") == "0" and kv.get("table_changed") == "1", f"alias: {line}")
    return line


def check_wp(lab, rundir):
    kv, line = rootkit_checks.attack(lab, rundir, "wp")
    need(kv.get("cr0_write") == "done" and kv.get("wp_cleared") == "1" and
         kv.get("table_write") == "0" and kv.get("text_write") == "0", f"wp: {line}")
    return line


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl", required=True)
    ap.add_argument("--rundir", help="default: BUILD/e2e/run-control")
    ap.add_argument("--boot-timeout", type=int, default=600)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    rundir = a.rundir or os.path.join(build, "e2e", "run-control")
    res = boot_e2e.Results()
    t0 = time.time()
    try:
        disk = control_disk(build, os.path.join(build, "e2e", "control-disk"))
    except Exception as e:
        res.fail("control-disk", str(e))
        print(f"control: {res.passed} passed, {res.failed} failed", flush=True)
        return 1
    lab = Lab(build, disk, rundir, hvctl=os.path.abspath(a.hvctl), timeout=a.boot_timeout + 900)
    boot_ok = False
    try:
        lab.start()
        try:
            lab.wait_console(r"GUEST-READY", a.boot_timeout)
            lab.wait_console(r"GUEST-HEARTBEAT ", 300)
            boot_ok = True
            res.ok("control-boot", f"GUEST-READY after {time.time() - lab.t_bochs:.0f}s")
        except LabError as e:
            res.fail("control-boot", str(e))
        if boot_ok:
            res.run("control-helper-manual", ops_checks.use_helper_manual, lab)
            res.run("control-protect-off", check_off, lab)
            res.run("control-lstar", check_lstar, lab, rundir)
            res.run("control-kprobe", check_kprobe, lab, rundir)
            res.run("control-gdt", check_gdt, lab, rundir)
            res.run("control-gdtr", check_gdtr, lab, rundir)
            res.run("control-flash", check_flash, lab, rundir)
            res.run("control-remap", check_remap, lab, rundir)
            res.run("control-oneshot", check_oneshot, lab, rundir)
            res.run("control-ftrace", check_ftrace, lab, rundir)
            res.run("control-inline", check_inline, lab, rundir)
            res.run("control-alias", check_alias, lab, rundir)
            res.run("control-wp", check_wp, lab, rundir)
    except LabError as e:
        res.fail("control-lab", str(e))
    finally:
        lab.stop()
    if res.failed:
        lab.diagnose()
    print(f"control: wall {time.time() - t0:.0f}s", flush=True)
    print(f"control: {res.passed} passed, {res.failed} failed", flush=True)
    return 1 if res.failed or not boot_ok else 0


if __name__ == "__main__":
    sys.exit(main())
