#!/usr/bin/env bash
# Stops a lab started by tools/lab/run-bochs.sh: kills its processes by the pids
# recorded in RUNDIR (never by name) and waits until they are gone.
#
#   tools/lab/stop-lab.sh RUNDIR [--quiet]
#
# Order: the supervisor (watchdog.pid), Bochs (bochs.pid), socat (socat.pid: COM2's pty
# pair; socat-relay.pid: COM3's, the channel's).
# Each gets SIGTERM, then SIGKILL if still there after a grace period.
# A pid is only signalled while /proc says it is still the program we started
# (pids get reused). Exit status 0 when nothing of the lab is left running.
set -uo pipefail

usage() { echo "usage: $0 RUNDIR [--quiet]" >&2; exit 2; }
[ $# -ge 1 ] || usage
RUNDIR=$1
QUIET=0
[ "${2:-}" = "--quiet" ] && QUIET=1
[ -d "$RUNDIR" ] || { [ $QUIET = 1 ] || echo "stop-lab: no such directory: $RUNDIR" >&2; exit 0; }

say() { [ $QUIET = 1 ] || echo "stop-lab: $*" >&2; }

# alive PID: true while PID exists and is not a zombie.
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# is_ours PID NAME...: PID is alive and its comm is one of NAMEs.
is_ours() {
	local pid=$1 comm n
	shift
	alive "$pid" || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	for n in "$@"; do [ "$comm" = "$n" ] && return 0; done
	return 1
}

# stop NAME GRACE COMM...: stop the process recorded in RUNDIR/NAME.pid.
stop() {
	local name=$1 grace=$2 pid i
	shift 2
	local f="$RUNDIR/$name.pid"
	[ -s "$f" ] || return 0
	pid=$(tr -dc '0-9' <"$f")
	if [ -z "$pid" ] || ! is_ours "$pid" "$@"; then
		rm -f "$f"
		return 0
	fi
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		say "$name (pid $pid) ignored SIGTERM; sending SIGKILL"
		kill -KILL "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
	fi
	if alive "$pid"; then
		say "$name (pid $pid) is still running"
		return 1
	fi
	rm -f "$f"
	return 0
}

rc=0
# The supervisor is a bash subshell of run-bochs.sh; if our caller *is* that
# supervisor, leave it alone.
if [ -s "$RUNDIR/watchdog.pid" ] && [ "$(tr -dc '0-9' <"$RUNDIR/watchdog.pid")" != "${CTRVISOR_SUPERVISOR_PID:-x}" ]; then
	stop watchdog 3 bash run-bochs.sh || rc=1
fi
stop bochs 10 bochs-bin bochs || rc=1
stop socat 5 socat || rc=1
stop socat-relay 5 socat || rc=1
exit $rc
