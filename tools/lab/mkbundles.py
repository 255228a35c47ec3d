#!/usr/bin/env python3
"""Writes the OCI bundles of the lab guest's containers (called by mkinitrd.sh).

usage: mkbundles.py SPEC ROOT

SPEC is the config.json that `crun spec` writes on the build host (so the bundles follow the
runtime version that runs them); ROOT is the initramfs tree. For each container below this
makes ROOT/containers/NAME/{config.json,rootfs}; /init starts them with
`crun run --no-pivot --detach --bundle /containers/NAME NAME` (tools/lab/guest/init).

Each rootfs is a busybox tree whose bin/busybox is a hard link to ROOT/bin/busybox: the cpio
archive stores the 2 MB binary once. The root is writable, so what a container writes
(e.g. busy's /tmp/counter) is also visible from the host at
/containers/NAME/rootfs/PATH (with --no-pivot the rootfs is a directory of the initramfs).
"""
import copy
import json
import os
import sys

# name -> hostname, uid, the workload (`sh -c` script), CPU limit (percent of one CPU or
# None), what it is for.
CONTAINERS = {
    # A shell that sleeps (two processes: sh, sleep) as a non-root user.
    "sleeper": ("lab-sleeper", 1001, "while :; do sleep 1000001; done", None),
    # A CPU-busy loop of shell builtins only (one process, never forks) that counts its
    # iterations in /tmp/counter: a paused container's counter stops moving. `1<>` opens
    # without truncating (the number only grows longer), so a container frozen between the
    # open and the write leaves the last value there, not an empty file. Capped at 10 % of
    # the CPU (cpu.max): unthrottled it would halve the speed of everything else the guest
    # does after it starts (the truth block, crun), which under Bochs costs real time.
    "busy": ("lab-busy", 0, "n=0; while :; do n=$((n + 1)); echo $n 1<>/tmp/counter; done", 10),
    # A small tree: sh with three children (sleep, sh, sleep), the middle one with a child.
    "tree": ("lab-tree", 0,
             "sleep 1000002 & sh -c 'sleep 1000003 & wait' & sleep 1000004 & wait", None),
    # The injection tests' target: a loop of system calls that checks every result
    # (tools/lab/guest/lab-checker.c) and prints GUEST-CHECKER lines on the console.
    "checker": ("lab-checker", 0, "exec /bin/lab-checker check", None),
    # Root in a user namespace of its own (container uid 0 is host uid 100000), with fewer
    # capabilities than crun's default (one of them inheritable and ambient too) and a
    # seccomp filter that answers mkdir with EPERM: what exec must give its command as
    # `crun exec` does (issue 10).
    "locked": ("lab-locked", 0, "while :; do sleep 1000005; done", None),
}

# Restrictions beyond crun spec's defaults (applied to config.json by name).
LOCKED_CAPS = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
SECCOMP_MKDIR_EPERM = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
}


def lock_down(c):
    """The locked container: user namespace, reduced capabilities, seccomp filter."""
    linux = c["linux"]
    linux["namespaces"].append({"type": "user"})
    linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    linux["seccomp"] = SECCOMP_MKDIR_EPERM
    caps = c["process"]["capabilities"]
    for key in ("bounding", "effective", "permitted"):
        caps[key] = list(LOCKED_CAPS)
    caps["inheritable"] = ["CAP_KILL"]
    caps["ambient"] = ["CAP_KILL"]

# Namespaces each container gets (crun spec's defaults plus cgroup, said explicitly).
NAMESPACES = ["pid", "network", "ipc", "uts", "mount", "cgroup"]


def bundle_config(template, name, hostname, uid, script, cpu_percent):
    c = copy.deepcopy(template)
    p = c["process"]
    # No terminal: a detached container with terminal=true needs a console socket.
    p["terminal"] = False
    p["args"] = ["/bin/sh", "-c", script]
    p["user"] = {"uid": uid, "gid": uid}
    p["env"] = ["PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/"]
    p["cwd"] = "/"
    c["root"] = {"path": "rootfs", "readonly": False}
    c["hostname"] = hostname
    linux = c.setdefault("linux", {})
    # crun uses cgroupfs (no systemd in the guest): this is the path under /sys/fs/cgroup.
    linux["cgroupsPath"] = "/lab/" + name
    if cpu_percent is not None:
        period = 100000
        linux.setdefault("resources", {})["cpu"] = {
            "quota": period * cpu_percent // 100, "period": period}
    have = {ns["type"] for ns in linux.get("namespaces", [])}
    linux.setdefault("namespaces", []).extend({"type": t} for t in NAMESPACES if t not in have)
    c.setdefault("annotations", {})["org.ctrvisor.lab.workload"] = name
    if name == "locked":
        lock_down(c)
    return c


def make_rootfs(root, rootfs, applets):
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "etc", "root"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    os.link(os.path.join(root, "bin/busybox"), os.path.join(rootfs, "bin/busybox"))
    os.link(os.path.join(root, "bin/lab-checker"), os.path.join(rootfs, "bin/lab-checker"))
    for applet in applets:
        path = os.path.join(rootfs, applet.lstrip("/"))
        if not os.path.lexists(path):
            os.symlink("/bin/busybox", path)
    with open(os.path.join(rootfs, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nlab:x:1001:1001:lab:/:/bin/sh\n")
    with open(os.path.join(rootfs, "etc/group"), "w") as f:
        f.write("root:x:0:\nlab:x:1001:\n")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkbundles.py SPEC ROOT")
    spec, root = sys.argv[1:]
    with open(spec) as f:
        template = json.load(f)
    # The applet list of the initramfs's own busybox (mkinitrd.sh made its links).
    applets = []
    for d in ("bin", "sbin", "usr/bin", "usr/sbin"):
        for e in sorted(os.listdir(os.path.join(root, d))):
            p = os.path.join(root, d, e)
            if os.path.islink(p) and os.readlink(p) == "/bin/busybox":
                applets.append(d + "/" + e)
    if "bin/sh" not in applets:
        sys.exit("mkbundles.py: no bin/sh applet link in " + root)
    for name, (hostname, uid, script, cpu) in CONTAINERS.items():
        bundle = os.path.join(root, "containers", name)
        os.makedirs(bundle)
        make_rootfs(root, os.path.join(bundle, "rootfs"), applets)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(bundle_config(template, name, hostname, uid, script, cpu), f, indent=1,
                      sort_keys=True)
            f.write("\n")
    # The order /init starts them in (one name a line).
    with open(os.path.join(root, "containers", "list"), "w") as f:
        f.write("".join(n + "\n" for n in CONTAINERS))


if __name__ == "__main__":
    main()
