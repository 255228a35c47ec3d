/* SPDX-License-Identifier: MIT */
/* Entering and leaving VMX operation. */
#include "core/monitor.h"
#include "mm/palloc.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/vmx_controls.h"

int vmx_enable(struct vcpu *v)
{
	const struct vmx_caps *c = &machine.caps;

	/* SDM 23.8 "Restrictions on VMX Operation": CR0 and CR4 must hold the bits fixed
	 * by IA32_VMX_CR{0,4}_FIXED{0,1} (in practice CR0.PE, NE, PG and CR4.VMXE). */
	/* SDM 24.11.5 "VMXON Region": 4 KiB aligned, revision identifier in the first
	 * 31 bits. */
	uint32_t *vmxon_region = palloc_page();
	uint32_t *vmcs_region = palloc_page();
	if (vmxon_region == NULL || vmcs_region == NULL)
		return start_fail(HV_START_NO_MEMORY, "no memory for the VMXON region and VMCS");
	*vmxon_region = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
	*vmcs_region = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK); /* bit 31 = 0: ordinary */
	v->vmxon_pa = (uint64_t)(uintptr_t)vmxon_region;
	v->vmcs_pa = (uint64_t)(uintptr_t)vmcs_region;

	/* Only now change the control registers, so that a failure above leaves them as
	 * the firmware had them. */
	v->cr4_before_vmxon = read_cr4();
	write_cr0((read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	write_cr4((v->cr4_before_vmxon | c->cr4_fixed0 | X86_CR4_VMXE) & c->cr4_fixed1);

	if (!vmxon(v->vmxon_pa)) {
		write_cr4(v->cr4_before_vmxon);
		return start_fail(HV_START_VMX_FAILED,
				  "VMXON failed (is another hypervisor already running?)");
	}
	/* SDM 24.11.3 "Initializing a VMCS": VMCLEAR, then VMPTRLD makes it current. */
	if (!vmclear(v->vmcs_pa) || !vmptrld(v->vmcs_pa)) {
		vmx_disable(v);
		return start_fail(HV_START_VMX_FAILED, "VMCLEAR/VMPTRLD of the VMCS failed");
	}
	return HV_START_OK;
}

void vmx_disable(struct vcpu *v)
{
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	write_cr4(v->cr4_before_vmxon);
}
