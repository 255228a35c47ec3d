/* SPDX-License-Identifier: MIT */
/*
 * exec (and `helper start`, which is its first three steps): a command inside a container, with its
 * stdout, stderr and exit status, by injected calls only. Four processes take part, each a context
 * of the engine:
 *
 *  host   a hijacked host root task: forks `mid` (exit signal 0, so it gets no SIGCHLD)
 *         and reaps it, then goes on with its own work;
 *  mid    forks the helper and exits at once, so the helper is adopted by init, which
 *         reaps it in the end;
 *  helper opens the container init's namespaces (/proc/PID/ns/...), reads its LSM label
 *         (/proc/PID/attr/current), opens the host's /dev/null (and /proc when there is a
 *         label), joins its cgroup (cgroup.procs), setns into ipc, uts, net, cgroup, pid
 *         and mnt (last: after it the host's paths are gone), makes two pipes and forks
 *         the command's process, then collects the output in a loop the monitor drives
 *         (non-blocking reads, wait4 WNOHANG, then ppoll on the open pipes: it sleeps until
 *         there is output or POLL_MS passed), and exits;
 *  cmd    the command's process (in the container's pid namespace, being the helper's
 *         child after setns): stdout/stderr on the pipes, stdin the host's /dev/null, the
 *         default disposition for every signal and an empty mask (what a fresh exec of crun
 *         would give it), no supplementary group, then the container's restrictions as
 *         `crun exec` gives them (ops_restrict.h: its user namespace, root in it, its
 *         capabilities, no_new_privs, seccomp filters, AppArmor profile), every other
 *         descriptor closed, then execve along the container's PATH.
 *
 * The helper stays host root: it never runs anything of the container's, and a container
 * root cannot ptrace it (it lacks capabilities the helper has).
 */
#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "platform/wake_port.h"

#define CGROUP_MOUNT "/sys/fs/cgroup"

/* The scratch area (shared by the four processes: MAP_SHARED): inject/scratch.h */
#define READ_CHUNK 4096u
_Static_assert(READ_CHUNK <= SCRATCH_EXEC_OUTPUT_SIZE, "a read of output leaves its slot");
/* ppoll's limit in the output loop: output wakes it at once; only a command that exits
 * while something it left behind holds its pipes is seen this late. Every round of the
 * loop is four injected calls, each a round trip through the monitor on the helper's
 * CPU: a short fixed nap (10 ms once) took that CPU from the very command it waited for. */
#define POLL_MS 100u

/* setns order: mnt last (after it /proc/PID/... of the host is gone); pid affects only
 * the children, which is what the command's process is. */
static const char *const ns_files[7] = {"ipc", "uts", "net", "cgroup", "pid", "mnt", "user"};
/* The container's PATH when the command has no '/' (the lab's and docker's default). */
static const char *const path_dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
					"/usr/bin",        "/sbin",          "/bin"};
#define PATH_DIRS (sizeof(path_dirs) / sizeof(path_dirs[0]))
static const char env_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
static const char env_home[] = "HOME=/";

enum { HOST_FORK, HOST_REAP, HOST_DONE };
enum { MID_FORK, MID_EXIT };
enum {
	H_START,      /* the plan */
	H_SHED_FDS,   /* nothing of its host task's descriptors kept (close_range) */
	H_NULL_IN,    /* /dev/null as fd 0 */
	H_NULL_OUT,   /* and 1, 2 (dup2), so what it opens later is 3 or above */
	H_NULL_ERR,   /* then the scratch area's pages mapped */
	H_POPULATE,   /* not dumpable */
	H_NODUMP,     /* SIGALRM back to its default action */
	H_CHILD_DFL,  /* SIGCHLD too: a host task that ignores it would have its children
		       * reaped by the kernel, and the command's status lost */
	H_ALARM_MASK, /* SIGALRM unblocked */
	H_ALARM,      /* alarm(): the kernel ends the helper if it is ever stuck */
	H_OPEN_NS,    /* index 0..ns_count-1 */
	H_STAT_NS,    /* each one's inode, against the plan's */
	H_OPEN_LABEL,
	H_READ_LABEL,
	H_CLOSE_LABEL,
	H_OPEN_PROC,
	H_OPEN_NULL,
	H_OPEN_PROCS,
	H_WRITE_PROCS,
	H_CLOSE_PROCS,
	H_SETNS,    /* index 0..5 */
	H_CLOSE_NS, /* index 0..5 */
	H_PIPE_OUT,
	H_PIPE_ERR,
	H_FORK,
	H_CLOSE_W,  /* index 0..4: the pipes' write ends, then keep_fd[] */
	H_NONBLOCK, /* index 0..1 */
	H_READ_OUT,
	H_READ_ERR,
	H_WAIT,
	H_SLEEP,
	H_KILL,
	H_REAP,
	H_REAP_NAP,
	H_CP_RESTRICT,  /* cp: the helper takes the container's restrictions itself */
	H_CP_CLOSE,     /* and closes every fd it has */
	H_CP_FILE,      /* then does the file work (ops_cp.c) */
	H_SHED_SESSION, /* `helper start`: a session of its own (setsid) */
	H_SHED_CWD,     /* at / (chdir) */
	H_TERM_DFL,     /* SIGTERM to its default action (rt_sigaction) */
	H_TERM_UNBLOCK, /* and unblocked: a shutdown's SIGTERM ends it at once */
	H_WAKE_OPEN,    /* the wake port's tty opened */
	H_WAKE_EXCL,    /* for this opener only (TIOCEXCL) */
	H_WAKE_RAW,     /* in raw mode (no echo: a read returns each byte), then it parks */
};
enum {
	C_POPULATE,  /* the scratch area's pages mapped */
	C_PDEATHSIG, /* SIGKILL when the helper ends, however it ends */
	C_PARENT,    /* the helper has not ended already */
	C_DUP_OUT,
	C_DUP_ERR,
	C_DUP_IN,
	C_SIGNALS, /* index 1..31 */
	C_MASK,
	C_SETGROUPS,
	C_SCHED,    /* SCHED_OTHER */
	C_NICE,     /* nice 0 */
	C_KEYRING,  /* a session keyring of its own */
	C_OOM_OPEN, /* oom_score_adj 0 */
	C_OOM_WRITE,
	C_OOM_CLOSE,
	C_CLOSE_FDS,
	C_RESTRICT, /* ops_restrict_next until it is done */
	C_EXEC,     /* index: PATH candidate */
	C_EXIT,
};

static uint32_t next_signal(uint32_t sig)
{
	do
		sig++;
	while (sig == LINUX_SIGKILL || sig == LINUX_SIGSTOP);
	return sig;
}

/* The container's ctx of the host paths: /proc/<init>/ns/NAME. */
static enum inject_step open_ns(struct ops_request *req, struct inject_env *env,
				struct inject_call *c)
{
	char path[64];
	fmt_snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)req->ct.init_pid,
		     ns_files[req->index]);
	uint64_t va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_PATH), path);
	if (va == 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
			 LINUX_O_RDONLY | LINUX_O_CLOEXEC);
	return INJECT_STEP_CALL;
}

_Static_assert((OPS_EXEC_ARGS_MAX + 1u) * 8u <= SCRATCH_EXEC_ARGV_SIZE, "argv does not fit");

/* n strings into the rest of the strings slot from *off, their addresses into va[] and a
 * NULL after them. */
static bool put_strings(struct inject_env *env, uint32_t *off, const char *const *s, uint32_t n,
			uint64_t *va)
{
	for (uint32_t i = 0; i < n; i++) {
		struct scratch_slot rest = {*off, SCRATCH_END(SCRATCH_EXEC_STRINGS) - *off};
		if ((va[i] = ops_put_string(env, rest, s[i])) == 0)
			return false;
		*off += (uint32_t)strlen(s[i]) + 1u;
	}
	va[n] = 0;
	return true;
}

/* argv and envp of the command, built in the scratch area. */
static bool put_command(struct ops_request *req, struct inject_env *env)
{
	uint64_t ptrs[OPS_EXEC_ARGS_MAX + 1], envp[3];
	const char *argv[OPS_EXEC_ARGS_MAX];
	const char *envs[2] = {env_path, env_home};
	uint32_t off = SCRATCH_EXEC_STRINGS_OFF;
	for (uint32_t i = 0; i < req->u.exec.argc; i++)
		argv[i] = req->u.exec.argv[i];
	if (!put_strings(env, &off, argv, req->u.exec.argc, ptrs) ||
	    !put_strings(env, &off, envs, 2, envp))
		return false;
	/* the sigaction and the empty sigset after it, all zero */
	uint8_t zero[SCRATCH_EXEC_SIGACT_SIZE + SCRATCH_EXEC_EMPTYSET_SIZE] = {0};
	return inject_write_user(env, env->scratch + SCRATCH_EXEC_ARGV_OFF, ptrs,
				 (req->u.exec.argc + 1) * 8u) == 0 &&
	       inject_write_user(env, env->scratch + SCRATCH_EXEC_ENVP_OFF, envp, sizeof(envp)) ==
		       0 &&
	       inject_write_user(env, env->scratch + SCRATCH_EXEC_SIGACT_OFF, zero, sizeof(zero)) ==
		       0;
}

/* rt_sigaction(sig, SIG_DFL): the all-zero sigaction the scratch area holds (written by
 * plan(), and again at the helper's start). */
static enum inject_step default_action(struct inject_env *env, uint32_t sig, struct inject_call *c)
{
	*c = INJECT_CALL(LINUX_NR_rt_sigaction, sig, env->scratch + SCRATCH_EXEC_SIGACT_OFF, 0,
			 LINUX_SIGSET_SIZE);
	return INJECT_STEP_CALL;
}

int ops_exec_words(struct ops_request *req, int argc, char *const *argv, char *why, size_t cap)
{
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (req->u.exec.argc >= OPS_EXEC_ARGS_MAX) {
			fmt_snprintf(why, cap, "at most %u command words", OPS_EXEC_ARGS_MAX);
			return -1;
		}
		if (n > OPS_PATH_MAX) {
			fmt_snprintf(why, cap, "command word %d is %zu bytes; at most %u", i + 1, n,
				     OPS_PATH_MAX);
			return -1;
		}
		memcpy(req->u.exec.argv[req->u.exec.argc++], argv[i], n + 1);
	}
	return 0;
}

/* The next execve candidate for argv[0]; false when none is left. */
static bool exe_candidate(struct ops_request *req, struct inject_env *env, uint64_t *va)
{
	char path[OPS_PATH_MAX + 24];
	bool has_slash = false;
	for (const char *p = req->u.exec.argv[0]; *p; p++)
		has_slash |= *p == '/';
	if (has_slash ? req->index > 0 : req->index >= PATH_DIRS)
		return false;
	if (has_slash)
		fmt_snprintf(path, sizeof(path), "%s", req->u.exec.argv[0]);
	else
		fmt_snprintf(path, sizeof(path), "%s/%s", path_dirs[req->index],
			     req->u.exec.argv[0]);
	*va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_EXEPATH), path);
	return *va != 0;
}

static enum inject_step host_next(struct ops_request *req, int64_t result, struct inject_call *c)
{
	switch (req->ph_host++) {
	case HOST_FORK:
		/* clone(flags = exit signal 0, no stack: a fork the parent is not told of) */
		*c = INJECT_CALL(LINUX_NR_clone, 0, 0, 0, 0, 0);
		c->kind = INJECT_CALL_SPAWN;
		return INJECT_STEP_CALL;
	case HOST_REAP:
		if (result < 0)
			return ops_fail(req, "fork in the host task", result);
		req->mid_pid = (int32_t)result;
		*c = INJECT_CALL(LINUX_NR_wait4, (uint64_t)req->mid_pid, 0, LINUX___WALL, 0);
		return INJECT_STEP_CALL;
	default:
		return INJECT_STEP_DONE;
	}
}

static enum inject_step mid_next(struct ops_request *req, int64_t result, struct inject_call *c)
{
	if (req->ph_mid++ == MID_FORK) {
		*c = INJECT_CALL(LINUX_NR_clone, LINUX_SIGCHLD, 0, 0, 0, 0);
		c->kind = INJECT_CALL_SPAWN;
		return INJECT_STEP_CALL;
	}
	return result < 0 ? ops_fail(req, "fork of the helper", result) : INJECT_STEP_DONE;
}

static void keep_output(struct ops_request *req, struct inject_env *env, bool is_err, uint32_t n)
{
	char *buf = is_err ? req->u.exec.err : req->u.exec.out;
	uint32_t *len = is_err ? &req->u.exec.err_len : &req->u.exec.out_len;
	uint32_t room = OPS_EXEC_OUT_MAX - *len;
	uint32_t take = n < room ? n : room;
	if (take > 0 &&
	    inject_read_user(env, env->scratch + SCRATCH_EXEC_OUTPUT_OFF, buf + *len, take) == 0)
		*len += take;
	if (take < n)
		*(is_err ? &req->u.exec.err_cut : &req->u.exec.out_cut) = true;
}

static enum inject_step read_pipe(struct ops_request *req, struct inject_env *env, bool is_err,
				  struct inject_call *c)
{
	*c = INJECT_CALL(LINUX_NR_read, (uint64_t)req->pipe_fd[is_err ? 2 : 0],
			 env->scratch + SCRATCH_EXEC_OUTPUT_OFF, READ_CHUNK);
	return INJECT_STEP_CALL;
}

/* The output loop: read stdout, read stderr, and when neither gave anything, see whether
 * the command has exited, else sleep a little. */
/* The operation ends (aborting): SIGKILL to the command, then its blocking reap (H_KILL).
 * Only while its pid cannot have been reaped already: before the reap of H_KILL, and never
 * with a wait4's result not yet looked at. */
static enum inject_step kill_command(struct ops_request *req, struct inject_call *c)
{
	req->ph_helper = H_KILL;
	*c = INJECT_CALL(LINUX_NR_kill, (uint64_t)req->cmd_pid, LINUX_SIGKILL);
	return INJECT_STEP_CALL;
}

static enum inject_step collect(struct ops_request *req, struct inject_env *env,
				struct inject_call *c)
{
	/* from the output loop, or from the nap between reaps (H_REAP_NAP: its wait4 found
	 * the command still running) */
	if (env->aborting && (req->ph_helper < H_KILL || req->ph_helper == H_REAP_NAP) &&
	    req->cmd_pid > 0 && !req->cmd_exited)
		return kill_command(req, c);
	if (!req->out_eof) {
		req->ph_helper = H_READ_OUT;
		return read_pipe(req, env, false, c);
	}
	if (!req->err_eof) {
		req->ph_helper = H_READ_ERR;
		return read_pipe(req, env, true, c);
	}
	/* Both pipes at end of file: the command (and whatever it left behind) closed them. */
	if (req->cmd_exited)
		return INJECT_STEP_DONE;
	req->ph_helper = H_REAP;
	*c = INJECT_CALL(LINUX_NR_wait4, (uint64_t)req->cmd_pid,
			 env->scratch + SCRATCH_EXEC_STATUS_OFF, LINUX_WNOHANG, 0);
	return INJECT_STEP_CALL;
}

static enum inject_step after_reads(struct ops_request *req, struct inject_env *env,
				    struct inject_call *c)
{
	if (req->progress) {
		req->progress = false;
		return collect(req, env, c); /* there may be more */
	}
	if (req->out_eof && req->err_eof)
		return collect(req, env, c); /* done, or the blocking reap */
	if (req->cmd_exited)
		return INJECT_STEP_DONE; /* exited, its pipes still held open by others */
	req->ph_helper = H_WAIT;
	*c = INJECT_CALL(LINUX_NR_wait4, (uint64_t)req->cmd_pid,
			 env->scratch + SCRATCH_EXEC_STATUS_OFF, LINUX_WNOHANG, 0);
	return INJECT_STEP_CALL;
}

/* ppoll on the pipes not yet at end of file (one at least: after_reads() comes here only
 * then), until one has something to read or hangs up, or POLL_MS passed. Its result does
 * not matter: collect() reads next either way. */
static enum inject_step wait_for_output(struct ops_request *req, struct inject_env *env,
					struct inject_call *c)
{
	struct {
		int32_t fd;
		int16_t events, revents;
	} fds[2];
	uint32_t n = 0;
	if (!req->out_eof)
		fds[n++] = (typeof(fds[0])){req->pipe_fd[0], LINUX_POLLIN, 0};
	if (!req->err_eof)
		fds[n++] = (typeof(fds[0])){req->pipe_fd[2], LINUX_POLLIN, 0};
	uint64_t ts[2] = {0, POLL_MS * 1000000u};
	if (inject_write_user(env, env->scratch + SCRATCH_EXEC_TIMESPEC_OFF, ts, sizeof(ts)) < 0 ||
	    inject_write_user(env, env->scratch + SCRATCH_EXEC_PATH_OFF, fds, n * sizeof(fds[0])) <
		    0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_ppoll, env->scratch + SCRATCH_EXEC_PATH_OFF, n,
			 env->scratch + SCRATCH_EXEC_TIMESPEC_OFF, 0, 8);
	return INJECT_STEP_CALL;
}

static bool read_status(struct ops_request *req, struct inject_env *env)
{
	int32_t st;
	if (inject_read_user(env, env->scratch + SCRATCH_EXEC_STATUS_OFF, &st, 4) < 0)
		return false;
	req->wait_status = st;
	req->cmd_exited = true;
	if (req->cmd_ctx)
		inject_forget(req->cmd_ctx);
	req->cmd_ctx = 0;
	return true;
}

/* What the command's process will get, read from the container's init now (its user
 * namespace, capabilities, no_new_privs, seccomp filters: ops_restrict.h). -1 with
 * op.error when it cannot be known: exec is then refused, never run with less. */
static int plan(struct ops_request *req, struct inject_env *env)
{
	const struct vmi_profile *pr = env->vmi->prof;
	uint32_t tgid = 0;
	memset(&req->confine, 0, sizeof(req->confine));
	req->confine.userns_fd = req->confine.proc_fd = -1;
	req->keep_fd[0] = req->keep_fd[1] = req->keep_fd[2] = -1;
	if (vmi_read_u32(env->vmi, req->ct.init_task + pr->task_tgid, &tgid) < 0 ||
	    tgid != (uint32_t)req->ct.init_pid) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "the container's init (pid %d) is gone", (int)req->ct.init_pid);
		return -1;
	}
	char why[VMI_ERROR_MAX];
	if (vmi_task_restrictions(env->vmi, req->ct.init_task, &req->confine.want, why,
				  sizeof(why)) < 0) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "cannot give the command the container's restrictions: %s", why);
		return -1;
	}
	if (req->confine.want.seccomp_mode == 1u) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "the container runs in strict seccomp mode: nothing can be executed");
		return -1;
	}
	/* the user namespace of the same cred the capabilities came from (a snapshot of the
	 * namespaces older than it could pair a fresh user namespace's full sets with the
	 * host's) */
	uint32_t ct_user = req->confine.want.userns_inum,
		 host_user = env->vmi->host_ns[VMI_NS_USER];
	uint64_t cred = 0;
	if (ct_user == 0 || host_user == 0 ||
	    vmi_read_kptr(env->vmi, env->task + pr->task_real_cred, &cred) < 0 ||
	    vmi_read_kptr(env->vmi, cred + pr->cred_user_ns, &req->confine.host_user_ns) < 0) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "cannot tell the container's user namespace from the host's");
		return -1;
	}
	req->ns_count = ct_user != host_user ? 7u : 6u;
	req->confine.at_once = req->kind == OPS_CP_OUT || req->kind == OPS_CP_IN;
	return 0;
}

/* The inode of namespace file index-1 (fstat's st_ino) must be the namespace the plan was
 * made for: the init's, as introspection saw them (its user namespace read with its
 * capabilities). Another one means the init changed namespaces, or exited and its pid was
 * given to another process, since: refused. */
static int stat_ns(struct ops_request *req, struct inject_env *env, int64_t result)
{
	static const enum vmi_ns kinds[6] = {VMI_NS_IPC,    VMI_NS_UTS, VMI_NS_NET,
					     VMI_NS_CGROUP, VMI_NS_PID, VMI_NS_MNT};
	uint32_t i = req->index - 1u;
	uint64_t ino = 0;
	uint32_t want = i < 6 ? req->ct.ns[kinds[i]] : req->confine.want.userns_inum;
	if (result < 0 ||
	    inject_read_user(env, env->scratch + SCRATCH_EXEC_OUTPUT_OFF + 8u, &ino, 8) < 0) {
		ops_fail(req, "fstat of a namespace", result < 0 ? result : -LINUX_EINVAL);
		return -1;
	}
	if (want == 0 || ino != want) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "the container's init (pid %d) is not in the %s namespace it was in "
			     "(%llu, now %llu): it changed, or exited; nothing was run",
			     (int)req->ct.init_pid, ns_files[i], (unsigned long long)want,
			     (unsigned long long)ino);
		return -1;
	}
	return 0;
}

/* openat(/proc/<init>/NAME) in the host's /proc, read-only */
static enum inject_step open_init_file(struct ops_request *req, struct inject_env *env,
				       const char *name, struct inject_call *c)
{
	char path[64];
	fmt_snprintf(path, sizeof(path), "/proc/%d/%s", (int)req->ct.init_pid, name);
	uint64_t va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_PATH), path);
	if (va == 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
			 LINUX_O_RDONLY | LINUX_O_CLOEXEC);
	return INJECT_STEP_CALL;
}

static enum inject_step helper_next(struct ops_request *req, struct inject_env *env, int64_t result,
				    struct inject_call *c);

/* madvise(scratch, its size, MADV_POPULATE_WRITE) (Linux 5.14): a fork does not copy the
 * page-table entries of a shared mapping, so a process the operation forked has none for
 * the scratch pages it has not touched yet, and the monitor, which writes through the
 * process's own page tables, could not reach them. */
static enum inject_step populate(struct inject_env *env, struct inject_call *c)
{
	*c = INJECT_CALL(LINUX_NR_madvise, env->scratch, INJECT_SCRATCH_SIZE,
			 LINUX_MADV_POPULATE_WRITE);
	return INJECT_STEP_CALL;
}

/* The host's files the command's process needs, opened before the helper leaves the host's
 * mount namespace (a container's own /dev/null or /proc could be anything): /proc (for
 * attr/exec, only with a label to give), then /dev/null. */
static enum inject_step open_host_files(struct ops_request *req, struct inject_env *env,
					struct inject_call *c)
{
	/* exec's command needs the host's /proc anyway (its oom_score_adj) */
	bool cp = req->kind == OPS_CP_OUT || req->kind == OPS_CP_IN;
	bool proc = (!cp || req->confine.label[0] != '\0') && req->confine.proc_fd < 0;
	if (!proc && cp) {
		req->ph_helper = H_OPEN_PROCS; /* cp's helper runs no command: no stdin to give */
		return helper_next(req, env, 0, c);
	}
	req->ph_helper = proc ? H_OPEN_PROC : H_OPEN_NULL;
	uint64_t va =
		ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_PATH), proc ? "/proc" : "/dev/null");
	if (va == 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
			 proc ? LINUX_O_PATH | LINUX_O_DIRECTORY | LINUX_O_CLOEXEC
			      : LINUX_O_RDONLY | LINUX_O_CLOEXEC);
	return INJECT_STEP_CALL;
}

/* cp: the helper, inside the container's namespaces and cgroup, takes its restrictions, then
 * does the file work (ops_cp.c) and exits. */
static enum inject_step cp_next(struct ops_request *req, struct inject_env *env, int64_t result,
				struct inject_call *c)
{
	if (env->aborting)
		return INJECT_STEP_FAIL;
	if (req->ph_helper == H_CP_RESTRICT) {
		enum inject_step s = ops_restrict_next(req, &req->confine, env, result, c);
		if (s != INJECT_STEP_DONE)
			return s;
		/* nothing of the hijacked host task's (its fds came down the forks) nor the host
		 * /proc is left for a path through /proc/self/fd to walk into */
		req->ph_helper = H_CP_CLOSE;
		*c = INJECT_CALL(LINUX_NR_close_range, 0, 0xFFFFFFFFu, 0);
		return INJECT_STEP_CALL;
	}
	if (req->ph_helper == H_CP_CLOSE) {
		if (result < 0)
			return ops_fail(req, "close_range", result);
		req->ph_helper = H_CP_FILE;
		req->phase = 0;
		result = 0;
	}
	return ops_cp_file_next(req, env, result, c);
}

_Static_assert(LINUX_TERMIOS_SIZE <= SCRATCH_OPS_VALUE_SIZE, "struct termios fits its slot");

/* A helper's first calls (the resident one's, and exec's or cp's in the container): it lets
 * go of the descriptors of the host task it was forked from (the forks copied them: a
 * shell's $(...) never ends while a copy of its pipe's write end is open), and /dev/null
 * becomes its 0, 1 and 2, so a pipe it makes for a command is never one of them (dup2 onto
 * the same number would keep its close-on-exec, and the command lose its output). */
static enum inject_step shed_start(struct ops_request *req, struct inject_call *c)
{
	req->ph_helper = H_SHED_FDS;
	*c = INJECT_CALL(LINUX_NR_close_range, 0, 0xFFFFFFFFu, 0);
	return INJECT_STEP_CALL;
}

/* The result of each of shed_start's calls, then the next; INJECT_STEP_DONE after the
 * last. */
static enum inject_step shed_next(struct ops_request *req, struct inject_env *env, int64_t result,
				  struct inject_call *c)
{
	uint64_t path;
	switch (req->ph_helper) {
	case H_SHED_FDS:
		if (result < 0)
			return ops_fail(req, "close_range in the helper", result);
		if ((path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_PATH), "/dev/null")) == 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_NULL_IN;
		*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, path,
				 LINUX_O_RDWR, 0);
		return INJECT_STEP_CALL;
	case H_NULL_IN:
	case H_NULL_OUT:
		if (result != (req->ph_helper == H_NULL_IN ? 0 : 1))
			return ops_fail(req, "/dev/null as the helper's fd 0 to 2",
					result < 0 ? result : -LINUX_EBADF);
		*c = INJECT_CALL(LINUX_NR_dup2, 0, req->ph_helper == H_NULL_IN ? 1 : 2);
		req->ph_helper++;
		return INJECT_STEP_CALL;
	default: /* H_NULL_ERR */
		if (result != 2)
			return ops_fail(req, "/dev/null as the helper's fd 2",
					result < 0 ? result : -LINUX_EBADF);
		return INJECT_STEP_DONE;
	}
}

/* `helper start`: this process, adopted by init, first lets go of all it has of the host
 * task it was forked from, since it may live as long as the guest: its descriptors (a
 * shell's $(...) never ends while a copy of its pipe's write end is open: the lab's /init
 * hung so when the helper was forked from a command it was reading), its session and
 * process group (a hang-up or a job-control signal meant for them), its directory (a
 * mount kept busy). Then it opens the wake port's tty (when there is one:
 * platform/wake_port.h) and parks as the resident helper, blocked in reads of it
 * (inject/engine_helper.c); without it, it naps. */
static enum inject_step resident_next(struct ops_request *req, struct inject_env *env,
				      int64_t result, struct inject_call *c)
{
	uint64_t path;
	enum inject_step s;
	switch (req->ph_helper) {
	case H_START:
		return shed_start(req, c);
	case H_SHED_FDS:
	case H_NULL_IN:
	case H_NULL_OUT:
	case H_NULL_ERR:
		if ((s = shed_next(req, env, result, c)) != INJECT_STEP_DONE)
			return s;
		req->ph_helper = H_SHED_SESSION;
		*c = INJECT_CALL(LINUX_NR_setsid, 0);
		return INJECT_STEP_CALL;
	case H_SHED_SESSION:
		if (result < 0)
			return ops_fail(req, "setsid in the helper", result);
		if ((path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_OPS_PATH), "/")) == 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_SHED_CWD;
		*c = INJECT_CALL(LINUX_NR_chdir, path);
		return INJECT_STEP_CALL;
	case H_SHED_CWD: {
		if (result < 0)
			return ops_fail(req, "chdir(\"/\") in the helper", result);
		/* the host task's blocked mask (the engine's: all) and its SIGTERM disposition
		 * came with the fork: a shutdown would wait for its SIGKILL */
		uint64_t zero[4] = {0};
		if (inject_write_user(env, env->scratch + SCRATCH_EXEC_SIGACT_OFF, zero,
				      sizeof(zero)) < 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_TERM_DFL;
		return default_action(env, LINUX_SIGTERM, c);
	}
	case H_TERM_DFL: {
		if (result < 0)
			return ops_fail(req, "rt_sigaction(SIGTERM) in the helper", result);
		uint64_t term = 1ull << (LINUX_SIGTERM - 1u);
		if (inject_write_user(env, env->scratch + SCRATCH_OPS_VALUE_OFF, &term, 8) < 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_TERM_UNBLOCK;
		*c = INJECT_CALL(LINUX_NR_rt_sigprocmask, LINUX_SIG_UNBLOCK,
				 env->scratch + SCRATCH_OPS_VALUE_OFF, 0, LINUX_SIGSET_SIZE);
		return INJECT_STEP_CALL;
	}
	case H_TERM_UNBLOCK: {
		if (result < 0)
			return ops_fail(req, "rt_sigprocmask(SIGTERM) in the helper", result);
		const char *dev = wake_port_device();
		path = dev ? ops_put_string(env, SCRATCH_SLOT(SCRATCH_OPS_PATH), dev) : 0;
		req->op.helper_wake_fd = -1;
		if (path == 0)
			return INJECT_STEP_PARK;
		req->ph_helper = H_WAKE_OPEN;
		*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, path,
				 LINUX_O_RDONLY | LINUX_O_NOCTTY | LINUX_O_CLOEXEC, 0);
		return INJECT_STEP_CALL;
	}
	case H_WAKE_OPEN:
		/* a failure leaves -1: it naps (the engine says so when it parks) */
		if (result < 0 || result > INT32_MAX)
			return INJECT_STEP_PARK;
		req->op.helper_wake_fd = (int32_t)result;
		req->ph_helper = H_WAKE_EXCL;
		*c = INJECT_CALL(LINUX_NR_ioctl, (uint64_t)result, LINUX_TIOCEXCL, 0);
		return INJECT_STEP_CALL;
	case H_WAKE_EXCL: {
		/* whatever TIOCEXCL said (a guest that reopens it only delays a wake): raw */
		uint8_t tio[LINUX_TERMIOS_SIZE] = {0};
		uint32_t cflag = LINUX_CFLAG_RAW;
		memcpy(tio + 8, &cflag, 4); /* c_cflag; c_iflag, c_oflag, c_lflag 0 */
		tio[LINUX_TERMIOS_CC + LINUX_VMIN] = 1;
		tio[LINUX_TERMIOS_CC + LINUX_VTIME] = 0;
		if (inject_write_user(env, env->scratch + SCRATCH_OPS_VALUE_OFF, tio, sizeof(tio)) <
		    0)
			return INJECT_STEP_PARK;
		req->ph_helper = H_WAKE_RAW;
		*c = INJECT_CALL(LINUX_NR_ioctl, (uint64_t)req->op.helper_wake_fd, LINUX_TCSETS,
				 env->scratch + SCRATCH_OPS_VALUE_OFF);
		return INJECT_STEP_CALL;
	}
	default:
		return INJECT_STEP_PARK; /* raw or not, it blocks in its reads */
	}
}

static enum inject_step helper_step(struct ops_request *req, struct inject_env *env, int64_t result,
				    struct inject_call *c)
{
	switch (req->ph_helper) {
	case H_START:
		req->helper_pid = env->tgid;
		if (plan(req, env) < 0)
			return INJECT_STEP_FAIL;
		return shed_start(req, c);
	case H_SHED_FDS:
	case H_NULL_IN:
	case H_NULL_OUT:
	case H_NULL_ERR: {
		enum inject_step s = shed_next(req, env, result, c);
		if (s != INJECT_STEP_DONE)
			return s;
		req->ph_helper = H_POPULATE;
		return populate(env, c);
	}
	case H_POPULATE:
		if (result < 0)
			return ops_fail(req, "madvise(MADV_POPULATE_WRITE) of the scratch area",
					result);
		/* not dumpable from here on, and so the command's process from its fork: a
		 * container root with its ids and capabilities cannot ptrace either */
		req->ph_helper = H_NODUMP;
		*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_SET_DUMPABLE, 0);
		return INJECT_STEP_CALL;
	case H_NODUMP: {
		if (result < 0)
			return ops_fail(req, "prctl(PR_SET_DUMPABLE)", result);
		uint64_t alrm = 1ull << (LINUX_SIGALRM - 1u), zero[4] = {0};
		if (inject_write_user(env, env->scratch + SCRATCH_EXEC_SIGACT_OFF, zero,
				      sizeof(zero)) < 0 ||
		    inject_write_user(env, env->scratch + SCRATCH_EXEC_ALRMSET_OFF, &alrm, 8) < 0)
			return ops_fail(req, "writing the helper's scratch area", -LINUX_EFAULT);
		req->ph_helper = H_CHILD_DFL;
		return default_action(env, LINUX_SIGALRM, c);
	}
	case H_CHILD_DFL:
		if (result < 0)
			return ops_fail(req, "rt_sigaction(SIGALRM)", result);
		req->ph_helper = H_ALARM_MASK;
		return default_action(env, LINUX_SIGCHLD, c);
	case H_ALARM_MASK:
		if (result < 0)
			return ops_fail(req, "rt_sigaction(SIGCHLD)", result);
		req->ph_helper = H_ALARM;
		*c = INJECT_CALL(LINUX_NR_rt_sigprocmask, LINUX_SIG_UNBLOCK,
				 env->scratch + SCRATCH_EXEC_ALRMSET_OFF, 0, LINUX_SIGSET_SIZE);
		return INJECT_STEP_CALL;
	case H_ALARM:
		if (result < 0)
			return ops_fail(req, "rt_sigprocmask(SIGALRM)", result);
		/* The helper's own deadline, in its kernel: past the operation's timeout and half
		 * the engine's grace for cleanups, SIGALRM (default action: the process ends,
		 * turned into SIGKILL, so even a killable wait ends) takes it out of whatever call
		 * holds it, before the engine would give it up for lost. */
		req->ph_helper = H_OPEN_NS;
		req->index = 0;
		*c = INJECT_CALL(LINUX_NR_alarm,
				 (req->op.timeout_ms + INJECT_CLEANUP_GRACE_MS / 2u) / 1000u + 1u);
		return INJECT_STEP_CALL;
	case H_OPEN_NS:
		if (req->index == 0 && result < 0)
			return ops_fail(req, "alarm", result);
		if (req->index > 0) {
			if (result < 0)
				return ops_fail(req, "cannot open the container's namespaces",
						result);
			req->ns_fd[req->index - 1] = result;
			/* fstat: the namespace opened must be the one the plan was made for */
			req->ph_helper = H_STAT_NS;
			*c = INJECT_CALL(LINUX_NR_fstat, (uint64_t)result,
					 env->scratch + SCRATCH_EXEC_OUTPUT_OFF);
			return INJECT_STEP_CALL;
		}
		/* fall through */
	case H_STAT_NS:
		if (req->index > 0 && stat_ns(req, env, result) < 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_OPEN_NS;
		if (req->index < req->ns_count) {
			enum inject_step s = open_ns(req, env, c);
			req->index++;
			return s;
		}
		if (req->ns_count == 7u)
			req->keep_fd[0] = req->confine.userns_fd = (int32_t)req->ns_fd[6];
		req->ph_helper = H_OPEN_LABEL;
		return open_init_file(req, env, "attr/current", c);
	case H_OPEN_LABEL:
		/* no LSM with a label for it: none to give (ENOENT: the init is gone) */
		if (result == -LINUX_EINVAL)
			return open_host_files(req, env, c);
		if (result < 0)
			return ops_fail(req, "cannot read the container's LSM label", result);
		req->fd = result;
		req->ph_helper = H_READ_LABEL;
		*c = INJECT_CALL(LINUX_NR_read, (uint64_t)result,
				 env->scratch + SCRATCH_EXEC_OUTPUT_OFF, OPS_LABEL_MAX + 16u);
		return INJECT_STEP_CALL;
	case H_READ_LABEL:
		req->ph_helper = H_CLOSE_LABEL;
		req->index = result == -LINUX_EINVAL ? 0 : (uint32_t)result;
		if (result < 0 && result != -LINUX_EINVAL)
			ops_fail(req, "cannot read the container's LSM label", result);
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd);
		return INJECT_STEP_CALL;
	case H_CLOSE_LABEL: {
		char text[OPS_LABEL_MAX + 16u];
		if (req->op.error[0])
			return INJECT_STEP_FAIL;
		if (req->index > sizeof(text) ||
		    inject_read_user(env, env->scratch + SCRATCH_EXEC_OUTPUT_OFF, text,
				     req->index) < 0 ||
		    ops_restrict_label(&req->confine, text, req->index, req->op.error,
				       sizeof(req->op.error)) < 0)
			return INJECT_STEP_FAIL;
		return open_host_files(req, env, c);
	}
	case H_OPEN_PROC:
		if (result < 0)
			return ops_fail(req, "cannot open the host's /proc", result);
		req->keep_fd[2] = req->confine.proc_fd = (int32_t)result;
		return open_host_files(req, env, c);
	case H_OPEN_NULL:
		if (result < 0)
			return ops_fail(req, "cannot open the host's /dev/null", result);
		req->keep_fd[1] = (int32_t)result;
		req->ph_helper = H_OPEN_PROCS;
		/* fall through */
	case H_OPEN_PROCS: {
		char path[VMI_PATH_MAX + 48];
		fmt_snprintf(path, sizeof(path), "%s%s/cgroup.procs", CGROUP_MOUNT, req->ct.cgroup);
		uint64_t va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_PATH), path);
		if (va == 0 || ops_put_string(env, SCRATCH_SLOT(SCRATCH_EXEC_ZERO), "0") == 0)
			return INJECT_STEP_FAIL;
		req->ph_helper = H_WRITE_PROCS;
		*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
				 LINUX_O_WRONLY | LINUX_O_CLOEXEC);
		return INJECT_STEP_CALL;
	}
	case H_WRITE_PROCS:
		if (result < 0)
			return ops_fail(req, "cannot open the container's cgroup.procs", result);
		req->pipe_fd[0] = (int32_t)result; /* borrowed until H_CLOSE_PROCS */
		req->ph_helper = H_CLOSE_PROCS;
		/* "0" is the writer itself (kernel/cgroup/cgroup.c, cgroup_procs_write_start) */
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)result,
				 env->scratch + SCRATCH_EXEC_ZERO_OFF, 1);
		return INJECT_STEP_CALL;
	case H_CLOSE_PROCS:
		if (result != 1)
			ops_fail(req, "cannot join the container's cgroup",
				 result < 0 ? result : -LINUX_EINVAL);
		req->ph_helper = H_SETNS;
		req->index = 0;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->pipe_fd[0]);
		return INJECT_STEP_CALL;
	case H_SETNS:
		if (req->op.error[0])
			return INJECT_STEP_FAIL;
		if (req->index > 0 && result < 0) {
			char what[48];
			fmt_snprintf(what, sizeof(what), "setns %s", ns_files[req->index - 1]);
			return ops_fail(req, what, result);
		}
		if (req->index < 6) {
			*c = INJECT_CALL(LINUX_NR_setns, (uint64_t)req->ns_fd[req->index], 0);
			req->index++;
			return INJECT_STEP_CALL;
		}
		req->ph_helper = H_CLOSE_NS;
		req->index = 0;
		/* fall through */
	case H_CLOSE_NS:
		if (req->index < 6) {
			*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->ns_fd[req->index]);
			req->index++;
			return INJECT_STEP_CALL;
		}
		if (req->kind == OPS_CP_OUT || req->kind == OPS_CP_IN) {
			req->ph_helper = H_CP_RESTRICT;
			return cp_next(req, env, result, c);
		}
		req->ph_helper = H_PIPE_OUT;
		*c = INJECT_CALL(LINUX_NR_pipe2, env->scratch + SCRATCH_EXEC_PIPES_OFF,
				 LINUX_O_CLOEXEC);
		return INJECT_STEP_CALL;
	case H_PIPE_OUT:
		if (result < 0)
			return ops_fail(req, "pipe2", result);
		req->ph_helper = H_PIPE_ERR;
		*c = INJECT_CALL(LINUX_NR_pipe2, env->scratch + SCRATCH_EXEC_PIPES_OFF + 8u,
				 LINUX_O_CLOEXEC);
		return INJECT_STEP_CALL;
	case H_PIPE_ERR:
		if (result < 0 || inject_read_user(env, env->scratch + SCRATCH_EXEC_PIPES_OFF,
						   req->pipe_fd, sizeof(req->pipe_fd)) < 0)
			return ops_fail(req, "pipe2", result < 0 ? result : -LINUX_EINVAL);
		if (!put_command(req, env)) {
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "the command is too long");
			return INJECT_STEP_FAIL;
		}
		req->ph_helper = H_FORK;
		*c = INJECT_CALL(LINUX_NR_clone, LINUX_SIGCHLD, 0, 0, 0, 0);
		c->kind = INJECT_CALL_SPAWN;
		return INJECT_STEP_CALL;
	case H_FORK:
		if (result <= 0 || result > INT32_MAX) /* no pid the kernel gives */
			return ops_fail(req, "fork of the command's process",
					result < 0 ? result : -LINUX_EINVAL);
		req->cmd_pid = (int32_t)result;
		req->ph_helper = H_CLOSE_W;
		req->index = 0;
		/* fall through */
	case H_CLOSE_W: {
		/* the pipes' write ends and what only the command's process needed */
		int32_t fds[5] = {req->pipe_fd[1], req->pipe_fd[3], req->keep_fd[0],
				  req->keep_fd[1], req->keep_fd[2]};
		while (req->index < 5 && fds[req->index] < 0)
			req->index++;
		if (req->index < 5) {
			*c = INJECT_CALL(LINUX_NR_close, (uint64_t)fds[req->index]);
			req->index++;
			return INJECT_STEP_CALL;
		}
		req->ph_helper = H_NONBLOCK;
		req->index = 0;
	}
		/* fall through */
	case H_NONBLOCK:
		if (req->index < 2) {
			*c = INJECT_CALL(LINUX_NR_fcntl, (uint64_t)req->pipe_fd[2 * req->index],
					 LINUX_F_SETFL, LINUX_O_NONBLOCK);
			req->index++;
			return INJECT_STEP_CALL;
		}
		return collect(req, env, c);
	case H_READ_OUT:
	case H_READ_ERR: {
		bool is_err = req->ph_helper == H_READ_ERR;
		if (result > 0) {
			keep_output(req, env, is_err, (uint32_t)result);
			req->progress = true;
		} else if (result == 0) {
			*(is_err ? &req->err_eof : &req->out_eof) = true;
		}
		if (!is_err && !req->err_eof) {
			req->ph_helper = H_READ_ERR;
			return read_pipe(req, env, true, c);
		}
		return after_reads(req, env, c);
	}
	case H_WAIT:
		if (result == req->cmd_pid && !read_status(req, env))
			return INJECT_STEP_FAIL;
		if (result == req->cmd_pid)
			return collect(req, env, c); /* a last drain of the pipes */
		req->ph_helper = H_SLEEP;
		return wait_for_output(req, env, c);
	case H_SLEEP:
		return collect(req, env, c);
	case H_KILL:
		req->ph_helper = H_REAP;
		*c = INJECT_CALL(LINUX_NR_wait4, (uint64_t)req->cmd_pid,
				 env->scratch + SCRATCH_EXEC_STATUS_OFF, 0, 0);
		return INJECT_STEP_CALL;
	case H_REAP:
		if (result == req->cmd_pid) {
			read_status(req, env);
			return req->op.error[0] || env->aborting ? INJECT_STEP_FAIL
								 : INJECT_STEP_DONE;
		}
		if (result < 0)
			return ops_fail(req, "wait4", result);
		/* still running, its pipes closed: a nap, then collect() again (which kills it
		 * once the operation is aborting) */
		req->ph_helper = H_REAP_NAP;
		return inject_sleep_call(env, SCRATCH_EXEC_TIMESPEC_OFF, POLL_MS, c);
	case H_REAP_NAP:
		return collect(req, env, c);
	default: /* H_CP_RESTRICT, H_CP_CLOSE, H_CP_FILE */
		return cp_next(req, env, result, c);
	}
}

/* The helper's next call. Once the command's process exists, an operation that ends
 * (aborting: its timeout, a task lost) kills and reaps it before the helper ends, so
 * nothing it started is left running in the container. The fork's own return counts: the
 * command's process may have run as far as its execve before its parent came back. */
static enum inject_step helper_next(struct ops_request *req, struct inject_env *env, int64_t result,
				    struct inject_call *c)
{
	if (req->ph_helper == H_FORK && result > 0 && result <= INT32_MAX)
		req->cmd_pid = (int32_t)result;
	if (env->aborting && req->cmd_pid == 0)
		return INJECT_STEP_FAIL; /* nothing started in the container yet */
	if (env->aborting && req->cmd_pid > 0 && req->ph_helper >= H_FORK &&
	    req->ph_helper <= H_NONBLOCK)
		return kill_command(req, c); /* its pipes need no more set-up */
	return helper_step(req, env, result, c);
}

static enum inject_step cmd_next(struct ops_request *req, struct inject_env *env, int64_t result,
				 struct inject_call *c)
{
	if (env->aborting && req->ph_cmd < C_EXIT) {
		req->ph_cmd = C_EXIT;
		*c = INJECT_CALL(LINUX_NR_exit_group, 126);
		c->kind = INJECT_CALL_FINAL;
		return INJECT_STEP_CALL;
	}
	switch (req->ph_cmd) {
	case C_POPULATE:
		req->cmd_ctx = env->ctx;
		req->ph_cmd = C_PDEATHSIG;
		return populate(env, c);
	case C_PDEATHSIG:
		if (result < 0)
			return ops_fail(req, "madvise(MADV_POPULATE_WRITE) of the scratch area",
					result);
		/* The kernel's own backstop: the helper never leaves the command behind (it
		 * kills and reaps it at the operation's end), but a helper ended from outside
		 * (its alarm, a SIGKILL) takes the command with it. Kept across the execve (no
		 * set-id file: no_new_privs), but not across the change to a user namespace's
		 * ids the restrictions make later (kernel/cred.c commit_creds clears it when
		 * the effective or fs ids change): a gap for such containers. */
		req->ph_cmd = C_PARENT;
		*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_SET_PDEATHSIG, LINUX_SIGKILL, 0, 0, 0);
		return INJECT_STEP_CALL;
	case C_PARENT:
		if (result < 0)
			return ops_fail(req, "prctl(PR_SET_PDEATHSIG)", result);
		req->ph_cmd = C_DUP_OUT;
		*c = INJECT_CALL(LINUX_NR_getppid);
		return INJECT_STEP_CALL;
	case C_DUP_OUT:
		/* 0: a parent outside the container's pid namespace (the helper, but an
		 * orphan's new reaper too: there this tells nothing); else, in a container
		 * sharing the host's pids, it must be the helper's pid */
		if (result != 0 && result != req->helper_pid) {
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "the helper ended before the command started");
			return INJECT_STEP_FAIL;
		}
		req->ph_cmd = C_DUP_ERR;
		*c = INJECT_CALL(LINUX_NR_dup2, (uint64_t)req->pipe_fd[1], 1);
		return INJECT_STEP_CALL;
	case C_DUP_ERR:
		req->ph_cmd = C_DUP_IN;
		*c = INJECT_CALL(LINUX_NR_dup2, (uint64_t)req->pipe_fd[3], 2);
		return INJECT_STEP_CALL;
	case C_DUP_IN:
		req->ph_cmd = C_SIGNALS;
		req->index = 0;
		*c = INJECT_CALL(LINUX_NR_dup2, (uint64_t)req->keep_fd[1], 0);
		return INJECT_STEP_CALL;
	case C_SIGNALS:
		req->index = next_signal(req->index);
		if (req->index < 32u)
			return default_action(env, req->index, c);
		req->ph_cmd = C_MASK;
		*c = INJECT_CALL(LINUX_NR_rt_sigprocmask, LINUX_SIG_SETMASK,
				 env->scratch + SCRATCH_EXEC_EMPTYSET_OFF, 0, LINUX_SIGSET_SIZE);
		return INJECT_STEP_CALL;
	case C_MASK:
		req->ph_cmd = C_SETGROUPS;
		*c = INJECT_CALL(LINUX_NR_setgroups, 0, 0);
		return INJECT_STEP_CALL;
	case C_SETGROUPS:
		if (result < 0)
			return ops_fail(req, "setgroups", result);
		/* Nothing of the hijacked host task's that crun exec would not give: its
		 * scheduling policy, nice value, session keyring and OOM score (a daemon at
		 * SCHED_FIFO or oom_score_adj -1000) stay behind */
		req->ph_cmd = C_SCHED;
		*c = INJECT_CALL(LINUX_NR_sched_setscheduler, 0, LINUX_SCHED_OTHER,
				 env->scratch + SCRATCH_EXEC_EMPTYSET_OFF);
		return INJECT_STEP_CALL;
	case C_SCHED:
		if (result < 0)
			return ops_fail(req, "sched_setscheduler(SCHED_OTHER)", result);
		req->ph_cmd = C_NICE;
		*c = INJECT_CALL(LINUX_NR_setpriority, LINUX_PRIO_PROCESS, 0, 0);
		return INJECT_STEP_CALL;
	case C_NICE:
		if (result < 0)
			return ops_fail(req, "setpriority", result);
		req->ph_cmd = C_KEYRING;
		*c = INJECT_CALL(LINUX_NR_keyctl, LINUX_KEYCTL_JOIN_SESSION_KEYRING, 0);
		return INJECT_STEP_CALL;
	case C_KEYRING: {
		if (result < 0)
			return ops_fail(req, "a session keyring of its own", result);
		req->ph_cmd = C_OOM_OPEN;
		uint64_t path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_RESTRICT_PATH),
					       "thread-self/oom_score_adj");
		if (path == 0)
			return INJECT_STEP_FAIL;
		*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)req->keep_fd[2], path,
				 LINUX_O_WRONLY | LINUX_O_CLOEXEC);
		return INJECT_STEP_CALL;
	}
	case C_OOM_OPEN:
		if (result < 0)
			return ops_fail(req, "opening oom_score_adj", result);
		req->fd = result;
		req->ph_cmd = C_OOM_WRITE;
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)result,
				 env->scratch + SCRATCH_EXEC_ZERO_OFF, 1);
		return INJECT_STEP_CALL;
	case C_OOM_WRITE:
		if (result != 1)
			return ops_fail(req, "oom_score_adj", result < 0 ? result : -LINUX_EINVAL);
		req->ph_cmd = C_OOM_CLOSE;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd);
		return INJECT_STEP_CALL;
	case C_OOM_CLOSE:
		req->ph_cmd = C_CLOSE_FDS;
		/* close_range(3, ~0, CLOSE_RANGE_CLOEXEC): nothing of the host task's but 0-2
		 * reaches the command (Linux 5.11, fs/file.c). Marked, not closed, so that the
		 * restrictions can still use the helper's fds; and before them, as a container's
		 * seccomp filter may refuse close_range. */
		*c = INJECT_CALL(LINUX_NR_close_range, 3, 0xFFFFFFFFu, LINUX_CLOSE_RANGE_CLOEXEC);
		return INJECT_STEP_CALL;
	case C_CLOSE_FDS:
		if (result < 0)
			return ops_fail(req, "close_range", result);
		req->ph_cmd = C_RESTRICT;
		/* fall through */
	case C_RESTRICT: {
		enum inject_step s = ops_restrict_next(req, &req->confine, env, result, c);
		if (s != INJECT_STEP_DONE)
			return s; /* a call, or a failure: the process exits, nothing ran */
		req->ph_cmd = C_EXEC;
		req->index = 0;
	}
		/* fall through */
	default: { /* C_EXEC: each PATH candidate until one exists */
		uint64_t path;
		/* A successful execve never returns here (the process image is the command's
		 * now), so only failed candidates come back; nothing is reported until the
		 * walk gives up. execvp's rule (glibc posix/execvpe.c): ENOENT and ENOTDIR
		 * go on to the next directory, EACCES goes on but is what is reported if
		 * nothing else works, any other error stops the walk. */
		if (req->index > 0 &&
		    (req->exec_try_errno != -LINUX_EACCES || result == -LINUX_EACCES))
			req->exec_try_errno = result;
		bool go_on = req->index == 0 || result == -LINUX_ENOENT ||
			     result == -LINUX_ENOTDIR || result == -LINUX_EACCES;
		if (go_on && exe_candidate(req, env, &path)) {
			req->index++;
			*c = INJECT_CALL(LINUX_NR_execve, path,
					 env->scratch + SCRATCH_EXEC_ARGV_OFF,
					 env->scratch + SCRATCH_EXEC_ENVP_OFF);
			c->kind = INJECT_CALL_EXEC;
			return INJECT_STEP_CALL;
		}
		/* No candidate was started: the command was not found (127) or could not be
		 * executed (126), as a shell reports it. */
		req->exec_errno = req->exec_try_errno;
		req->ph_cmd = C_EXIT;
		*c = INJECT_CALL(LINUX_NR_exit_group, req->exec_errno == -LINUX_ENOENT ? 127 : 126);
		c->kind = INJECT_CALL_FINAL;
		return INJECT_STEP_CALL;
	}
	}
}

enum inject_step ops_exec_next(struct inject_op *op, struct inject_env *env, int64_t result,
			       struct inject_call *c)
{
	struct ops_request *req = (struct ops_request *)op;
	/* Each process is known by the fork that made it: host -> mid -> helper -> cmd. */
	if (env->ctx == 0)
		req->role[0] = OPS_ROLE_HOST;
	else if (env->first)
		req->role[env->ctx] = req->next_role;
	enum inject_step s;
	switch (req->role[env->ctx]) {
	case OPS_ROLE_HOST:
		s = host_next(req, result, c);
		break;
	case OPS_ROLE_MID:
		s = mid_next(req, result, c);
		break;
	case OPS_ROLE_HELPER:
		s = req->kind == OPS_HELPER ? resident_next(req, env, result, c)
					    : helper_next(req, env, result, c);
		break;
	default:
		s = cmd_next(req, env, result, c);
		break;
	}
	if (s == INJECT_STEP_CALL && c->kind == INJECT_CALL_SPAWN)
		req->next_role = req->role[env->ctx] + 1u;
	return s;
}
