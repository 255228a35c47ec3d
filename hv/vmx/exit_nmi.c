/* SPDX-License-Identifier: MIT */
/*
 * NMIs. With "NMI exiting" an NMI in the guest causes an exit (SDM 25.2) and is not
 * delivered; an NMI in the monitor goes through the host IDT (core/host_tables.c). Both
 * end up queued and injected into the guest (24.8.3), waiting for an NMI window when the
 * guest is blocking NMIs.
 */
#include "core/cpus.h"
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

void handle_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTR_INFO);
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
		if (vcpu_nmi_is_kick(v))
			return; /* another CPU wanted this one out of the guest (core/cpus.h) */
		vcpu_queue_guest_nmi(v); /* vmx_queue_pending_nmi() delivers it */
		return;
	}
	/* The exception bitmap is 0: no other exception should exit. */
	handle_unexpected(v);
}

void handle_nmi_window(struct vcpu *v)
{
	(void)v; /* the common path injects the queued NMI and clears the window exiting */
}
