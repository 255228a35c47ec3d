/* SPDX-License-Identifier: MIT */
/* The injection engine's state machine (see engine.h for the mechanism). */
#include "inject/engine.h"

#include <stdarg.h>

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

enum phase {
	PH_FREE,
	PH_MMAP,   /* the hijacked task: the scratch mmap is in flight */
	PH_MASK,   /* rt_sigprocmask(SIG_BLOCK, all) */
	PH_BODY,   /* the operation's own calls */
	PH_UNMASK, /* rt_sigprocmask(SIG_SETMASK, old) */
	PH_MUNMAP, /* munmap(scratch); returns to the task's own SYSCALL */
};

/* PF_EXITING (include/linux/sched.h): the task is in do_exit. */
#define LINUX_PF_EXITING 0x00000004u
/* How often (guest time) a running operation checks that its tasks still live. */
#define ALIVE_CHECK_MS 200u
/* A task seen returning this recently is alive: the task-list walk (costly, and the
 * console is not polled meanwhile) is only for tasks that went quiet. */
#define QUIET_MS 200u
/* The parked helper returns from a nap every 10 ms; only after this long without one is
 * the task list walked to see whether it still exists. */
#define HELPER_QUIET_MS 2000u
/* Tasks that do not come back for this long after the operation's timeout are given up
 * (stuck in the kernel): the engine is freed; what they hold is said on the console. */
/* A user address: below the canonical hole of 4-level paging (also valid with LA57). */
#define USER_VA_END 0x0000800000000000ull

static const uint8_t sled[16] = {0x0F, 0x05, 0x0F, 0x05, 0x0F, 0x05, 0xCC, 0xCC,
				 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC};

/* One task doing work for the operation. */
struct ctx {
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
};

static struct {
	bool active;
	bool waiting; /* no task hijacked yet */
	struct inject_op *op;
	struct vmi vmi;
	struct ctx ctx[INJECT_CTX_MAX];
	uint64_t scratch;
	int32_t spawn_from;   /* context whose SPAWN call is in flight, or -1 */
	struct ctx spawn_sig; /* that call and its return address: what the child shows */
	bool aborting, replied;
	uint64_t start_tsc, start_exits, deadline_tsc, next_alive_tsc;
} e;

/* The resident helper (DESIGN §6 step 6): a process the monitor forked from a host task,
 * adopted by init, that sleeps in a loop of injected 10 ms nanosleeps until an operation
 * needs a host task; then that operation's calls run in it, and it goes back to sleep.
 * It keeps the syscall-entry trap armed (that is how it is driven) until it is stopped or
 * has been idle for its linger time; then it exits and init reaps it. */
#define HELPER_PARK_MS 10u
static struct {
	bool present, working, stop;
	struct ctx c; /* its context while parked (env.ctx is 0 when it works) */
	uint64_t linger_tsc, idle_since_tsc, next_alive_tsc;
	uint64_t naps;
} h;

static struct inject_stats stats;

const struct inject_stats *inject_stats(void)
{
	return &stats;
}

bool inject_busy(void)
{
	return e.active;
}

bool inject_uses_trap(void)
{
	return e.active || h.present;
}

static uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * (machine.tsc_hz / 1000u);
}

static uint64_t tsc_to_ns(uint64_t tsc)
{
	uint64_t per_us = machine.tsc_hz / 1000000u;
	return per_us ? tsc / per_us * 1000u : 0;
}

/* ------------------------------------------------------------------ guest user memory */

/* The target's memory as it could reach it itself (SDM Vol. 3A 4.6): user-half
 * addresses, pages user-accessible at every level, and writable at every level for a
 * write (a page shared copy-on-write after a fork is read-only there: written through its
 * physical address, the other process would see the write too). */
static int user_access(struct inject_env *env, uint64_t va, void *buf, size_t n, bool write)
{
	uint8_t *p = buf;
	uint64_t pgd = env->pgd_pa;
	unsigned need = VMI_RIGHT_USER | (write ? VMI_RIGHT_WRITE : 0u);
	while (n > 0) {
		uint64_t pa, size;
		unsigned rights;
		size_t chunk = PAGE_SIZE_4K - (va & (PAGE_SIZE_4K - 1));
		if (chunk > n)
			chunk = n;
		if (va >= USER_VA_END || !vmi_user_half(va, e.vmi.la57) ||
		    vmi_translate_rights(e.vmi.mem, pgd, e.vmi.la57, va, &pa, &size, &rights) < 0 ||
		    (rights & need) != need)
			return -1;
		if (write ? live_write_phys(pa, p, chunk) < 0
			  : e.vmi.mem->read_phys(e.vmi.mem->ctx, pa, p, chunk) < 0)
			return -1;
		va += chunk;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

int inject_write_user(struct inject_env *env, uint64_t va, const void *buf, size_t n)
{
	return user_access(env, va, (void *)buf, n, true);
}

int inject_read_user(struct inject_env *env, uint64_t va, void *buf, size_t n)
{
	return user_access(env, va, buf, n, false);
}

/* ------------------------------------------------------------------ tasks */

static bool task_suitable(uint64_t task)
{
	const struct vmi_profile *pr = e.vmi.prof;
	const struct inject_target *t = &e.op->target;
	uint32_t flags, tgid;
	if (vmi_read_u32(&e.vmi, task + pr->task_flags, &flags) < 0 || (flags & LINUX_PF_EXITING) ||
	    vmi_read_u32(&e.vmi, task + pr->task_tgid, &tgid) < 0)
		return false;
	if (t->kind == INJECT_TARGET_PID)
		return (int32_t)tgid == t->tgid;
	struct vmi_process p;
	if (vmi_process_read(&e.vmi, task, VMI_READ_NS | VMI_READ_CGROUP, &p) < 0 || p.kthread)
		return false;
	if (t->kind == INJECT_TARGET_CONTAINER)
		return p.cgroup_ptr == t->cgroup;
	if (h.present)
		return false; /* the parked helper takes host work (helper_entry) */
	struct vmi_container_key key;
	vmi_container_key_of(&e.vmi, &p, &key);
	return p.uid == 0 && !key.in_container;
}

static bool task_mm(uint64_t task, uint64_t *mm, uint64_t *pgd_pa)
{
	uint64_t pgd;
	return vmi_read_kptr(&e.vmi, task + e.vmi.prof->task_mm, mm) == 0 && *mm != 0 &&
	       vmi_read_kptr(&e.vmi, *mm + e.vmi.prof->mm_pgd, &pgd) == 0 &&
	       vmi_kernel_phys(&e.vmi, pgd, pgd_pa) == 0;
}

/* Fill c->env for `task`; false if it cannot be read. */
static bool ctx_take_task(struct ctx *c, uint32_t index, uint64_t task)
{
	uint32_t tid, tgid;
	uint64_t mm;
	struct vmi_process p;
	uint64_t pgd_pa;
	if (!task_mm(task, &mm, &pgd_pa) ||
	    vmi_read_u32(&e.vmi, task + e.vmi.prof->task_pid, &tid) < 0 ||
	    vmi_read_u32(&e.vmi, task + e.vmi.prof->task_tgid, &tgid) < 0)
		return false;
	c->env = (struct inject_env){.ctx = index,
				     .task = task,
				     .tid = (int32_t)tid,
				     .tgid = (int32_t)tgid,
				     .scratch = e.scratch,
				     .vmi = &e.vmi,
				     .pgd_pa = pgd_pa};
	/* getpid answers the thread group's id in the task's pid namespace: the group
	 * leader's pid there (a second thread's own nspid is its thread id). */
	uint64_t leader = task;
	if (vmi_read_kptr(&e.vmi, task + e.vmi.prof->task_group_leader, &leader) < 0 || leader == 0)
		leader = task;
	c->env.nspid = vmi_process_read(&e.vmi, leader, VMI_READ_NS, &p) == 0 && p.nspid > 0
			       ? p.nspid
			       : (int32_t)tgid;
	return true;
}

/* ------------------------------------------------------------------ issuing calls */

static void set_call(struct ctx *c, struct guest_regs *r, const struct inject_call *call,
		     uint64_t ret)
{
	r->rax = call->nr;
	r->rdi = call->arg[0];
	r->rsi = call->arg[1];
	r->rdx = call->arg[2];
	r->r10 = call->arg[3];
	r->r8 = call->arg[4];
	r->r9 = call->arg[5];
	/* SYSCALL saved the return address in RCX; the kernel returns there (pt_regs->ip
	 * and ->cx both come from it, so SYSRET stays allowed). */
	r->rcx = ret;
	c->call = *call;
	c->expect_rcx = ret + X86_SYSCALL_LEN;
	e.op->calls++;
	stats.calls++;
}

static void issue_to_sled(struct ctx *c, struct guest_regs *r, const struct inject_call *call)
{
	set_call(c, r, call, e.scratch + INJECT_SCRATCH_SLED + X86_SYSCALL_LEN);
}

static bool regs_match(const struct guest_regs *r, const struct ctx *c)
{
	return r->rcx == c->expect_rcx && r->rdi == c->call.arg[0] && r->rsi == c->call.arg[1] &&
	       r->rdx == c->call.arg[2] && r->r10 == c->call.arg[3] && r->r8 == c->call.arg[4] &&
	       r->r9 == c->call.arg[5];
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...)
{
	va_list ap;
	if (e.op->error[0] != 0)
		return; /* the first failure is the cause */
	va_start(ap, fmt);
	fmt_vsnprintf(e.op->error, sizeof(e.op->error), fmt, ap);
	va_end(ap);
}

static void finish(bool ok)
{
	struct inject_op *op = e.op;
	op->exits = vm_exits_total() - e.start_exits;
	op->guest_ns = tsc_to_ns(rdtsc() - e.start_tsc);
	if (!ok)
		stats.failed++;
	if (!e.replied) {
		e.replied = true;
		op->done(op, ok);
	}
}

static void release(void)
{
	e.active = false;
	e.op = 0;
	if (!h.present)
		syscall_trap_disarm(); /* a parked helper is driven through the trap */
}

/* A context has ended; the operation ends with its last one. */
static bool all_ended(void)
{
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		if (e.ctx[i].phase != PH_FREE)
			return false;
	}
	return true;
}

static void ctx_end(struct ctx *c)
{
	c->phase = PH_FREE;
	/* A forked child that has not run yet is still to come. */
	if (!all_ended() || e.spawn_from >= 0)
		return;
	finish(!e.aborting && e.op->error[0] == 0);
	release();
}

void inject_forget(uint32_t index)
{
	if (index > 0 && index < INJECT_CTX_MAX && e.ctx[index].phase != PH_FREE)
		ctx_end(&e.ctx[index]);
}

/* The hijacked task's registers back, at this entry: the kernel now runs its own call. */
static void restore(struct ctx *c, struct guest_regs *r)
{
	*r = c->saved;
	ctx_end(c);
}

static void start_cleanup(struct ctx *c, struct guest_regs *r)
{
	if (c->masked) {
		struct inject_call call = {LINUX_NR_rt_sigprocmask,
					   {LINUX_SIG_SETMASK, e.scratch + INJECT_SCRATCH_OLDMASK,
					    0, LINUX_SIGSET_SIZE, 0, 0},
					   INJECT_CALL_PLAIN};
		issue_to_sled(c, r, &call);
		c->phase = PH_UNMASK;
		return;
	}
	struct inject_call call = {
		LINUX_NR_munmap, {e.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0}, INJECT_CALL_PLAIN};
	set_call(c, r, &call, c->own_syscall);
	c->phase = PH_MUNMAP;
}

static void exit_spawned(struct ctx *c, struct guest_regs *r, bool ok)
{
	struct inject_call call = {
		LINUX_NR_exit_group, {ok ? 0u : 1u, 0, 0, 0, 0, 0}, INJECT_CALL_FINAL};
	issue_to_sled(c, r, &call);
	ctx_end(c);
}

/* The helper's next nap, returning into the sled (its own scratch area). */
static void park(struct ctx *c, struct guest_regs *r)
{
	struct inject_call call;
	c->resident = false;
	c->spawned = true;
	c->env.ctx = 0;
	inject_sleep_call(&c->env, INJECT_SCRATCH_NAP, HELPER_PARK_MS, &call);
	uint64_t va = call.arg[0];
	r->rax = call.nr;
	r->rdi = va;
	r->rsi = r->rdx = r->r10 = r->r8 = r->r9 = 0;
	r->rcx = c->env.scratch + INJECT_SCRATCH_SLED + X86_SYSCALL_LEN;
	c->call = call;
	c->expect_rcx = r->rcx + X86_SYSCALL_LEN;
	c->seen_tsc = rdtsc();
	h.c = *c;
	h.naps++;
}

static void helper_gone(const char *why)
{
	log_printf("ctrvisor: the helper (pid %d) %s\r\n", (int)h.c.env.tgid, why);
	h.present = h.working = false;
	if (!e.active)
		syscall_trap_disarm();
}

static void body_step(struct ctx *c, struct guest_regs *r, int64_t result)
{
	struct inject_call call = {0, {0, 0, 0, 0, 0, 0}, INJECT_CALL_PLAIN};
	c->env.now_ns = tsc_to_ns(rdtsc() - e.start_tsc);
	c->env.aborting = e.aborting;
	enum inject_step s = e.op->next(e.op, &c->env, result, &call);
	e.op->step++;
	if (s == INJECT_STEP_FAIL && e.op->error[0] == 0)
		fmt_snprintf(e.op->error, sizeof(e.op->error), "%s failed", e.op->name);
	if (s == INJECT_STEP_PARK && c->spawned && !h.present) {
		/* The operation made this process to be the resident helper. */
		h.present = true;
		h.working = false;
		h.stop = false;
		h.idle_since_tsc = h.next_alive_tsc = rdtsc();
		park(c, r);
		e.op->helper_tgid = c->env.tgid;
		ctx_end(c);
		return;
	}
	if (c->resident) {
		/* Lent to this operation: back to its naps, whatever the outcome. */
		if (s == INJECT_STEP_CALL && !e.aborting) {
			issue_to_sled(c, r, &call);
			if (call.kind == INJECT_CALL_SPAWN) {
				e.spawn_from = 0;
				e.spawn_sig = *c;
			}
			return;
		}
		if (s == INJECT_STEP_FAIL && e.op->error[0] == 0)
			fmt_snprintf(e.op->error, sizeof(e.op->error), "%s failed", e.op->name);
		h.working = false;
		h.idle_since_tsc = rdtsc();
		park(c, r);
		ctx_end(c);
		return;
	}
	if (s == INJECT_STEP_CALL && !(e.aborting && !c->spawned)) {
		issue_to_sled(c, r, &call);
		c->exec_pending = call.kind == INJECT_CALL_EXEC;
		if (call.kind == INJECT_CALL_SPAWN) {
			e.spawn_from = (int32_t)c->env.ctx;
			e.spawn_sig = *c;
		}
		if (call.kind == INJECT_CALL_FINAL)
			ctx_end(c);
		return;
	}
	if (c->spawned)
		exit_spawned(c, r, s == INJECT_STEP_DONE);
	else
		start_cleanup(c, r);
}

static bool scratch_valid(uint64_t addr)
{
	return (int64_t)addr > 0 && (addr & (PAGE_SIZE_4K - 1)) == 0 &&
	       addr + INJECT_SCRATCH_SIZE < USER_VA_END;
}

/* The return of the hijacked task's call in flight, with its result. */
static void on_return(struct ctx *c, struct guest_regs *r, int64_t result)
{
	switch (c->phase) {
	case PH_MMAP: {
		if (!scratch_valid((uint64_t)result)) {
			set_error("the scratch mmap in pid %d failed (%lld)", (int)c->env.tgid,
				  (long long)result);
			restore(c, r);
			return;
		}
		e.scratch = c->env.scratch = (uint64_t)result;
		uint64_t full = ~0ull;
		if (inject_write_user(&c->env, e.scratch, sled, sizeof(sled)) < 0 ||
		    inject_write_user(&c->env, e.scratch + INJECT_SCRATCH_FULLMASK, &full, 8) < 0) {
			set_error("the scratch area of pid %d is not mapped after mmap",
				  (int)c->env.tgid);
			start_cleanup(c, r);
			return;
		}
		struct inject_call call = {LINUX_NR_rt_sigprocmask,
					   {LINUX_SIG_BLOCK, e.scratch + INJECT_SCRATCH_FULLMASK,
					    e.scratch + INJECT_SCRATCH_OLDMASK, LINUX_SIGSET_SIZE,
					    0, 0},
					   INJECT_CALL_PLAIN};
		issue_to_sled(c, r, &call);
		c->phase = PH_MASK;
		return;
	}
	case PH_MASK:
		if (result != 0) {
			set_error("rt_sigprocmask in pid %d failed (%lld)", (int)c->env.tgid,
				  (long long)result);
			start_cleanup(c, r);
			return;
		}
		c->masked = true;
		c->phase = PH_BODY;
		if (e.aborting)
			start_cleanup(c, r);
		else
			body_step(c, r, 0);
		return;
	case PH_BODY:
		body_step(c, r, result);
		return;
	case PH_UNMASK: {
		c->masked = false;
		struct inject_call call = {LINUX_NR_munmap,
					   {e.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0},
					   INJECT_CALL_PLAIN};
		set_call(c, r, &call, c->own_syscall);
		c->phase = PH_MUNMAP;
		return;
	}
	case PH_MUNMAP:
		if (result != 0)
			set_error("munmap of the scratch area in pid %d failed (%lld)",
				  (int)c->env.tgid, (long long)result);
		restore(c, r);
		return;
	default:
		return;
	}
}

static void hijack(struct vcpu *v, uint64_t task)
{
	struct guest_regs *r = v->regs;
	struct ctx *c = &e.ctx[0];
	uint8_t insn[2];
	/* Its own SYSCALL instruction must be where RCX says (SDM Vol. 2B SYSCALL: RCX is
	 * the address of the next instruction), readable through its page tables. */
	if (r->rax == LINUX_NR_rt_sigreturn || r->rcx < X86_SYSCALL_LEN ||
	    !ctx_take_task(c, 0, task))
		return;
	if (inject_read_user(&c->env, r->rcx - X86_SYSCALL_LEN, insn, 2) < 0 || insn[0] != 0x0F ||
	    insn[1] != 0x05)
		return;
	c->saved = *r;
	c->saved.rsp_slot = vmread(GUEST_RSP);
	c->own_syscall = r->rcx - X86_SYSCALL_LEN;
	c->seen_tsc = rdtsc();
	c->spawned = false;
	c->masked = false;
	e.op->tgid = c->env.tgid;
	e.op->tid = c->env.tid;
	e.op->nspid = c->env.nspid;
	vmi_read_kernel(&e.vmi, task + e.vmi.prof->task_comm, e.op->comm, sizeof(e.op->comm));
	e.op->comm[sizeof(e.op->comm) - 1] = 0;
	stats.hijacks++;
	/* MAP_SHARED: processes the operation forks see the same scratch pages, so what the
	 * monitor writes through one task's tables is what every one of them reads (a
	 * private mapping would be copy-on-write after fork). */
	struct inject_call call = {
		LINUX_NR_mmap,
		{0, INJECT_SCRATCH_SIZE, LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC,
		 LINUX_MAP_SHARED | LINUX_MAP_ANONYMOUS | LINUX_MAP_POPULATE, (uint64_t)-1, 0},
		INJECT_CALL_PLAIN};
	/* mmap never returns a restart code (only -EINTR on a fatal signal), so returning
	 * to the task's own SYSCALL is safe for this first call. */
	set_call(c, r, &call, c->own_syscall);
	c->phase = PH_MMAP;
	e.waiting = false;
}

/* A task the operation does not know yet: the child of its SPAWN call in flight? Its
 * registers are the parent's at that call with RAX = 0, returning into the sled. */
static bool adopt_child(struct vcpu *v, uint64_t task)
{
	struct guest_regs *r = v->regs;
	if (e.spawn_from < 0 || r->rax != 0 || !regs_match(r, &e.spawn_sig))
		return false;
	for (uint32_t i = 1; i < INJECT_CTX_MAX; i++) {
		struct ctx *c = &e.ctx[i];
		if (c->phase != PH_FREE)
			continue;
		if (!ctx_take_task(c, i, task))
			return false;
		c->spawned = true;
		c->exec_pending = false;
		c->seen_tsc = rdtsc();
		c->phase = PH_BODY;
		e.spawn_from = -1;
		c->env.first = true;
		body_step(c, r, 0);
		c->env.first = false;
		return true;
	}
	set_error("more than %u processes in one operation", INJECT_CTX_MAX);
	return false;
}

/* An entry of the parked helper: its nap returned. Lend it to an operation waiting for a
 * host task, send it away when stopped or idle too long, or let it nap again. */
static bool helper_entry(struct vcpu *v, uint64_t task)
{
	if (!h.present || h.working || task != h.c.env.task || !regs_match(v->regs, &h.c))
		return false;
	uint64_t now = rdtsc();
	if (e.active && e.waiting && e.op->target.kind == INJECT_TARGET_HOST_ROOT) {
		struct ctx *c = &e.ctx[0];
		*c = h.c;
		c->env.ctx = 0;
		c->env.vmi = &e.vmi;
		c->resident = true;
		c->phase = PH_BODY;
		e.scratch = c->env.scratch;
		e.op->tgid = c->env.tgid;
		e.op->tid = c->env.tid;
		e.op->nspid = c->env.nspid;
		memcpy(e.op->comm, "(helper)", 9);
		h.working = true;
		e.waiting = false;
		stats.hijacks++;
		body_step(c, v->regs, 0);
		return true;
	}
	if (h.stop || now - h.idle_since_tsc >= h.linger_tsc) {
		/* exit_group(0) into the sled: it never returns; init reaps the helper. */
		v->regs->rax = LINUX_NR_exit_group;
		v->regs->rdi = 0;
		v->regs->rcx = h.c.env.scratch + INJECT_SCRATCH_SLED + X86_SYSCALL_LEN;
		helper_gone(h.stop ? "was stopped" : "exits after its linger time");
		return true;
	}
	struct ctx c = h.c;
	park(&c, v->regs);
	return true;
}

void inject_on_syscall_entry(struct vcpu *v, uint64_t task)
{
	if (!e.active && !h.present)
		return;
	if (e.active)
		vmi_refresh(&e.vmi);
	if (helper_entry(v, task))
		return;
	if (!e.active)
		return;
	if (e.waiting) {
		if (task_suitable(task))
			hijack(v, task);
		if (e.waiting)
			e.op->passed++;
		return;
	}
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		struct ctx *c = &e.ctx[i];
		if (c->phase == PH_FREE || c->env.task != task)
			continue;
		if (!regs_match(v->regs, c))
			break; /* ours in a signal handler, a restart, or after its execve */
		c->exec_pending = false;
		c->seen_tsc = rdtsc();
		if (c->call.kind == INJECT_CALL_SPAWN && e.spawn_from == (int32_t)i &&
		    (int64_t)v->regs->rax < 0)
			e.spawn_from = -1; /* the fork failed: no child will come */
		on_return(c, v->regs, (int64_t)v->regs->rax);
		return;
	}
	if (adopt_child(v, task))
		return;
	e.op->passed++;
}

/* Is `task` still in the tasks list and not exiting? */
/* Does the task of `env` still live? Its own task_struct must still hold its tid and not
 * be exiting (a freed task_struct is soon reused by a new task: the victim loop of the lab
 * gets the same address back every time, so the address alone proves nothing), and its
 * thread group's leader must still be on the tasks list (only leaders are linked). */
static bool task_alive(const struct inject_env *env)
{
	const struct vmi_profile *pr = e.vmi.prof;
	struct vmi_walk w;
	uint64_t t;
	uint32_t pid, tgid, flags;
	if (vmi_read_u32(&e.vmi, env->task + pr->task_pid, &pid) != 0 || (int32_t)pid != env->tid ||
	    vmi_read_u32(&e.vmi, env->task + pr->task_flags, &flags) != 0 ||
	    (flags & LINUX_PF_EXITING))
		return false;
	vmi_walk_begin(&e.vmi, &w);
	while (vmi_walk_next(&e.vmi, &w, &t)) {
		if (vmi_read_u32(&e.vmi, t + pr->task_tgid, &tgid) == 0 &&
		    (int32_t)tgid == env->tgid &&
		    vmi_read_u32(&e.vmi, t + pr->task_pid, &pid) == 0 && (int32_t)pid == env->tgid)
			return true;
	}
	return w.truncated; /* an unreadable list proves nothing: assume alive */
}

static void check_alive(uint64_t now)
{
	bool refreshed = false;
	for (uint32_t i = 0; i < INJECT_CTX_MAX && e.active; i++) {
		struct ctx *c = &e.ctx[i];
		if (c->phase == PH_FREE || now - c->seen_tsc < ms_to_tsc(QUIET_MS))
			continue;
		if (!refreshed) {
			vmi_refresh(&e.vmi);
			refreshed = true;
		}
		if (task_alive(&c->env))
			continue;
		/* Its memory went with it: nothing to clean up there. A process that ran
		 * its execve ends by itself; any other loss ends the operation. */
		if (!c->exec_pending) {
			set_error("pid %d exited during the operation", (int)c->env.tgid);
			e.aborting = true;
			finish(false);
		}
		if (c->resident)
			helper_gone("died during an operation");
		ctx_end(c);
	}
}

/* The parked helper, when it has not come back from a nap for a while: if something
 * killed it, forget it (a stopped or frozen one is alive: it is waited for). */
static void helper_tick(uint64_t now)
{
	if (!h.present || h.working || now - h.c.seen_tsc < ms_to_tsc(HELPER_QUIET_MS) ||
	    now < h.next_alive_tsc)
		return;
	h.next_alive_tsc = now + ms_to_tsc(HELPER_QUIET_MS);
	vmi_refresh(&e.vmi); /* the session of the operation that made it: still this kernel */
	if (!task_alive(&h.c.env))
		helper_gone("died (killed from inside the guest?)");
}

void inject_tick(struct vcpu *v)
{
	(void)v;
	uint64_t now = rdtsc();
	helper_tick(now);
	if (!e.active)
		return;
	if (e.waiting) {
		if (now >= e.deadline_tsc) {
			set_error("no suitable task entered a system call within %llu ms",
				  (unsigned long long)e.op->timeout_ms);
			finish(false);
			release();
		}
		return;
	}
	if (all_ended() && now >= e.deadline_tsc) {
		set_error("a process the operation forked never ran");
		finish(false);
		release();
		return;
	}
	if (now >= e.next_alive_tsc) {
		e.next_alive_tsc = now + ms_to_tsc(ALIVE_CHECK_MS);
		check_alive(now);
		if (!e.active)
			return;
	}
	if (now >= e.deadline_tsc && !e.aborting) {
		e.aborting = true;
		set_error("timed out after %llu ms; the tasks are cleaned up as they return",
			  (unsigned long long)e.op->timeout_ms);
		finish(false);
	}
	if (e.aborting && now >= e.deadline_tsc + ms_to_tsc(INJECT_CLEANUP_GRACE_MS)) {
		/* Only processes the operation made are ever left (a hijacked task makes no call
		 * that can block); each has its own deadline (ops_exec.c's alarm). One that
		 * comes back after all, from a wait nothing could end, finds the sled turned to
		 * INT3 and dies of SIGTRAP instead of running calls nobody reads. A hijacked task
		 * still out keeps the sled (it would die too). */
		bool only_spawned = true;
		int sled_owner = -1;
		for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
			if (e.ctx[i].phase == PH_FREE)
				continue;
			only_spawned &= e.ctx[i].spawned && !e.ctx[i].resident;
			sled_owner = (int)i;
			log_printf("ctrvisor: injection abandoned: pid %d never returned "
				   "from call %llu (scratch at 0x%llx)\r\n",
				   (int)e.ctx[i].env.tgid, (unsigned long long)e.ctx[i].call.nr,
				   (unsigned long long)e.scratch);
		}
		if (sled_owner >= 0 && only_spawned) {
			static const uint8_t int3[16] = {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
							 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
							 0xcc, 0xcc, 0xcc, 0xcc};
			inject_write_user(&e.ctx[sled_owner].env,
					  e.ctx[sled_owner].env.scratch + INJECT_SCRATCH_SLED, int3,
					  sizeof(int3));
		}
		for (uint32_t i = 0; i < INJECT_CTX_MAX; i++)
			e.ctx[i].phase = PH_FREE;
		stats.aborted_cleanups++;
		finish(false);
		release();
	}
}

bool inject_helper_status(struct inject_helper_status *st)
{
	st->present = h.present;
	st->working = h.working;
	st->tgid = h.c.env.tgid;
	st->naps = h.naps;
	st->linger_ms = machine.tsc_hz >= 1000u ? h.linger_tsc / (machine.tsc_hz / 1000u) : 0;
	return h.present;
}

void inject_helper_set_linger(uint64_t ms)
{
	h.linger_tsc = ms_to_tsc(ms);
}

int inject_helper_stop(struct reply *r)
{
	if (!h.present)
		return reply_fail(r, PROTO_FAILED, "no helper is running");
	h.stop = true; /* it exits at its next nap's end (within 10 ms of guest time) */
	return 0;
}

int inject_start(struct inject_op *op, struct reply *r)
{
	if (e.active)
		return reply_fail(r, PROTO_BUSY, "another operation (%s) is running", e.op->name);
	if (live_vmi_open(&e.vmi, r) < 0)
		return -1;
	if (!h.present && syscall_trap_arm(r, -1) < 0)
		return -1;
	op->step = 0;
	op->error[0] = 0;
	op->calls = 0;
	op->passed = 0;
	op->tgid = op->tid = op->nspid = 0;
	op->comm[0] = 0;
	op->helper_tgid = 0;
	e.op = op;
	memset(e.ctx, 0, sizeof(e.ctx));
	e.scratch = 0;
	e.spawn_from = -1;
	e.aborting = e.replied = false;
	e.start_tsc = rdtsc();
	e.start_exits = vm_exits_total();
	e.deadline_tsc = e.start_tsc + ms_to_tsc(op->timeout_ms);
	e.next_alive_tsc = e.start_tsc;
	e.waiting = true;
	e.active = true;
	stats.operations++;
	return 0;
}

static const struct exit_hooks engine_hooks = {
	.name = "inject",
	.tick = inject_tick,
};

bool inject_register_hooks(void)
{
	return exit_hooks_register(&engine_hooks);
}
