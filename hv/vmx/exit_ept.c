/* SPDX-License-Identifier: MIT */
/* EPT exits (SDM 28.2.3 "EPT-Induced VM Exits"). */
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

void handle_ept_violation(struct vcpu *v)
{
	uint64_t gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	/* SDM 27.2.3: an EPT violation caused by an IRET that unblocked NMIs must restore
	 * the blocking before re-executing the IRET (virtual NMIs). */
	if ((v->exit_qualification & EPT_VIOL_NMI_UNBLOCKING) &&
	    !(vmread(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID))
		vmwrite(GUEST_INTERRUPTIBILITY_INFO,
			vmread(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);

	if (exit_hooks_ept_violation(v, gpa, v->exit_qualification))
		return;
	/* Beyond the identity map built at start (MMIO high up, hot-added memory): map
	 * the region on first touch and retry the access. */
	if (ept_map_on_demand(gpa, v->exit_qualification))
		return;
	vmx_stop_guest(v,
		       "EPT violation at gpa 0x%llx (qualification 0x%llx) that the "
		       "monitor cannot resolve%s",
		       (unsigned long long)gpa, (unsigned long long)v->exit_qualification,
		       ept_growth_exhausted()
			       ? " (the EPT growth pool is used up: the guest "
				 "touched too many distinct regions beyond its memory)"
			       : "");
}

void handle_ept_misconfig(struct vcpu *v)
{
	vmx_stop_guest(v, "EPT misconfiguration at gpa 0x%llx (a monitor bug)",
		       (unsigned long long)vmread(GUEST_PHYSICAL_ADDRESS));
}
