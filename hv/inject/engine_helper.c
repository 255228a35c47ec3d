/* SPDX-License-Identifier: MIT */
/* The injection engine: the resident helper (engine_internal.h, engine.h). */
#include "inject/engine_internal.h"

#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "platform/wake_port.h"
#include "x86/cpu.h"
#include "x86/paging.h"

/* The helper's next wait, coming back to its sled's VMCALL (its own scratch area): a
 * one-byte read of the wake port's tty (raw mode: any byte ends it), which blocks until the
 * monitor rings, or a nap when it has none. */
void inject_park(struct inject_ctx *c, struct guest_regs *r)
{
	struct inject_call call;
	c->resident = false;
	c->spawned = true;
	c->env.ctx = 0;
	if (resident.wake_fd >= 0)
		call = INJECT_CALL(LINUX_NR_read, (uint64_t)resident.wake_fd,
				   c->env.scratch + INJECT_SCRATCH_NAP, 1);
	else
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
	if (!inject_same_process(&resident.c, task)) {
		/* its task_struct reused by another process (the helper died between two
		 * looks): not the helper, whatever its registers say */
		inject_helper_gone("is gone (its task_struct now holds another process)");
		return false;
	}
	uint64_t now = rdtsc();
	if (resident.wake_fd >= 0 && resident.c.call.nr == LINUX_NR_read) {
		int64_t got = (int64_t)v->regs->rax;
		resident.rings_unanswered = 0;
		resident.deaf = false;
		resident.wakes += got == 1;
		if (got != 1 && got != -LINUX_EINTR) {
			/* hung up, or the port is gone: naps from now on */
			log_printf("ctrvisor: the helper's read of %s returned %lld: it naps from "
				   "now on\r\n",
				   wake_port_device(), (long long)got);
			resident.wake_fd = -1;
		}
	}
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

/* A helper blocked on the wake port that is wanted (by an operation waiting for it, to
 * stop, or at the end of its linger time) and has not come back: ring again, and after
 * HELPER_RINGS_MAX rings give it up for this wait (`deaf`). */
static void ring_again(uint64_t now)
{
	bool wanted = (engine.active && engine.waiting &&
		       engine.op->target.kind == INJECT_TARGET_HOST_ROOT) ||
		      resident.stop || now - resident.idle_since_tsc >= resident.linger_tsc;
	if (!wanted || now - resident.rang_tsc < inject_ms_to_tsc(HELPER_RING_RETRY_MS))
		return;
	if (resident.rings_unanswered < HELPER_RINGS_MAX) {
		inject_helper_ring();
	} else if (!resident.deaf) {
		log_printf(
			"ctrvisor: the helper (pid %d) did not answer %u rings of %s: operations "
			"find a host task until it comes back\r\n",
			(int)resident.c.env.tgid, HELPER_RINGS_MAX, wake_port_device());
		resident.deaf = true;
	}
}

/* The parked helper, when it has not come back from a nap for a while: if something
 * killed it, forget it (a stopped or frozen one is alive: it is waited for). */
void inject_helper_tick(uint64_t now)
{
	if (resident.present && !resident.working && resident.wake_fd >= 0)
		ring_again(now);
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
	st->blocks = resident.present && resident.wake_fd >= 0;
	st->wakes = resident.wakes;
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
	inject_helper_ring(); /* or at once, when it blocks on the wake port */
	return 0;
}

void inject_helper_ring(void)
{
	if (!resident.present || resident.working || resident.wake_fd < 0)
		return;
	resident.rang_tsc = rdtsc();
	wake_port_ring(resident.rang_tsc);
	resident.rings_unanswered++;
}
