/* SPDX-License-Identifier: MIT */
/*
 * Clientless syscall injection (DESIGN §6): a guest task of our choosing executes a
 * chain of system calls for the monitor, then re-issues its own interrupted call and
 * goes on as if nothing happened. No code of ours runs in the guest; the task's own
 * kernel does the work.
 *
 * How one operation runs (one at a time):
 *  1. The syscall-entry trap (inject/syscall_trap.h) is armed. At each SYSCALL entry the
 *     calling task is checked against the operation's target (a pid, any process of a
 *     container, or any root process of the host); others pass at the cost of one exit.
 *  2. The first suitable task is hijacked at its entry: every register is saved and its
 *     call becomes mmap(MAP_ANONYMOUS|MAP_POPULATE) of a scratch area, returning to its
 *     own SYSCALL instruction (RCX - 2), so the very next thing it executes in user mode
 *     is that instruction again: its next entry IS the return of our call, caught exactly.
 *  3. The scratch area starts with a "sled": a SYSCALL, then a VMCALL. Every later call
 *     goes out through that SYSCALL and returns to the VMCALL, which exits from user mode
 *     (it always does in VMX non-root operation), whatever path the kernel took back
 *     (SYSRET, IRET, a signal handler first; a restarted call: the kernel's `ip -= 2`
 *     lands on the sled's SYSCALL, which makes it again). A return is recognised by
 *     task, RIP, RCX and the argument registers, which the kernel preserves. The trap is
 *     then disarmed: the guest's own syscalls run without an exit while the chain runs.
 *  4. Signals are blocked for the chain (rt_sigprocmask, the old mask kept in scratch),
 *     the operation's own calls run, the mask is put back, the scratch area is unmapped
 *     (returning to the task's own SYSCALL instruction: the trap is armed again for it,
 *     and the munmap's entry from the sled is given that return address), and at that
 *     last entry every register is restored: the kernel runs the task's own call, which
 *     never ran.
 *  5. A timeout, the target exiting, or a failed call abort the operation; the cleanup
 *     calls still run when the task comes back, so nothing is left behind.
 */
#ifndef HV_INJECT_ENGINE_H
#define HV_INJECT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "console/cmd.h"
#include "core/vcpu.h"
#include "inject/scratch.h"
#include "vmi/vmi.h"

/* Layout of the scratch area in the target: inject/scratch.h */

enum inject_target_kind {
	INJECT_TARGET_PID,       /* a given process (any of its threads) */
	INJECT_TARGET_CONTAINER, /* any process in the container's cgroup */
	INJECT_TARGET_HOST_ROOT, /* any uid-0 process outside every container */
};

struct inject_target {
	enum inject_target_kind kind;
	int32_t tgid;    /* PID */
	uint64_t cgroup; /* CONTAINER: its struct cgroup * (css_set->dfl_cgrp) */
};

enum inject_call_kind {
	INJECT_CALL_PLAIN = 0, /* returns to the sled */
	INJECT_CALL_SPAWN,     /* a fork-like clone (no CLONE_VM): the child becomes a new
				* context whose program starts with result 0 */
	INJECT_CALL_FINAL,     /* exit_group: never returns; the context ends */
	INJECT_CALL_EXEC,      /* execve: returns only on failure */
};

struct inject_call {
	uint64_t nr;
	uint64_t arg[6]; /* RDI, RSI, RDX, R10, R8, R9 */
	enum inject_call_kind kind;
};

/* A plain call: INJECT_CALL(LINUX_NR_close, fd) (missing arguments are 0). */
#define INJECT_CALL(number, ...) ((struct inject_call){.nr = (number), .arg = {__VA_ARGS__}})

#define INJECT_CTX_MAX 4u
/* After a timeout, how long the engine waits for the tasks to come back and be cleaned up
 * before it gives them up (logging each) */
#define INJECT_CLEANUP_GRACE_MS 30000u /* the hijacked task and the processes spawned from it */

enum inject_step {
	INJECT_STEP_CALL, /* *call holds the next call */
	INJECT_STEP_DONE, /* this context's work succeeded (a spawned one then exits) */
	INJECT_STEP_FAIL, /* it failed: op->error says why */
	INJECT_STEP_PARK, /* a spawned process becomes the resident helper (inject_helper_*) */
};

/* What an operation's program sees of the hijacked task. */
struct inject_env {
	uint32_t ctx;    /* 0: the hijacked task; 1..: processes the operation spawned */
	bool aborting;   /* timed out or a task died: head for the exit */
	bool first;      /* the first call of a spawned context (result 0: the fork's) */
	uint64_t task;   /* task_struct */
	uint64_t pgd_pa; /* its page tables (mm->pgd, physical) */
	int32_t tgid, tid;
	int32_t nspid;    /* its pid in its own pid namespace (what getpid returns there) */
	uint64_t scratch; /* guest virtual address of the scratch area */
	struct vmi *vmi;  /* the engine's session (caches emptied at each event) */
	uint64_t now_ns;  /* guest time since the operation started */
};

struct inject_op;
typedef enum inject_step (*inject_next_fn)(struct inject_op *op, struct inject_env *env,
					   int64_t result, struct inject_call *call);

/* Where an operation's guest time went: its calls of one number, and the time from each
 * one's issue to its return (the guest kernel's work, waits for the task to run, blocking). */
#define INJECT_CALL_STATS_MAX 24u
struct inject_call_stat {
	uint32_t nr, calls;
	uint64_t ns;
};

struct inject_op {
	const char *name;
	struct inject_target target;
	uint64_t timeout_ms; /* guest time, from the start to the last call's return */
	/* The operation's program: step 0 first, then once per call with its result
	 * (a negative errno for an error, as the kernel returns it). */
	inject_next_fn next;
	/* At the end, once: the reply (body on success; op->error on failure). */
	void (*done)(struct inject_op *op, bool ok);
	uint32_t step;
	char error[PROTO_MESSAGE_MAX + 1];
	/* Filled by the engine for the reply. */
	uint64_t exits;      /* VM exits from start to end */
	uint64_t guest_ns;   /* guest time from start to end */
	uint64_t monitor_ns; /* of it, the monitor's work in VM exits (every CPU's) */
	uint32_t calls;      /* injected calls, the engine's own included */
	/* by number (the first INJECT_CALL_STATS_MAX numbers met; later ones not kept) */
	struct inject_call_stat call_stats[INJECT_CALL_STATS_MAX];
	uint32_t call_stat_count;
	uint64_t passed;        /* syscall entries of other tasks let through */
	int32_t tgid, tid;      /* the task that did the work (0 if none was found) */
	int32_t nspid;          /* its pid in its own pid namespace */
	int32_t helper_tgid;    /* the helper this operation made (INJECT_STEP_PARK), or 0 */
	int32_t helper_wake_fd; /* its descriptor of the wake port's tty, or -1 (it naps) */
	char comm[16];
};

/* Start `op` (its fields but the engine's set). 0: it runs, and op->done will be called
 * at some later exit; INJECT_REFUSED_BUSY (another operation runs) or INJECT_REFUSED:
 * op->error says why, and op->done is not called. */
#define INJECT_REFUSED      (-1)
#define INJECT_REFUSED_BUSY (-2)
int inject_start(struct inject_op *op);
/* An operation is running or still cleaning up. */
bool inject_busy(void);
/* The syscall-entry trap is the engine's now (an operation runs: it arms and disarms it as
 * it needs; a parked helper needs none). */
bool inject_uses_trap(void);

/* The program says context `ctx` needs no more watching (its task exec'd and was
 * reaped). */
void inject_forget(uint32_t ctx);

/* Guest memory of the hijacked task, by its own page tables: for programs while they
 * run (scratch is INJECT_SCRATCH_*). 0, or -1 if a page is not mapped. */
int inject_write_user(struct inject_env *env, uint64_t va, const void *buf, size_t n);
int inject_read_user(struct inject_env *env, uint64_t va, void *buf, size_t n);

/* nanosleep(ms) with its struct timespec written at scratch offset `off`: the one sleep
 * every program and the resident helper use. INJECT_STEP_CALL, or INJECT_STEP_FAIL when the
 * timespec cannot be written. */
enum inject_step inject_sleep_call(struct inject_env *env, uint32_t off, uint32_t ms,
				   struct inject_call *call);

/* Hooks of the exit handlers. At a trapped syscall entry of `task` (before SWAPGS):
 * may change the guest's registers. */
void inject_on_syscall_entry(struct vcpu *v, uint64_t task);
/* A VMCALL in user mode at `rip` by `task`: true when it is a sled's (a call of the
 * operation, or the parked helper's nap, came back); the caller then resumes the guest at
 * the RIP the engine set. False: not the engine's (the caller gives the guest #UD). */
bool inject_on_sled_vmcall(struct vcpu *v, uint64_t task, uint64_t rip);
/* At every exit: timeouts, and whether the target still lives. */
void inject_tick(struct vcpu *v);
/* Registers inject_tick as an exit hook (vmx/exit_hooks.h); at start, before launch. */
bool inject_register_hooks(void);

/* The resident helper: a process forked from a host task and adopted by init, parked in
 * injected 10 ms naps that come back at its sled's VMCALL (no trap); while it exists,
 * operations needing a host root task use it at once (an idle guest needs no task of its
 * own to make a syscall). It exits when stopped or after `linger` ms without work. With
 * `helper = auto` (hv.cfg, the default) the console's operations start it themselves
 * (console/verbs_ops.c) and keep it (no linger time). */
struct inject_helper_status {
	bool present, working, automatic;
	bool blocks; /* blocks on the wake port (platform/wake_port.h) instead of napping */
	int32_t tgid;
	uint64_t naps; /* naps, or blocking reads */
	uint64_t wakes;
	uint64_t linger_ms; /* INJECT_LINGER_FOREVER: kept */
};
#define INJECT_LINGER_FOREVER UINT64_MAX
bool inject_helper_status(struct inject_helper_status *st);
void inject_helper_set_linger(uint64_t ms);
void inject_helper_set_auto(bool automatic);
bool inject_helper_auto(void);
/* -1 when there is no helper to stop */
int inject_helper_stop(void);

/* Counters for status and the benchmark. */
struct inject_stats {
	uint64_t operations, failed, calls, hijacks, aborted_cleanups;
};
const struct inject_stats *inject_stats(void);

#endif
