#!/usr/bin/env python3
"""End-to-end test of the loader's fail-closed behaviour: Bochs boots small purpose-built disks.

    tests/e2e/failclosed_e2e.py --build DIR [--window SEC] [--until-init] [--only CASE...]

Cases (each one Bochs boot, stopped by pid as soon as its verdict is known):
  no-vmx-allowed  positive control, run first: a CPU without VMX and `allow_unprotected =
                  yes`: the loader says why the monitor did not start, warns, and the kernel
                  DOES start. The delay from the warning to the kernel's first console line
                  sets the window the other cases watch.
  bad-config      hv.cfg with `kernal = ...`: the message names the line and the key.
  kernel-missing  hv.cfg names \\boot\\vmlinux, which is not on the disk (vmlinuz is).
  no-vmx          the same CPU without VMX, a valid hv.cfg (`allow_unprotected = no`).
  signed-cfg-changed   the verified boot chain (docs/boot-signature.md): the lab's loader
                  with the operator key built in, \hv\hv.sig signed for hv.cfg with
                  `allow_unprotected = no`, and hv.cfg changed to say yes: refused.
  signed-core-changed  the same loader, hv.cfg signed with `allow_unprotected = yes`, and
                  hv.elf changed (one byte of its CPUID signature): refused, no override.
  unsigned-core-changed  the control: the same changed hv.elf under the loader without a
                  key: the changed monitor runs and the kernel boots.
The refusing cases must print their message on the guest console (COM1) and, where the
loader knows its UART, on the monitor UART (COM2) too, then `system halted`, and show no
kernel output within the window. Every disk holds the real lab kernel and initrd, so a
loader that did not refuse would boot them.

Output: `PASS name` / `FAIL name: why` per case, then `failclosed: N passed, N failed`;
exit status 1 if any failed. Needs `make lab` (DIR/hvboot.efi, DIR/hv.elf, DIR/lab/...).
"""

import argparse
import math
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot_e2e import Failed, Results, need, short  # noqa: E402
from lab import REPO, Lab, LabError, clean_line  # noqa: E402

MKDISK = os.path.join(REPO, "tools", "lab", "mkdisk.sh")

# Bochs 2.7's Celeron D 336: Intel, x86-64, no VMX (CPUID.1:ECX.VMX = 0). Boots OVMF, the
# loader and the lab kernel. (`cpuid: vmx=0` would need model=bx_generic: a model ignores
# the cpuid: options.)
NO_VMX_CPU = "p4_prescott_celeron_336"

# Anything the kernel prints: its EFI stub (efi=debug makes it say "Loaded initrd" even
# with `quiet`), a printk line, the lab's /init, a panic; or the loader going on.
KERNEL_RX = (r"EFI stub|Linux version|^\[ *\d+\.\d+\]|GUEST-|Kernel panic|"
             r"hvboot: running under|hvboot: the kernel returned")
# Only a monitor that failed to start can be overridden; config and file errors cannot,
# and the loader then does not suggest it.
REFUSED = r"hvboot: NOT booting the kernel without the monitor\. Fix the problem above"
HALTED = r"hvboot: system halted\."
NO_VMX = (r"hvboot: the monitor did not start \(status \d+\): this CPU has no VMX \(Intel "
          r"VT-x\).*Use an Intel CPU with VT-x, or enable nested virtualization")
WARNING = (r"hvboot: WARNING: booting the kernel WITHOUT the monitor "
           r"\(allow_unprotected = yes\)")

LOADER_TIMEOUT = 180  # Bochs start to the loader's last line (OVMF takes ~15 s)
BOOT_TIMEOUT = 300    # the loader's warning to the kernel's first line (~60 s measured)
DEFAULT_WINDOW = 90   # when the positive control did not run or measure anything
WINDOW_FACTOR = 1.5   # the window: this times the kernel's start measured by the control


# --------------------------------------------------------------------------- the disks
def set_key(cfg, key, line):
    """CFG with its one `key = ...` line replaced by LINE (None: removed)."""
    lines = cfg.split("\n")
    hits = [i for i, l in enumerate(lines) if re.match(rf"{key}\s*=", l)]
    if len(hits) != 1:
        raise LabError(f"the lab's hv.cfg has {len(hits)} `{key} =` lines")
    if line is None:
        del lines[hits[0]]
    else:
        lines[hits[0]] = line
    return "\n".join(lines)


def line_of(cfg, prefix):
    return 1 + next(i for i, l in enumerate(cfg.split("\n")) if l.startswith(prefix))


def base_config(build):
    """The lab's hv.cfg (made by mkdisk.sh), without the profile (not on these disks) and
    with efi=debug, so the kernel's EFI stub prints a line at once if it ever runs."""
    with open(os.path.join(build, "lab", "disk-files", "hv.cfg")) as f:
        cfg = f.read()
    cfg = set_key(cfg, "profile", None)
    cmdline = next(l for l in cfg.split("\n") if l.startswith("cmdline"))
    return set_key(cfg, "cmdline", cmdline + " efi=debug")


def changed_core(build, workdir):
    """hv.elf with one byte of its CPUID signature changed: a monitor that still runs, as
    a guest's own hv.elf on the ESP would."""
    with open(os.path.join(build, "hv.elf"), "rb") as f:
        elf = bytearray(f.read())
    at = elf.find(b"CtrVisorVMM!")
    if at < 0:
        raise LabError("hv.elf has no CPUID signature to change")
    elf[at + 11] = ord("?")
    path = os.path.join(workdir, "hv-changed.elf")
    os.makedirs(workdir, exist_ok=True)
    with open(path, "wb") as f:
        f.write(elf)
    return path


def sign(build, workdir, cfg):
    """\\hv\\hv.sig for CFG, the built hv.elf and no profile, signed with the lab's
    operator key (the one tools/lab/mkdisk.sh builds into the lab's loader)."""
    os.makedirs(workdir, exist_ok=True)
    cfg_path = os.path.join(workdir, "signed.cfg")
    with open(cfg_path, "w") as f:
        f.write(cfg)
    sig = os.path.join(workdir, "hv.sig")
    p = subprocess.run([os.path.join(build, "hvctl"), "--key",
                        os.path.join(build, "lab", "operator.key"), "sign-boot", cfg_path,
                        os.path.join(build, "hv.elf"), "none", sig],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise LabError(f"hvctl sign-boot failed: {short(p.stderr)}")
    return sig


def make_disk(build, workdir, cfg, extra=(), loader=None, core=None):
    """The lab disk's layout (tools/lab/mkdisk.sh --image) with CFG as \\hv\\hv.cfg, and
    the (SRC, DEST) files in `extra`; LOADER and CORE instead of the built ones."""
    os.makedirs(workdir, exist_ok=True)
    cfg_path = os.path.join(workdir, "hv.cfg")
    with open(cfg_path, "w") as f:
        f.write(cfg)
    lab = os.path.join(build, "lab")
    disk = os.path.join(workdir, "disk.img")
    loader = loader or os.path.join(build, "hvboot.efi")
    files = [(loader, "/EFI/BOOT/BOOTX64.EFI"),
             (loader, "/hvboot.efi"),
             (core or os.path.join(build, "hv.elf"), "/hv/hv.elf"),
             (cfg_path, "/hv/hv.cfg"),
             (os.path.join(lab, "vmlinuz"), "/boot/vmlinuz"),
             (os.path.join(lab, "initrd.img"), "/boot/initrd.img"),
             (os.path.join(lab, "disk-files", "startup.nsh"), "/startup.nsh"), *extra]
    p = subprocess.run(["bash", MKDISK, "--build", build, "--image", disk]
                       + [f"{src}:{dst}" for src, dst in files],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if p.returncode != 0:
        raise LabError(f"mkdisk.sh --image failed: {short(p.stderr)}")
    return disk


# --------------------------------------------------------------------------- the consoles
def com2_direct_lines(raw):
    """The lines the loader (and the monitor) wrote to the monitor UART themselves.

    In the lab OVMF mirrors its own console to COM2 as well, so every loader line shows
    up there twice: the firmware console's copy ends in \\r\\r\\n (Print puts a \\r
    before the loader's \\n), the loader's own UART write (say()) in a plain \\r\\n."""
    return [clean_line(p.decode("utf-8", "replace"))
            for p in raw.split(b"\r\n") if not p.endswith(b"\r")]


class Case:
    def __init__(self, name, cfg, want, cpu=None, boots=False, com2_known=True,
                 com2_only=(), signed_cfg=None, changed_core=False):
        self.name = name
        self.cfg = cfg
        self.signed_cfg = signed_cfg      # hv.sig signs this hv.cfg (the lab's keyed loader)
        self.changed_core = changed_core  # hv.elf with a changed byte
        self.want = want              # regexes: on COM1 and, if com2_known, written to COM2
        self.cpu = cpu                # Bochs CPU model (None: the lab's)
        self.boots = boots            # the kernel must start (positive control)
        self.com2_known = com2_known  # the loader knows its UART when it says this
        self.com2_only = com2_only    # regexes the monitor itself writes to COM2


def cases(base):
    allowed = set_key(base, "allow_unprotected", "allow_unprotected = yes")
    bad = set_key(base, "kernel", r"kernal = \boot\vmlinuz")
    n = line_of(bad, "kernal")
    return [
        Case("no-vmx-allowed", set_key(base, "allow_unprotected", "allow_unprotected = yes"),
             [NO_VMX, WARNING], cpu=NO_VMX_CPU, boots=True,
             com2_only=[r"ctrvisor: not started: this CPU has no VMX"]),
        # Before hv.cfg parses the loader does not know the monitor's UART: COM1 only.
        Case("bad-config", bad,
             [rf"hvboot: \\hv\\hv\.cfg line {n}: unknown key 'kernal' \(known: core, kernel,",
              REFUSED, HALTED], com2_known=False),
        Case("kernel-missing", set_key(base, "kernel", r"kernel = \boot\vmlinux"),
             [r"hvboot: cannot load the kernel \\boot\\vmlinux \(not found\): check `kernel` "
              r"in \\hv\\hv\.cfg", REFUSED, HALTED]),
        Case("no-vmx", base, [NO_VMX, REFUSED, HALTED], cpu=NO_VMX_CPU,
             com2_only=[r"ctrvisor: not started: this CPU has no VMX"]),
        Case("signed-cfg-changed", allowed,
             [r"hvboot: the boot signature does not hold: \\hv\\hv\.cfg was changed after "
              r"it was signed \(allow_unprotected does not apply\)", REFUSED, HALTED],
             signed_cfg=base),
        Case("signed-core-changed", allowed,
             [r"hvboot: \\hv\\hv\.cfg matches its signature",
              r"hvboot: \\hv\\hv\.elf: the monitor core was changed after it was signed",
              REFUSED, HALTED],
             signed_cfg=allowed, changed_core=True),
        # the control: no key built in, the same changed core runs and the kernel boots
        Case("unsigned-core-changed", base,
             [r"hvboot: no operator key is built into this loader",
              r"hvboot: running under ctrvisor"], boots=True, com2_known=False,
             changed_core=True),
    ]


def first(lines, rx):
    return next((l for l in lines if re.search(rx, l)), None)


# --------------------------------------------------------------------------- one case
class Run:
    def __init__(self, args, build):
        self.args = args
        self.build = build
        self.window = args.window
        self.latency = None  # loader's warning -> kernel's first line, from the control


def run_case(run, case):
    """Boot CASE's disk; returns the PASS detail or raises Failed."""
    work = os.path.join(run.build, "failclosed", case.name)
    extra, loader = [], None
    if case.signed_cfg is not None:
        loader = os.path.join(run.build, "lab", "disk-files", "hvboot.efi")
        extra.append((sign(run.build, work, case.signed_cfg), "/hv/hv.sig"))
    core = changed_core(run.build, work) if case.changed_core else None
    disk = make_disk(run.build, work, case.cfg, extra=extra, loader=loader, core=core)
    lab = Lab(run.build, disk, os.path.join(work, "run"), cpu_model=case.cpu,
              timeout=LOADER_TIMEOUT + BOOT_TIMEOUT + 600)
    notes = []
    try:
        lab.start()
        # The loader's last line, or a sign it went the wrong way: stop at either.
        wrong = HALTED if case.boots else f"{KERNEL_RX}|{WARNING}"
        final = lab.wait_console(f"(?:{case.want[-1]})|(?:{wrong})", LOADER_TIMEOUT)
        need(re.search(case.want[-1], final.line),
             f"the loader did not refuse: {final.line[:100]!r}")
        t_loader = final.seen - lab.t_bochs
        com1 = lab.console_lines()
        missing = [rx for rx in case.want if not first(com1, rx)]
        need(not missing, f"not on the guest console: /{'/, /'.join(missing)}/")
        notes.append(f"loader {t_loader:.0f}s after Bochs start")
        if case.boots:
            k = lab.wait_console(KERNEL_RX, BOOT_TIMEOUT, since=final.lineno + 1)
            run.latency = k.seen - final.seen
            notes.append(f"kernel started: {k.line[:60]!r} {run.latency:.0f}s after "
                         "the warning")
            if run.args.until_init:
                g = lab.wait_console(r"GUEST-INIT ", BOOT_TIMEOUT, since=k.lineno)
                notes.append(f"GUEST-INIT {g.seen - final.seen:.0f}s after the warning")
        else:
            window = run.window or DEFAULT_WINDOW
            deadline = final.seen + window
            while True:
                k = lab.find_console(KERNEL_RX, since=final.lineno + 1)
                if k:
                    raise Failed(f"booted anyway: {k[0].line[:100]!r} "
                                 f"{k[0].seen - final.seen:.0f}s after the refusal")
                if time.time() >= deadline:
                    break
                need(lab.alive(), "Bochs ended instead of halting in the loader")
                time.sleep(0.2)
            notes.append(f"no kernel output for {window}s")
        direct = com2_direct_lines(lab.com2_from_bochs())
        if case.com2_known:
            missing = [rx for rx in list(case.want) + list(case.com2_only)
                       if not first(direct, rx)]
            need(not missing, "not written to the monitor UART (com2-from-bochs.raw): "
                              f"/{'/, /'.join(missing)}/")
            notes.append("COM1+COM2")
        else:
            own = [l for l in direct if l.startswith("hvboot: ")]
            notes.append(f"COM1 only ({len(own)} loader lines on COM2 besides the "
                         "firmware console's copy)")
        msg = first(com1, case.want[0])
        notes.append(f"said: {msg!r}")
    except BaseException:
        lab.stop()
        lab.diagnose()
        raise
    finally:
        pid = lab.bochs_pid
        lab.stop()
    need(pid and not lab.alive(), f"Bochs (pid {pid}) still runs after stop-lab.sh")
    notes.insert(1, f"Bochs pid {pid} ended")
    return "; ".join(notes)


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--window", type=int, default=0,
                    help="seconds to watch for kernel output after a refusal (default: "
                         f"{WINDOW_FACTOR} x what the positive control measured, at least 20)")
    ap.add_argument("--until-init", action="store_true",
                    help="positive control: also wait for the guest's /init (GUEST-INIT)")
    ap.add_argument("--only", nargs="+", metavar="CASE", help="run only these cases")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    res = Results()
    t0 = time.time()
    need_files = [os.path.join(build, p) for p in
                  ("hvboot.efi", "hv.elf", "lab/vmlinuz", "lab/initrd.img",
                   "lab/disk-files/hv.cfg", "lab/disk-files/startup.nsh",
                   "lab/disk-files/hvboot.efi", "lab/operator.key", "hvctl")]
    absent = [p for p in need_files if not os.path.exists(p)]
    if absent:
        print(f"FAIL setup: missing {', '.join(absent)} (make lab)")
        print("failclosed: 0 passed, 1 failed")
        return 1
    run = Run(a, build)
    todo = [c for c in cases(base_config(build)) if not a.only or c.name in a.only]
    for case in todo:
        t = time.time()
        res.run(case.name, run_case, run, case)
        print(f"failclosed: {case.name} took {time.time() - t:.0f}s", flush=True)
        if case.boots and run.latency is not None:
            # A loader that went on after refusing would show the kernel about `latency`
            # after its message; the factor is margin for a busier machine.
            if not run.window:
                run.window = max(20, math.ceil(run.latency * WINDOW_FACTOR))
            print(f"failclosed: the kernel printed {run.latency:.0f}s after the loader "
                  f"handed over; refusals are watched for {run.window}s"
                  + (" (shorter: such a boot would be missed)"
                     if run.window < run.latency else ""), flush=True)
    print(f"failclosed: wall {time.time() - t0:.0f}s", flush=True)
    print(f"failclosed: {res.passed} passed, {res.failed} failed", flush=True)
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
