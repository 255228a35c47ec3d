/* SPDX-License-Identifier: MIT */
/*
 * cp in and out of a container: the file work of the helper exec's process chain makes
 * (ops_exec.c), once the helper is inside the container's namespaces and cgroup and holds
 * the container's restrictions (ops_restrict.h). So the file is opened as the container's
 * own root would open it: a device node or a path the container could not use itself is
 * refused by the kernel, as it would be for the container (DESIGN §6).
 *
 * What cp opens is a regular file and nothing else. The path is first opened O_PATH and
 * O_NOFOLLOW (which opens nothing: no FIFO waits for a writer, no device is touched, a final
 * symbolic link is the link itself) and its type looked at with fstat; only a regular file
 * is then opened for reading or writing, O_NOFOLLOW, O_NONBLOCK and O_NOCTTY, and fstat
 * must show the same file again (a swap in between is refused). A file cp creates is made
 * with O_EXCL: what is there already goes the first way. openat2's RESOLVE_NO_MAGICLINKS
 * refuses /proc/<pid>/fd-style links on the way; a container whose seccomp filter answers
 * openat2 with ENOSYS gets a refusal, not a plain openat. The helper has closed every fd
 * it had before (ops_exec.c), so no such link could lead out of the container anyway. The data
 * travels in the scratch area's data part (INJECT_DATA_MAX bytes).
 */
#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum {
	F_OPEN_PATH, /* O_PATH | O_NOFOLLOW */
	F_STAT_PATH,
	F_CLOSE_PATH,
	F_OPEN,   /* for reading or writing (or creating: F_CREATE) */
	F_STAT,   /* the same regular file */
	F_CHECK,  /* fstat's answer */
	F_CREATE, /* cp in, nothing at the path */
	F_TRANSFER,
	F_CLOSE,
	F_END,
};

/* struct stat (arch/x86/include/uapi/asm/stat.h): st_dev, st_ino u64 at 0, 8; st_mode u32 at
 * 24 */
#define STAT_DEV  0u
#define STAT_INO  8u
#define STAT_MODE 24u
#define S_IFMT    0170000u
#define S_IFREG   0100000u

/* What a file type is called in a refusal. */
static const char *type_name(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case 0010000u:
		return "a FIFO";
	case 0020000u:
		return "a character device";
	case 0040000u:
		return "a directory";
	case 0060000u:
		return "a block device";
	case 0120000u:
		return "a symbolic link (cp does not follow one)";
	case 0140000u:
		return "a socket";
	default:
		return "not a regular file";
	}
}

static enum inject_step open_path(struct ops_request *q, struct inject_env *env, uint64_t flags,
				  struct inject_call *c)
{
	uint64_t mode = flags & LINUX_O_CREAT ? 0644u : 0u;
	uint64_t how[3] = {flags | LINUX_O_CLOEXEC, mode, LINUX_RESOLVE_NO_MAGICLINKS};
	uint64_t path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_CP_PATH), q->u.cp.path);
	if (path == 0 ||
	    inject_write_user(env, env->scratch + SCRATCH_CP_HOW_OFF, how, sizeof(how)) < 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_openat2, (uint64_t)(int64_t)LINUX_AT_FDCWD, path,
			 env->scratch + SCRATCH_CP_HOW_OFF, LINUX_OPEN_HOW_SIZE);
	return INJECT_STEP_CALL;
}

/* fstat into a zeroed slot (a call a filter answers with success and no write leaves no
 * earlier answer there to be read as this one's) */
static enum inject_step fstat_call(struct inject_env *env, int64_t fd, struct inject_call *c)
{
	static const uint8_t zero[SCRATCH_CP_STAT_SIZE];
	if (inject_write_user(env, env->scratch + SCRATCH_CP_STAT_OFF, zero, sizeof(zero)) < 0)
		return INJECT_STEP_FAIL;
	*c = INJECT_CALL(LINUX_NR_fstat, (uint64_t)fd, env->scratch + SCRATCH_CP_STAT_OFF);
	return INJECT_STEP_CALL;
}

static uint64_t open_flags(const struct ops_request *q)
{
	uint64_t how = q->kind == OPS_CP_OUT ? LINUX_O_RDONLY : LINUX_O_WRONLY | LINUX_O_TRUNC;
	return how | LINUX_O_NOFOLLOW | LINUX_O_NONBLOCK | LINUX_O_NOCTTY;
}

static enum inject_step fail_path(struct ops_request *q, int64_t err)
{
	char what[OPS_PATH_MAX + VMI_ID_MAX + 2];
	fmt_snprintf(what, sizeof(what), "%s:%s", q->ct.name, q->u.cp.path);
	return ops_fail(q, what, err);
}

/* The file is done with (or failed): close it if open, then end. */
static enum inject_step finish(struct ops_request *q, struct inject_call *c)
{
	if (q->fd >= 0) {
		q->phase = F_END;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)q->fd);
		q->fd = -1;
		return INJECT_STEP_CALL;
	}
	return q->op.error[0] ? INJECT_STEP_FAIL : INJECT_STEP_DONE;
}

/* fstat's answer: the type (and for the second look, the same file). */
static bool regular(struct ops_request *q, struct inject_env *env, int64_t result, bool again)
{
	uint8_t st[32];
	if (result < 0) {
		ops_fail(q, "fstat", result);
		return false;
	}
	if (inject_read_user(env, env->scratch + SCRATCH_CP_STAT_OFF, st, sizeof(st)) < 0) {
		ops_fail(q, "fstat", -LINUX_EINVAL);
		return false;
	}
	uint64_t dev, ino;
	uint32_t mode;
	memcpy(&dev, st + STAT_DEV, 8);
	memcpy(&ino, st + STAT_INO, 8);
	memcpy(&mode, st + STAT_MODE, 4);
	if ((mode & S_IFMT) != S_IFREG) {
		fmt_snprintf(q->op.error, sizeof(q->op.error),
			     "%s:%s is %s; cp copies regular files only", q->ct.name, q->u.cp.path,
			     type_name(mode));
		return false;
	}
	if (again && (dev != q->u.cp.cp_dev || ino != q->u.cp.cp_ino)) {
		fmt_snprintf(q->op.error, sizeof(q->op.error),
			     "%s:%s changed while it was being opened; nothing was copied",
			     q->ct.name, q->u.cp.path);
		return false;
	}
	q->u.cp.cp_dev = dev;
	q->u.cp.cp_ino = ino;
	return true;
}

static enum inject_step transfer(struct ops_request *q, struct inject_env *env, int64_t result,
				 struct inject_call *c)
{
	uint64_t data = env->scratch + INJECT_SCRATCH_DATA;
	if (q->kind == OPS_CP_IN) {
		if (result <= 0 && q->phase == F_TRANSFER) {
			ops_fail(q, "write", result == 0 ? -LINUX_ENOSPC : result);
			return finish(q, c);
		}
		if (q->phase == F_TRANSFER)
			q->u.cp.done_len += (uint32_t)result;
		q->phase = F_TRANSFER;
		if (q->u.cp.done_len >= q->u.cp.data_len)
			return finish(q, c);
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)q->fd, data + q->u.cp.done_len,
				 q->u.cp.data_len - q->u.cp.done_len);
		return INJECT_STEP_CALL;
	}
	if (q->phase == F_TRANSFER) {
		if (result < 0) {
			ops_fail(q, "read", result);
			return finish(q, c);
		}
		if (result == 0)
			return finish(q, c); /* end of file */
		/* The read went to data + data_len; bounded by the call's count. */
		uint32_t n = (uint32_t)result;
		if (n > INJECT_DATA_MAX + 1u - q->u.cp.data_len ||
		    inject_read_user(env, data + q->u.cp.data_len, q->u.cp.data + q->u.cp.data_len,
				     n) < 0) {
			fmt_snprintf(q->op.error, sizeof(q->op.error),
				     "read returned more than asked");
			return finish(q, c);
		}
		q->u.cp.data_len += n;
		if (q->u.cp.data_len > INJECT_DATA_MAX) {
			fmt_snprintf(q->op.error, sizeof(q->op.error),
				     "%s:%s is larger than cp's limit of %u bytes", q->ct.name,
				     q->u.cp.path, INJECT_DATA_MAX);
			return finish(q, c);
		}
	}
	q->phase = F_TRANSFER;
	/* Ask for one byte more than the limit left, to see a file that is too big. */
	*c = INJECT_CALL(LINUX_NR_read, (uint64_t)q->fd, data + q->u.cp.data_len,
			 INJECT_DATA_MAX + 1u - q->u.cp.data_len);
	return INJECT_STEP_CALL;
}

enum inject_step ops_cp_file_next(struct ops_request *q, struct inject_env *env, int64_t result,
				  struct inject_call *c)
{
	switch (q->phase) {
	case F_OPEN_PATH:
		if (q->kind == OPS_CP_IN &&
		    inject_write_user(env, env->scratch + INJECT_SCRATCH_DATA, q->u.cp.data,
				      q->u.cp.data_len) < 0)
			return INJECT_STEP_FAIL;
		q->fd = -1;
		q->phase = F_STAT_PATH;
		return open_path(q, env, LINUX_O_PATH | LINUX_O_NOFOLLOW, c);
	case F_STAT_PATH:
		if (result == -LINUX_ENOSYS) {
			/* openat2 refused by the container's filter: no plain openat instead (it
			 * would follow /proc/PID/fd-style links) */
			fmt_snprintf(
				q->op.error, sizeof(q->op.error),
				"the container's seccomp filter refuses openat2, which cp needs "
				"(RESOLVE_NO_MAGICLINKS); nothing was copied");
			return INJECT_STEP_FAIL;
		}
		if (result == -LINUX_ENOENT && q->kind == OPS_CP_IN) {
			q->phase = F_CREATE;
			return open_path(q, env,
					 LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_EXCL |
						 LINUX_O_NOFOLLOW | LINUX_O_NONBLOCK |
						 LINUX_O_NOCTTY,
					 c);
		}
		if (result < 0)
			return fail_path(q, result);
		q->fd = result;
		q->phase = F_CLOSE_PATH;
		return fstat_call(env, result, c);
	case F_CLOSE_PATH: {
		bool ok = regular(q, env, result, false);
		q->phase = ok ? F_OPEN : F_END;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)q->fd);
		q->fd = -1;
		return INJECT_STEP_CALL;
	}
	case F_OPEN:
		q->phase = F_STAT;
		return open_path(q, env, open_flags(q), c);
	case F_STAT:
	case F_CREATE:
		if (result < 0)
			return fail_path(q, result);
		q->fd = result;
		if (q->phase == F_CREATE)
			return transfer(q, env, result, c);
		q->phase = F_CHECK;
		return fstat_call(env, result, c);
	case F_CHECK:
		if (!regular(q, env, result, true))
			return finish(q, c);
		return transfer(q, env, result, c);
	case F_TRANSFER:
		return transfer(q, env, result, c);
	default:
		return finish(q, c);
	}
}
