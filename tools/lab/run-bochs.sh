#!/usr/bin/env bash
# Boots the lab machine in Bochs: OVMF, the disk image (hvboot.efi + Linux, or Linux
# alone), COM1 = guest console to a file, COM2 = the monitor console on a pty pair, COM3 =
# the channel's transport (hvrelay in the guest) on another pty pair.
#
#   tools/lab/run-bochs.sh [--build DIR] [--disk IMG] [--rundir RUNDIR]
#                          [--detach | --interactive] [--timeout SEC]
#                          [--lock-timeout SEC] [--hvctl PATH] [--cpu-model NAME]
#                          [--cpus N] [--bochs PATH]
#
#   --build DIR      build directory (default: build)
#   --disk IMG       FAT disk image to boot (default: DIR/lab/disk.img); Bochs runs on
#                    a copy in RUNDIR so the built image stays as it was
#   --rundir RUNDIR  where everything of this run goes (default: DIR/lab/run)
#   (default mode)   wait until Bochs exits or --timeout passes, then clean up
#   --detach         return once Bochs runs; stop it with tools/lab/stop-lab.sh RUNDIR
#                    (a supervisor also stops it after --timeout SEC, if given)
#   --interactive    start detached, show the guest console until the monitor answers
#                    (--timeout SEC is that deadline, default 300), then run hvctl on
#                    the console; the lab stops when hvctl exits
#   --timeout SEC    see above; 0 = none. Default: 3600 (foreground), none (--detach)
#   --lock-timeout   how long to wait for another Bochs on this machine (default 1800)
#   --hvctl PATH     console client for --interactive (default: DIR/hvctl)
#   --cpu-model NAME another Bochs CPU model (`bochs -help cpu`) in place of bochsrc.in's,
#                    e.g. one without VMX for the loader's fail-closed test
#   --bochs PATH     the Bochs binary (default: Debian's `bochs`); the two-CPU lab needs
#                    the one tools/lab/build-bochs.sh builds (Bochs 2.7 keeps INIT pending)
#   --cpus N         processors of the machine, 1..8 (default 1); the guest sees them only
#                    when the disk runs labacpi.efi first (tools/lab/mkdisk.sh)
#
# RUNDIR after start: bochsrc, bochs.rc, bochs.log (Bochs log), bochs.out (its
# stdout/stderr), com1.log (guest console), hvcon (the console tty for hvctl),
# hvcon-bochs (Bochs' end), com2-to-bochs.raw / com2-from-bochs.raw (every byte
# sent to / transmitted by the emulated COM2 UART), relay (the channel's tty for hvctl:
# COM3, hvrelay in the guest), relay-bochs (Bochs' end), bochs.pid, socat.pid,
# socat-relay.pid, watchdog.pid (the supervisor in --detach/--interactive), started (marker).
#
# Only one Bochs may run on this machine: an exclusive flock on
# /tmp/ctrvisor-bochs.lock is held for the whole life of the Bochs process (Bochs
# itself inherits the locked descriptor, so the lock lives exactly as long as it).
#
# Exit status: 0 ok (foreground: Bochs ended by itself with status 0), 2 usage,
# 3 lock not obtained in time, 4 the lab failed to start, 124 foreground timeout,
# otherwise Bochs' own exit status.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOCK=/tmp/ctrvisor-bochs.lock
OVMF=/usr/share/ovmf/OVMF.fd

BUILD=build
DISK=
RUNDIR=
MODE=foreground
TIMEOUT=
LOCK_TIMEOUT=1800
HVCTL=
CPU_MODEL=
CPUS=1
BOCHS=bochs

usage() {
	sed -n '2,36p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
die() { echo "run-bochs: $*" >&2; exit "${RB_RC:-4}"; }
log() { echo "run-bochs: $*" >&2; }

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || { echo "run-bochs: $1 needs a value" >&2; usage; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--build) need_arg "$@"; BUILD=$2; shift 2 ;;
	--disk) need_arg "$@"; DISK=$2; shift 2 ;;
	--rundir) need_arg "$@"; RUNDIR=$2; shift 2 ;;
	--detach) MODE=detach; shift ;;
	--interactive) MODE=interactive; shift ;;
	--timeout) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
	--lock-timeout) need_arg "$@"; LOCK_TIMEOUT=$2; shift 2 ;;
	--hvctl) need_arg "$@"; HVCTL=$2; shift 2 ;;
	--cpu-model) need_arg "$@"; CPU_MODEL=$2; shift 2 ;;
	--cpus) need_arg "$@"; CPUS=$2; shift 2 ;;
	--bochs) need_arg "$@"; BOCHS=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run-bochs: unknown argument: $1" >&2; usage ;;
	esac
done

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
BUILD=$(realpath -m -- "$BUILD")
DISK=$(realpath -m -- "${DISK:-$BUILD/lab/disk.img}")
RUNDIR=$(realpath -m -- "${RUNDIR:-$BUILD/lab/run}")
HVCTL=$(realpath -m -- "${HVCTL:-$BUILD/hvctl}")
case $MODE in
foreground) TIMEOUT=${TIMEOUT:-3600} ;;
detach) TIMEOUT=${TIMEOUT:-0} ;;
interactive) TIMEOUT=${TIMEOUT:-300} ;;
esac
isnum "$TIMEOUT" || { echo "run-bochs: bad --timeout: $TIMEOUT" >&2; exit 2; }
isnum "$LOCK_TIMEOUT" || { echo "run-bochs: bad --lock-timeout: $LOCK_TIMEOUT" >&2; exit 2; }
[[ $CPU_MODEL =~ ^[a-z0-9_]*$ ]] || { echo "run-bochs: bad --cpu-model: $CPU_MODEL" >&2; exit 2; }
[[ $CPUS =~ ^[1-8]$ ]] || { echo "run-bochs: bad --cpus (1..8): $CPUS" >&2; exit 2; }

for p in "$DISK" "$RUNDIR"; do
	case $p in *[\"\'\\$'\n'@\|\&]*) echo "run-bochs: unsupported character in path: $p" >&2; exit 2 ;; esac
done
[ -f "$DISK" ] || { echo "run-bochs: no disk image: $DISK" >&2; exit 2; }
[ -f "$OVMF" ] || { echo "run-bochs: no firmware $OVMF (bash tools/deps.sh)" >&2; exit 2; }
for t in "$BOCHS" socat flock; do
	command -v "$t" >/dev/null || { echo "run-bochs: $t not installed (bash tools/deps.sh)" >&2; exit 2; }
done
if [ $MODE = interactive ] && [ ! -x "$HVCTL" ]; then
	echo "run-bochs: no console client $HVCTL (make $BUILD/hvctl)" >&2
	exit 2
fi

# ------------------------------------------------------------------ lock
exec 9>>"$LOCK"
if ! flock -n 9; then
	log "another Bochs runs on this machine ($(head -1 "$LOCK" 2>/dev/null)); waiting up to ${LOCK_TIMEOUT}s"
	# Short waits, so that a signal to this script is acted on within seconds.
	lock_deadline=$(($(date +%s) + LOCK_TIMEOUT))
	until flock -w 2 9; do
		[ "$(date +%s)" -lt "$lock_deadline" ] || RB_RC=3 die "lock $LOCK not obtained within ${LOCK_TIMEOUT}s"
	done
fi
echo "pid $$ rundir $RUNDIR since $(date +%FT%T)" >"$LOCK"

# ------------------------------------------------------------------ run dir
mkdir -p "$RUNDIR"
if [ -s "$RUNDIR/bochs.pid" ]; then
	old=$(tr -dc '0-9' <"$RUNDIR/bochs.pid")
	if [ -n "$old" ] && [ -r "/proc/$old/comm" ] && grep -qx 'bochs\(-bin\)\?' "/proc/$old/comm"; then
		echo "run-bochs: a Bochs (pid $old) still runs in $RUNDIR; stop it: $HERE/stop-lab.sh $RUNDIR" >&2
		exit 4
	fi
fi
rm -f "$RUNDIR"/{bochsrc,bochs.rc,bochs.log,bochs.out,com1.log,hvcon,hvcon-bochs} \
	"$RUNDIR"/{com2-to-bochs.raw,com2-from-bochs.raw,bochs.pid,socat.pid,watchdog.pid} \
	"$RUNDIR"/{relay,relay-bochs,socat-relay.pid,socat-relay.log} \
	"$RUNDIR"/{started,ended,disk.img,disk.img.lock,socat.log,watchdog.log}

# Bochs runs on a copy: the guest or the firmware may write to the disk, and a
# killed Bochs leaves disk.img.lock beside it.
cp --sparse=always -- "$DISK" "$RUNDIR/disk.img"

sed -e "s|@OVMF@|$OVMF|g" \
	-e "s|@DISK@|$RUNDIR/disk.img|g" \
	-e "s|@COM1@|$RUNDIR/com1.log|g" \
	-e "s|@COM2@|$RUNDIR/hvcon-bochs|g" \
	-e "s|@COM3@|$RUNDIR/relay-bochs|g" \
	-e "s|@LOG@|$RUNDIR/bochs.log|g" \
	-e "s|@CPUS@|$CPUS|g" \
	-e "${CPU_MODEL:+/^cpu:/s/model=[a-z0-9_]*/model=$CPU_MODEL/}" \
	"$HERE/bochsrc.in" >"$RUNDIR/bochsrc"
if grep -q '@[A-Z0-9]*@' "$RUNDIR/bochsrc"; then
	die "unfilled placeholder in $RUNDIR/bochsrc"
fi
if [ -n "$CPU_MODEL" ] && ! grep -Eq "^cpu:.*model=$CPU_MODEL(,|[[:space:]]|$)" "$RUNDIR/bochsrc"; then
	die "no cpu: line with a model= in $HERE/bochsrc.in to replace with $CPU_MODEL"
fi
printf 'c\n' >"$RUNDIR/bochs.rc"
: >"$RUNDIR/com1.log"

STARTED=0
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[ -n "${TAIL_PID:-}" ] && kill "$TAIL_PID" 2>/dev/null
	# Stop only what this invocation started (its pids are in RUNDIR by then).
	if [ -n "${SOCAT_PID:-}" ] && { [ "$MODE" != detach ] || [ "$STARTED" != 1 ]; }; then
		"$HERE/stop-lab.sh" "$RUNDIR" --quiet || true
		date +%s >"$RUNDIR/ended" 2>/dev/null || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM HUP

# alive PID: exists and is not a zombie.
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# ------------------------------------------------------------------ socat (COM2 pty pair)
# -r dumps data flowing left->right (hvcon -> hvcon-bochs: what the host sent to the
# UART), -R right->left (every byte the emulated COM2 UART transmitted).
# Each process gets its own process group (set -m), so a Ctrl-C typed at the
# terminal reaches neither; they are stopped by pid. They do not inherit the lock.
set -m
socat -r "$RUNDIR/com2-to-bochs.raw" -R "$RUNDIR/com2-from-bochs.raw" \
	PTY,link="$RUNDIR/hvcon",raw,echo=0 PTY,link="$RUNDIR/hvcon-bochs",raw,echo=0 \
	</dev/null >"$RUNDIR/socat.log" 2>&1 9>&- &
SOCAT_PID=$!
set +m
echo "$SOCAT_PID" >"$RUNDIR/socat.pid"
for ((i = 0; i < 100; i++)); do
	[ -e "$RUNDIR/hvcon" ] && [ -e "$RUNDIR/hvcon-bochs" ] && break
	alive "$SOCAT_PID" || break
	sleep 0.1
done
[ -e "$RUNDIR/hvcon" ] && [ -e "$RUNDIR/hvcon-bochs" ] ||
	die "socat did not create the pty pair: $(cat "$RUNDIR/socat.log")"

# ------------------------------------------------------------------ socat (COM3 pty pair)
# The channel's transport: relay (hvctl's end) <-> relay-bochs (COM3). Frames are signed,
# so nothing here needs a log of the bytes. Stopped like COM2's (socat-relay.pid).
set -m
socat PTY,link="$RUNDIR/relay",raw,echo=0 PTY,link="$RUNDIR/relay-bochs",raw,echo=0 \
	</dev/null >"$RUNDIR/socat-relay.log" 2>&1 9>&- &
SOCAT_RELAY_PID=$!
set +m
echo "$SOCAT_RELAY_PID" >"$RUNDIR/socat-relay.pid"
for ((i = 0; i < 100; i++)); do
	[ -e "$RUNDIR/relay" ] && [ -e "$RUNDIR/relay-bochs" ] && break
	alive "$SOCAT_RELAY_PID" || break
	sleep 0.1
done
[ -e "$RUNDIR/relay" ] && [ -e "$RUNDIR/relay-bochs" ] ||
	die "socat did not create the relay's pty pair: $(cat "$RUNDIR/socat-relay.log")"

# ------------------------------------------------------------------ Bochs
# Bochs inherits fd 9 (the lock). Its debugger reads bochs.rc ("c"), then stdin
# (/dev/null): it never waits for a terminal.
set -m
"$BOCHS" -q -unlock -f "$RUNDIR/bochsrc" -rc "$RUNDIR/bochs.rc" \
	</dev/null >"$RUNDIR/bochs.out" 2>&1 &
BOCHS_PID=$!
set +m
echo "$BOCHS_PID" >"$RUNDIR/bochs.pid"
echo "pid $BOCHS_PID (bochs) rundir $RUNDIR since $(date +%FT%T)" >"$LOCK"
T0=$(date +%s)
date +%s.%N >"$RUNDIR/started"
# A bad configuration makes Bochs quit within a second or two.
for ((i = 0; i < 30; i++)); do
	alive "$BOCHS_PID" || break
	sleep 0.1
done
if ! alive "$BOCHS_PID"; then
	wait "$BOCHS_PID" 2>/dev/null && brc=0 || brc=$?
	log "Bochs exited at once (status $brc); its output:"
	tail -n 30 "$RUNDIR/bochs.out" >&2 || true
	tail -n 30 "$RUNDIR/bochs.log" >&2 2>/dev/null || true
	RB_RC=4 die "Bochs failed to start"
fi
log "Bochs pid $BOCHS_PID, socat pids $SOCAT_PID $SOCAT_RELAY_PID, rundir $RUNDIR"
log "guest console: $RUNDIR/com1.log; monitor console: $RUNDIR/hvcon; channel: $RUNDIR/relay"

# ------------------------------------------------------------------ supervisor
# In --detach and --interactive modes a small supervisor (own process group, no
# lock) stops the lab when Bochs ends by itself (socat must not linger) or when
# --timeout passes. It dies with the lab when stop-lab.sh is called.
start_supervisor() {
	local deadline=$1
	set -m
	(
		exec 9>&- </dev/null >>"$RUNDIR/watchdog.log" 2>&1
		trap - EXIT INT TERM HUP
		export CTRVISOR_SUPERVISOR_PID=$BASHPID
		while alive "$BOCHS_PID"; do
			if [ "$deadline" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
				echo "supervisor: timeout reached; stopping the lab"
				echo timeout >"$RUNDIR/watchdog-fired"
				break
			fi
			sleep 0.5
		done
		"$HERE/stop-lab.sh" "$RUNDIR" --quiet || true
		rm -f "$RUNDIR/watchdog.pid"
		date +%s >"$RUNDIR/ended"
	) &
	echo $! >"$RUNDIR/watchdog.pid"
	set +m
}

case $MODE in
detach)
	dl=0
	[ "$TIMEOUT" -gt 0 ] && dl=$((T0 + TIMEOUT))
	start_supervisor "$dl"
	STARTED=1
	exit 0
	;;
foreground)
	rc=0
	while alive "$BOCHS_PID"; do
		if [ "$TIMEOUT" -gt 0 ] && [ $(($(date +%s) - T0)) -ge "$TIMEOUT" ]; then
			log "timeout after ${TIMEOUT}s; stopping Bochs"
			exit 124
		fi
		sleep 0.5
	done
	wait "$BOCHS_PID" 2>/dev/null || rc=$?
	log "Bochs exited with status $rc after $(($(date +%s) - T0))s"
	exit "$rc"
	;;
interactive)
	start_supervisor 0
	tail -n +1 -F "$RUNDIR/com1.log" 2>/dev/null 9>&- &
	TAIL_PID=$!
	deadline=$((T0 + TIMEOUT))
	ready=0
	while [ "$(date +%s)" -lt "$deadline" ]; do
		alive "$BOCHS_PID" || break
		if "$HVCTL" --console "$RUNDIR/hvcon" --timeout 5 version >/dev/null 2>&1 9>&-; then
			ready=1
			break
		fi
		sleep 1
	done
	kill "$TAIL_PID" 2>/dev/null || true
	wait "$TAIL_PID" 2>/dev/null || true
	TAIL_PID=
	if [ $ready != 1 ]; then
		alive "$BOCHS_PID" || die "Bochs ended before the monitor answered (see $RUNDIR/bochs.log)"
		die "the monitor did not answer on $RUNDIR/hvcon within ${TIMEOUT}s"
	fi
	echo
	log "monitor answers ($(($(date +%s) - T0))s after start); guest console goes on in $RUNDIR/com1.log"
	log "type 'help' for the verbs; leaving hvctl stops the lab"
	rc=0
	"$HVCTL" --console "$RUNDIR/hvcon" 9>&- || rc=$?
	exit "$rc"
	;;
esac
