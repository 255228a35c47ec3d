/* SPDX-License-Identifier: MIT */
/* The injection engine: the resident helper (engine_internal.h, engine.h). */
#include "inject/engine_internal.h"

#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "x86/cpu.h"
#include "x86/paging.h"

/* The helper's next nap, coming back to its sled's VMCALL (its own scratch area). */
void inject_park(struct inject_ctx *c, struct guest_regs *r)
{
	struct inject_call call;
	c->resident = false;
	c->spawned = true;
	c->env.ctx = 0;
	inject_sleep_call(&c->env, INJECT_SCRATCH_NAP, HELPER_PARK_MS, &call);
	inject_load_call(c, r, &call, inject_sled_return(c->env.scratch));
	c->seen_tsc = rdtsc();
	resident.c = *c;
	resident.naps++;
}

void inject_helper_gone(const char *why)
{
	log_printf("ctrvisor: the helper (pid %d) %s\r\n", (int)resident.c.env.tgid, why);
	resident.present = resident.working = false;
}

/* The parked helper at its sled's VMCALL: its nap returned. Lend it to an operation
 * waiting for a host task, send it away when stopped or idle too long, or let it nap
 * again. */
bool inject_helper_entry(struct vcpu *v, uint64_t task, uint64_t rip)
{
	if (!resident.present || resident.working || task != resident.c.env.task ||
	    rip != inject_sled_return(resident.c.env.scratch) ||
	    !inject_regs_match(v->regs, &resident.c))
		return false;
	uint64_t now = rdtsc();
	if (engine.active && engine.waiting && engine.op->target.kind == INJECT_TARGET_HOST_ROOT) {
		struct inject_ctx *c = &engine.ctx[0];
		*c = resident.c;
		c->env.ctx = 0;
		c->env.vmi = &engine.vmi;
		c->resident = true;
		c->phase = PH_BODY;
		engine.scratch = c->env.scratch;
		engine.scratch_page = inject_scratch_page(c);
		engine.op->tgid = c->env.tgid;
		engine.op->tid = c->env.tid;
		engine.op->nspid = c->env.nspid;
		memcpy(engine.op->comm, "(helper)", 9);
		resident.working = true;
		engine.waiting = false;
		inject_counters.hijacks++;
		inject_body_step(c, v->regs, 0);
		return true;
	}
	if (resident.stop || now - resident.idle_since_tsc >= resident.linger_tsc) {
		/* exit_group(0): it never returns; init reaps the helper. */
		struct inject_call bye = INJECT_CALL(LINUX_NR_exit_group, 0);
		struct inject_ctx c = resident.c;
		inject_load_call(&c, v->regs, &bye, inject_sled_return(c.env.scratch));
		inject_helper_gone(resident.stop ? "was stopped" : "exits after its linger time");
		return true;
	}
	struct inject_ctx c = resident.c;
	inject_park(&c, v->regs);
	return true;
}

/* The parked helper, when it has not come back from a nap for a while: if something
 * killed it, forget it (a stopped or frozen one is alive: it is waited for). */
void inject_helper_tick(uint64_t now)
{
	if (!resident.present || resident.working ||
	    now - resident.c.seen_tsc < inject_ms_to_tsc(HELPER_QUIET_MS) ||
	    now < resident.next_alive_tsc)
		return;
	resident.next_alive_tsc = now + inject_ms_to_tsc(HELPER_QUIET_MS);
	vmi_refresh(&engine.vmi); /* the session of the operation that made it: still this kernel */
	if (!inject_task_alive(&resident.c.env))
		inject_helper_gone("died (killed from inside the guest?)");
}

bool inject_helper_status(struct inject_helper_status *st)
{
	st->present = resident.present;
	st->working = resident.working;
	st->tgid = resident.c.env.tgid;
	st->naps = resident.naps;
	st->automatic = !resident.manual;
	st->linger_ms = resident.linger_tsc == UINT64_MAX ? INJECT_LINGER_FOREVER
			: machine.tsc_hz >= 1000u ? resident.linger_tsc / (machine.tsc_hz / 1000u)
						  : 0;
	return resident.present;
}

void inject_helper_set_linger(uint64_t ms)
{
	resident.linger_tsc = ms == INJECT_LINGER_FOREVER ? UINT64_MAX : inject_ms_to_tsc(ms);
}

void inject_helper_set_auto(bool automatic)
{
	resident.manual = !automatic;
}

bool inject_helper_auto(void)
{
	return !resident.manual;
}

int inject_helper_stop(void)
{
	if (!resident.present)
		return -1;
	resident.stop = true; /* it exits at its next nap's end (within 10 ms of guest time) */
	return 0;
}
