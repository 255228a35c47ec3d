/* SPDX-License-Identifier: MIT */
/* Exits that need little: instructions we refuse, events that end the guest. */
#include "vmx/exit_handlers.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/exit_reason.h"

/* INVD exits unconditionally (SDM 25.1.2). Discarding caches without writing them back
 * could lose the monitor's own data: do WBINVD instead, which is a correct
 * implementation of INVD's visible effect for the guest (DESIGN §3). */
void handle_invd(struct vcpu *v)
{
	wbinvd();
	vmx_advance_rip(v);
}

/* VMX instructions exit unconditionally in VMX non-root operation (25.1.2). The guest
 * sees a CPU without VMX, on which they are undefined: #UD. A VMCALL a hook claims (the
 * syscall-entry trap's) is not the guest's. */
void handle_vmx_instruction(struct vcpu *v)
{
	if ((v->exit_reason & 0xFFFFu) == EXIT_REASON_VMCALL && exit_hooks_vmcall(v))
		return;
	vmx_inject_ud(v);
}

/* GETSEC exits when the guest has CR4.SMXE set, which it cannot (SMX is hidden). */
void handle_getsec(struct vcpu *v)
{
	vmx_inject_ud(v);
}

/* SDM 25.2 "Other Causes of VM Exits": a triple fault exits instead of shutting down. */
void handle_triple_fault(struct vcpu *v)
{
	vmx_stop_guest(v, "guest triple fault (shutdown)");
}

/* The VMX-preemption timer (SDM 25.5.1) expired: nothing to do here; the common exit path
 * polls the console and re-arms the timer. */
void handle_preemption_timer(struct vcpu *v)
{
	(void)v;
}

/* The monitor trap flag (SDM Vol. 3C 26.5.2): set only by a hook stepping one guest
 * instruction; a step no hook owns is a monitor bug. */
void handle_monitor_trap_flag(struct vcpu *v)
{
	if (!exit_hooks_mtf(v))
		handle_unexpected(v);
}
