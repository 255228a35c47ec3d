#!/usr/bin/env bash
# Installs the Debian packages the project needs, only when one is missing.
# Every make target that needs a package calls this first (see Makefile).
set -euo pipefail

PACKAGES=(
	gcc make nasm binutils            # the core and host tools
	gnu-efi                           # hvboot.efi
	libcmocka-dev pkg-config          # unit tests
	mtools dosfstools                 # the lab's FAT disk image
	busybox-static cpio gzip          # the lab's initramfs
	libc6-dev                         # static glibc for the lab's lab-probe
	bochs bochsbios vgabios ovmf      # the lab machine (VT-x with EPT, emulated)
	qemu-system-x86 qemu-utils        # fast guest checks without VT-x
	socat python3 xz-utils            # pty wiring, test harness
	libbpf-dev zstd                   # tools/mkprofile: BTF reader; vmlinuz unpackers (xz, zstd)
	libbearssl-dev                    # the channel's signatures (hvctl; the core builds its source)
	zlib1g-dev                        # compressed replies (hvctl inflates; the core builds its source)
	conserver-server conserver-client # a console server in front of the console (make unit)
	crun                              # the lab guest's OCI containers (copied into its initramfs)
)

# `deps.sh fuzz`: the extra packages of `make fuzz` (clang's libFuzzer)
if [ "${1:-}" = fuzz ]; then
	PACKAGES=(clang libclang-rt-14-dev)
fi
# `deps.sh bench`: drgn, which make bench compares introspection with (tests/bench)
if [ "${1:-}" = bench ]; then
	PACKAGES=(python3-drgn)
fi
# `deps.sh bochs-build`: what tools/lab/build-bochs.sh needs to build Bochs from source
if [ "${1:-}" = bochs-build ]; then
	PACKAGES=(g++ make xz-utils patch debian-archive-keyring)
fi
# `deps.sh headers RELEASE`: the kernel headers to build the lab guest's modules against
# (tools/lab/build-module.sh; RELEASE from DIR/lab/kernel-release, whatever Debian ships)
if [ "${1:-}" = headers ]; then
	[ -n "${2:-}" ] || { echo "usage: deps.sh headers KERNEL-RELEASE" >&2; exit 2; }
	PACKAGES=("linux-headers-$2")
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
$SUDO apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
