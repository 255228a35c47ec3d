#!/usr/bin/env python3
"""Host-only self-test of the e2e checks (no Bochs): feeds boot_e2e.py's check functions
a recorded guest console and canned monitor answers, and verifies that each check
passes on a correct monitor and fails on the broken cases. Runs in a second.

    python3 tests/e2e/selftest.py        ->  selftest: N passed, N failed
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import boot_e2e as e2e  # noqa: E402
from lab import Lab, LabError, clean_line  # noqa: E402

# What a guest under a correct monitor prints (shape as in tools/lab/guest/init).
GOOD_CONSOLE = """\x1b[2J\x1b[01;01HBdsDxe: loading Boot0002 "EFI Internal Shell"
[    0.221823] ACPI: OSL: System description tables not found
GUEST-INIT uptime=32.37 tsc=7257378130 kernel=6.1.0-56-amd64\r
GUEST-CPUID hypervisor_bit=1 vmx_bit=0 max_leaf=0x40000001 signature=CtrVisor.... leaf1=0x0,0x0,0x0,0x0 cpuinfo_vmx=0\r
GUEST-RESERVED start=0x3e000000 end=0x3e900000 readable=1 pages=2304 zero_pages=2048 magic_hits=0 first_page_fnv1a64=af63bd4c8601b7df\r
GUEST-RESERVED start=0x3f6ed000 end=0x3f8ed000 readable=1 pages=512 zero_pages=0 magic_hits=0 first_page_fnv1a64=b9c042fefffbf325\r
GUEST-RESERVED start=0x3ffe0000 end=0x40000000 readable=0 pages=32 zero_pages=0 magic_hits=0 first_page_fnv1a64=- error=EFAULT\r
GUEST-RESERVED-DONE count=3\r
GUEST-SERIAL port=0x2f8 uart=unknown\r
GUEST-READY\r
""" + "".join(f"GUEST-HEARTBEAT n={i} uptime={34 + 2 * i}.00 com2=ffffffffffffffff\r\n"
              for i in range(1, 9))
GOOD_CONSOLE = GOOD_CONSOLE.replace("com2=ffffffffffffffff", "com2=ffffffffff60ffff")

# What the same guest printed without the monitor (recorded from disk-bare.img in Bochs).
BARE_CONSOLE = GOOD_CONSOLE.replace(
    "hypervisor_bit=1 vmx_bit=0 max_leaf=0x40000001 signature=CtrVisor.... "
    "leaf1=0x0,0x0,0x0,0x0 cpuinfo_vmx=0",
    "hypervisor_bit=0 vmx_bit=1 max_leaf=0x0 signature=............ "
    "leaf1=0x7,0x340,0x340,0x0 cpuinfo_vmx=1").replace(
    "uart=unknown", "uart=16550A").replace(
    "com2=ffffffffff60ffff", "com2=0000010300603000")

STATUS1 = {"version": "0.1.0", "uptime_ms": 1000, "exits_total": 30,
           "exits": {"CPUID": 20, "IO_INSTRUCTION": 10}, "cpuid_signature": "CtrVisor\0\0\0\0",
           "console_ports": {"base": 760, "guest_view": "ffffffffff60ffff", "guest_reads": 40,
                             "guest_writes": 61}}
STATUS2 = {"version": "0.1.0", "uptime_ms": 5000, "exits_total": 45,
           "exits": {"CPUID": 25, "IO_INSTRUCTION": 20}, "cpuid_signature": "CtrVisor\0\0\0\0",
           "console_ports": {"base": 760, "guest_view": "ffffffffff60ffff", "guest_reads": 80,
                             "guest_writes": 156}}
MEM = {"ranges": [{"start": "0x3e000000", "end": "0x3e800000", "what": "core", "hidden": True}],
       "magic": "CTRVISOR-CORE-MAGIC:0123456789abcdef", "first_page_fnv1a64": "1111222233334444"}


class FakeLab(Lab):
    """A Lab whose console is a prepared file and whose hvctl answers from a table."""

    def __init__(self, console, answers=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="ctrvisor-selftest-")
        super().__init__("build", "disk.img", self.tmp.name, hvctl="/bin/true")
        with open(self.path("com1.log"), "w") as f:
            f.write(console)
        self.answers = answers or {}
        self.sent = []

    def alive(self):
        return True

    def _beat(self):
        """The guest runs on: one more heartbeat like the last one."""
        hbs = self.find_console(e2e.HB)
        if hbs:
            last = hbs[-1]
            n = int(last.group(1)) + 1
            with open(self.path("com1.log"), "a") as f:
                f.write(f"GUEST-HEARTBEAT n={n} uptime={float(last.group(2)) + 2:.2f} "
                        f"com2={last.group(3)}\r\n")

    def wait_console(self, regex, timeout, since=0, count=1):
        for _ in range(count):
            self._beat()
        return super().wait_console(regex, min(timeout, 1), since, count)

    def hvctl(self, *args, timeout=10, console=None, log=None):
        self._beat()
        key = " ".join(args)
        if key.startswith("--raw-send"):
            self.sent.append(args[1])
            return 0, "", ""
        for k, v in self.answers.items():
            if key == k or (k.endswith("*") and key.startswith(k[:-1])):
                return v
        return 1, "", "hvctl: error unknown-verb: no such verb"

    def raw_send(self, data, via="pty"):
        if via == "hvctl":
            return self.hvctl("--raw-send", "".join(f"\\x{b:02x}" for b in data))
        self.sent.append(data)
        return 0, "", ""


GOOD_ANSWERS = {
    "x" * 1000: (1, "", "hvctl: error line-too-long: request longer than 255 bytes"),
    "nosuchverb": (1, "", "hvctl: error unknown-verb: nosuchverb"),
    "status --bogus": (1, "", "hvctl: error bad-argument: --bogus"),
    "status": (0, "uptime 1 s\n", ""),
}

passed = failed = 0


def expect(name, want_pass, fn, *args):
    global passed, failed
    try:
        detail = fn(*args)
        got, why = True, detail
    except (e2e.Failed, LabError) as e:
        got, why = False, str(e)
    ok = got == want_pass
    if ok:
        passed += 1
        print(f"PASS {name} ({'passes' if got else 'fails'}: {why})")
    else:
        failed += 1
        print(f"FAIL {name}: check {'passed' if got else 'failed'} ({why}), "
              f"want it to {'pass' if want_pass else 'fail'}")


def main():
    good = FakeLab(GOOD_CONSOLE, GOOD_ANSWERS)
    bare = FakeLab(BARE_CONSOLE, GOOD_ANSWERS)
    assert clean_line("\x1b[1m\x1b[33mGUEST-READY\r") == "GUEST-READY"

    expect("cpuid-good", True, e2e.check_cpuid, good, STATUS1)
    expect("cpuid-bare", False, e2e.check_cpuid, bare, STATUS1)
    expect("cpuid-other-signature", False, e2e.check_cpuid, good,
           dict(STATUS1, cpuid_signature="KVMKVMKVM\0\0\0"))
    expect("cpuid-no-signature", False, e2e.check_cpuid, good,
           {k: v for k, v in STATUS1.items() if k != "cpuid_signature"})

    hb = good.find_console(e2e.HB)
    expect("status-good", True, e2e.check_status, good, STATUS1, STATUS2, (hb[:2], hb[3]))
    expect("status-not-growing", False, e2e.check_status, good, STATUS2, STATUS1, (hb[:2], hb[3]))
    expect("status-bad-sum", False, e2e.check_status, good, STATUS1,
           dict(STATUS2, exits_total=46), (hb[:2], hb[3]))
    expect("status-guest-stopped", False, e2e.check_status, good, STATUS1, STATUS2, (hb[:2], None))

    expect("mem-good", True, e2e.check_mem, good, MEM)
    expect("mem-same-hash", False, e2e.check_mem, good,
           dict(MEM, first_page_fnv1a64="af63bd4c8601b7df"))
    expect("mem-not-covered", False, e2e.check_mem, good,
           dict(MEM, ranges=[{"start": "0x3d000000", "end": "0x3d100000"}]))
    expect("mem-unreadable", False, e2e.check_mem, good,
           dict(MEM, ranges=[{"start": "0x3ffe0000", "end": "0x3fff0000"}]))
    expect("mem-bad-magic", False, e2e.check_mem, good, dict(MEM, magic="SOMETHING"))
    magic_seen = FakeLab(GOOD_CONSOLE.replace("zero_pages=2048 magic_hits=0",
                                              "zero_pages=2048 magic_hits=1"))
    expect("mem-magic-visible", False, e2e.check_mem, magic_seen, MEM)
    expect("mem-no-ranges", False, e2e.check_mem, good, dict(MEM, ranges=[]))

    expect("com2-good", True, e2e.check_com2, good, 4, STATUS1, STATUS2)
    expect("com2-bare", False, e2e.check_com2, bare, 4, STATUS1, STATUS2)
    expect("com2-other-view", False, e2e.check_com2, good, 4, STATUS1,
           dict(STATUS2, console_ports=dict(STATUS2["console_ports"], guest_view="f" * 16)))
    expect("com2-writes-not-intercepted", False, e2e.check_com2, good, 4, STATUS1,
           dict(STATUS2, console_ports=dict(STATUS2["console_ports"], guest_writes=61)))
    leaky = FakeLab(GOOD_CONSOLE)
    with open(leaky.path("com2-from-bochs.raw"), "wb") as f:
        f.write(b"= ok @x\r\nGUEST-COM2-PROBE-3\n")
    expect("com2-leak-on-wire", False, e2e.check_com2, leaky, 4, STATUS1, STATUS2)
    expect("com2-too-few-heartbeats", False, e2e.check_com2, good, 10 ** 6, STATUS1, STATUS2)

    expect("garbage-good", True, e2e.check_garbage, good)
    sent = good.sent[0] if good.sent else ""
    if len(sent) == 4 * 4096 and sent.startswith("\\x"):
        expect("garbage-sends-4KiB", True, lambda: "4096 bytes as \\xNN escapes")
    else:
        expect("garbage-sends-4KiB", True, lambda: (_ for _ in ()).throw(
            e2e.Failed(f"sent {len(sent)} chars")))
    broken = FakeLab(GOOD_CONSOLE, dict(GOOD_ANSWERS, nosuchverb=(0, "", "")))
    expect("garbage-unknown-verb-accepted", False, e2e.check_garbage, broken)
    toolong = FakeLab(GOOD_CONSOLE, {k: v for k, v in GOOD_ANSWERS.items() if k != "x" * 1000})
    expect("garbage-no-line-too-long", False, e2e.check_garbage, toolong)

    json.dumps(STATUS1)
    print(f"selftest: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
