/* SPDX-License-Identifier: MIT */
/* The container operations' programs (see ops.h). Every path they open is the host's
 * view of the container's cgroup (cgroup v2 at /sys/fs/cgroup, DESIGN §8), and every
 * signal goes to the container's init, as crun and docker do. */
#include "inject/ops.h"

#include "inject/linux_abi.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define CGROUP_MOUNT "/sys/fs/cgroup"

static const char *const stats_files[OPS_STATS_FILES] = {"cpu.stat", "memory.current",
							 "pids.current"};

const char *ops_kind_name(enum ops_kind k)
{
	switch (k) {
	case OPS_PAUSE:
		return "pause";
	case OPS_UNPAUSE:
		return "unpause";
	case OPS_KILL:
		return "kill";
	case OPS_STOP:
		return "stop";
	case OPS_STATS:
		return "stats";
	case OPS_PROBE:
		return "probe";
	case OPS_CP_OUT:
	case OPS_CP_IN:
		return "cp";
	case OPS_EXEC:
		return "exec";
	case OPS_HELPER:
		return "helper";
	}
	return "?";
}

uint32_t ops_live_members(struct vmi *v, uint64_t cgroup)
{
	struct vmi_walk w;
	struct vmi_process p;
	uint64_t task;
	uint32_t n = 0;
	vmi_walk_begin(v, &w);
	while (vmi_walk_next(v, &w, &task)) {
		if (vmi_process_read(v, task, VMI_READ_CGROUP, &p) == 0 && p.cgroup_ptr == cgroup &&
		    p.state != 'Z' && p.state != 'X')
			n++;
	}
	return n;
}

const char *ops_errno_text(int64_t err)
{
	switch (-err) {
	case LINUX_EPERM:
		return "operation not permitted";
	case LINUX_ENOENT:
		return "no such file or directory";
	case LINUX_ESRCH:
		return "no such process";
	case LINUX_EACCES:
		return "permission denied";
	case LINUX_EEXIST:
		return "file exists";
	case LINUX_EXDEV:
		return "the path leaves the container";
	case LINUX_ENOTDIR:
		return "not a directory";
	case LINUX_EISDIR:
		return "is a directory";
	case LINUX_EINVAL:
		return "invalid argument";
	case LINUX_EFBIG:
		return "file too large";
	case LINUX_ENOSPC:
		return "no space left on device";
	case LINUX_EROFS:
		return "read-only file system";
	case LINUX_ENAMETOOLONG:
		return "file name too long";
	case LINUX_ELOOP:
		return "too many levels of symbolic links (or a magic link)";
	}
	return "error";
}

enum inject_step ops_fail(struct ops_request *req, const char *what, int64_t err)
{
	fmt_snprintf(req->op.error, sizeof(req->op.error), "%s: %s (errno %lld)", what,
		     ops_errno_text(err), (long long)-err);
	return INJECT_STEP_FAIL;
}

uint64_t ops_put_string(struct inject_env *env, struct scratch_slot slot, const char *s)
{
	size_t n = strlen(s) + 1;
	if (n > slot.size || inject_write_user(env, env->scratch + slot.off, s, n) < 0)
		return 0;
	return env->scratch + slot.off;
}

static bool cgroup_file(struct ops_request *req, const char *file, char *out, size_t cap)
{
	size_t n = fmt_snprintf(out, cap, "%s%s/%s", CGROUP_MOUNT, req->ct.cgroup, file);
	return n + 1 < cap;
}

static enum inject_step open_call(struct ops_request *req, struct inject_env *env, const char *file,
				  uint32_t flags, struct inject_call *c)
{
	char path[VMI_PATH_MAX + 48];
	uint64_t va;
	if (!cgroup_file(req, file, path, sizeof(path)) ||
	    (va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_OPS_PATH), path)) == 0) {
		fmt_snprintf(req->op.error, sizeof(req->op.error), "cgroup path too long");
		return INJECT_STEP_FAIL;
	}
	/* never made a controlling tty, never blocked in the open (a FIFO bind-mounted over
	 * the file by a root that can): neither changes anything on kernfs */
	*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
			 flags | LINUX_O_CLOEXEC | LINUX_O_NOCTTY | LINUX_O_NONBLOCK, 0, 0, 0);
	return INJECT_STEP_CALL;
}

static enum inject_step sleep_call(struct inject_env *env, uint32_t ms, struct inject_call *c)
{
	return inject_sleep_call(env, SCRATCH_OPS_TIMESPEC_OFF, ms, c);
}

/* pause / unpause: cgroup.freeze (Documentation/admin-guide/cgroup-v2.rst), then wait for
 * the kernel to report the state (CGRP_FROZEN), as `crun pause` may return before. The
 * state is read from guest memory at every look (never cached: a loaded guest freezes
 * over several looks), and the wait is measured on the monitor's clock. Between two looks
 * the task blocks in ppoll on cgroup.events, which the kernel signals (POLLPRI) when the
 * cgroup's frozen state changes (cgroup_file_notify): it wakes as the freeze completes, not
 * at the end of a fixed nap; the wake is only a hint, the state is what memory says. A
 * freeze that completes within the write (a thaw always does) needs no wait at all; one
 * whose last tasks wait off-CPU with the freezer's trap pending is done too, after a short
 * wait (freeze_taken; the reply says how many tasks were still to enter the trap). A
 * pause that does not complete in time is undone (cgroup.freeze back to 0), as runc does,
 * so a failed pause never leaves the container half frozen; so is one whose kernel was
 * changed while it ran (vouch_lost): its frozen state cannot be vouched for, and a refused
 * pause must not leave its freeze behind. */
enum {
	FZ_OPEN,
	FZ_WRITE,
	FZ_CLOSE,
	FZ_WAIT,
	FZ_WAIT_ENDED, /* cgroup.events closed: after_wait follows */
	FZ_UNDO_WRITE,
	FZ_UNDO_CLOSE,
	FZ_UNDO_WAIT, /* the undo seen in the cgroup's own state, not taken from write's result */
	FZ_UNDONE,
};
/* The wait's last call (wait_call), whose result FZ_WAIT takes first */
enum { WAIT_NONE, WAIT_OPEN, WAIT_POLL, WAIT_REARM, WAIT_NAP };
/* What ends the wait (after_wait) */
enum { AFTER_DONE, AFTER_FAIL, AFTER_UNDO };

static enum inject_step append_fail(struct ops_request *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The operation fails with `fmt` added to the error it has. */
static enum inject_step append_fail(struct ops_request *req, const char *fmt, ...)
{
	size_t n = strlen(req->op.error);
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(req->op.error + n, sizeof(req->op.error) - n, fmt, ap);
	va_end(ap);
	return INJECT_STEP_FAIL;
}

static enum inject_step write_freeze(struct ops_request *req, struct inject_env *env, bool freeze,
				     struct inject_call *c)
{
	if (ops_put_string(env, SCRATCH_SLOT(SCRATCH_OPS_VALUE), freeze ? "1" : "0") == 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_write, (uint64_t)req->fd, env->scratch + SCRATCH_OPS_VALUE_OFF, 1,
			 0, 0, 0);
	return INJECT_STEP_CALL;
}

/* The cgroup's frozen state now, from guest memory (kept for the reply). */
static bool look(struct ops_request *req, struct inject_env *env, bool *frozen)
{
	if (vmi_cgroup_frozen(env->vmi, req->ct_cgroup, frozen) != 0) {
		req->frozen_seen = -1;
		return false;
	}
	req->frozen_seen = *frozen ? 1 : 0;
	return true;
}

/* The result of the wait's last call. */
static void wait_call_returned(struct ops_request *req, int64_t result)
{
	switch (req->wait_call) {
	case WAIT_OPEN:
		req->events = result >= 0 ? OPS_EVENTS_OPEN : OPS_EVENTS_NONE;
		req->events_fd = result;
		break;
	case WAIT_POLL:
		/* signalled: the next poll would return at once until the file is read */
		if (result > 0 && ++req->events_wakes >= OPS_FREEZE_WAKES_MAX)
			req->events_wakes = OPS_FREEZE_WAKES_MAX;
		req->wait_call = result > 0 ? WAIT_REARM : WAIT_NONE;
		return;
	default:
		break;
	}
	req->wait_call = WAIT_NONE;
}

/* Until the next look: cgroup.events opened at the first wait (a change after the open
 * wakes the poll; one before it, the look after the open sees), then ppoll on it, read
 * again after each signal (kernfs signals a reader once per change it has not read).
 * Without it (not opened, or past OPS_FREEZE_WAKES_MAX signals), a nap. */
static enum inject_step wait_call(struct ops_request *req, struct inject_env *env,
				  struct inject_call *c)
{
	if (req->events == OPS_EVENTS_UNOPENED) {
		req->wait_call = WAIT_OPEN;
		return open_call(req, env, "cgroup.events", LINUX_O_RDONLY, c);
	}
	if (req->events == OPS_EVENTS_NONE || req->events_wakes >= OPS_FREEZE_WAKES_MAX) {
		req->wait_call = WAIT_NAP;
		return sleep_call(env, OPS_FREEZE_POLL_MS, c);
	}
	if (req->wait_call == WAIT_REARM) {
		*c = INJECT_CALL(LINUX_NR_pread64, (uint64_t)req->events_fd,
				 env->scratch + SCRATCH_OPS_VALUE_OFF, 1, 0);
		return INJECT_STEP_CALL;
	}
	struct {
		int32_t fd;
		int16_t events, revents;
	} pfd = {(int32_t)req->events_fd, LINUX_POLLPRI, 0};
	uint64_t ts[2] = {0, OPS_FREEZE_POLL_MS * 1000000u};
	if (inject_write_user(env, env->scratch + SCRATCH_OPS_POLLFD_OFF, &pfd, sizeof(pfd)) < 0 ||
	    inject_write_user(env, env->scratch + SCRATCH_OPS_TIMESPEC_OFF, ts, sizeof(ts)) < 0)
		return INJECT_STEP_FAIL;
	req->wait_call = WAIT_POLL;
	*c = INJECT_CALL(LINUX_NR_ppoll, env->scratch + SCRATCH_OPS_POLLFD_OFF, 1,
			 env->scratch + SCRATCH_OPS_TIMESPEC_OFF, 0, LINUX_SIGSET_SIZE);
	return INJECT_STEP_CALL;
}

static enum inject_step after_wait(struct ops_request *req, struct inject_env *env,
				   struct inject_call *c)
{
	switch (req->after_wait) {
	case AFTER_DONE:
		return INJECT_STEP_DONE;
	case AFTER_UNDO:
		req->phase = FZ_UNDO_WRITE;
		return open_call(req, env, "cgroup.freeze", LINUX_O_WRONLY, c);
	default:
		return INJECT_STEP_FAIL;
	}
}

/* The wait is over: cgroup.events closed if it was opened, then `then`. */
static enum inject_step end_wait(struct ops_request *req, struct inject_env *env, uint8_t then,
				 struct inject_call *c)
{
	req->after_wait = then;
	if (req->events != OPS_EVENTS_OPEN)
		return after_wait(req, env, c);
	req->events = OPS_EVENTS_NONE;
	req->phase = FZ_WAIT_ENDED;
	*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->events_fd);
	return INJECT_STEP_CALL;
}

/* A pause whose cgroup is not frozen yet, OPS_FREEZE_PENDING_AFTER_MS into its wait: has
 * every task of it the freezer's trap pending, on no CPU (vmi/freezer.c)? Then none runs
 * another instruction of its own, and the pause is done: a task that cpu.max holds would
 * otherwise keep it waiting until the next CFS period, for nothing it could still do.
 * Before that, the wait is for the kernel's own frozen, which comes within a few ms when
 * every task can run. */
static bool freeze_taken(struct ops_request *req, struct inject_env *env)
{
	struct vmi_freeze_look look;
	if (env->now_ns - req->wait_from_ns < (uint64_t)OPS_FREEZE_PENDING_AFTER_MS * 1000000u)
		return false;
	req->trap_pending = 0;
	if (vmi_cgroup_freeze_pending(env->vmi, req->ct_cgroup, OPS_FREEZE_PENDING_TASKS_MAX,
				      &look) != 1)
		return false;
	req->trap_pending = look.runnable;
	return true;
}

static enum inject_step freeze_wait(struct ops_request *req, struct inject_env *env, int64_t result,
				    struct inject_call *c)
{
	bool want = req->kind == OPS_PAUSE;
	bool frozen;
	wait_call_returned(req, result);
	req->polls++;
	if (!look(req, env, &frozen)) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "cannot read the cgroup's state from guest memory");
		return end_wait(req, env, AFTER_FAIL, c);
	}
	bool reached = frozen == want || (want && freeze_taken(req, env));
	if (reached && want && req->vouch_lost != NULL) {
		req->vouch = req->vouch_lost(req) ? OPS_VOUCH_LOST : OPS_VOUCHED;
		if (req->vouch == OPS_VOUCH_LOST)
			return end_wait(req, env, AFTER_UNDO, c);
	}
	if (reached) {
		req->state_reached = true;
		return end_wait(req, env, AFTER_DONE, c);
	}
	/* The wait ends in time for what follows it to run before the operation's own
	 * deadline: the undo of a freeze (the engine sends no call after the deadline, and a
	 * pause cut there would leave the container frozen and cgroup.events open). */
	uint64_t limit_ns = req->wait_from_ns + (uint64_t)OPS_FREEZE_WAIT_MS * 1000000u;
	uint64_t before_ns = req->op.timeout_ms > OPS_AFTER_WAIT_MS
				     ? (req->op.timeout_ms - OPS_AFTER_WAIT_MS) * 1000000u
				     : 0;
	if (req->op.timeout_ms != 0 && before_ns < limit_ns) /* 0: no limit (the unit tests) */
		limit_ns = before_ns > req->wait_from_ns ? before_ns : req->wait_from_ns;
	if (env->now_ns < limit_ns) {
		if (wait_call(req, env, c) == INJECT_STEP_CALL)
			return INJECT_STEP_CALL;
		/* its arguments could not be put in the scratch area: the freeze is not left
		 * behind, nor cgroup.events open */
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "cannot write the wait's arguments into the scratch area");
		return end_wait(req, env, want ? AFTER_UNDO : AFTER_FAIL, c);
	}
	fmt_snprintf(req->op.error, sizeof(req->op.error),
		     "the cgroup did not report %s within %llu ms (%u looks)",
		     want ? "frozen" : "thawed",
		     (unsigned long long)((env->now_ns - req->wait_from_ns) / 1000000u),
		     req->polls);
	return end_wait(req, env, want ? AFTER_UNDO : AFTER_FAIL, c);
}

static enum inject_step freeze_next(struct inject_op *op, struct inject_env *env, int64_t result,
				    struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	bool want = req->kind == OPS_PAUSE;
	bool frozen;
	switch (req->phase) {
	case FZ_OPEN:
		req->phase = FZ_WRITE;
		return open_call(req, env, "cgroup.freeze", LINUX_O_WRONLY, c);
	case FZ_WRITE:
		if (result < 0)
			return ops_fail(req, "cannot open cgroup.freeze", result);
		req->fd = result;
		req->phase = FZ_CLOSE;
		return write_freeze(req, env, want, c);
	case FZ_CLOSE:
		if (result != 1)
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "cannot write cgroup.freeze (%lld)", (long long)result);
		req->phase = FZ_WAIT;
		req->wait_from_ns = env->now_ns;
		req->events = OPS_EVENTS_UNOPENED;
		req->wait_call = WAIT_NONE;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd, 0, 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	case FZ_WAIT:
		if (req->op.error[0])
			return INJECT_STEP_FAIL;
		return freeze_wait(req, env, result, c);
	case FZ_WAIT_ENDED:
		return after_wait(req, env, c);
	case FZ_UNDO_WRITE:
		if (result < 0)
			return append_fail(
				req,
				"; undoing the freeze failed: cannot open cgroup.freeze (%lld)",
				(long long)result);
		req->fd = result;
		req->phase = FZ_UNDO_CLOSE;
		return write_freeze(req, env, false, c);
	case FZ_UNDO_CLOSE:
		if (result != 1) {
			append_fail(req, "; undo failed (%lld): it may stay frozen",
				    (long long)result);
			req->phase = FZ_UNDONE;
		} else {
			req->phase = FZ_UNDO_WAIT;
			req->wait_from_ns = env->now_ns;
		}
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd, 0, 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	case FZ_UNDO_WAIT:
		/* A kernel being changed can take the write and do nothing (a hooked
		 * cgroup_freeze_write): only the cgroup's state says the freeze is gone. */
		if (!look(req, env, &frozen))
			return append_fail(req, "; whether the freeze was undone cannot be read");
		if (!frozen)
			return append_fail(req, "; the freeze was undone");
		if (env->now_ns - req->wait_from_ns < (uint64_t)OPS_UNDO_WAIT_MS * 1000000u)
			return sleep_call(env, OPS_FREEZE_POLL_MS, c);
		return append_fail(req, "; undo not taken: still frozen after %u s (unpause it)",
				   OPS_UNDO_WAIT_MS / 1000u);
	default:
		return INJECT_STEP_FAIL;
	}
}

/* kill: one signal to the container's init. */
static enum inject_step kill_next(struct inject_op *op, struct inject_env *env, int64_t result,
				  struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	(void)env;
	if (req->phase++ == 0) {
		*c = INJECT_CALL(LINUX_NR_kill, (uint64_t)req->ct.init_pid, (uint64_t)req->signal,
				 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	}
	return result < 0 ? ops_fail(req, "kill", result) : INJECT_STEP_DONE;
}

/* stop: SIGTERM, wait up to the grace period for every process to go, then SIGKILL
 * (which ends the whole pid namespace with its init) and wait again. */
static enum inject_step stop_next(struct inject_op *op, struct inject_env *env, int64_t result,
				  struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	if (req->phase == 0) {
		req->phase = 1;
		req->term_ns = env->now_ns;
		*c = INJECT_CALL(LINUX_NR_kill, (uint64_t)req->ct.init_pid, LINUX_SIGTERM, 0, 0, 0,
				 0);
		return INJECT_STEP_CALL;
	}
	if (req->phase == 1 && result < 0 && result != -LINUX_ESRCH)
		return ops_fail(req, req->killed ? "kill SIGKILL" : "kill SIGTERM", result);
	req->phase = 2;
	if (ops_live_members(env->vmi, req->ct_cgroup) == 0) {
		req->state_reached = true;
		return INJECT_STEP_DONE;
	}
	uint64_t waited_ms = (env->now_ns - req->term_ns) / 1000000u;
	if (!req->killed && waited_ms >= req->grace_ms) {
		req->killed = true;
		req->phase = 1;
		*c = INJECT_CALL(LINUX_NR_kill, (uint64_t)req->ct.init_pid, 9, 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	}
	if (req->killed && waited_ms >= req->grace_ms + OPS_KILL_WAIT_MS) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "processes still live %u ms after SIGKILL", OPS_KILL_WAIT_MS);
		return INJECT_STEP_FAIL;
	}
	return sleep_call(env, OPS_STOP_POLL_MS, c);
}

/* stats: each cgroup file read whole (they are one page at most) into the data area. */
enum { ST_OPEN, ST_READ, ST_CLOSE };
static enum inject_step stats_next(struct inject_op *op, struct inject_env *env, int64_t result,
				   struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	switch (req->phase) {
	case ST_OPEN:
		if (req->op.error[0])
			return INJECT_STEP_FAIL;
		if (req->file >= OPS_STATS_FILES && req->u.stats.nct > 0) {
			/* every container: keep this one's files, go on with the next */
			memcpy(req->u.stats.all_text[req->u.stats.cur], req->u.stats.text,
			       sizeof(req->u.stats.text));
			if (++req->u.stats.cur >= req->u.stats.nct)
				return INJECT_STEP_DONE;
			memcpy(req->ct.cgroup, req->u.stats.ct_cgroups[req->u.stats.cur],
			       sizeof(req->ct.cgroup));
			req->file = 0;
		}
		if (req->file >= OPS_STATS_FILES)
			return INJECT_STEP_DONE;
		req->phase = ST_READ;
		return open_call(req, env, stats_files[req->file], LINUX_O_RDONLY, c);
	case ST_READ:
		if (result < 0)
			return ops_fail(req, stats_files[req->file], result);
		req->fd = result;
		req->phase = ST_CLOSE;
		*c = INJECT_CALL(LINUX_NR_read, (uint64_t)req->fd,
				 env->scratch + INJECT_SCRATCH_DATA, OPS_STATS_TEXT_MAX - 1, 0, 0,
				 0);
		return INJECT_STEP_CALL;
	default: {
		char *t = req->u.stats.text[req->file];
		size_t n = result > 0 ? (size_t)result : 0;
		if (n > OPS_STATS_TEXT_MAX - 1)
			n = OPS_STATS_TEXT_MAX - 1;
		if (result < 0 ||
		    inject_read_user(env, env->scratch + INJECT_SCRATCH_DATA, t, n) < 0)
			n = 0;
		t[n] = 0;
		if (result < 0)
			ops_fail(req, stats_files[req->file], result);
		req->file++;
		req->phase = ST_OPEN;
		if (req->op.error[0])
			req->file = OPS_STATS_FILES; /* close it, then the failure stands */
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd, 0, 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	}
	}
}

/* probe: getpid in the chosen task; the result must be the task's own tgid. */
static enum inject_step probe_next(struct inject_op *op, struct inject_env *env, int64_t result,
				   struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	if (req->phase++ == 0) {
		*c = INJECT_CALL(LINUX_NR_getpid, 0, 0, 0, 0, 0, 0);
		return INJECT_STEP_CALL;
	}
	if (req->phase == 2) {
		req->getpid_result = result;
		if (result != env->nspid) {
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "getpid in pid %d (%d in its namespace) returned %lld",
				     (int)env->tgid, (int)env->nspid, (long long)result);
			return INJECT_STEP_FAIL;
		}
		/* --hold: keep the task in an injected sleep (tests the target exiting). */
		if (req->grace_ms > 0)
			return sleep_call(env, req->grace_ms, c);
	}
	return INJECT_STEP_DONE;
}

void ops_prepare(struct ops_request *req)
{
	static const inject_next_fn programs[] = {
		[OPS_PAUSE] = freeze_next,    [OPS_UNPAUSE] = freeze_next,
		[OPS_KILL] = kill_next,       [OPS_STOP] = stop_next,
		[OPS_STATS] = stats_next,     [OPS_PROBE] = probe_next,
		[OPS_CP_OUT] = ops_exec_next, [OPS_CP_IN] = ops_exec_next,
		[OPS_EXEC] = ops_exec_next,   [OPS_HELPER] = ops_exec_next,
	};
	req->op.name = ops_kind_name(req->kind);
	req->op.next = programs[req->kind];
	req->phase = 0;
	req->fd = -1;
	req->frozen_seen = -1;
	req->trap_pending = 0;
	req->polls = 0;
	req->term_ns = 0;
	req->wait_from_ns = 0;
	req->killed = false;
	req->state_reached = false;
	req->file = 0;
	req->getpid_result = 0;
	/* the kind's own part of the union (the request filled what it needs there) */
	if (req->kind == OPS_STATS) {
		req->u.stats.cur = 0;
		if (req->u.stats.nct > 0)
			memcpy(req->ct.cgroup, req->u.stats.ct_cgroups[0], sizeof(req->ct.cgroup));
		for (uint32_t i = 0; i < OPS_STATS_FILES; i++)
			req->u.stats.text[i][0] = 0;
	}
	if (req->kind == OPS_CP_OUT || req->kind == OPS_CP_IN) {
		req->u.cp.done_len = 0;
		if (req->kind == OPS_CP_OUT)
			req->u.cp.data_len = 0;
	}
}
