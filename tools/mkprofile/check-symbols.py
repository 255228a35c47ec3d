#!/usr/bin/env python3
"""The kernel symbols of a profile mkprofile made from a whole kernel (make profile-check):
more than MIN of them (the kallsyms tables were found and copied, not a stray few), and
every one the monitor looks up (`enum ksym`, read from hv/vmi/profile.c's ksym_names) at a
kernel-image address.

    check-symbols.py PROFILE [--min N]
"""
import argparse
import json
import os
import re
import sys

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
IMAGE_START = 0xffffffff80000000  # __START_KERNEL_map


def ksym_names():
    with open(os.path.join(REPO, "hv", "vmi", "profile.c")) as f:
        src = f.read()
    table = src[src.index("ksym_names[KSYM_COUNT]"):]
    return re.findall(r'"([^"]+)",', table[:table.index("};")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile")
    ap.add_argument("--min", type=int, default=50000)
    a = ap.parse_args()
    with open(a.profile) as f:
        syms = json.load(f)["symbols"]
    bad = []
    if len(syms) <= a.min:
        bad.append(f"only {len(syms)} symbols (want more than {a.min})")
    for name in ksym_names():
        addr = syms.get(name, {}).get("address", 0)
        if not isinstance(addr, int) or addr < IMAGE_START:
            bad.append(f"{name}: {addr!r}")
    if bad:
        print(f"check-symbols: {a.profile}: " + "; ".join(bad), file=sys.stderr)
        return 1
    print(f"check-symbols: {a.profile}: {len(syms)} symbols, all {len(ksym_names())} the "
          "monitor looks up in the kernel image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
