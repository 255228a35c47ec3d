#!/usr/bin/env bash
# Builds the lab guest's initramfs, DIR/lab/initrd.img (gzip'd newc cpio): busybox-static
# with its applet links, lab-probe, lab-checker, the channel's relay hvrelay (DIR/hvrelay,
# the Makefile's) and the hostile relay chanattack, tools/lab/guest/init as /init, and the OCI
# runtime crun (the host's Debian package: the binary, the shared libraries `ldd` lists and
# the loader) with the bundles of the lab's containers in /containers (tools/lab/mkbundles.py).
# No kernel modules: fetch-kernel.sh checks that everything the guest uses is built in. The
# exceptions, when build-module.sh made them: the lab's attack modules /lib/wakeap.ko and
# /lib/rootkit.ko, loaded only on request (tools/lab/guest/init); and Debian's own
# /lib/qemu_fw_cfg.ko (fetch-kernel.sh), loaded only with lab.vmcoreinfo=1 (QEMU dumps).
#
# usage: mkinitrd.sh [--build DIR]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
[ ${#LAB_ARGS[@]} -eq 0 ] || die "unknown argument: ${LAB_ARGS[0]}"

GUEST_SRC=$LAB_TOOLS/guest
BUSYBOX=/bin/busybox
PROBE=$LAB_DIR/lab-probe
CHECKER=$LAB_DIR/lab-checker
RELAY=$BUILD_DIR/hvrelay
CHANATTACK=$LAB_DIR/chanattack
# chanattack makes its calls as hvrelay does (tools/hvrelay/hvcall.h), built the same way
CHANATTACK_C=("$GUEST_SRC/chanattack.c" "$REPO_ROOT/tools/hvrelay/hvcall.c"
    "$REPO_ROOT/tools/hvrelay/chancall.c" "$REPO_ROOT/hv/chan/frame.c")
CHANATTACK_IN=("${CHANATTACK_C[@]}" "$REPO_ROOT/tools/hvrelay/hvcall.h"
    "$REPO_ROOT/hv/chan/vmcall.h" "$REPO_ROOT/hv/chan/frame.h")
MODULES_IN=()
for m in wakeap rootkit qemu_fw_cfg; do
    [ ! -s "$LAB_DIR/$m.ko" ] || MODULES_IN+=("$LAB_DIR/$m.ko")
done
INITRD=$LAB_DIR/initrd.img
ROOT=$LAB_DIR/initrd-root
CC=${CC:-gcc}

[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (package busybox-static; run tools/deps.sh)"
CRUN=$(command -v crun) || die "crun missing (package crun; run tools/deps.sh)"
CRUN=$(readlink -f "$CRUN")
# What crun loads: "libx.so.N => /lib/.../libx.so.N (0x...)" and the loader's
# "/lib64/ld-linux-x86-64.so.2 (0x...)" (the vdso has no file).
mapfile -t CRUN_LIBS < <(ldd "$CRUN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ ${#CRUN_LIBS[@]} -gt 0 ] || die "ldd $CRUN lists no libraries"
CRUN_LOADER=$(readelf -l "$CRUN" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
if [ -z "$CRUN_LOADER" ] || [ ! -e "$CRUN_LOADER" ]; then
    die "cannot find the program interpreter of $CRUN"
fi
# Debian's dynamic `busybox` package also installs /bin/busybox; the initramfs has no libc.
if readelf -l "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter'; then
    die "$BUSYBOX is dynamically linked: install busybox-static instead of busybox"
fi

# -s: the symbols only cost initramfs size (and Bochs boot time to unpack them).
if ! up_to_date "$PROBE" "$GUEST_SRC/lab-probe.c"; then
    log "compiling lab-probe"
    "$CC" -static -O2 -Wall -Wextra -Werror -s -o "$PROBE.tmp" "$GUEST_SRC/lab-probe.c" ||
        die "lab-probe does not compile (static glibc: package libc6-dev)"
    mv -f "$PROBE.tmp" "$PROBE"
fi
if ! up_to_date "$CHECKER" "$GUEST_SRC/lab-checker.c"; then
    log "compiling lab-checker"
    "$CC" -static -O2 -Wall -Wextra -Werror -s -pthread -o "$CHECKER.tmp" "$GUEST_SRC/lab-checker.c" ||
        die "lab-checker does not compile (static glibc: package libc6-dev)"
    mv -f "$CHECKER.tmp" "$CHECKER"
fi
# The Makefile's rule, so the guest runs the relay `make` built (and tested) on the host.
make -s -C "$REPO_ROOT" BUILD="$BUILD_DIR" "$RELAY" || die "hvrelay does not build"
if ! up_to_date "$CHANATTACK" "${CHANATTACK_IN[@]}"; then
    log "compiling chanattack"
    "$CC" -static -O2 -Wall -Wextra -Werror -s -D_GNU_SOURCE -I"$REPO_ROOT" -I"$REPO_ROOT/hv" \
        -ffunction-sections -Wl,--gc-sections -o "$CHANATTACK.tmp" "${CHANATTACK_C[@]}" ||
        die "chanattack does not compile (static glibc: package libc6-dev)"
    mv -f "$CHANATTACK.tmp" "$CHANATTACK"
fi

# The stamp, not initrd.img, records "built from these inputs": initrd.img is replaced only
# when its bytes change, so touching an input does not make the disk images rebuild.
STAMP=$LAB_DIR/.initrd.stamp
if [ -s "$INITRD" ] && up_to_date "$STAMP" "$PROBE" "$CHECKER" "$RELAY" "$CHANATTACK" \
    "$GUEST_SRC/init" "$BUSYBOX" "${BASH_SOURCE[0]}" "$LAB_TOOLS/lib.sh" "$LAB_TOOLS/mkbundles.py" \
    "$CRUN" "${CRUN_LIBS[@]}" \
    "${MODULES_IN[@]+"${MODULES_IN[@]}"}"; then
    log "initrd.img up to date"
    exit 0
fi

log "building initrd.img"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,run}
install -m 755 "$BUSYBOX" "$ROOT/bin/busybox"
install -m 755 "$PROBE" "$ROOT/bin/lab-probe"
install -m 755 "$CHECKER" "$ROOT/bin/lab-checker"
install -m 755 -s "$RELAY" "$ROOT/bin/hvrelay"
install -m 755 "$CHANATTACK" "$ROOT/bin/chanattack"
install -m 755 "$GUEST_SRC/init" "$ROOT/init"
for m in "${MODULES_IN[@]+"${MODULES_IN[@]}"}"; do
    install -D -m 644 "$m" "$ROOT/lib/$(basename "$m")"
done
# Applet links where busybox would install them (bin/sh, sbin/reboot, usr/bin/...).
while read -r applet; do
    [ -n "$applet" ] || continue
    [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done < <("$BUSYBOX" --list-full)
[ -e "$ROOT/bin/sh" ] || die "busybox has no sh applet"

# crun, its libraries where the loader looks without an ld.so.cache (Debian's multiarch
# directory is one of its built-in paths), and the loader at the path crun's ELF names.
install -m 755 "$CRUN" "$ROOT/bin/crun"
mkdir -p "$ROOT/lib/x86_64-linux-gnu" "$ROOT$(dirname "$CRUN_LOADER")"
for lib in "${CRUN_LIBS[@]}"; do
    if [ "$lib" = "$CRUN_LOADER" ]; then
        cp -L "$lib" "$ROOT$CRUN_LOADER"
    else
        cp -L "$lib" "$ROOT/lib/x86_64-linux-gnu/$(basename "$lib")"
    fi
done
[ -e "$ROOT$CRUN_LOADER" ] || cp -L "$CRUN_LOADER" "$ROOT$CRUN_LOADER"
# The bundles start from what this crun writes as its default spec.
SPEC_DIR=$(mktemp -d)
(cd "$SPEC_DIR" && crun spec) || { rm -rf "$SPEC_DIR"; die "crun spec failed"; }
python3 "$LAB_TOOLS/mkbundles.py" "$SPEC_DIR/config.json" "$ROOT" ||
    { rm -rf "$SPEC_DIR"; die "mkbundles.py failed"; }
rm -rf "$SPEC_DIR"
# The kernel opens /dev/console for init's fds 0-2 before /init runs; without the node it
# runs /init with them closed (init then reopens it from devtmpfs, so non-root builds work).
if [ "$(id -u)" -eq 0 ]; then
    mknod -m 600 "$ROOT/dev/console" c 5 1
    mknod -m 666 "$ROOT/dev/null" c 1 3
fi
chmod 1777 "$ROOT/tmp"
chmod 700 "$ROOT/root"

# Fixed mtimes, owners and order: the same inputs give the same bytes, so a rebuild that
# changed nothing does not look like a new guest.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
    cpio --null --create --format=newc --owner=0:0 --reproducible --quiet) |
    gzip -9 -n >"$INITRD.tmp" || die "cpio/gzip failed"
if cmp -s "$INITRD.tmp" "$INITRD"; then
    rm -f "$INITRD.tmp"
    log "initrd.img unchanged"
else
    mv -f "$INITRD.tmp" "$INITRD"
    log "initrd.img: $(stat -c %s "$INITRD") bytes"
fi
touch "$STAMP"
