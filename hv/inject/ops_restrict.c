/* SPDX-License-Identifier: MIT */
/* The container's restrictions for a process exec or cp starts in it: inject/ops_restrict.h */
#include "inject/ops_restrict.h"

#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum {
	R_DUMPABLE,
	R_USERNS,
	R_LABEL_OPEN,
	R_LABEL_WRITE,
	R_LABEL_CLOSE,
	R_SECCOMP_EARLY, /* index: filters installed */
	R_BSET,          /* index: the next capability to look at */
	R_SETGID,
	R_SETUID,
	R_CAPSET,
	R_AMBIENT, /* index: the next capability to look at */
	R_NODUMP,  /* again: a change of ids can make it dumpable (fs.suid_dumpable) */
	R_NNP,
	R_SECCOMP_LATE, /* index: filters installed */
	R_DONE,
};

#define CAP_BITS 64u /* kernel_cap_t: 64 bits (CAP_LAST_CAP is 40 in 6.1) */

int ops_restrict_label(struct ops_restrict *rs, const char *text, size_t n, char *why, size_t cap)
{
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\0'))
		n--;
	rs->label[0] = '\0';
	if (n == 0 || (n == 10 && memcmp(text, "unconfined", 10) == 0))
		return 0;
	/* AppArmor: "NAME (enforce)", "(complain)", "(kill)", ... (security/apparmor/procattr.c) */
	size_t name = n;
	while (name > 0 && text[name - 1] != '(')
		name--;
	if (text[n - 1] != ')' || name < 3 || text[name - 2] != ' ') {
		fmt_snprintf(why, cap, "the container's LSM label \"%.40s\" is not AppArmor's",
			     text);
		return -1;
	}
	name -= 2;
	if (name > OPS_LABEL_MAX) {
		fmt_snprintf(why, cap, "the container's AppArmor profile name is %zu bytes", name);
		return -1;
	}
	for (size_t i = 0; i < name; i++)
		if ((unsigned char)text[i] < 0x21 || (unsigned char)text[i] > 0x7e) {
			fmt_snprintf(why, cap, "the container's AppArmor profile name has byte %#x",
				     (unsigned)(unsigned char)text[i]);
			return -1;
		}
	memcpy(rs->label, text, name);
	rs->label[name] = '\0';
	return 0;
}

/* "exec NAME" or "changeprofile NAME": its length */
static size_t label_command_len(const struct ops_restrict *rs)
{
	return strlen(rs->label) + (rs->at_once ? 14u : 5u);
}

/* The next capability from `from` whose bit in `set` is `bit`, or CAP_BITS. */
static uint32_t next_cap(uint64_t set, uint32_t from, bool bit)
{
	while (from < CAP_BITS && (((set >> from) & 1u) != 0) != bit)
		from++;
	return from;
}

/* Filter number rs->index (oldest first: the chain is newest first) into the scratch area,
 * and the seccomp call that installs it. */
static enum inject_step install_filter(struct ops_request *req, struct ops_restrict *rs,
				       struct inject_env *env, struct inject_call *c)
{
	const struct vmi_seccomp_filter *f = &rs->want.filter[rs->want.filters - 1u - rs->index];
	uint64_t dst = env->scratch + SCRATCH_RESTRICT_INSNS_OFF;
	uint8_t chunk[512];
	uint32_t bytes = f->len * 8u; /* struct sock_filter: u16 code, u8 jt, jf, u32 k */
	_Static_assert(VMI_SECCOMP_INSNS_MAX * 8u <= SCRATCH_RESTRICT_INSNS_SIZE,
		       "a seccomp program does not fit its slot");
	for (uint32_t off = 0; off < bytes; off += sizeof(chunk)) {
		uint32_t n = bytes - off < sizeof(chunk) ? bytes - off : (uint32_t)sizeof(chunk);
		if (vmi_read_kernel(env->vmi, f->insns + off, chunk, n) < 0 ||
		    inject_write_user(env, dst + off, chunk, n) < 0)
			return ops_fail(req, "copying the container's seccomp filter",
					-LINUX_EINVAL);
	}
	uint64_t fprog[2] = {f->len, dst}; /* struct sock_fprog: u16 len, pad, filter */
	if (inject_write_user(env, env->scratch + SCRATCH_RESTRICT_FPROG_OFF, fprog,
			      sizeof(fprog)) < 0)
		return ops_fail(req, "copying the container's seccomp filter", -LINUX_EINVAL);
	*c = INJECT_CALL(LINUX_NR_seccomp, LINUX_SECCOMP_SET_MODE_FILTER,
			 f->log ? LINUX_SECCOMP_FILTER_FLAG_LOG : 0u,
			 env->scratch + SCRATCH_RESTRICT_FPROG_OFF);
	rs->index++;
	return INJECT_STEP_CALL;
}

static enum inject_step capset(struct ops_request *req, struct ops_restrict *rs,
			       struct inject_env *env, struct inject_call *c)
{
	/* struct __user_cap_header_struct {u32 version; int pid}; then two
	 * struct __user_cap_data_struct {u32 effective, permitted, inheritable}: low, high */
	uint64_t p = rs->want.cap_bset, i = rs->want.cap_inheritable;
	uint32_t caps[8] = {LINUX_CAPABILITY_VERSION_3,
			    0,
			    (uint32_t)p,
			    (uint32_t)p,
			    (uint32_t)i,
			    (uint32_t)(p >> 32),
			    (uint32_t)(p >> 32),
			    (uint32_t)(i >> 32)};
	_Static_assert(sizeof(caps) <= SCRATCH_RESTRICT_CAPS_SIZE, "capset's data");
	if (inject_write_user(env, env->scratch + SCRATCH_RESTRICT_CAPS_OFF, caps, sizeof(caps)) <
	    0)
		return ops_fail(req, "capset", -LINUX_EINVAL);
	*c = INJECT_CALL(LINUX_NR_capset, env->scratch + SCRATCH_RESTRICT_CAPS_OFF,
			 env->scratch + SCRATCH_RESTRICT_CAPS_OFF + 8u);
	return INJECT_STEP_CALL;
}

/* The process's credentials, no_new_privs and filters, read back from the kernel: they must
 * be what was given (the filters: the container's, newest, on top of any the hijacked host
 * task had, which only restrict more). -1 with op.error naming what differs. */
static int verify(struct ops_request *req, const struct ops_restrict *rs, struct inject_env *env)
{
	const struct vmi_restrictions *w = &rs->want;
	static struct vmi_restrictions got; /* one operation at a time */
	char why[VMI_ERROR_MAX];
	const char *bad = NULL;
	if (vmi_task_restrictions(env->vmi, env->task, &got, why, sizeof(why)) < 0) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "cannot read back what the process was given: %s; nothing was run",
			     why);
		return -1;
	}
	bool in_host_ns = got.user_ns == rs->host_user_ns;
	if (got.user_ns != w->user_ns)
		bad = "user namespace";
	else if (got.cap_bset != w->cap_bset)
		bad = "capability bounding set";
	else if (got.cap_inheritable != w->cap_inheritable)
		bad = "inheritable capabilities";
	else if (got.cap_ambient != w->cap_ambient)
		bad = "ambient capabilities";
	else if (got.cap_permitted != w->cap_bset || got.cap_effective != w->cap_bset)
		bad = "permitted and effective capabilities";
	else if (got.no_new_privs != w->no_new_privs)
		bad = "no_new_privs";
	else if (in_host_ns ? got.uid != 0 : got.uid == 0)
		bad = "uid (root in the container)";
	else if (w->filters > 0 &&
		 (got.seccomp_mode != VMI_SECCOMP_MODE_FILTER || got.filters < w->filters))
		bad = "seccomp filters";
	for (uint32_t i = 0; bad == NULL && i < w->filters; i++)
		if (got.filter[i].len != w->filter[i].len || got.filter[i].log != w->filter[i].log)
			bad = "seccomp filters";
	if (bad != NULL) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "the process did not get the container's %s (a call that did nothing "
			     "was answered as done); nothing was run",
			     bad);
		return -1;
	}
	return 0;
}

/* What the call of the phase just left did: a failure names it. */
static const char *const what[R_DONE] = {
	[R_DUMPABLE] = "prctl(PR_SET_DUMPABLE)",
	[R_USERNS] = "setns into the container's user namespace",
	[R_LABEL_OPEN] = "opening attr/exec for the AppArmor profile",
	[R_LABEL_WRITE] = "setting the AppArmor profile",
	[R_LABEL_CLOSE] = "close",
	[R_SECCOMP_EARLY] = "installing the container's seccomp filter",
	[R_BSET] = "dropping a capability from the bounding set",
	[R_SETGID] = "setresgid(0)",
	[R_SETUID] = "setresuid(0)",
	[R_CAPSET] = "capset",
	[R_AMBIENT] = "raising an ambient capability",
	[R_NODUMP] = "prctl(PR_SET_DUMPABLE)",
	[R_NNP] = "prctl(PR_SET_NO_NEW_PRIVS)",
	[R_SECCOMP_LATE] = "installing the container's seccomp filter",
};

enum inject_step ops_restrict_next(struct ops_request *req, struct ops_restrict *rs,
				   struct inject_env *env, int64_t result, struct inject_call *c)
{
	const struct vmi_restrictions *w = &rs->want;
	bool called = rs->phase != R_DUMPABLE || rs->index != 0;
	if (called && rs->phase < R_DONE) {
		/* PR_CAPBSET_DROP of a number past the kernel's last capability: the end */
		if (rs->phase == R_BSET && result == -LINUX_EINVAL)
			rs->index = CAP_BITS;
		else if (result < 0)
			return ops_fail(req, what[rs->phase], result);
	}
	switch (rs->phase) {
	case R_DUMPABLE:
		if (rs->index == 0) {
			rs->index = 1;
			*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_SET_DUMPABLE, 0);
			return INJECT_STEP_CALL;
		}
		rs->phase = R_USERNS;
		rs->index = 0;
		if (rs->userns_fd >= 0) {
			*c = INJECT_CALL(LINUX_NR_setns, (uint64_t)rs->userns_fd,
					 LINUX_CLONE_NEWUSER);
			return INJECT_STEP_CALL;
		}
		/* fall through */
	case R_USERNS:
		rs->phase = R_LABEL_OPEN;
		if (rs->label[0] != '\0') {
			/* the command: at its execve ("exec"); cp's helper, which never
			 * execs: at once ("changeprofile", security/apparmor/lsm.c) */
			char text[OPS_LABEL_MAX + 16];
			fmt_snprintf(text, sizeof(text), "%s %s",
				     rs->at_once ? "changeprofile" : "exec", rs->label);
			uint64_t path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_RESTRICT_PATH),
						       rs->at_once ? "thread-self/attr/current"
								   : "thread-self/attr/exec");
			if (path == 0 ||
			    ops_put_string(env, SCRATCH_SLOT(SCRATCH_RESTRICT_LABEL), text) == 0)
				return ops_fail(req, what[R_LABEL_OPEN], -LINUX_ENAMETOOLONG);
			*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)rs->proc_fd, path,
					 LINUX_O_WRONLY | LINUX_O_CLOEXEC);
			return INJECT_STEP_CALL;
		}
		rs->phase = R_LABEL_CLOSE;
		/* fall through */
	case R_LABEL_CLOSE:
		rs->phase = R_SECCOMP_EARLY;
		rs->index = 0;
		/* fall through */
	case R_SECCOMP_EARLY:
		if (!w->no_new_privs && rs->index < w->filters)
			return install_filter(req, rs, env, c);
		rs->phase = R_BSET;
		rs->index = 0;
		/* fall through */
	case R_BSET:
		rs->index = next_cap(w->cap_bset, rs->index, false);
		if (rs->index < CAP_BITS) {
			*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_CAPBSET_DROP, rs->index);
			rs->index++;
			return INJECT_STEP_CALL;
		}
		/* `crun exec` without --user: root in the container (crun 1.8's exec.c) */
		rs->phase = R_SETGID;
		*c = INJECT_CALL(LINUX_NR_setresgid, 0, 0, 0);
		return INJECT_STEP_CALL;
	case R_SETGID:
		rs->phase = R_SETUID;
		*c = INJECT_CALL(LINUX_NR_setresuid, 0, 0, 0);
		return INJECT_STEP_CALL;
	case R_SETUID:
		rs->phase = R_CAPSET;
		return capset(req, rs, env, c);
	case R_CAPSET:
		rs->phase = R_AMBIENT;
		rs->index = 0;
		/* fall through */
	case R_AMBIENT:
		rs->index = next_cap(w->cap_ambient, rs->index, true);
		if (rs->index < CAP_BITS) {
			*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_CAP_AMBIENT,
					 LINUX_PR_CAP_AMBIENT_RAISE, rs->index);
			rs->index++;
			return INJECT_STEP_CALL;
		}
		rs->phase = R_NODUMP;
		*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_SET_DUMPABLE, 0);
		return INJECT_STEP_CALL;
	case R_NODUMP:
		rs->phase = R_NNP;
		if (w->no_new_privs) {
			*c = INJECT_CALL(LINUX_NR_prctl, LINUX_PR_SET_NO_NEW_PRIVS, 1);
			return INJECT_STEP_CALL;
		}
		/* fall through */
	case R_NNP:
		rs->phase = R_SECCOMP_LATE;
		rs->index = 0;
		/* fall through */
	case R_SECCOMP_LATE:
		if (w->no_new_privs && rs->index < w->filters)
			return install_filter(req, rs, env, c);
		rs->phase = R_DONE;
		/* The kernel's own record decides, not the calls' results: a container's filter,
		 * installed before the capabilities when no_new_privs is off, can answer any of
		 * them with a success that did nothing. */
		return verify(req, rs, env) < 0 ? INJECT_STEP_FAIL : INJECT_STEP_DONE;
	case R_LABEL_OPEN:
		rs->fd = result;
		rs->phase = R_LABEL_WRITE;
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)result,
				 env->scratch + SCRATCH_RESTRICT_LABEL_OFF, label_command_len(rs));
		return INJECT_STEP_CALL;
	case R_LABEL_WRITE:
		if (result != (int64_t)label_command_len(rs))
			return ops_fail(req, what[R_LABEL_WRITE], -LINUX_EINVAL);
		rs->phase = R_LABEL_CLOSE;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)rs->fd);
		return INJECT_STEP_CALL;
	default:
		return INJECT_STEP_DONE;
	}
}
