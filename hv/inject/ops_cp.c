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
 * must show the same file again (a swap in between is refused); only then is a file
 * written over cut (ftruncate, not O_TRUNC). A file cp creates is made
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
	F_OPEN,     /* for reading or writing (or creating: F_CREATE) */
	F_STAT,     /* the same regular file */
	F_CHECK,    /* fstat's answer */
	F_TRUNCATE, /* cp in over an existing file: cut it, now that it is the one looked at */
	F_CREATE,   /* cp in, nothing at the path */
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

static enum inject_step open_path(struct ops_request *req, struct inject_env *env, uint64_t flags,
				  struct inject_call *c)
{
	uint64_t mode = flags & LINUX_O_CREAT ? 0644u : 0u;
	uint64_t how[3] = {flags | LINUX_O_CLOEXEC, mode, LINUX_RESOLVE_NO_MAGICLINKS};
	uint64_t path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_CP_PATH), req->u.cp.path);
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

static uint64_t open_flags(const struct ops_request *req)
{
	/* no O_TRUNC: the file is cut only once it is known to be the one looked at */
	uint64_t how = req->kind == OPS_CP_OUT ? LINUX_O_RDONLY : LINUX_O_WRONLY;
	return how | LINUX_O_NOFOLLOW | LINUX_O_NONBLOCK | LINUX_O_NOCTTY;
}

static enum inject_step fail_path(struct ops_request *req, int64_t err)
{
	char what[OPS_PATH_MAX + VMI_ID_MAX + 2];
	fmt_snprintf(what, sizeof(what), "%s:%s", req->ct.name, req->u.cp.path);
	return ops_fail(req, what, err);
}

/* The file is done with (or failed): close it if open, then end. */
static enum inject_step finish(struct ops_request *req, struct inject_call *c)
{
	if (req->fd >= 0) {
		req->phase = F_END;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd);
		req->fd = -1;
		return INJECT_STEP_CALL;
	}
	return req->op.error[0] ? INJECT_STEP_FAIL : INJECT_STEP_DONE;
}

/* fstat's answer: the type (and for the second look, the same file). */
static bool regular(struct ops_request *req, struct inject_env *env, int64_t result, bool again)
{
	uint8_t st[32];
	if (result < 0) {
		ops_fail(req, "fstat", result);
		return false;
	}
	if (inject_read_user(env, env->scratch + SCRATCH_CP_STAT_OFF, st, sizeof(st)) < 0) {
		ops_fail(req, "fstat", -LINUX_EINVAL);
		return false;
	}
	uint64_t dev, ino;
	uint32_t mode;
	memcpy(&dev, st + STAT_DEV, 8);
	memcpy(&ino, st + STAT_INO, 8);
	memcpy(&mode, st + STAT_MODE, 4);
	if ((mode & S_IFMT) != S_IFREG) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "%s:%s is %s; cp copies regular files only", req->ct.name,
			     req->u.cp.path, type_name(mode));
		return false;
	}
	if (again && (dev != req->u.cp.cp_dev || ino != req->u.cp.cp_ino)) {
		fmt_snprintf(req->op.error, sizeof(req->op.error),
			     "%s:%s changed while it was being opened; nothing was copied",
			     req->ct.name, req->u.cp.path);
		return false;
	}
	req->u.cp.cp_dev = dev;
	req->u.cp.cp_ino = ino;
	return true;
}

static enum inject_step transfer(struct ops_request *req, struct inject_env *env, int64_t result,
				 struct inject_call *c)
{
	uint64_t data = env->scratch + INJECT_SCRATCH_DATA;
	if (req->kind == OPS_CP_IN) {
		if (result <= 0 && req->phase == F_TRANSFER) {
			ops_fail(req, "write", result == 0 ? -LINUX_ENOSPC : result);
			return finish(req, c);
		}
		if (req->phase == F_TRANSFER)
			req->u.cp.done_len += (uint32_t)result;
		req->phase = F_TRANSFER;
		if (req->u.cp.done_len >= req->u.cp.data_len)
			return finish(req, c);
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)req->fd, data + req->u.cp.done_len,
				 req->u.cp.data_len - req->u.cp.done_len);
		return INJECT_STEP_CALL;
	}
	if (req->phase == F_TRANSFER) {
		if (result < 0) {
			ops_fail(req, "read", result);
			return finish(req, c);
		}
		if (result == 0)
			return finish(req, c); /* end of file */
		/* The read went to data + data_len; bounded by the call's count. */
		uint32_t n = (uint32_t)result;
		if (n > INJECT_DATA_MAX + 1u - req->u.cp.data_len ||
		    inject_read_user(env, data + req->u.cp.data_len,
				     req->u.cp.data + req->u.cp.data_len, n) < 0) {
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "read returned more than asked");
			return finish(req, c);
		}
		req->u.cp.data_len += n;
		if (req->u.cp.data_len > INJECT_DATA_MAX) {
			fmt_snprintf(req->op.error, sizeof(req->op.error),
				     "%s:%s is larger than cp's limit of %u bytes", req->ct.name,
				     req->u.cp.path, INJECT_DATA_MAX);
			return finish(req, c);
		}
	}
	req->phase = F_TRANSFER;
	/* Ask for one byte more than the limit left, to see a file that is too big. */
	*c = INJECT_CALL(LINUX_NR_read, (uint64_t)req->fd, data + req->u.cp.data_len,
			 INJECT_DATA_MAX + 1u - req->u.cp.data_len);
	return INJECT_STEP_CALL;
}

enum inject_step ops_cp_file_next(struct ops_request *req, struct inject_env *env, int64_t result,
				  struct inject_call *c)
{
	switch (req->phase) {
	case F_OPEN_PATH:
		if (req->kind == OPS_CP_IN &&
		    inject_write_user(env, env->scratch + INJECT_SCRATCH_DATA, req->u.cp.data,
				      req->u.cp.data_len) < 0)
			return INJECT_STEP_FAIL;
		req->fd = -1;
		req->phase = F_STAT_PATH;
		return open_path(req, env, LINUX_O_PATH | LINUX_O_NOFOLLOW, c);
	case F_STAT_PATH:
		if (result == -LINUX_ENOSYS) {
			/* openat2 refused by the container's filter: no plain openat instead (it
			 * would follow /proc/PID/fd-style links) */
			fmt_snprintf(
				req->op.error, sizeof(req->op.error),
				"the container's seccomp filter refuses openat2, which cp needs "
				"(RESOLVE_NO_MAGICLINKS); nothing was copied");
			return INJECT_STEP_FAIL;
		}
		if (result == -LINUX_ENOENT && req->kind == OPS_CP_IN) {
			req->phase = F_CREATE;
			return open_path(req, env,
					 LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_EXCL |
						 LINUX_O_NOFOLLOW | LINUX_O_NONBLOCK |
						 LINUX_O_NOCTTY,
					 c);
		}
		if (result < 0)
			return fail_path(req, result);
		req->fd = result;
		req->phase = F_CLOSE_PATH;
		return fstat_call(env, result, c);
	case F_CLOSE_PATH: {
		bool ok = regular(req, env, result, false);
		req->phase = ok ? F_OPEN : F_END;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)req->fd);
		req->fd = -1;
		return INJECT_STEP_CALL;
	}
	case F_OPEN:
		req->phase = F_STAT;
		return open_path(req, env, open_flags(req), c);
	case F_STAT:
	case F_CREATE:
		if (result < 0)
			return fail_path(req, result);
		req->fd = result;
		if (req->phase == F_CREATE)
			return transfer(req, env, result, c);
		req->phase = F_CHECK;
		return fstat_call(env, result, c);
	case F_CHECK:
		if (!regular(req, env, result, true))
			return finish(req, c);
		if (req->kind == OPS_CP_IN) {
			req->phase = F_TRUNCATE;
			*c = INJECT_CALL(LINUX_NR_ftruncate, (uint64_t)req->fd, 0);
			return INJECT_STEP_CALL;
		}
		return transfer(req, env, result, c);
	case F_TRUNCATE:
		if (result < 0) {
			ops_fail(req, "ftruncate", result);
			return finish(req, c);
		}
		return transfer(req, env, result, c);
	case F_TRANSFER:
		return transfer(req, env, result, c);
	default:
		return finish(req, c);
	}
}
