#!/usr/bin/env python3
"""End-to-end test of the monitor in Bochs: ONE boot of DIR/lab/disk.img, then checks.

    tests/e2e/boot_e2e.py --build DIR --hvctl PATH [--disk IMG] [--rundir RUNDIR]

Every check compares the monitor's answers (hvctl on the console) with the guest's
own view (GUEST-* lines its /init prints on COM1), never with constants. Output: one
`PASS name` / `FAIL name: why` line per check, then `e2e: N passed, N failed`.
Exit status 1 if any check failed or the boot failed (then the tails of the run's
logs are printed).
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tools", "lab"))
from lab import Lab, LabError, parse_kv  # noqa: E402
from checks import Failed, need, short, vmcall_exits  # noqa: E402
import ops_checks  # noqa: E402
import relay_checks  # noqa: E402
import rootkit_checks  # noqa: E402
import scale_checks  # noqa: E402

HB = r"GUEST-HEARTBEAT n=(\d+) uptime=(\S+) com2=(\S+)"


class Results:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, name, detail=""):
        self.passed += 1
        print(f"PASS {name}" + (f" ({detail})" if detail else ""), flush=True)

    def fail(self, name, why):
        self.failed += 1
        print(f"FAIL {name}: {why}", flush=True)

    def run(self, name, fn, *args):
        """Run check FN: it returns a detail string (PASS) or raises Failed (FAIL)."""
        try:
            detail = fn(*args)
        except Failed as e:
            self.fail(name, str(e))
        except LabError as e:
            self.fail(name, f"lab: {e}")
        except Exception as e:  # a bug in the check or an unexpected answer shape
            self.fail(name, f"{type(e).__name__}: {e}")
        else:
            self.ok(name, detail or "")




def hvctl_json(lab, *args, timeout=15):
    rc, out, err = lab.hvctl(*args, timeout=timeout)
    # hvctl's own words first: the monitor's log lines go to stderr too
    own = "\n".join(x for x in err.splitlines() if x.startswith("hvctl"))
    need(rc == 0, f"hvctl {' '.join(args)} -> status {rc}: {short(own or err or out)}")
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError as e:
                raise Failed(f"hvctl {' '.join(args)}: bad JSON ({e}): {short(line)}")
    raise Failed(f"hvctl {' '.join(args)}: no JSON object in: {short(out)}")


def sanitize_signature(s):
    """What the guest's lab-probe prints for a 12-byte signature: non-printables as '.'."""
    b = s.encode("latin-1", "replace")[:12].ljust(12, b"\0")
    return "".join(chr(c) if 0x20 < c < 0x7F else "." for c in b)


def heartbeats(lab, since=0):
    return lab.find_console(HB, since)


def wait_heartbeats(lab, n, since, timeout=60):
    """Wait for N heartbeats at console line index >= SINCE."""
    return lab.wait_console(HB, timeout, since=since, count=n)


# --------------------------------------------------------------------------- host-only
def check_no_answer(hvctl):
    """hvctl against a pty where nothing answers: exit 3 and 'no answer' on stderr."""
    socat = shutil.which("socat")
    need(socat, "socat not installed")
    d = tempfile.mkdtemp(prefix="ctrvisor-noanswer-")
    p = subprocess.Popen([socat, f"PTY,link={d}/a,raw,echo=0", f"PTY,link={d}/b,raw,echo=0"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if os.path.exists(f"{d}/a") and os.path.exists(f"{d}/b"):
                break
            time.sleep(0.05)
        need(os.path.exists(f"{d}/a"), "socat made no pty pair")
        t0 = time.time()
        try:
            r = subprocess.run([hvctl, "--console", f"{d}/a", "--timeout", "2", "version"],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        except subprocess.TimeoutExpired:
            raise Failed("hvctl --timeout 2 still running after 30 s")
        dt = time.time() - t0
        err = r.stderr.decode("utf-8", "replace")
        need(r.returncode == 3, f"exit status {r.returncode}, want 3 (stderr: {short(err)})")
        need("no answer" in err, f"stderr lacks 'no answer': {short(err)}")
        need(dt < 10, f"took {dt:.1f}s with --timeout 2")
        return f"exit 3 after {dt:.1f}s"
    finally:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------- (a)
def check_cpuid(lab, status):
    init = lab.find_console(r"GUEST-INIT ")
    need(init, "no GUEST-INIT line")
    cpu = lab.find_console(r"GUEST-CPUID ")
    need(cpu, "no GUEST-CPUID line")
    g = cpu[0].kv()
    bad = []
    if g.get("hypervisor_bit") != "1":
        bad.append(f"hypervisor_bit={g.get('hypervisor_bit')}")
    if g.get("vmx_bit") != "0":
        bad.append(f"vmx_bit={g.get('vmx_bit')}")
    if g.get("cpuinfo_vmx") != "0":
        bad.append(f"cpuinfo_vmx={g.get('cpuinfo_vmx')}")
    leaf1 = g.get("leaf1", "")
    try:
        if any(int(x, 16) != 0 for x in leaf1.split(",")) or len(leaf1.split(",")) != 4:
            bad.append(f"leaf1={leaf1}")
    except ValueError:
        bad.append(f"leaf1={leaf1}")
    need(status is not None, "no status --json from the monitor")
    mon_sig = status.get("cpuid_signature")
    need(isinstance(mon_sig, str), f"status --json has no cpuid_signature: {sorted(status)}")
    if g.get("signature") != sanitize_signature(mon_sig):
        bad.append(f"guest signature={g.get('signature')!r} != monitor's {mon_sig!r}")
    need(not bad, "; ".join(bad))
    return f"signature={g.get('signature')} kernel={init[0].kv().get('kernel')}"


def check_kernel_located(lab, status):
    """The monitor finds the kernel image from IA32_LSTAR and its profile's kallsyms
    (vmi/kimage.h): the same addresses the guest's /proc/kallsyms gives (GUEST-KSYMS)."""
    ks = lab.find_console(r"GUEST-KSYMS")
    need(ks, "no GUEST-KSYMS line")
    g = ks[0].kv()
    need(status is not None, "no status --json from the monitor")
    k = status.get("kernel")
    need(isinstance(k, dict), f"status --json has no kernel: {sorted(status)}")
    need(k.get("located") is True, f"the monitor did not locate the kernel: {k.get('why')!r}")
    need(k.get("symbols", 0) > 10000, f"only {k.get('symbols')} symbols in the profile")
    bad = []
    for mine, theirs in (("lstar", "entry_SYSCALL_64"), ("text_start", "_stext"),
                         ("text_end", "_etext"), ("rodata_start", "__start_rodata"),
                         ("rodata_end", "__end_rodata"), ("init_task", "init_task")):
        want = parse_hex(g.get(theirs), f"GUEST-KSYMS {theirs}")
        if k.get(mine) != want:
            bad.append(f"{mine}=0x{k.get(mine):x} but the guest's {theirs}=0x{want:x}"
                       if isinstance(k.get(mine), int) else f"{mine}={k.get(mine)!r}")
    need(not bad, "; ".join(bad))
    return f"slide 0x{k['slide'] & (2**64 - 1):x}, {k['symbols']} symbols, matches /proc/kallsyms"


def check_integrity_clean(lab):
    """Kernel protection (issue 9): locked at the kernel's read-only point, and after the
    whole run (containers, crun exec/pause, the checker, every operation above) a check
    finds nothing to repair and no alert was raised: no false alarms. The accepted legal
    patching (jump labels flipped by the workload) is counted, not alerted."""
    integ = hvctl_json(lab, "integrity", "--check", "--json", timeout=120)
    need(integ.get("mode") == "enforce", f"mode={integ.get('mode')!r}")
    need(integ.get("state") == "locked", f"state={integ.get('state')!r}: {integ.get('why')!r}")
    need(integ["text"]["size"] > 1 << 20 and integ["rodata"]["size"] > 1 << 20,
         f"protected text {integ['text']['size']} rodata {integ['rodata']['size']} bytes")
    need(integ["text"]["jump_sites"] > 1000, f"{integ['text']['jump_sites']} jump-label sites")
    c = integ.get("check", {})
    need(c.get("vouched") is True and c.get("repaired") == 0,
         f"check: {c}")
    need(integ.get("alerts") == 0,
         f"{integ.get('alerts')} alerts in a normal run: {integ.get('last_alerts')}")
    # writes to text tracked in EPT: a check compares only the pages written since the last
    need(integ.get("text_tracked") is True, f"text writes not tracked: {integ.get('why')}")
    # the integrity line of an operation's reply
    rc, out, err = lab.hvctl("stats", "tree", timeout=120)
    need(rc == 0 and "integrity: clean" in out, f"stats tree: rc {rc}, {out[-300:]!r} {err!r}")
    j = hvctl_json(lab, "stats", "tree", "--json", timeout=120)
    ic = j["integrity"]
    need(ic["compared"] < integ["text"]["size"],
         f"the check before stats compared {ic['compared']} of {integ['text']['size']} bytes")
    return (f"locked at {integ['lock_ms']} ms; {integ['checks']} checks, 0 alerts; "
            f"{c.get('accepted')} legal patch sites accepted; "
            f"{integ['text']['jump_sites']} jump-label and {integ['text']['call_sites']} "
            f"static-call sites, {integ['map_leaves']} mappings; "
            f"{integ['text_pages_opened']} text pages opened at a write; the check before "
            f"stats: {ic['check_us']} us, {ic['compared']} bytes compared, the stats "
            f"{j['guest_us']} us")


# --------------------------------------------------------------------------- (b)
def exits_sum(st):
    ex = st.get("exits")
    need(isinstance(ex, dict), f"'exits' is not an object: {ex!r}")
    for k, v in ex.items():
        need(isinstance(v, int) and v >= 0, f"exits[{k}]={v!r}")
    return sum(ex.values())


def check_status(lab, st1, st2, around):
    need(st1 is not None, "first status --json failed")
    need(st2 is not None, "second status --json failed")
    hb_before, hb_after = around
    need(hb_before, "no heartbeat before the first status call")
    need(hb_after, "no new heartbeat after the first status call (guest stopped?)")
    for k in ("uptime_ms", "exits_total"):
        need(isinstance(st1.get(k), int), f"status has no integer {k}: {st1.get(k)!r}")
        need(isinstance(st2.get(k), int), f"second status has no integer {k}: {st2.get(k)!r}")
    need(st1["exits_total"] > 0, "exits_total is 0")
    need(st2["uptime_ms"] > st1["uptime_ms"],
         f"uptime_ms did not grow: {st1['uptime_ms']} -> {st2['uptime_ms']}")
    need(st2["exits_total"] > st1["exits_total"],
         f"exits_total did not grow: {st1['exits_total']} -> {st2['exits_total']}")
    for i, st in ((1, st1), (2, st2)):
        s = exits_sum(st)
        need(s == st["exits_total"], f"call {i}: per-reason exits sum to {s}, exits_total={st['exits_total']}")
    return (f"exits {st1['exits_total']} -> {st2['exits_total']}, "
            f"uptime_ms {st1['uptime_ms']} -> {st2['uptime_ms']}")


def check_channel_key(lab, st):
    """The channel's operator key (docs/channel.md) went from the lab's hv.cfg through the
    loader to the core: `status` names the SHA-256 of the key in DIR/lab/operator.key.pub
    (what `hvctl keygen` made for this lab), and no problem with it."""
    need(st is not None, "status --json failed")
    ch = st.get("channel")
    need(isinstance(ch, dict), f"status has no channel member: {ch!r}")
    with open(os.path.join(lab.build, "lab", "operator.key.pub")) as f:
        line = f.read().strip()
    need(line.startswith("operator_key = "), f"operator.key.pub: {line!r}")
    want = hashlib.sha256(bytes.fromhex(line.split("= ", 1)[1])).hexdigest()[:16]
    need(ch.get("problem") is None, f"the monitor did not take the key: {ch.get('problem')}")
    need(ch.get("operator_key_sha256") == want,
         f"status names operator key {ch.get('operator_key_sha256')}, the lab's is {want}")
    # the monitor's own key for this boot, from the loader's random source: a P-256 point
    # whose id is its own hash (hvctl pair will pin it)
    mk = ch.get("monitor_key")
    need(ch.get("entropy") not in (None, "none"), f"no random source at boot: {ch}")
    need(isinstance(mk, str) and len(mk) == 130 and mk.startswith("04"),
         f"monitor_key={mk!r}")
    mid = hashlib.sha256(bytes.fromhex(mk)).hexdigest()[:16]
    need(ch.get("monitor_key_sha256") == mid, f"monitor_key_sha256 is not its key's: {ch}")
    # hvctl pair pins that key, read over the console
    pinned = os.path.join(lab.rundir, "monitor.key")
    rc, out, err = lab.hvctl("pair", pinned, timeout=60)
    need(rc == 0 and mid in out, f"hvctl pair -> {rc}: {out.strip()} {err.strip()}")
    with open(pinned) as f:
        got = f.read().strip()
    need(got == f"monitor_key = {mk}", f"hvctl pair wrote {got!r}, status says {mk}")
    return (f"operator key sha256:{want} as in the lab's hv.cfg; monitor key sha256:{mid} "
            f"from {ch['entropy']}, pinned by hvctl pair")


def check_boot_signed(lab):
    """The lab's loader has the lab's operator key built in and checked \\hv\\hv.sig
    before it started anything (docs/boot-signature.md); the refusals of a changed hv.cfg
    and hv.elf are failclosed_e2e.py's."""
    m = lab.find_console(r"hvboot: \\hv\\hv\.cfg matches its signature")
    need(m, "the loader did not say hv.cfg matches its signature")
    need(not lab.find_console(r"no operator key is built into this loader"),
         "the lab's loader has no key built in")
    return m[0].line


def check_conserver(lab):
    """Debian's conserver (server and client) in front of the lab's console pty, as a data
    centre reaches serial consoles (issue 11): hvctl runs conserver's `console` as its line
    (--console exec:...). `containers --json` through it must equal the direct one."""
    import socket
    for prog in ("conserver", "console"):
        need(shutil.which(prog), f"{prog} not installed (tools/deps.sh installs it)")
    d = os.path.join(lab.rundir, "conserver")
    os.makedirs(d, exist_ok=True)
    cf, pw = os.path.join(d, "conserver.cf"), os.path.join(d, "conserver.passwd")
    with open(cf, "w") as f:
        f.write("config * { }\n"
                f"default * {{ logfile {d}/&.log; timestamp \"\"; rw *; }}\n"
                f"console lab {{ master localhost; type device; device {lab.hvcon}; "
                "baud 115200; parity none; }\n"
                "access * { trusted 127.0.0.1; allowed 127.0.0.1; }\n")
    with open(pw, "w") as f:
        f.write("root:*any*\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    direct = hvctl_json(lab, "containers", "--json", timeout=120)
    server = subprocess.Popen(["conserver", "-C", cf, "-P", pw, "-p", str(port), "-M",
                               "127.0.0.1"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        t0 = time.time()
        rc, out, err = lab.hvctl("containers", "--json", timeout=120,
                                 console=f"exec:console -M 127.0.0.1 -p {port} -f lab")
        took = time.time() - t0
    finally:
        server.terminate()
        server.wait(timeout=30)
    need(rc == 0, f"hvctl through conserver -> {rc}: {err.strip()[-300:]}")
    via = json.loads(next(x for x in out.splitlines() if x.strip().startswith("{")))
    key = lambda c: (c.get("id"), c.get("init_pid"), c.get("state"))
    a = sorted(key(c) for c in direct["containers"])
    b = sorted(key(c) for c in via["containers"])
    need(a == b, f"through conserver {b}, direct {a}")
    return f"{len(b)} containers, the same through conserver's console ({took:.1f} s)"


# --------------------------------------------------------------------------- (c)
def parse_hex(v, what):
    try:
        if isinstance(v, int):
            return v
        return int(v, 16)
    except (TypeError, ValueError):
        raise Failed(f"{what} is not hex: {v!r}")


def check_mem(lab, mem):
    need(mem is not None, "mem --json failed")
    magic = mem.get("magic")
    need(isinstance(magic, str) and magic.startswith("CTRVISOR-CORE-MAGIC"),
         f"magic={magic!r}")
    mon_hash = str(mem.get("first_page_fnv1a64", "")).lower()
    need(mon_hash, "no first_page_fnv1a64")
    ranges = mem.get("ranges")
    need(isinstance(ranges, list) and ranges, f"ranges={ranges!r}")
    done = lab.find_console(r"GUEST-RESERVED-DONE count=(\d+)")
    need(done, "guest never printed GUEST-RESERVED-DONE")
    guest = []
    for m in lab.find_console(r"GUEST-RESERVED start="):
        kv = m.kv()
        guest.append((int(kv["start"], 16), int(kv["end"], 16), kv))
    need(len(guest) == int(done[0].group(1)),
         f"{len(guest)} GUEST-RESERVED lines, GUEST-RESERVED-DONE says {done[0].group(1)}")
    bad = []
    same_start = 0
    for r in ranges:
        s = parse_hex(r.get("start"), "range start")
        e = parse_hex(r.get("end"), "range end")
        need(e > s, f"empty or inverted range {r}")
        cover = [g for g in guest if g[0] <= s and e <= g[1]]
        if not cover:
            bad.append(f"[{s:#x},{e:#x}) not inside any reserved range the guest probed "
                       f"({', '.join(f'[{g[0]:#x},{g[1]:#x})' for g in guest) or 'none'})")
            continue
        for g in cover:
            kv = g[2]
            if kv.get("readable") != "1":
                bad.append(f"guest range [{g[0]:#x},{g[1]:#x}) readable={kv.get('readable')} "
                           f"{kv.get('error', '')}".strip())
            if kv.get("magic_hits") != "0":
                bad.append(f"guest found the magic {kv.get('magic_hits')}x in [{g[0]:#x},{g[1]:#x})")
            if g[0] == s:
                same_start += 1
                if kv.get("first_page_fnv1a64", "").lower() == mon_hash:
                    bad.append(f"guest reads the monitor's first page at {s:#x} "
                               f"(fnv1a64 {mon_hash})")
    need(not bad, "; ".join(bad))
    return f"{len(ranges)} range(s) hidden, {same_start} first page(s) compared"


# --------------------------------------------------------------------------- (d)
def check_com2(lab, traffic_mark, st1, st2):
    """The guest's reads of the COM2 ports never depend on the console: every heartbeat
    reads exactly the fixed view the monitor says it gives (status: console_ports.guest_view),
    while console traffic flows between heartbeats; the guest's writes are counted as
    dropped by the monitor and never reach the wire."""
    hbs = heartbeats(lab)
    need(hbs, "no heartbeats")
    need(st1 and st2, "no status --json to compare with")
    bad = []
    ports2 = st2.get("console_ports") or {}
    view = str(ports2.get("guest_view", "")).lower()
    need(len(view) == 16, f"monitor reports no console_ports.guest_view: {ports2}")
    after = [h for h in hbs if h.lineno >= traffic_mark]
    if len(after) < 2:
        bad.append(f"only {len(after)} heartbeat(s) after the console traffic")
    seen = [h for h in hbs if h.group(3).lower() != view]
    if seen:
        bad.append(f"{len(seen)} of {len(hbs)} heartbeats read other than the monitor's view "
                   f"{view} (first: {seen[0].line})")
    w1 = (st1.get("console_ports") or {}).get("guest_writes", 0)
    w2 = ports2.get("guest_writes", 0)
    r2 = ports2.get("guest_reads", 0)
    if not (w2 > w1 and r2 > 0):
        bad.append(f"monitor intercepted no guest writes between the two status calls "
                   f"({w1} -> {w2}) or no reads ({r2})")
    if b"GUEST-COM2-PROBE" in lab.com2_from_bochs():
        bad.append("GUEST-COM2-PROBE reached the COM2 wire (com2-from-bochs.raw)")
    if b"GUEST-COM2-PROBE" in lab.hvctl_log_bytes():
        bad.append("GUEST-COM2-PROBE in hvctl.log")
    ser = lab.find_console(r"GUEST-SERIAL ")
    uart = ser[0].kv().get("uart") if ser else None
    if not ser:
        bad.append("no GUEST-SERIAL line")
    elif uart not in ("unknown", "none"):
        bad.append(f"guest found a UART at 0x2f8: uart={uart}")
    need(not bad, "; ".join(bad))
    return (f"{len(hbs)} heartbeats all read {view}, guest writes dropped {w1}->{w2}, "
            f"uart={uart}")


# --------------------------------------------------------------------------- (f)
def check_vmi_live(lab):
    """Issue 3, live: the monitor's ps/containers (read from guest memory through the
    console) against the truth block the guest printed about itself (crun list, crun ps,
    /proc): every process and container, every field dump_test.py compares."""
    import dump_test  # noqa: E402  (same comparison as on a QEMU dump)
    import truth as truthmod  # noqa: E402

    end = lab.wait_console(r"GUEST-TRUTH-END seq=0 ", timeout=300)
    lines = lab.console_lines()
    begin = max(i for i in range(end.lineno + 1) if lines[i].startswith("GUEST-TRUTH-BEGIN seq=0"))
    t = truthmod.parse("\n".join(lines[begin:end.lineno + 1]) + "\n")
    bad = [b for b in truthmod.check(t, min_containers=3, min_procs=1) if ": status " not in b]
    need(not bad, "the guest's truth block is inconsistent: " + "; ".join(bad))
    ps = hvctl_json(lab, "ps", "--json", timeout=180)
    cts = hvctl_json(lab, "containers", "--json", timeout=120)
    c, matched, c_matched = dump_test.compare_all(t, ps, cts, live=True)
    dump_test.settle_views(c, lambda: hvctl_json(lab, "ps", "--json", timeout=180))
    for cid in sorted(t.containers):
        rc, out, err = lab.hvctl("inspect", cid, timeout=120)
        if rc != 0 or f"container:   {cid}" not in out:
            c.diffs.append(f"inspect {cid} -> {rc}: {short(err or out)}")
    rc, out, err = lab.hvctl("inspect", "no-such-container", timeout=60)
    if rc != 1 or "no container or process matches" not in err:
        c.diffs.append(f"inspect no-such-container -> {rc}: {short(err or out)}")
    for n in c.notes:
        print("e2e: vmi note: " + n, flush=True)
    need(not c.diffs, f"{len(c.diffs)} difference(s): " + "; ".join(c.diffs[:8]))
    return (f"processes matched {matched}/{len(t.procs)}, containers {c_matched}/"
            f"{len(t.containers)}, fields {c.fields}")


# --------------------------------------------------------------------------- (g)
def check_syscall_trap(lab):
    """Issue 4, first mechanism: the syscall-entry trap. Armed for pid 1 (the guest's
    init shell, which runs its heartbeat loop), it sees init's syscalls and others'; a
    pid that does not exist gets none; disarmed, syscalls cause no exit at all (the VMCALL
    exits but the channel's, hvrelay's polls, stand still while the guest keeps running)."""
    def trap_json():
        return hvctl_json(lab, "trap", "status", "--json", timeout=60)

    def vmcalls():
        """VMCALL exits but the channel's (hvrelay polls the monitor with VMCALL)."""
        return vmcall_exits(hvctl_json(lab, "status", "--json", timeout=60))

    rc, out, err = lab.hvctl("trap", "arm", "1", timeout=60)
    need(rc == 0, f"trap arm 1 -> {rc}: {short(err or out)}")
    wait_heartbeats(lab, 2, lab.console_mark(), timeout=120)
    t1 = trap_json()
    need(t1["armed"] and t1["target_entries"] > 0 and t1["entries"] > t1["target_entries"],
         f"armed for pid 1, after 2 heartbeats: {t1}")
    rc, out, err = lab.hvctl("trap", "arm", "4000000", timeout=60)
    need(rc == 0, f"trap arm 4000000 -> {rc}: {short(err or out)}")
    wait_heartbeats(lab, 1, lab.console_mark(), timeout=120)
    t2 = trap_json()
    need(t2["entries"] > 0 and t2["target_entries"] == 0,
         f"armed for a pid that does not exist: {t2}")
    rc, out, err = lab.hvctl("trap", "disarm", timeout=60)
    need(rc == 0, f"trap disarm -> {rc}: {short(err or out)}")
    v1 = vmcalls()
    wait_heartbeats(lab, 2, lab.console_mark(), timeout=120)
    v2 = vmcalls()
    need(v2 == v1, f"disarmed, VMCALL exits (the channel's left out) still grew: {v1} -> {v2}")
    rc, out, err = lab.hvctl("trap", "arm", "x", timeout=60)
    need(rc == 1 and "bad-argument" in err, f"trap arm x -> {rc}: {short(err)}")
    return (f"pid 1: {t1['target_entries']} of {t1['entries']} syscall entries; missing pid: "
            f"0 of {t2['entries']}; disarmed: VMCALL exits {v1} -> {v2}")


# --------------------------------------------------------------------------- (e)
def check_garbage(lab):
    steps = []
    mark = lab.console_mark()
    rnd = random.Random(os.environ.get("E2E_SEED") or time.time_ns())
    garbage = bytes(rnd.getrandbits(8) for _ in range(4096))
    rc, out, err = lab.raw_send(garbage, via="hvctl")
    need(rc == 0, f"hvctl --raw-send of 4 KiB -> {rc}: {short(err)}")
    steps.append("raw 4KiB")

    def expect(args, want_rc, want_text):
        rc, out, err = lab.hvctl(*args, timeout=15)
        label = " ".join(a if len(a) < 20 else f"<{len(a)} chars>" for a in args)
        need(rc == want_rc, f"hvctl {label} -> {rc}, want {want_rc} ({short(err or out)})")
        if want_text:
            need(want_text in err, f"hvctl {label}: stderr lacks {want_text!r}: {short(err)}")
        steps.append(f"{label}:{rc}")

    expect(["x" * 1000], 1, "line-too-long")
    expect(["nosuchverb"], 1, "unknown-verb")
    expect(["status", "--bogus"], 1, "bad-argument")
    expect(["status"], 0, None)
    after = lab.console_mark()
    hb = wait_heartbeats(lab, 2, after, timeout=60)
    need(hb, "no heartbeats after the garbage")
    n_since = len(heartbeats(lab, mark))
    return ", ".join(steps) + f"; guest ran on ({n_since} heartbeats since)"


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--build", required=True)
    ap.add_argument("--hvctl", required=True)
    ap.add_argument("--disk", help="default: BUILD/lab/disk.img")
    ap.add_argument("--rundir", help="default: BUILD/e2e/run")
    ap.add_argument("--boot-timeout", type=int, default=420,
                    help="seconds (wall) from Bochs start to GUEST-READY")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    hvctl = os.path.abspath(a.hvctl)
    disk = a.disk or os.path.join(build, "lab", "disk.img")
    rundir = a.rundir or os.path.join(build, "e2e", "run")
    res = Results()
    t0 = time.time()

    if not os.access(hvctl, os.X_OK):
        print(f"FAIL setup: no hvctl at {hvctl}")
        print("e2e: 0 passed, 1 failed")
        return 1
    if not os.path.exists(disk):
        print(f"FAIL setup: no disk image {disk} (make lab)")
        print("e2e: 0 passed, 1 failed")
        return 1

    res.run("hvctl-no-answer", check_no_answer, hvctl)

    boot_ok = False
    # the lab's whole life: the boot, then the checks (39 of them; 830-1020 s on this
    # machine, so a slow Bochs run must not hit the supervisor's limit halfway)
    lab = Lab(build, disk, rundir, hvctl=hvctl, timeout=a.boot_timeout + 1500)
    try:
        lab.start()
        print(f"e2e: Bochs started ({lab.t_bochs - lab.t_start:.1f}s incl. lock), rundir {rundir}",
              flush=True)
        try:
            m_init = lab.wait_console(r"GUEST-INIT ", a.boot_timeout)
            lab.wait_console(r"GUEST-READY", max(30, a.boot_timeout - (time.time() - lab.t_bochs)))
            wait_heartbeats(lab, 1, 0, timeout=60)
            boot_ok = True
            print(f"e2e: guest at /init {m_init.seen - lab.t_bochs:.0f}s after Bochs start "
                  f"({m_init.line})", flush=True)
        except LabError as e:
            res.fail("boot", str(e))
        if boot_ok:
            res.ok("boot", f"GUEST-READY after {time.time() - lab.t_bochs:.0f}s")

            # (b) status while the guest runs; heartbeats around the call
            hb_before = heartbeats(lab)
            mark = lab.console_mark()
            st1 = st2 = None
            try:
                st1 = hvctl_json(lab, "status", "--json")
            except Failed as e:
                print(f"e2e: status --json: {e}", flush=True)
            hb_after = None
            try:
                hb_after = wait_heartbeats(lab, 1, lab.console_mark(), timeout=60)
            except LabError:
                pass
            # (a) CPUID: the guest's view against the monitor's own leaf
            res.run("guest-cpuid", check_cpuid, lab, st1)
            res.run("kernel-located", check_kernel_located, lab, st1)
            # (c) memory the monitor occupies is hidden from the guest
            mem = None
            try:
                mem = hvctl_json(lab, "mem", "--json")
            except Failed as e:
                print(f"e2e: mem --json: {e}", flush=True)
            res.run("mem-hidden", check_mem, lab, mem)
            # (d) console traffic between heartbeats, then the guest's COM2 reads
            traffic = lab.console_mark()
            for i in range(3):
                lab.raw_send(b"\x15unfinished-line-without-newline-" + str(i).encode())
                lab.hvctl("version", timeout=15)
                try:
                    wait_heartbeats(lab, 1, lab.console_mark(), timeout=30)
                except LabError:
                    break
            lab.raw_send(b"\x15")
            try:
                st2 = hvctl_json(lab, "status", "--json")
            except Failed as e:
                print(f"e2e: second status --json: {e}", flush=True)
            res.run("status", check_status, lab, st1, st2, (hb_before, hb_after))
            res.run("channel-key", check_channel_key, lab, st1)
            res.run("boot-signed", check_boot_signed, lab)
            res.run("com2-hidden", check_com2, lab, traffic, st1, st2)
            # (f) introspection: the monitor's view of processes and containers
            res.run("vmi-live", check_vmi_live, lab)
            # (g) the syscall-entry trap: armed it sees syscalls, disarmed it costs nothing
            res.run("syscall-trap", check_syscall_trap, lab)
            # (h) container operations by injected system calls (issue 4)
            res.run("helper-mode", ops_checks.check_helper_mode, lab)
            res.run("ops-errors", ops_checks.check_errors, lab)
            res.run("ops-stats", ops_checks.check_stats, lab)
            res.run("ops-pause-unpause", ops_checks.check_pause, lab)
            # (i) requests through the guest's relay, signed (issue 11)
            res.run("relay-ops", relay_checks.check_relay_ops, lab)
            res.run("ops-robustness", ops_checks.check_robust, lab)
            res.run("ops-exec", ops_checks.check_exec, lab)
            res.run("ops-exec-restrictions", ops_checks.check_exec_restrictions, lab)
            res.run("ops-exec-timeout", ops_checks.check_exec_timeout, lab)
            res.run("ops-cp", ops_checks.check_cp, lab, rundir)
            res.run("ops-helper", ops_checks.check_helper, lab,
                    lambda: hvctl_json(lab, "ps", "--json", timeout=180))
            res.run("ops-helper-auto", ops_checks.check_helper_auto, lab,
                    lambda: hvctl_json(lab, "ps", "--json", timeout=180))
            res.run("ops-target-exits", ops_checks.check_victim, lab)
            res.run("ops-idle-container", ops_checks.check_idle_container, lab,
                    lambda: hvctl_json(lab, "ps", "--json", timeout=180))
            # on a loaded guest from here on (issue 12): 1,000 more processes
            res.run("ops-pause-loaded", ops_checks.check_pause_loaded, lab)
            res.run("vmi-loaded", scale_checks.check_vmi_loaded, lab, rundir)
            # kernel protection (issue 9): no false alarm in the whole run so far, then the
            # lab rootkit's attacks, each alerted and blocked or repaired
            res.run("integrity-clean", check_integrity_clean, lab)
            res.run("rootkit-wp", rootkit_checks.check_wp, lab, rundir)
            res.run("rootkit-alias", rootkit_checks.check_alias, lab, rundir)
            res.run("rootkit-lstar", rootkit_checks.check_lstar, lab, rundir)
            res.run("rootkit-inline", rootkit_checks.check_inline, lab, rundir)
            res.run("rootkit-ftrace", rootkit_checks.check_ftrace, lab, rundir)
            res.run("rootkit-kprobe", rootkit_checks.check_kprobe, lab, rundir)
            res.run("rootkit-gdt", rootkit_checks.check_gdt, lab, rundir)
            res.run("rootkit-gdtr", rootkit_checks.check_gdtr, lab, rundir)
            res.run("rootkit-loop", rootkit_checks.check_loop, lab, rundir)
            res.run("rootkit-flash", rootkit_checks.check_flash, lab, rundir)
            res.run("rootkit-remap", rootkit_checks.check_remap, lab, rundir)
            res.run("rootkit-oneshot", rootkit_checks.check_oneshot, lab, rundir)
            res.run("rootkit-hide", rootkit_checks.check_hide, lab, rundir)
            res.run("events", rootkit_checks.check_events, lab)
            # a hostile relay and kernel module against the channel (issue 11)
            res.run("relay-attacks", relay_checks.check_relay_attacks, lab, rundir)
            res.run("ops-sandbox", ops_checks.check_sandbox, lab, rundir)
            # stop and kill run through the kill path the rootkit hooked (repaired)
            res.run("ops-stop-kill", ops_checks.check_stop_kill, lab)
            # (e) garbage on the console never disturbs the monitor or the guest
            res.run("conserver", check_conserver, lab)
            res.run("garbage", check_garbage, lab)
            if not lab.alive():
                res.fail("lab-alive", "Bochs ended during the checks")
    except LabError as e:
        res.fail("lab", str(e))
    finally:
        lab.stop()
    if not boot_ok or res.failed:
        print("e2e: diagnostics follow", flush=True)
        lab.diagnose()
    print(f"e2e: wall {time.time() - t0:.0f}s", flush=True)
    print(f"e2e: {res.passed} passed, {res.failed} failed", flush=True)
    return 1 if res.failed or not boot_ok else 0


if __name__ == "__main__":
    sys.exit(main())
