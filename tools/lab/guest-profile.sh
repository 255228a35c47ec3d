#!/usr/bin/env bash
# The lab kernel's profile (DESIGN §5) -> DIR/lab/guest-profile.json, which the lab disk
# carries and the tests read:
#   - guest-profiles/<release>.json when one is committed for the release Debian ships
#     (committed profiles are fixtures: `make profile-check` compares them with the BTF);
#   - else made from the kernel's own BTF by tools/mkprofile/mkprofile.sh, so that a Debian
#     kernel update never stops `make lab` (mkprofile checks what it writes with the
#     monitor's own parser before it writes it).
# DIR/lab/guest-profile.src says which of the two it is.
#
# usage: guest-profile.sh [--build DIR]
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
parse_build_arg "$@"
LAB_DIR=$BUILD_DIR/lab
VMLINUZ=$LAB_DIR/vmlinuz
[ -s "$LAB_DIR/kernel-release" ] || die "$LAB_DIR/kernel-release missing (run tools/lab/fetch-kernel.sh)"
read -r RELEASE <"$LAB_DIR/kernel-release"
OUT=$LAB_DIR/guest-profile.json
COMMITTED=$REPO_ROOT/guest-profiles/$RELEASE.json

if [ -s "$COMMITTED" ]; then
    if ! cmp -s "$COMMITTED" "$OUT"; then
        cp "$COMMITTED" "$OUT"
    fi
    echo "committed guest-profiles/$RELEASE.json" | write_if_changed "$LAB_DIR/guest-profile.src"
    log "guest-profiles/$RELEASE.json (committed)"
    exit 0
fi
MKPROFILE_SRCS=("$REPO_ROOT"/tools/mkprofile/* "$REPO_ROOT"/hv/vmi/profile.[ch] \
    "$REPO_ROOT"/hv/lib/json.[ch])
if [ "$(cat "$LAB_DIR/guest-profile.src" 2>/dev/null)" = "made $RELEASE" ] &&
    up_to_date "$OUT" "$VMLINUZ" "${MKPROFILE_SRCS[@]}"; then
    log "guest-profile.json up to date (made from $RELEASE's BTF)"
    exit 0
fi
log "no committed profile for $RELEASE: making one from its BTF"
MKPROFILE=$(cd "$BUILD_DIR" && pwd)/mkprofile bash "$REPO_ROOT/tools/mkprofile/mkprofile.sh" \
    --vmlinuz "$VMLINUZ" --release "$RELEASE" --out "$LAB_DIR/guest-profile.new.json" ||
    die "mkprofile could not make a profile of $RELEASE from its BTF"
mv "$LAB_DIR/guest-profile.new.json" "$OUT"
echo "made $RELEASE" | write_if_changed "$LAB_DIR/guest-profile.src"
log "guest-profile.json made from $RELEASE's BTF (commit it as guest-profiles/$RELEASE.json to pin it)"
