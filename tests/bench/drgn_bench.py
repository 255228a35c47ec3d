"""drgn on the same dump as vmi_bench (make bench, issue 12): the same facts per process
(the ones both have), read with drgn's own helpers, so the two can be compared per process.
Run with Debian's python3 (python3-drgn) and the kernel's vmlinux with debug info
(linux-image-RELEASE-dbg, tools/bench/fetch-vmlinux-dbg.sh). The dump must carry the
kernel's VMCOREINFO (make-dump.sh boots with lab.vmcoreinfo=1).

usage: drgn_bench.py --dump FILE --vmlinux FILE [--seconds S]
Prints what it timed, and a last line `drgn_us_per_process X` for vmi_bench.sh."""

import argparse
import time

import drgn
from drgn.helpers.linux.cgroup import cgroup_path
from drgn.helpers.linux.mm import cmdline
from drgn.helpers.linux.list import list_for_each_entry
from drgn.helpers.linux.sched import task_state_to_char

NAMESPACES = ("uts_ns", "ipc_ns", "mnt_ns", "pid_ns_for_children", "net_ns", "time_ns",
              "cgroup_ns")


def facts(task):
    """What vmi_process_read(VMI_READ_ALL) reads: ids, comm, state, uid, threads, start,
    command line (from the process's memory), namespaces, hostname, cgroup v2 path."""
    f = {
        "pid": task.pid.value_(),
        "tgid": task.tgid.value_(),
        "ppid": task.real_parent.tgid.value_(),
        "comm": task.comm.string_(),
        "state": task_state_to_char(task),
        "uid": task.real_cred.uid.val.value_(),
        "threads": task.signal.nr_threads.value_(),
        "start_ns": task.start_boottime.value_(),
    }
    if task.mm:
        try:
            f["cmdline"] = b" ".join(cmdline(task))
        except drgn.FaultError:
            f["cmdline"] = None
    nsp = task.nsproxy
    if nsp:
        f["ns"] = [getattr(nsp, n).ns.inum.value_() for n in NAMESPACES]
        f["hostname"] = nsp.uts_ns.name.nodename.string_()
    f["cgroup"] = cgroup_path(task.cgroups.dfl_cgrp)
    return f


def one_pass(prog):
    """The tasks list from init_task, init_task included: what vmi_bench walks."""
    init = prog["init_task"]
    facts(init)
    n = 1
    for task in list_for_each_entry("struct task_struct", init.tasks.address_of_(), "tasks"):
        facts(task)
        n += 1
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    t0 = time.monotonic()
    prog = drgn.Program()
    prog.set_core_dump(a.dump)
    t1 = time.monotonic()
    prog.load_debug_info([a.vmlinux])
    t2 = time.monotonic()
    n = one_pass(prog)
    t3 = time.monotonic()
    runs, start = 0, time.monotonic()
    while True:
        one_pass(prog)
        runs += 1
        if time.monotonic() - start >= a.seconds:
            break
    per = (time.monotonic() - start) / runs / n * 1e6
    print(f"drgn {drgn.__version__}: open {(t1 - t0) * 1e3:.0f} ms, debug info "
          f"{(t2 - t1) * 1e3:.0f} ms; {n} tasks; first pass {(t3 - t2) * 1e3:.1f} ms "
          f"({(t3 - t2) / n * 1e6:.1f} us/process), then {per:.1f} us/process "
          f"({runs} passes)")
    print(f"drgn_us_per_process {per:.2f}")


if __name__ == "__main__":
    main()
