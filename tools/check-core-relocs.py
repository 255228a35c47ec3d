#!/usr/bin/env python3
"""Fail the build if hv.elf holds a relocation hvboot.efi cannot apply.

The loader (boot/elfload.c) applies R_X86_64_RELATIVE only: anything else means some
code took an absolute address the loader cannot fix (e.g. a symbol with default
visibility through the GOT)."""
import subprocess
import sys

path = sys.argv[1]
out = subprocess.run(["readelf", "-rW", path], check=True, capture_output=True, text=True).stdout
bad = [l for l in out.splitlines()
       if l[:1] in "0123456789abcdef" and "R_X86_64_" in l and "R_X86_64_RELATIVE" not in l]
if bad:
    sys.stderr.write(f"{path}: relocations the loader cannot apply:\n" + "\n".join(bad) + "\n")
    sys.exit(1)
hdr = subprocess.run(["readelf", "-hW", path], check=True, capture_output=True, text=True).stdout
if "DYN" not in hdr:
    sys.stderr.write(f"{path}: not a position-independent (ET_DYN) image\n")
    sys.exit(1)
