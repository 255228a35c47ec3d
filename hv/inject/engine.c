/* SPDX-License-Identifier: MIT */
/* The injection engine's state machine (see engine.h for the mechanism). */
#include "inject/engine.h"
#include "inject/engine_internal.h"

#include <stdarg.h>

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "platform/wake_port.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

/* SYSCALL (0F 05) at 0, INJECT_SLED_TRAP_RETURN and INJECT_SLED_CALL, VMCALL (0F 01 C1) at
 * INJECT_SLED_RETURN, INT3 after. A process the operation created (or the lent helper)
 * makes its calls from the SYSCALL at INJECT_SLED_CALL and comes back to the VMCALL, which
 * exits in any ring (SDM Vol. 3C 26.1.2: VMCALL causes a VM exit unconditionally in VMX
 * non-root operation). A hijacked task's calls come back to the SYSCALL at
 * INJECT_SLED_TRAP_RETURN, whose entry the armed trap sees, as its own SYSCALL's: its last
 * call (the munmap of this very page) must come back to its own code, which only the
 * trap's entry can arrange. A restarted call (the kernel moves the return address back
 * over the 2-byte SYSCALL, with RAX the call again) lands on the SYSCALL before either
 * return and runs again: every return address follows a SYSCALL. */
static const uint8_t sled[16] = {0x0F, 0x05, 0x0F, 0x05, 0x0F, 0x05, 0x0F, 0x01,
				 0xC1, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC, 0xCC};
_Static_assert(INJECT_SLED_RETURN == INJECT_SLED_CALL + X86_SYSCALL_LEN,
	       "the call returns to the instruction after the sled's SYSCALL");
_Static_assert(INJECT_SLED_TRAP_RETURN == X86_SYSCALL_LEN,
	       "a restarted call of a hijacked task runs the SYSCALL at 0 again");

struct inject_engine engine;
struct inject_resident resident;
struct inject_stats inject_counters;

const struct inject_stats *inject_stats(void)
{
	return &inject_counters;
}

bool inject_busy(void)
{
	return engine.active;
}

bool inject_uses_trap(void)
{
	return engine.active;
}

uint64_t inject_ms_to_tsc(uint64_t ms)
{
	return ms * (machine.tsc_hz / 1000u);
}

uint64_t inject_tsc_to_ns(uint64_t tsc)
{
	return monitor_tsc_to_us(tsc) * 1000u;
}

/* ------------------------------------------------------------------ tasks */

static bool task_suitable(uint64_t task)
{
	const struct vmi_profile *pr = engine.vmi.prof;
	const struct inject_target *t = &engine.op->target;
	uint32_t flags, tgid;
	if (vmi_read_u32(&engine.vmi, task + pr->task_flags, &flags) < 0 ||
	    (flags & VMI_PF_EXITING) || vmi_read_u32(&engine.vmi, task + pr->task_tgid, &tgid) < 0)
		return false;
	if (t->kind == INJECT_TARGET_PID)
		return (int32_t)tgid == t->tgid;
	struct vmi_process p;
	if (vmi_process_read(&engine.vmi, task, VMI_READ_NS | VMI_READ_CGROUP, &p) < 0 || p.kthread)
		return false;
	if (t->kind == INJECT_TARGET_CONTAINER)
		return p.cgroup_ptr == t->cgroup;
	if (resident.present && !resident.deaf)
		return false; /* the parked helper takes host work (helper_entry) */
	struct vmi_container_key key;
	vmi_container_key_of(&engine.vmi, &p, &key);
	return p.uid == 0 && !key.in_container;
}

static bool task_mm(uint64_t task, uint64_t *mm, uint64_t *pgd_pa)
{
	uint64_t pgd;
	return vmi_read_kptr(&engine.vmi, task + engine.vmi.prof->task_mm, mm) == 0 && *mm != 0 &&
	       vmi_read_kptr(&engine.vmi, *mm + engine.vmi.prof->mm_pgd, &pgd) == 0 &&
	       vmi_kernel_phys(&engine.vmi, pgd, pgd_pa) == 0;
}

/* Fill c->env for `task`; false if it cannot be read. */
static bool ctx_take_task(struct inject_ctx *c, uint32_t index, uint64_t task)
{
	uint32_t tid, tgid;
	uint64_t mm;
	struct vmi_process p;
	uint64_t pgd_pa;
	if (!task_mm(task, &mm, &pgd_pa) ||
	    vmi_read_u32(&engine.vmi, task + engine.vmi.prof->task_pid, &tid) < 0 ||
	    vmi_read_u32(&engine.vmi, task + engine.vmi.prof->task_tgid, &tgid) < 0)
		return false;
	c->env = (struct inject_env){.ctx = index,
				     .task = task,
				     .tid = (int32_t)tid,
				     .tgid = (int32_t)tgid,
				     .scratch = engine.scratch,
				     .vmi = &engine.vmi,
				     .pgd_pa = pgd_pa};
	/* getpid answers the thread group's id in the task's pid namespace: the group
	 * leader's pid there (a second thread's own nspid is its thread id). */
	uint64_t leader = task;
	if (vmi_read_kptr(&engine.vmi, task + engine.vmi.prof->task_group_leader, &leader) < 0 ||
	    leader == 0)
		leader = task;
	c->env.nspid = vmi_process_read(&engine.vmi, leader, VMI_READ_NS, &p) == 0 && p.nspid > 0
			       ? p.nspid
			       : (int32_t)tgid;
	return true;
}

/* ------------------------------------------------------------------ issuing calls */

void inject_load_call(struct inject_ctx *c, struct guest_regs *r, const struct inject_call *call,
		      uint64_t ret)
{
	uint64_t sled_return = inject_sled_return(c->env.scratch);
	r->rax = call->nr;
	r->rdi = call->arg[0];
	r->rsi = call->arg[1];
	r->rdx = call->arg[2];
	r->r10 = call->arg[3];
	r->r8 = call->arg[4];
	r->r9 = call->arg[5];
	c->call = *call;
	c->at_sled = ret == sled_return;
	if (engine.in_sled_exit) {
		/* In user mode at the sled's VMCALL: the sled's SYSCALL makes the call (SDM Vol.
		 * 2B SYSCALL: RCX gets the next instruction's address, the VMCALL). Only a
		 * process whose calls all come back here is ever at it (issue_to_sled). */
		vmwrite(GUEST_RIP, c->env.scratch + INJECT_SCRATCH_SLED + INJECT_SLED_CALL);
		r->rcx = sled_return;
		engine.issued = true;
		c->at_sled = true;
		c->expect_rcx = sled_return;
		return;
	}
	/* At the trap's entry: SYSCALL saved the return address in RCX; the kernel returns
	 * there (pt_regs->ip and ->cx both come from it, so SYSRET stays allowed). Back at the
	 * VMCALL, RCX still holds it; back at the task's own SYSCALL, its entry has RCX past it. */
	r->rcx = ret;
	c->expect_rcx = c->at_sled ? ret : ret + X86_SYSCALL_LEN;
}

static void set_call(struct inject_ctx *c, struct guest_regs *r, const struct inject_call *call,
		     uint64_t ret)
{
	inject_load_call(c, r, call, ret);
	c->issued_tsc = rdtsc();
	engine.op->calls++;
	inject_counters.calls++;
}

/* A call came back: its time into the operation's call_stats. */
static void count_call(const struct inject_ctx *c, uint64_t now)
{
	struct inject_op *op = engine.op;
	uint32_t i = 0;
	while (i < op->call_stat_count && op->call_stats[i].nr != c->call.nr)
		i++;
	if (i == INJECT_CALL_STATS_MAX)
		return;
	if (i == op->call_stat_count)
		op->call_stats[op->call_stat_count++] = (struct inject_call_stat){c->call.nr, 0, 0};
	op->call_stats[i].calls++;
	op->call_stats[i].ns += inject_tsc_to_ns(now - c->issued_tsc);
}

/* A call from the sled: back at its VMCALL for a process the operation created or the lent
 * helper, back at its second SYSCALL (through the trap) for a hijacked task. */
static void issue_to_sled(struct inject_ctx *c, struct guest_regs *r,
			  const struct inject_call *call)
{
	bool hijacked = !c->spawned && !c->resident;
	set_call(c, r, call,
		 hijacked ? inject_sled_trap_return(engine.scratch)
			  : inject_sled_return(engine.scratch));
}

bool inject_regs_match(const struct guest_regs *r, const struct inject_ctx *c)
{
	return r->rcx == c->expect_rcx && r->rdi == c->call.arg[0] && r->rsi == c->call.arg[1] &&
	       r->rdx == c->call.arg[2] && r->r10 == c->call.arg[3] && r->r8 == c->call.arg[4] &&
	       r->r9 == c->call.arg[5];
}

void inject_set_error(const char *fmt, ...)
{
	va_list ap;
	if (engine.op->error[0] != 0)
		return; /* the first failure is the cause */
	va_start(ap, fmt);
	fmt_vsnprintf(engine.op->error, sizeof(engine.op->error), fmt, ap);
	va_end(ap);
}

void inject_finish(bool ok)
{
	struct inject_op *op = engine.op;
	op->exits = vm_exits_total() - engine.start_exits;
	op->guest_ns = inject_tsc_to_ns(rdtsc() - engine.start_tsc);
	op->monitor_ns = inject_tsc_to_ns(vm_exit_work_tsc() - engine.start_work_tsc);
	if (!ok)
		inject_counters.failed++;
	if (!engine.replied) {
		engine.replied = true;
		op->done(op, ok);
	}
}

void inject_release(void)
{
	engine.active = false;
	engine.op = 0;
	syscall_trap_disarm(); /* the parked helper's naps come back at its sled's VMCALL */
}

/* A context has ended; the operation ends with its last one. */
static bool inject_all_ended(void)
{
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		if (engine.ctx[i].phase != PH_FREE)
			return false;
	}
	return true;
}

void inject_ctx_end(struct inject_ctx *c)
{
	c->phase = PH_FREE;
	/* A forked child that has not run yet is still to come. */
	if (!inject_all_ended() || engine.spawn_from >= 0)
		return;
	inject_finish(!engine.aborting && engine.op->error[0] == 0);
	inject_release();
}

void inject_forget(uint32_t index)
{
	if (index > 0 && index < INJECT_CTX_MAX && engine.ctx[index].phase != PH_FREE)
		inject_ctx_end(&engine.ctx[index]);
}

/* The hijacked task's registers back, at the trap's entry: the kernel now runs its own
 * call. */
static void restore(struct inject_ctx *c, struct guest_regs *r)
{
	*r = c->saved;
	inject_ctx_end(c);
}

/* The last call: munmap of the scratch area, coming back to the task's own SYSCALL, where
 * the trap's entry gives the task its own call back (restore). */
static void issue_munmap(struct inject_ctx *c, struct guest_regs *r)
{
	struct inject_call call = {LINUX_NR_munmap,
				   {engine.scratch, INJECT_SCRATCH_SIZE, 0, 0, 0, 0},
				   INJECT_CALL_PLAIN};
	set_call(c, r, &call, c->own_syscall);
	c->phase = PH_MUNMAP;
}

static void start_cleanup(struct inject_ctx *c, struct guest_regs *r)
{
	if (c->masked) {
		struct inject_call call = {LINUX_NR_rt_sigprocmask,
					   {LINUX_SIG_SETMASK,
					    engine.scratch + INJECT_SCRATCH_OLDMASK, 0,
					    LINUX_SIGSET_SIZE, 0, 0},
					   INJECT_CALL_PLAIN};
		issue_to_sled(c, r, &call);
		c->phase = PH_UNMASK;
		return;
	}
	issue_munmap(c, r);
}

static void exit_spawned(struct inject_ctx *c, struct guest_regs *r, bool ok)
{
	struct inject_call call = {
		LINUX_NR_exit_group, {ok ? 0u : 1u, 0, 0, 0, 0, 0}, INJECT_CALL_FINAL};
	issue_to_sled(c, r, &call);
	inject_ctx_end(c);
}

void inject_body_step(struct inject_ctx *c, struct guest_regs *r, int64_t result)
{
	struct inject_call call = {0, {0, 0, 0, 0, 0, 0}, INJECT_CALL_PLAIN};
	c->env.now_ns = inject_tsc_to_ns(rdtsc() - engine.start_tsc);
	c->env.aborting = engine.aborting;
	enum inject_step s = engine.op->next(engine.op, &c->env, result, &call);
	engine.op->step++;
	if (s == INJECT_STEP_FAIL && engine.op->error[0] == 0)
		fmt_snprintf(engine.op->error, sizeof(engine.op->error), "%s failed",
			     engine.op->name);
	if (s == INJECT_STEP_PARK && c->spawned && !resident.present) {
		/* The operation made this process to be the resident helper. */
		resident.present = true;
		resident.working = false;
		resident.stop = false;
		resident.idle_since_tsc = resident.next_alive_tsc = rdtsc();
		resident.wake_fd = engine.op->helper_wake_fd;
		if (resident.wake_fd < 0 && wake_port_device() != NULL)
			log_printf("ctrvisor: the helper could not open %s: it naps instead of "
				   "blocking\r\n",
				   wake_port_device());
		resident.rings_unanswered = 0;
		resident.deaf = false;
		inject_park(c, r);
		engine.op->helper_tgid = c->env.tgid;
		inject_ctx_end(c);
		return;
	}
	if (c->resident) {
		/* Lent to this operation: back to its naps, whatever the outcome. */
		if (s == INJECT_STEP_CALL && !engine.aborting) {
			issue_to_sled(c, r, &call);
			if (call.kind == INJECT_CALL_SPAWN) {
				engine.spawn_from = 0;
				engine.spawn_sig = *c;
			}
			return;
		}
		if (s == INJECT_STEP_FAIL && engine.op->error[0] == 0)
			fmt_snprintf(engine.op->error, sizeof(engine.op->error), "%s failed",
				     engine.op->name);
		resident.working = false;
		resident.idle_since_tsc = rdtsc();
		inject_park(c, r);
		inject_ctx_end(c);
		return;
	}
	if (s == INJECT_STEP_CALL && !(engine.aborting && !c->spawned)) {
		issue_to_sled(c, r, &call);
		c->exec_pending = call.kind == INJECT_CALL_EXEC;
		if (call.kind == INJECT_CALL_SPAWN) {
			engine.spawn_from = (int32_t)c->env.ctx;
			engine.spawn_sig = *c;
		}
		if (call.kind == INJECT_CALL_FINAL)
			inject_ctx_end(c);
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
static void on_return(struct inject_ctx *c, struct guest_regs *r, int64_t result)
{
	switch (c->phase) {
	case PH_MMAP: {
		if (!scratch_valid((uint64_t)result)) {
			inject_set_error("the scratch mmap in pid %d failed (%lld)",
					 (int)c->env.tgid, (long long)result);
			restore(c, r);
			return;
		}
		engine.scratch = c->env.scratch = (uint64_t)result;
		engine.scratch_page = inject_scratch_page(c);
		uint64_t full = ~0ull;
		if (inject_write_user(&c->env, engine.scratch, sled, sizeof(sled)) < 0 ||
		    inject_write_user(&c->env, engine.scratch + INJECT_SCRATCH_FULLMASK, &full, 8) <
			    0) {
			inject_set_error("the scratch area of pid %d is not mapped after mmap",
					 (int)c->env.tgid);
			start_cleanup(c, r);
			return;
		}
		struct inject_call call = {
			LINUX_NR_rt_sigprocmask,
			{LINUX_SIG_BLOCK, engine.scratch + INJECT_SCRATCH_FULLMASK,
			 engine.scratch + INJECT_SCRATCH_OLDMASK, LINUX_SIGSET_SIZE, 0, 0},
			INJECT_CALL_PLAIN};
		issue_to_sled(c, r, &call);
		c->phase = PH_MASK;
		return;
	}
	case PH_MASK:
		if (result != 0) {
			inject_set_error("rt_sigprocmask in pid %d failed (%lld)", (int)c->env.tgid,
					 (long long)result);
			start_cleanup(c, r);
			return;
		}
		c->masked = true;
		c->phase = PH_BODY;
		if (engine.aborting)
			start_cleanup(c, r);
		else
			inject_body_step(c, r, 0);
		return;
	case PH_BODY:
		inject_body_step(c, r, result);
		return;
	case PH_UNMASK:
		c->masked = false;
		issue_munmap(c, r);
		return;
	case PH_MUNMAP:
		if (result != 0)
			inject_set_error("munmap of the scratch area in pid %d failed (%lld)",
					 (int)c->env.tgid, (long long)result);
		restore(c, r);
		return;
	default:
		return;
	}
}

/* c's call came back (its registers as it left them, the result in RAX). */
static void on_return_of(struct inject_ctx *c, struct guest_regs *r)
{
	c->exec_pending = false;
	c->seen_tsc = rdtsc();
	count_call(c, c->seen_tsc);
	if (c->call.kind == INJECT_CALL_SPAWN && engine.spawn_from == (int32_t)c->env.ctx &&
	    (int64_t)r->rax < 0)
		engine.spawn_from = -1; /* the fork failed: no child will come */
	on_return(c, r, (int64_t)r->rax);
}

static void hijack(struct vcpu *v, uint64_t task)
{
	struct guest_regs *r = v->regs;
	struct inject_ctx *c = &engine.ctx[0];
	uint8_t insn[2];
	/* Its own SYSCALL instruction must be where RCX says (SDM Vol. 2B SYSCALL: RCX is
	 * the address of the next instruction), readable through its page tables. */
	/* Not sigreturn (its frame is the task's state), nor restart_syscall (an injected
	 * sleep would replace the restart block the task's own call resumes from). */
	if (r->rax == LINUX_NR_rt_sigreturn || r->rax == LINUX_NR_restart_syscall ||
	    r->rcx < X86_SYSCALL_LEN || !ctx_take_task(c, 0, task))
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
	engine.op->tgid = c->env.tgid;
	engine.op->tid = c->env.tid;
	engine.op->nspid = c->env.nspid;
	vmi_read_kernel(&engine.vmi, task + engine.vmi.prof->task_comm, engine.op->comm,
			sizeof(engine.op->comm));
	engine.op->comm[sizeof(engine.op->comm) - 1] = 0;
	inject_counters.hijacks++;
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
	engine.waiting = false;
}

/* The physical page at `va` in the tables at `pgd_pa`, or 0 when it is not mapped. */
static uint64_t page_at(uint64_t pgd_pa, uint64_t va)
{
	uint64_t pa, size;
	unsigned rights;
	return vmi_translate_rights(engine.vmi.mem, pgd_pa, engine.vmi.la57, va, &pa, &size,
				    &rights) == 0
		       ? pa
		       : 0;
}

uint64_t inject_scratch_page(const struct inject_ctx *c)
{
	return page_at(c->env.pgd_pa, c->env.scratch);
}

/* A refused sled VMCALL: true for the first SLED_REFUSALS_LOGGED of an operation (the
 * refusals are counted in any case). */
#define SLED_REFUSALS_LOGGED 4u
static bool refusal_logged(void)
{
	return engine.sled_refusals++ < SLED_REFUSALS_LOGGED;
}

/* A task the operation does not know yet: the child of its SPAWN call in flight? Its
 * registers are the parent's at that call with RAX = 0, returning into the sled. */
static bool adopt_child(struct vcpu *v, uint64_t task)
{
	struct guest_regs *r = v->regs;
	if (engine.spawn_from < 0 || r->rax != 0 || !inject_regs_match(r, &engine.spawn_sig))
		return false;
	/* Registers anyone can forge: the child is a process of its own (not a thread of the
	 * forking one: its own memory) that maps the same scratch page there (MAP_SHARED: a
	 * fork made after the scratch mmap shares it; a process forked before, or an unrelated
	 * one at a guessed address, has none or another). Not its parent: the helper's parent
	 * exits at once (exec's double fork), and init has it before its first instruction. */
	uint64_t mm, pgd_pa, theirs = 0;
	if (!task_mm(task, &mm, &pgd_pa) || pgd_pa == engine.spawn_sig.env.pgd_pa ||
	    (theirs = page_at(pgd_pa, engine.scratch)) == 0 || engine.scratch_page == 0 ||
	    theirs != engine.scratch_page) {
		if (refusal_logged())
			log_printf("ctrvisor: injection: task 0x%llx at the sled is not the fork's "
				   "child (its scratch page 0x%llx, the operation's 0x%llx)\r\n",
				   (unsigned long long)task, (unsigned long long)theirs,
				   (unsigned long long)engine.scratch_page);
		return false;
	}
	for (uint32_t i = 1; i < INJECT_CTX_MAX; i++) {
		struct inject_ctx *c = &engine.ctx[i];
		if (c->phase != PH_FREE)
			continue;
		if (!ctx_take_task(c, i, task))
			return false;
		c->spawned = true;
		c->exec_pending = false;
		c->seen_tsc = rdtsc();
		c->phase = PH_BODY;
		engine.spawn_from = -1;
		c->env.first = true;
		inject_body_step(c, r, 0);
		c->env.first = false;
		return true;
	}
	inject_set_error("more than %u processes in one operation", INJECT_CTX_MAX);
	return false;
}

/* The trap is armed only while the engine needs it (DESIGN §6, as built): to find a task
 * to hijack, and for as long as a hijacked task is in the operation (its calls come back
 * through the trap's entry: issue_to_sled). An operation done by the lent helper and the
 * processes it creates has every call come back at a sled's VMCALL, so meanwhile the
 * guest's own syscalls run without an exit. */
static bool trap_needed(void)
{
	if (!engine.active)
		return false;
	if (engine.waiting)
		return !(resident.present && !resident.working && !resident.deaf &&
			 engine.op->target.kind == INJECT_TARGET_HOST_ROOT);
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		const struct inject_ctx *c = &engine.ctx[i];
		if (c->phase != PH_FREE && !c->at_sled)
			return true;
	}
	return false;
}

static bool trap_arm_now(void)
{
	char why[PROTO_MESSAGE_MAX];
	if (syscall_trap_arm(-1, why, sizeof(why)) == 0)
		return true;
	log_printf("ctrvisor: injection: cannot arm the syscall trap: %s\r\n", why);
	return false;
}

/* The trap as the running operation needs it (nothing without one: `trap arm` from the
 * console is its own then). An arm that fails while the operation waits for a task ends
 * the operation: no task could be found. */
static void trap_update(void)
{
	if (!engine.active)
		return;
	bool armed = syscall_trap_stats()->armed;
	if (trap_needed() == armed)
		return;
	if (armed) {
		syscall_trap_disarm();
	} else if (!trap_arm_now() && engine.waiting) {
		inject_set_error("the syscall trap cannot be armed to find a task");
		inject_finish(false);
		inject_release();
	}
}

void inject_on_syscall_entry(struct vcpu *v, uint64_t task)
{
	if (!engine.active)
		return;
	vmi_refresh(&engine.vmi);
	if (engine.waiting) {
		if (task_suitable(task))
			hijack(v, task);
		if (engine.waiting)
			engine.op->passed++;
		trap_update();
		return;
	}
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		struct inject_ctx *c = &engine.ctx[i];
		if (c->phase == PH_FREE || c->env.task != task)
			continue;
		if (!inject_regs_match(v->regs, c))
			break; /* ours in a signal handler, a restart, or after its execve */
		if (c->at_sled)
			break; /* its call going out from the sled: it comes back at the VMCALL */
		on_return_of(c, v->regs);
		trap_update();
		return;
	}
	/* The child of a hijacked task's fork: back at the sled's second SYSCALL, as its
	 * parent would be */
	if (adopt_child(v, task)) {
		trap_update();
		return;
	}
	engine.op->passed++;
}

bool inject_same_process(const struct inject_ctx *c, uint64_t task)
{
	uint32_t tid;
	uint64_t mm, pgd_pa;
	return vmi_read_u32(&engine.vmi, task + engine.vmi.prof->task_pid, &tid) == 0 &&
	       (int32_t)tid == c->env.tid && task_mm(task, &mm, &pgd_pa) && pgd_pa == c->env.pgd_pa;
}

/* A VMCALL at a sled: the return of a call of an operation's process, of the parked
 * helper's nap, or the first instruction of a child the operation forked. False when it is
 * none of these (the VMCALL is then the guest's: #UD). */
static bool sled_return(struct vcpu *v, uint64_t task, uint64_t rip)
{
	if (inject_helper_entry(v, task, rip))
		return true;
	if (!engine.active)
		return false;
	for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
		struct inject_ctx *c = &engine.ctx[i];
		if (c->phase == PH_FREE || c->env.task != task)
			continue;
		if (!c->at_sled || rip != inject_sled_return(c->env.scratch) ||
		    !inject_regs_match(v->regs, c) || !inject_same_process(c, task))
			return false;
		on_return_of(c, v->regs);
		return true;
	}
	if (rip != inject_sled_return(engine.scratch))
		return false;
	if (engine.spawn_from < 0 || v->regs->rax != 0 ||
	    !inject_regs_match(v->regs, &engine.spawn_sig)) {
		if (refusal_logged())
			log_printf(
				"ctrvisor: injection: task 0x%llx at the sled: no fork to adopt it "
				"(from %d, rax 0x%llx, rcx 0x%llx want 0x%llx)\r\n",
				(unsigned long long)task, (int)engine.spawn_from,
				(unsigned long long)v->regs->rax, (unsigned long long)v->regs->rcx,
				(unsigned long long)engine.spawn_sig.expect_rcx);
		return false;
	}
	return adopt_child(v, task);
}

bool inject_on_sled_vmcall(struct vcpu *v, uint64_t task, uint64_t rip)
{
	if (!engine.active && !resident.present)
		return false;
	vmi_refresh(&engine.vmi);
	engine.in_sled_exit = true;
	engine.issued = false;
	bool ours = sled_return(v, task, rip);
	engine.in_sled_exit = false;
	if (ours && !engine.issued) {
		/* Every path from a sled return issues the task's next call; one that does not
		 * would run the VMCALL again forever. */
		log_printf("ctrvisor: injection: pid %d left at its sled without a call\r\n",
			   engine.active ? (int)engine.op->tgid : -1);
		ours = false;
	}
	trap_update();
	return ours;
}

/* What the operation's tasks were doing when it timed out ("pid 812 in call 7, pid 815
 * in call 61"): the call numbers of linux_abi.h, for the reader of a timeout. */
static void in_flight(char *out, size_t cap)
{
	size_t n = 0;
	out[0] = 0;
	for (uint32_t i = 0; i < INJECT_CTX_MAX && n + 1 < cap; i++) {
		const struct inject_ctx *c = &engine.ctx[i];
		if (c->phase == PH_FREE)
			continue;
		n += (size_t)fmt_snprintf(out + n, cap - n, "%spid %d %s %llu", n ? ", " : "",
					  (int)c->env.tgid,
					  c->exec_pending ? "after execve" : "in call",
					  (unsigned long long)c->call.nr);
	}
	if (n == 0)
		fmt_snprintf(out, cap, "no task in a call");
}

void inject_tick(struct vcpu *v)
{
	(void)v;
	uint64_t now = rdtsc();
	inject_helper_tick(now);
	if (!engine.active)
		return;
	trap_update(); /* a parked helper found dead: an operation waiting for it needs the trap */
	if (engine.waiting) {
		if (now >= engine.deadline_tsc) {
			inject_set_error("no suitable task entered a system call within %llu ms",
					 (unsigned long long)engine.op->timeout_ms);
			inject_finish(false);
			inject_release();
		}
		return;
	}
	if (inject_all_ended() && now >= engine.deadline_tsc) {
		inject_set_error("a process the operation forked never ran");
		inject_finish(false);
		inject_release();
		return;
	}
	if (now >= engine.next_alive_tsc) {
		engine.next_alive_tsc = now + inject_ms_to_tsc(ALIVE_CHECK_MS);
		inject_check_alive(now);
		if (!engine.active)
			return;
	}
	if (now >= engine.deadline_tsc && !engine.aborting) {
		engine.aborting = true;
		char where[96];
		in_flight(where, sizeof(where));
		inject_set_error("timed out after %llu ms (%s); the tasks are cleaned up as they "
				 "return",
				 (unsigned long long)engine.op->timeout_ms, where);
		inject_finish(false);
	}
	if (engine.aborting &&
	    now >= engine.deadline_tsc + inject_ms_to_tsc(INJECT_CLEANUP_GRACE_MS)) {
		/* Only processes the operation made are ever left (a hijacked task makes no call
		 * that can block); each has its own deadline (ops_exec.c's alarm). One that
		 * comes back after all, from a wait nothing could end, finds no operation to
		 * claim its sled's VMCALL: #UD, and it dies of SIGILL instead of running calls
		 * nobody reads (the sled itself is left alone: a parked helper may share it). */
		for (uint32_t i = 0; i < INJECT_CTX_MAX; i++) {
			if (engine.ctx[i].phase == PH_FREE)
				continue;
			log_printf("ctrvisor: injection abandoned: pid %d never returned "
				   "from call %llu (scratch at 0x%llx)\r\n",
				   (int)engine.ctx[i].env.tgid,
				   (unsigned long long)engine.ctx[i].call.nr,
				   (unsigned long long)engine.scratch);
		}
		for (uint32_t i = 0; i < INJECT_CTX_MAX; i++)
			engine.ctx[i].phase = PH_FREE;
		inject_counters.aborted_cleanups++;
		inject_finish(false);
		inject_release();
	}
}

int inject_start(struct inject_op *op)
{
	op->error[0] = 0;
	if (engine.active) {
		fmt_snprintf(op->error, sizeof(op->error), "another operation (%s) is running",
			     engine.op->name);
		return INJECT_REFUSED_BUSY;
	}
	/* why[] holds other words on success (vmi_profile_fits: "kernel R"): only a failure
	 * goes into op->error, which a running operation must find empty */
	char why[PROTO_MESSAGE_MAX];
	bool helper_takes_it =
		resident.present && !resident.deaf && op->target.kind == INJECT_TARGET_HOST_ROOT;
	if (live_vmi_open_why(&engine.vmi, why, sizeof(why)) < 0 ||
	    (!helper_takes_it && syscall_trap_arm(-1, why, sizeof(why)) < 0)) {
		fmt_snprintf(op->error, sizeof(op->error), "%s", why);
		return INJECT_REFUSED;
	}
	op->step = 0;
	op->calls = 0;
	op->call_stat_count = 0;
	op->passed = 0;
	op->tgid = op->tid = op->nspid = 0;
	op->comm[0] = 0;
	op->helper_tgid = 0;
	op->helper_wake_fd = -1;
	engine.op = op;
	memset(engine.ctx, 0, sizeof(engine.ctx));
	engine.scratch = engine.scratch_page = 0;
	engine.spawn_from = -1;
	engine.aborting = engine.replied = false;
	engine.sled_refusals = 0;
	engine.start_tsc = rdtsc();
	engine.start_exits = vm_exits_total();
	engine.start_work_tsc = vm_exit_work_tsc();
	engine.deadline_tsc = engine.start_tsc + inject_ms_to_tsc(op->timeout_ms);
	engine.next_alive_tsc = engine.start_tsc;
	engine.waiting = true;
	engine.active = true;
	inject_counters.operations++;
	if (resident.present && op->target.kind == INJECT_TARGET_HOST_ROOT) {
		/* a deaf helper gets another chance: rung while the trap looks for a host task,
		 * whichever comes first takes the work (inject_helper_entry) */
		resident.rings_unanswered = 0;
		inject_helper_ring();
	}
	return 0;
}

/* A VMCALL exit: a sled's when it comes from user mode (CPL 3: CS.RPL, SDM Vol. 3A 5.5)
 * at a sled address, by a task the engine knows. The task is the per-CPU current task; in
 * user mode the kernel's per-CPU base is in IA32_KERNEL_GS_BASE (SWAPGS on the way out). */
static bool on_vmcall(struct vcpu *v)
{
	uint64_t task;
	if ((!engine.active && !resident.present) || (vmread(GUEST_CS_SELECTOR) & 3u) != 3u ||
	    !syscall_trap_current_task(&engine.vmi, &task))
		return false;
	return inject_on_sled_vmcall(v, task, vmread(GUEST_RIP));
}

static const struct exit_hooks engine_hooks = {
	.name = "inject",
	.vmcall = on_vmcall,
	.tick = inject_tick,
};

bool inject_register_hooks(void)
{
	return exit_hooks_register(&engine_hooks);
}
