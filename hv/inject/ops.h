/* SPDX-License-Identifier: MIT */
/*
 * The container operations as injected-call programs (inject/engine.h): each is a small
 * state machine that the engine steps once per returned call. The console verbs
 * (console/verbs_ops.c) parse requests, fill an ops_request and write the reply.
 */
#ifndef HV_INJECT_OPS_H
#define HV_INJECT_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "inject/engine.h"
#include "inject/ops_restrict.h"
#include "protect/protect.h"
#include "vmi/vmi.h"

enum ops_kind {
	OPS_PAUSE,
	OPS_UNPAUSE,
	OPS_KILL,
	OPS_STOP,
	OPS_STATS,
	OPS_PROBE,  /* getpid in the chosen task: the engine's own check */
	OPS_CP_OUT, /* a file of the container into data[] (cp CONTAINER:PATH -) */
	OPS_CP_IN,  /* data[] into a file of the container (cp - CONTAINER:PATH) */
	OPS_EXEC,   /* a command inside the container (ops_exec.c) */
	OPS_HELPER, /* make the resident helper (ops_exec.c: the same forks as exec) */
};

#define OPS_EXEC_ARGS_MAX      13u           /* words after "exec NAME --" in a request */
#define OPS_EXEC_OUT_MAX       (16u * 1024u) /* stdout and stderr kept, each */
#define OPS_EXEC_TIMEOUT_MS    60000u        /* exec's default; --timeout SECONDS */
#define OPS_EXEC_TIMEOUT_MAX_S 600u

enum { OPS_ROLE_HOST, OPS_ROLE_MID, OPS_ROLE_HELPER, OPS_ROLE_CMD };

#define OPS_PATH_MAX 240u /* a container path on the console (a request is 255 bytes) */

#define OPS_STATS_FILES    3u
#define OPS_STATS_ALL_MAX  16u /* containers in one `stats` without a name */
#define OPS_STATS_TEXT_MAX 512u
#define OPS_STOP_POLL_MS   100u
#define OPS_FREEZE_POLL_MS 20u /* the longest wait between two looks at a freeze */
/* Wakes by cgroup.events a pause or unpause takes; after them it naps: a kernel that
 * signals changes that are none cannot make it spin */
#define OPS_FREEZE_WAKES_MAX 64u
#define OPS_FREEZE_WAIT_MS   10000u /* as runc waits for FROZEN */
/* From this far into a pause's wait, a cgroup whose every task waits off-CPU with the
 * freezer's trap pending is paused (ops.c freeze_taken), looking at no more tasks than
 * OPS_FREEZE_PENDING_TASKS_MAX in one exit (more: the wait is for CGRP_FROZEN alone) */
#define OPS_FREEZE_PENDING_AFTER_MS  OPS_FREEZE_POLL_MS
#define OPS_FREEZE_PENDING_TASKS_MAX 512u
#define OPS_UNDO_WAIT_MS             3000u /* a thaw is not held up by tasks that must first run */
/* Of a pause's or unpause's time limit, kept after its wait: the undo and its wait */
#define OPS_AFTER_WAIT_MS (OPS_UNDO_WAIT_MS + 1000u)
#define OPS_KILL_WAIT_MS  5000u

struct ops_request {
	struct inject_op op; /* first: the engine's view */
	enum ops_kind kind;
	bool json;
	struct vmi_container ct; /* the container (all but PROBE by pid / host) */
	uint64_t ct_cgroup;      /* its struct cgroup * */
	int32_t signal;
	uint32_t grace_ms;
	struct protect_report integrity; /* the check just before the operation */
	/* Every write to text (to the image's page tables) from then on seen, counted from
	 * this value of text_pages_opened (map_pages_opened) */
	bool text_writes_seen, map_writes_seen;
	uint64_t text_writes_before, map_writes_before;
	/* Was the kernel changed since the check before the operation? Asked (when set) at the
	 * moment a pause's effect is seen, which it can still undo; true sets op.error. The
	 * answer is kept in `vouch`: the look at the end is not made again after it. */
	bool (*vouch_lost)(struct ops_request *req);
	enum ops_vouch { OPS_VOUCH_AT_END, OPS_VOUCHED, OPS_VOUCH_LOST } vouch;
	int32_t helper_started; /* helper = auto: the helper started for this operation, or 0 */

	/* Progress of the program */
	uint32_t phase;
	int64_t fd;
	uint32_t polls;
	uint64_t term_ns;      /* when SIGTERM went out (stop) */
	uint64_t wait_from_ns; /* when the freeze was written (pause, unpause) */
	/* pause, unpause: cgroup.events, whose change wakes the wait (ops.c) */
	enum ops_events { OPS_EVENTS_UNOPENED, OPS_EVENTS_OPEN, OPS_EVENTS_NONE } events;
	int64_t events_fd;
	uint32_t events_wakes;
	uint8_t wait_call;     /* the call the wait made last (ops.c: WAIT_*) */
	uint8_t after_wait;    /* what follows once cgroup.events is closed (ops.c: AFTER_*) */
	bool killed;           /* stop escalated to SIGKILL */
	int8_t frozen_seen;    /* pause, unpause: the cgroup's state at the last look (-1: none) */
	uint32_t trap_pending; /* pause done before the cgroup reported frozen (frozen_seen 0):
				* tasks still waiting for a CPU to enter the freezer's trap */
	bool state_reached;
	uint32_t file;
	int64_t getpid_result;
	/* exec and cp: each process's progress (the host task, the intermediate child, the
	 * helper inside the container, the command's process; ops_exec.c) */
	struct ops_restrict confine; /* what the command's process gets (ops_restrict.h) */
	int32_t keep_fd[3];          /* the helper's for the command: user ns, /dev/null, /proc */
	uint32_t ph_host, ph_mid, ph_helper, ph_cmd;
	int32_t mid_pid, cmd_pid, helper_pid; /* the helper's in the host's pid namespace */
	uint32_t cmd_ctx;              /* the engine's context of the command's process (0: none) */
	uint32_t role[INJECT_CTX_MAX]; /* OPS_ROLE_* of each engine context */
	uint32_t next_role;            /* of the child the fork in flight makes */
	int64_t ns_fd[7];              /* the six the helper joins, then the user namespace's */
	uint32_t ns_count;  /* 7 when the container has a user namespace of its own, else 6 */
	int32_t pipe_fd[4]; /* out read, out write, err read, err write */
	uint32_t index;     /* loop counter of the phase */
	bool out_eof, err_eof, cmd_exited, progress;
	int32_t wait_status;
	int64_t exec_errno;     /* 0, or why the command could not be started (set only when
				 * no execve succeeded) */
	int64_t exec_try_errno; /* the PATH walk's error so far (C_EXEC) */

	/* What only one kind of operation keeps; `kind` says which */
	union {
		struct { /* OPS_STATS */
			char text[OPS_STATS_FILES][OPS_STATS_TEXT_MAX];
			/* of every container (no name): each one's name and files, in turn */
			uint32_t nct, cur;
			char ct_names[OPS_STATS_ALL_MAX][VMI_ID_MAX];
			char ct_cgroups[OPS_STATS_ALL_MAX][VMI_PATH_MAX];
			char all_text[OPS_STATS_ALL_MAX][OPS_STATS_FILES][OPS_STATS_TEXT_MAX];
		} stats;
		struct { /* OPS_CP_OUT, OPS_CP_IN (ops_cp.c: the helper's file work) */
			char path[OPS_PATH_MAX + 1];
			uint64_t cp_dev, cp_ino; /* the file the O_PATH look found */
			uint32_t data_len;       /* bytes in data[] (read so far, or to write) */
			uint32_t done_len;       /* bytes written so far (CP_IN) */
			uint8_t data[INJECT_DATA_MAX + 1];
		} cp;
		struct { /* OPS_EXEC: the command and what it wrote */
			uint32_t argc;
			char argv[OPS_EXEC_ARGS_MAX][OPS_PATH_MAX + 1];
			uint32_t out_len, err_len;
			bool out_cut, err_cut;
			char out[OPS_EXEC_OUT_MAX];
			char err[OPS_EXEC_OUT_MAX];
		} exec;
	} u;
};

/* Set up req->op for req->kind (its program and name); the caller sets the target,
 * timeout and done callback. */
void ops_prepare(struct ops_request *req);
/* The live processes (not zombies) in cgroup `cgroup` now; bounded by the task walk. */
uint32_t ops_live_members(struct vmi *v, uint64_t cgroup);
const char *ops_kind_name(enum ops_kind k);
/* A short text for a negative errno an injected call returned ("no such file ..."). */
const char *ops_errno_text(int64_t err);

/* For the programs (ops.c, ops_cp.c, ops_exec.c): a string into a slot of the scratch area
 * (inject/scratch.h; its guest address, or 0 when it does not fit the slot); a failure
 * naming what and the errno. */
uint64_t ops_put_string(struct inject_env *env, struct scratch_slot slot, const char *s);
enum inject_step ops_fail(struct ops_request *req, const char *what, int64_t err);
/* cp's file work, by the helper once it holds the container's restrictions (ops_cp.c) */
enum inject_step ops_cp_file_next(struct ops_request *req, struct inject_env *env, int64_t result,
				  struct inject_call *call);
enum inject_step ops_exec_next(struct inject_op *op, struct inject_env *env, int64_t result,
			       struct inject_call *call);
/* The command words of an exec request into req->argv: at most OPS_EXEC_ARGS_MAX words of at
 * most OPS_PATH_MAX bytes each. 0, or -1 with why (req->argc words taken until then). */
int ops_exec_words(struct ops_request *req, int argc, char *const *argv, char *why, size_t cap);

#endif
