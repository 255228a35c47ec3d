/* SPDX-License-Identifier: MIT */
/*
 * The injection engine's own parts (not its interface: engine.h), shared by its files:
 *  engine.c         an operation from start to end: hijack, calls and their returns,
 *                   spawned processes, cleanup, timeouts;
 *  engine_mem.c     the tasks' user memory, as they could reach it themselves;
 *  engine_alive.c   whether the operation's tasks still live;
 *  engine_helper.c  the resident helper.
 */
#ifndef HV_INJECT_ENGINE_INTERNAL_H
#define HV_INJECT_ENGINE_INTERNAL_H

#include "core/vcpu.h"
#include "inject/engine.h"
#include "vmi/vmi.h"

enum phase {
	PH_FREE,
	PH_MMAP,   /* the hijacked task: the scratch mmap is in flight */
	PH_MASK,   /* rt_sigprocmask(SIG_BLOCK, all) */
	PH_BODY,   /* the operation's own calls */
	PH_UNMASK, /* rt_sigprocmask(SIG_SETMASK, old) */
	PH_MUNMAP, /* munmap(scratch); returns to the task's own SYSCALL */
};

/* How often (guest time) a running operation checks that its tasks still live. */
#define ALIVE_CHECK_MS 200u
/* A task seen returning this recently is alive: the task-list walk (costly, and the
 * console is not polled meanwhile) is only for tasks that went quiet. */
#define QUIET_MS 200u
/* The parked helper returns from a nap every 10 ms; only after this long without one is
 * the task list walked to see whether it still exists. */
#define HELPER_QUIET_MS 2000u
/* A user address: below the canonical hole of 4-level paging (also valid with LA57). */
#define USER_VA_END VMI_USER_VA_END

/* One task doing work for the operation. */
struct inject_ctx {
	enum phase phase;
	bool spawned;      /* created by the operation (not hijacked) */
	bool resident;     /* the parked helper, lent to this operation */
	bool exec_pending; /* an execve went out: success means it never returns */
	struct inject_env env;
	struct guest_regs saved; /* hijacked: every register at the entry */
	uint64_t own_syscall;    /* hijacked: address of its own SYSCALL instruction */
	struct inject_call call; /* in flight */
	uint64_t expect_rcx;     /* RCX at the entry that is the call's return */
	bool masked;             /* hijacked: its signal mask was replaced */
	uint64_t seen_tsc;       /* its last entry the engine handled */
	/* Where the call in flight comes back: the sled's VMCALL (its exit is the return: no
	 * trap needed), or a SYSCALL (the sled's second, or the task's own) whose entry the
	 * armed trap sees. */
	bool at_sled;
	uint64_t issued_tsc; /* when the call in flight went out */
};

struct inject_engine {
	bool active;
	bool waiting; /* no task hijacked yet */
	struct inject_op *op;
	struct vmi vmi;
	struct inject_ctx ctx[INJECT_CTX_MAX];
	uint64_t scratch;
	uint64_t scratch_page; /* the physical page at `scratch` (MAP_SHARED: every process the
				* operation forks maps this very page there) */
	int32_t spawn_from;    /* context whose SPAWN call is in flight, or -1 */
	struct inject_ctx spawn_sig; /* that call and its return address: what the child shows */
	bool aborting, replied;
	/* The exit being handled is a sled VMCALL (user mode): a call goes out by pointing
	 * RIP at the sled's SYSCALL; `issued` says one did. */
	bool in_sled_exit, issued;
	/* VMCALLs at a sled refused in this operation (the guest's #UD); the first few logged:
	 * a process that loops on one costs the console no more than that */
	uint32_t sled_refusals;
	uint64_t start_tsc, start_exits, start_work_tsc, deadline_tsc, next_alive_tsc;
};
/* The operation in progress (one at a time): owned by the exit handler that holds the exit
 * lock (engine.c) */
extern struct inject_engine engine;

/* The resident helper (DESIGN §6 step 6): a process the monitor forked from a host task,
 * adopted by init, that sleeps in a loop of injected 10 ms nanosleeps until an operation
 * needs a host task; then that operation's calls run in it, and it goes back to sleep.
 * Each nap comes back at its sled's VMCALL (no trap is armed for it) until it is stopped
 * or has been idle for its linger time; then it exits and init reaps it. */
#define HELPER_PARK_MS 10u
struct inject_resident {
	bool present, working, stop;
	struct inject_ctx c; /* its context while parked (env.ctx is 0 when it works) */
	uint64_t linger_tsc, idle_since_tsc, next_alive_tsc;
	uint64_t naps;
	bool manual; /* helper = manual: only the console's `helper start` makes one */
	/* Blocked in a read of the wake port's tty (platform/wake_port.h) instead of napping,
	 * when it holds one (wake_fd >= 0): rung when wanted; rings not answered in time are
	 * rung again, and after HELPER_RINGS_MAX it is `deaf` (an operation then finds a host
	 * task through the trap) until it comes back. */
	int32_t wake_fd;
	uint64_t rang_tsc, wakes;
	uint32_t rings_unanswered;
	bool deaf;
};
#define HELPER_RING_RETRY_MS 100u
#define HELPER_RINGS_MAX     5u
/* Owned like `engine` (engine_helper.c) */
extern struct inject_resident resident;

extern struct inject_stats inject_counters;

uint64_t inject_ms_to_tsc(uint64_t ms);
uint64_t inject_tsc_to_ns(uint64_t tsc);
/* The entry at `r` is the return of c's call in flight (task, return address, arguments). */
bool inject_regs_match(const struct guest_regs *r, const struct inject_ctx *c);
/* The operation's error, if it has none yet (the first failure is the cause). */
void inject_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The reply goes out (once), with the exits and guest time so far. */
void inject_finish(bool ok);
/* The engine is free again, the trap off. */
void inject_release(void);
/* A context has ended; the operation ends with its last one. */
void inject_ctx_end(struct inject_ctx *c);
/* The operation's program, stepped with the result of c's last call. */
void inject_body_step(struct inject_ctx *c, struct guest_regs *r, int64_t result);

/* engine_alive.c */
bool inject_task_alive(const struct inject_env *env);
void inject_check_alive(uint64_t now);

/* The physical page of c's scratch area: its first page, through c's page tables (0 when
 * it is not mapped). */
uint64_t inject_scratch_page(const struct inject_ctx *c);
/* c's next call, coming back at `ret` (the sled's VMCALL, or the task's own SYSCALL), in
 * the exit being handled: registers, and RIP when that exit is a sled VMCALL. Not counted
 * in any operation. */
void inject_load_call(struct inject_ctx *c, struct guest_regs *r, const struct inject_call *call,
		      uint64_t ret);
/* The sled's VMCALL of a process (its scratch area at `scratch`). */
static inline uint64_t inject_sled_return(uint64_t scratch)
{
	return scratch + INJECT_SCRATCH_SLED + INJECT_SLED_RETURN;
}

/* The sled's second SYSCALL: where a hijacked task's calls come back. */
static inline uint64_t inject_sled_trap_return(uint64_t scratch)
{
	return scratch + INJECT_SCRATCH_SLED + INJECT_SLED_TRAP_RETURN;
}

/* Is `task` still c's process: the same thread, with the same memory (a task_struct freed
 * and reused, or one whose execve gave it new memory, is not)? */
bool inject_same_process(const struct inject_ctx *c, uint64_t task);

/* engine_helper.c */
void inject_park(struct inject_ctx *c, struct guest_regs *r);
void inject_helper_gone(const char *why);
bool inject_helper_entry(struct vcpu *v, uint64_t task, uint64_t rip);
void inject_helper_tick(uint64_t now);
/* Wakes the parked helper when it is blocked on the wake port (nothing when it naps). */
void inject_helper_ring(void);

#endif
