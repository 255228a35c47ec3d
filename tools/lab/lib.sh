# Shared by the tools/lab scripts (sourced, not run): paths, the kernel command line, option
# parsing and small helpers. Every script takes `--build DIR` (default: build) and writes only
# under DIR/lab; downloads are cached in DIR/lab/cache so a re-run needs no network.

# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

LAB_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$LAB_TOOLS/../.." && pwd)

# The one kernel command line of the lab, used by hv.cfg, the bare disk's startup.nsh and
# run-qemu.sh, so all three boot the same guest:
#   console=ttyS0,115200  the guest console is COM1 (COM2 belongs to the monitor);
#   quiet                 serial printk is slow under Bochs: boot takes minutes without it;
#   iomem=relaxed         Debian sets CONFIG_IO_STRICT_DEVMEM=y, which forbids /dev/mem reads
#                         of any range a driver claimed; lab-probe reserved must read them.
# KASLR stays on: the introspection code has to cope with it.
LAB_CMDLINE="console=ttyS0,115200 quiet iomem=relaxed"

die() {
    echo "${0##*/}: error: $*" >&2
    exit 1
}

log() {
    echo "${0##*/}: $*" >&2
}

# Sets BUILD_DIR from `--build DIR` and leaves the other arguments in LAB_ARGS.
parse_build_arg() {
    BUILD_DIR=build
    LAB_ARGS=()
    while [ $# -gt 0 ]; do
        case "$1" in
        --build)
            [ $# -ge 2 ] || die "--build needs a directory"
            BUILD_DIR=$2
            shift 2
            ;;
        --build=*)
            BUILD_DIR=${1#--build=}
            shift
            ;;
        *)
            LAB_ARGS+=("$1")
            shift
            ;;
        esac
    done
    mkdir -p "$BUILD_DIR" || die "cannot create $BUILD_DIR"
    BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
    LAB_DIR=$BUILD_DIR/lab
    LAB_CACHE=$LAB_DIR/cache
    mkdir -p "$LAB_DIR" "$LAB_CACHE"
}

# up_to_date OUT IN... : true if OUT exists and is newer than every IN (a missing IN counts
# as changed). Lets each step skip work when nothing it reads has changed.
up_to_date() {
    local out=$1 in
    shift
    [ -e "$out" ] || return 1
    for in in "$@"; do
        [ -e "$in" ] || return 1
        [ "$out" -nt "$in" ] || return 1
    done
    return 0
}

# write_if_changed FILE : stores stdin in FILE only when the content differs, so FILE's
# mtime changes only with its content and up_to_date does not rebuild on every run.
write_if_changed() {
    local file=$1 tmp
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    if [ -e "$file" ] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
    else
        chmod 644 "$tmp"
        mv -f "$tmp" "$file"
    fi
}
