/* SPDX-License-Identifier: MIT */
/* The injection engine's state machine (see engine.h for the mechanism). */
#include "inject/engine.h"

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "x86/cpu.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "vmx/vmx.h"

enum phase {
	PH_IDLE,
	PH_WAIT_TASK, /* armed, no task chosen yet */
	PH_MMAP,      /* the scratch mmap is in flight */
	PH_MASK,      /* rt_sigprocmask(SIG_BLOCK, all) */
	PH_BODY,      /* the operation's own calls */
	PH_UNMASK,    /* rt_sigprocmask(SIG_SETMASK, old) */
	PH_MUNMAP,    /* munmap(scratch); returns to the task's own SYSCALL */
};

/* PF_EXITING (include/linux/sched.h): the task is in do_exit. */
#define LINUX_PF_EXITING 0x00000004u
/* How often (guest time) a waiting operation checks that its task still lives. */
#define ALIVE_CHECK_MS 50u
/* A hijacked task that does not come back for this long after the operation's own
 * timeout is given up (it is stuck in the kernel): the engine is freed, the scratch area
 * stays mapped in that task (said on the console). */
#define CLEANUP_GRACE_MS 30000u

static const uint8_t sled[16] = {0x0F, 0x05, 0x0F, 0x05, 0x0F, 0x05, 0xCC, 0xCC,
				 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC};

static struct {
	enum phase phase;
	struct inject_op *op;
	struct vmi vmi;
	struct inject_env env;
	uint64_t pgd_pa;         /* the task's page tables (mm->pgd) */
	struct guest_regs saved; /* every register at the hijacked entry */
	uint64_t own_syscall;    /* address of the task's SYSCALL instruction */
	struct inject_call call; /* in flight */
	uint64_t expect_rcx;     /* RCX at the entry that is its return */
	bool masked;             /* the signal mask was replaced */
	bool aborting;           /* skip to the cleanup at the next return */
	bool replied;            /* op->done was called */
	uint64_t start_tsc, start_exits, deadline_tsc, next_alive_tsc;
} e;

static struct inject_stats stats;

const struct inject_stats *inject_stats(void)
{
	return &stats;
}

bool inject_busy(void)
{
	return e.phase != PH_IDLE;
}

static uint64_t ms_to_tsc(uint64_t ms)
{
	return ms * (monitor.tsc_hz / 1000u);
}

static uint64_t tsc_to_ns(uint64_t tsc)
{
	uint64_t per_us = monitor.tsc_hz / 1000000u;
	return per_us ? tsc / per_us * 1000u : 0;
}

/* ------------------------------------------------------------------ guest user memory */

static int user_access(struct inject_env *env, uint64_t va, void *buf, size_t n, bool write)
{
	(void)env;
	uint8_t *p = buf;
	while (n > 0) {
		uint64_t pa;
		size_t chunk = PAGE_SIZE_4K - (va & (PAGE_SIZE_4K - 1));
		if (chunk > n)
			chunk = n;
		if (va >= 0x0000800000000000ull ||
		    vmi_translate(e.vmi.mem, e.pgd_pa, e.vmi.la57, va, &pa) < 0)
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

/* ------------------------------------------------------------------ choosing the task */

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
	struct vmi_container_key key;
	vmi_container_key_of(&e.vmi, &p, &key);
	return p.uid == 0 && !key.in_container;
}

static bool task_pgd(uint64_t task, uint64_t *pgd_pa)
{
	uint64_t mm, pgd;
	return vmi_read_kptr(&e.vmi, task + e.vmi.prof->task_mm, &mm) == 0 && mm != 0 &&
	       vmi_read_kptr(&e.vmi, mm + e.vmi.prof->mm_pgd, &pgd) == 0 &&
	       vmi_kernel_phys(&e.vmi, pgd, pgd_pa) == 0;
}

/* ------------------------------------------------------------------ issuing calls */

static void set_call(struct guest_regs *r, const struct inject_call *c, uint64_t ret)
{
	r->rax = c->nr;
	r->rdi = c->arg[0];
	r->rsi = c->arg[1];
	r->rdx = c->arg[2];
	r->r10 = c->arg[3];
	r->r8 = c->arg[4];
	r->r9 = c->arg[5];
	/* SYSCALL saved the return address in RCX; the kernel returns there (pt_regs->ip
	 * and ->cx both come from it, so SYSRET stays allowed). */
	r->rcx = ret;
	e.call = *c;
	e.expect_rcx = ret + X86_SYSCALL_LEN;
	e.op->calls++;
	stats.calls++;
}

static void issue_to_sled(struct guest_regs *r, const struct inject_call *c)
{
	set_call(r, c, e.env.scratch + INJECT_SCRATCH_SLED + X86_SYSCALL_LEN);
}

static bool is_return(const struct guest_regs *r)
{
	return r->rcx == e.expect_rcx && r->rdi == e.call.arg[0] && r->rsi == e.call.arg[1] &&
	       r->rdx == e.call.arg[2] && r->r10 == e.call.arg[3] && r->r8 == e.call.arg[4] &&
	       r->r9 == e.call.arg[5];
}

static void finish(bool ok)
{
	struct inject_op *op = e.op;
	op->exits = this_vcpu()->exits_total - e.start_exits;
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
	e.phase = PH_IDLE;
	e.op = 0;
	syscall_trap_disarm();
}

/* The task's own registers back, at this entry: the kernel now runs its own call. */
static void restore(struct guest_regs *r)
{
	*r = e.saved;
	bool ok = !e.aborting && e.op->error[0] == 0;
	finish(ok);
	release();
}

static void start_cleanup(struct guest_regs *r)
{
	if (e.masked) {
		struct inject_call c = {LINUX_NR_rt_sigprocmask,
					{LINUX_SIG_SETMASK, e.env.scratch + INJECT_SCRATCH_OLDMASK,
					 0, LINUX_SIGSET_SIZE, 0, 0}};
		issue_to_sled(r, &c);
		e.phase = PH_UNMASK;
		return;
	}
	struct inject_call c = {LINUX_NR_munmap, {e.env.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0}};
	set_call(r, &c, e.own_syscall);
	e.phase = PH_MUNMAP;
}

static void body_step(struct guest_regs *r, int64_t result)
{
	struct inject_call c = {0, {0, 0, 0, 0, 0, 0}};
	e.env.now_ns = tsc_to_ns(rdtsc() - e.start_tsc);
	enum inject_step s = e.op->next(e.op, &e.env, result, &c);
	e.op->step++;
	if (s == INJECT_STEP_CALL && !e.aborting) {
		issue_to_sled(r, &c);
		return;
	}
	if (s == INJECT_STEP_FAIL && e.op->error[0] == 0)
		fmt_snprintf(e.op->error, sizeof(e.op->error), "%s failed", e.op->name);
	start_cleanup(r);
}

static bool scratch_valid(uint64_t addr)
{
	return (int64_t)addr > 0 && (addr & (PAGE_SIZE_4K - 1)) == 0 &&
	       addr + INJECT_SCRATCH_SIZE < 0x0000800000000000ull;
}

/* The return of the call in flight, with its result. */
static void on_return(struct guest_regs *r, int64_t result)
{
	switch (e.phase) {
	case PH_MMAP:
		if (!scratch_valid((uint64_t)result)) {
			e.op->error[0] = 0;
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "the scratch mmap in pid %d failed (%lld)", (int)e.env.tgid,
				     (long long)result);
			restore(r);
			return;
		}
		e.env.scratch = (uint64_t)result;
		uint64_t full = ~0ull;
		if (inject_write_user(&e.env, e.env.scratch, sled, sizeof(sled)) < 0 ||
		    inject_write_user(&e.env, e.env.scratch + INJECT_SCRATCH_FULLMASK, &full, 8) <
			    0) {
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "the scratch area of pid %d is not mapped after mmap",
				     (int)e.env.tgid);
			struct inject_call c = {LINUX_NR_munmap,
						{e.env.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0}};
			set_call(r, &c, e.own_syscall);
			e.phase = PH_MUNMAP;
			return;
		}
		struct inject_call c = {LINUX_NR_rt_sigprocmask,
					{LINUX_SIG_BLOCK, e.env.scratch + INJECT_SCRATCH_FULLMASK,
					 e.env.scratch + INJECT_SCRATCH_OLDMASK, LINUX_SIGSET_SIZE,
					 0, 0}};
		issue_to_sled(r, &c);
		e.phase = PH_MASK;
		return;
	case PH_MASK:
		if (result != 0) {
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "rt_sigprocmask in pid %d failed (%lld)", (int)e.env.tgid,
				     (long long)result);
			start_cleanup(r);
			return;
		}
		e.masked = true;
		e.phase = PH_BODY;
		if (e.aborting)
			start_cleanup(r);
		else
			body_step(r, 0);
		return;
	case PH_BODY:
		body_step(r, result);
		return;
	case PH_UNMASK: {
		e.masked = false;
		struct inject_call c = {LINUX_NR_munmap,
					{e.env.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0}};
		set_call(r, &c, e.own_syscall);
		e.phase = PH_MUNMAP;
		return;
	}
	case PH_MUNMAP:
		if (result != 0 && e.op->error[0] == 0)
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "munmap of the scratch area in pid %d failed (%lld)",
				     (int)e.env.tgid, (long long)result);
		restore(r);
		return;
	default:
		return;
	}
}

static void hijack(struct vcpu *v, uint64_t task)
{
	struct guest_regs *r = v->regs;
	uint8_t insn[2];
	uint32_t tid, tgid;
	/* Its own SYSCALL instruction must be where RCX says (SDM Vol. 2B SYSCALL: RCX is
	 * the address of the next instruction), readable through its page tables. */
	if (r->rax == LINUX_NR_rt_sigreturn || r->rcx < X86_SYSCALL_LEN ||
	    !task_pgd(task, &e.pgd_pa))
		return;
	if (inject_read_user(&e.env, r->rcx - X86_SYSCALL_LEN, insn, 2) < 0 || insn[0] != 0x0F ||
	    insn[1] != 0x05)
		return;
	if (vmi_read_u32(&e.vmi, task + e.vmi.prof->task_pid, &tid) < 0 ||
	    vmi_read_u32(&e.vmi, task + e.vmi.prof->task_tgid, &tgid) < 0)
		return;
	e.saved = *r;
	e.saved.rsp_slot = vmread(GUEST_RSP);
	e.own_syscall = r->rcx - X86_SYSCALL_LEN;
	e.env.task = task;
	e.env.tid = (int32_t)tid;
	e.env.tgid = (int32_t)tgid;
	e.op->tgid = (int32_t)tgid;
	e.op->tid = (int32_t)tid;
	struct vmi_process p;
	e.env.nspid = vmi_process_read(&e.vmi, task, VMI_READ_NS, &p) == 0 && p.nspid > 0
			      ? p.nspid
			      : (int32_t)tgid;
	e.op->nspid = e.env.nspid;
	vmi_read_kernel(&e.vmi, task + e.vmi.prof->task_comm, e.op->comm, sizeof(e.op->comm));
	e.op->comm[sizeof(e.op->comm) - 1] = 0;
	stats.hijacks++;
	struct inject_call c = {
		LINUX_NR_mmap,
		{0, INJECT_SCRATCH_SIZE, LINUX_PROT_READ | LINUX_PROT_WRITE | LINUX_PROT_EXEC,
		 LINUX_MAP_PRIVATE | LINUX_MAP_ANONYMOUS | LINUX_MAP_POPULATE, (uint64_t)-1, 0}};
	/* mmap never returns a restart code (only -EINTR on a fatal signal), so returning
	 * to the task's own SYSCALL is safe for this first call. */
	set_call(r, &c, e.own_syscall);
	e.phase = PH_MMAP;
}

void inject_on_syscall_entry(struct vcpu *v, uint64_t task)
{
	if (e.phase == PH_IDLE)
		return;
	vmi_refresh(&e.vmi);
	if (e.phase == PH_WAIT_TASK) {
		if (task_suitable(task))
			hijack(v, task);
		if (e.phase == PH_WAIT_TASK)
			e.op->passed++;
		return;
	}
	if (task != e.env.task || !is_return(v->regs)) {
		e.op->passed++; /* another task, or ours in a signal handler or a restart */
		return;
	}
	on_return(v->regs, (int64_t)v->regs->rax);
}

/* Is the hijacked task still in the tasks list and not exiting? */
static bool task_alive(void)
{
	struct vmi_walk w;
	uint64_t t;
	uint32_t flags;
	vmi_refresh(&e.vmi);
	vmi_walk_begin(&e.vmi, &w);
	while (vmi_walk_next(&e.vmi, &w, &t)) {
		if (t == e.env.task)
			return vmi_read_u32(&e.vmi, t + e.vmi.prof->task_flags, &flags) == 0 &&
			       !(flags & LINUX_PF_EXITING);
	}
	return w.truncated; /* an unreadable list proves nothing: assume alive */
}

void inject_tick(struct vcpu *v)
{
	(void)v;
	if (e.phase == PH_IDLE)
		return;
	uint64_t now = rdtsc();
	if (e.phase == PH_WAIT_TASK) {
		if (now >= e.deadline_tsc) {
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "no suitable task entered a system call within %llu ms",
				     (unsigned long long)e.op->timeout_ms);
			finish(false);
			release();
		}
		return;
	}
	if (now >= e.next_alive_tsc) {
		e.next_alive_tsc = now + ms_to_tsc(ALIVE_CHECK_MS);
		if (!task_alive()) {
			/* Its memory went with it: nothing to clean up. */
			fmt_snprintf(e.op->error, sizeof(e.op->error),
				     "the target (pid %d) exited during the operation",
				     (int)e.env.tgid);
			finish(false);
			release();
			return;
		}
	}
	if (now >= e.deadline_tsc && !e.aborting) {
		e.aborting = true;
		fmt_snprintf(e.op->error, sizeof(e.op->error),
			     "timed out after %llu ms in pid %d (call %llu in flight); it is "
			     "cleaned up when the call returns",
			     (unsigned long long)e.op->timeout_ms, (int)e.env.tgid,
			     (unsigned long long)e.call.nr);
		finish(false);
	}
	if (e.aborting && now >= e.deadline_tsc + ms_to_tsc(CLEANUP_GRACE_MS)) {
		log_printf("ctrvisor: injection into pid %d abandoned: call %llu never returned; "
			   "its scratch area at 0x%llx stays mapped\r\n",
			   (int)e.env.tgid, (unsigned long long)e.call.nr,
			   (unsigned long long)e.env.scratch);
		stats.aborted_cleanups++;
		release();
	}
}

int inject_start(struct inject_op *op, struct reply *r)
{
	if (e.phase != PH_IDLE)
		return reply_fail(r, PROTO_BUSY, "another operation (%s) is running", e.op->name);
	if (live_vmi_open(&e.vmi, r) < 0)
		return -1;
	if (syscall_trap_arm(r, -1) < 0)
		return -1;
	op->step = 0;
	op->error[0] = 0;
	op->calls = 0;
	op->passed = 0;
	op->tgid = op->tid = 0;
	op->comm[0] = 0;
	e.op = op;
	e.env = (struct inject_env){.vmi = &e.vmi};
	e.masked = e.aborting = e.replied = false;
	e.start_tsc = rdtsc();
	e.start_exits = this_vcpu()->exits_total;
	e.deadline_tsc = e.start_tsc + ms_to_tsc(op->timeout_ms);
	e.next_alive_tsc = e.start_tsc;
	e.phase = PH_WAIT_TASK;
	stats.operations++;
	return 0;
}
