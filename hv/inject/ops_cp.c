/* SPDX-License-Identifier: MIT */
/*
 * cp in and out of a container, by injected calls in a host task. The container's root is
 * reached through /proc/<its init>/root and every path is resolved by openat2 with
 * RESOLVE_IN_ROOT (Linux 5.6, include/uapi/linux/openat2.h): ".." and symbolic links,
 * absolute ones included, stay inside the container's root, so a hostile container cannot
 * point a path at the host's files; RESOLVE_NO_MAGICLINKS refuses /proc/<pid>/fd-style
 * links. The data travels in the scratch area's data part (INJECT_DATA_MAX bytes).
 */
#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum {
	CP_OPEN_ROOT,
	CP_OPEN_FILE,
	CP_TRANSFER, /* read or write calls until done */
	CP_CLOSE_FILE,
	CP_CLOSE_ROOT,
	CP_END,
};

static enum inject_step open_root(struct ops_request *q, struct inject_env *env,
				  struct inject_call *c)
{
	char root[48];
	fmt_snprintf(root, sizeof(root), "/proc/%d/root", (int)q->ct.init_pid);
	uint64_t va = ops_put_string(env, SCRATCH_SLOT(SCRATCH_CP_ROOT), root);
	if (va == 0)
		return INJECT_STEP_FAIL;
	q->phase = CP_OPEN_FILE;
	*c = INJECT_CALL(LINUX_NR_openat, (uint64_t)(int64_t)LINUX_AT_FDCWD, va,
			 LINUX_O_PATH | LINUX_O_DIRECTORY | LINUX_O_CLOEXEC, 0, 0, 0);
	return INJECT_STEP_CALL;
}

static enum inject_step open_file(struct ops_request *q, struct inject_env *env, int64_t result,
				  uint64_t flags, struct inject_call *c)
{
	if (result < 0)
		return ops_fail(q, "cannot open the container's root", result);
	q->dirfd = result;
	uint64_t how[3] = {flags | LINUX_O_CLOEXEC, flags & LINUX_O_CREAT ? 0644u : 0u,
			   LINUX_RESOLVE_IN_ROOT | LINUX_RESOLVE_NO_MAGICLINKS};
	uint64_t path = ops_put_string(env, SCRATCH_SLOT(SCRATCH_CP_PATH), q->path);
	if (path == 0 ||
	    inject_write_user(env, env->scratch + SCRATCH_CP_HOW_OFF, how, sizeof(how)) < 0)
		return INJECT_STEP_FAIL;
	q->phase = CP_TRANSFER;
	*c = INJECT_CALL(LINUX_NR_openat2, (uint64_t)q->dirfd, path,
			 env->scratch + SCRATCH_CP_HOW_OFF, LINUX_OPEN_HOW_SIZE, 0, 0);
	return INJECT_STEP_CALL;
}

/* Close what is open (the file, then the root), then end with the outcome so far. */
static enum inject_step close_next(struct ops_request *q, struct inject_call *c)
{
	if (q->phase <= CP_CLOSE_FILE && q->fd >= 0) {
		q->phase = CP_CLOSE_ROOT;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)q->fd, 0, 0, 0, 0, 0);
		q->fd = -1;
		return INJECT_STEP_CALL;
	}
	if (q->dirfd >= 0) {
		q->phase = CP_END;
		*c = INJECT_CALL(LINUX_NR_close, (uint64_t)q->dirfd, 0, 0, 0, 0, 0);
		q->dirfd = -1;
		return INJECT_STEP_CALL;
	}
	return q->op.error[0] ? INJECT_STEP_FAIL : INJECT_STEP_DONE;
}

static enum inject_step opened(struct ops_request *q, int64_t result)
{
	if (result < 0) {
		char what[OPS_PATH_MAX + 40];
		fmt_snprintf(what, sizeof(what), "%s:%s", q->ct.name, q->path);
		ops_fail(q, what, result);
		q->phase = CP_CLOSE_ROOT;
		return INJECT_STEP_FAIL;
	}
	q->fd = result;
	return INJECT_STEP_CALL;
}

enum inject_step ops_cp_out_next(struct inject_op *op, struct inject_env *env, int64_t result,
				 struct inject_call *c)
{
	struct ops_request *q = (struct ops_request *)op;
	uint64_t data = env->scratch + INJECT_SCRATCH_DATA;
	switch (q->phase) {
	case CP_OPEN_ROOT:
		return open_root(q, env, c);
	case CP_OPEN_FILE:
		if (open_file(q, env, result, LINUX_O_RDONLY, c) == INJECT_STEP_FAIL)
			return INJECT_STEP_FAIL;
		return INJECT_STEP_CALL;
	case CP_TRANSFER:
		if (q->fd < 0) {
			if (opened(q, result) == INJECT_STEP_FAIL)
				return close_next(q, c);
		} else if (result < 0) {
			ops_fail(q, "read", result);
			return close_next(q, c);
		} else if (result == 0) {
			return close_next(q, c); /* end of file */
		} else {
			/* The read went to data + data_len; bounded by the call's count. */
			uint32_t n = (uint32_t)result;
			if (n > INJECT_DATA_MAX + 1u - q->data_len ||
			    inject_read_user(env, data + q->data_len, q->data + q->data_len, n) <
				    0) {
				fmt_snprintf(q->op.error, sizeof(q->op.error),
					     "read returned more than asked");
				return close_next(q, c);
			}
			q->data_len += n;
			if (q->data_len > INJECT_DATA_MAX) {
				fmt_snprintf(q->op.error, sizeof(q->op.error),
					     "%s:%s is larger than cp's limit of %u bytes",
					     q->ct.name, q->path, INJECT_DATA_MAX);
				return close_next(q, c);
			}
		}
		/* Ask for one byte more than the limit left, to see a file that is too big. */
		*c = INJECT_CALL(LINUX_NR_read, (uint64_t)q->fd, data + q->data_len,
				 INJECT_DATA_MAX + 1u - q->data_len, 0, 0, 0);
		return INJECT_STEP_CALL;
	default:
		return close_next(q, c);
	}
}

enum inject_step ops_cp_in_next(struct inject_op *op, struct inject_env *env, int64_t result,
				struct inject_call *c)
{
	struct ops_request *q = (struct ops_request *)op;
	uint64_t data = env->scratch + INJECT_SCRATCH_DATA;
	switch (q->phase) {
	case CP_OPEN_ROOT:
		if (inject_write_user(env, data, q->data, q->data_len) < 0)
			return INJECT_STEP_FAIL;
		return open_root(q, env, c);
	case CP_OPEN_FILE:
		if (open_file(q, env, result, LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC, c) ==
		    INJECT_STEP_FAIL)
			return INJECT_STEP_FAIL;
		return INJECT_STEP_CALL;
	case CP_TRANSFER:
		if (q->fd < 0) {
			if (opened(q, result) == INJECT_STEP_FAIL)
				return close_next(q, c);
		} else if (result <= 0) {
			ops_fail(q, "write", result == 0 ? -LINUX_ENOSPC : result);
			return close_next(q, c);
		} else {
			q->done_len += (uint32_t)result;
		}
		if (q->done_len >= q->data_len)
			return close_next(q, c);
		*c = INJECT_CALL(LINUX_NR_write, (uint64_t)q->fd, data + q->done_len,
				 q->data_len - q->done_len, 0, 0, 0);
		return INJECT_STEP_CALL;
	default:
		return close_next(q, c);
	}
}
