/* SPDX-License-Identifier: MIT */
/*
 * Control-register exits: a MOV to CR0/CR4 that changes a bit we own (CR0_GUEST_HOST_MASK,
 * CR4_GUEST_HOST_MASK: the bits VMX fixes, and pinned bits: vmx/cr_policy.h). The guest's value
 * goes to the read shadow; the real register keeps the fixed bits (SDM 24.6.6, 25.1.3). Exit
 * qualification: SDM 27.2.1 Table 27-3.
 */
#include "core/monitor.h"
#include "vmx/cr_policy.h"
#include "vmx/exit_handlers.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/msr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

#define CR_QUAL_NUMBER(q)      ((q)&0xFu)
#define CR_QUAL_ACCESS_TYPE(q) (((q) >> 4) & 3u)
#define CR_QUAL_GPR(q)         (((q) >> 8) & 0xFu)
#define CR_ACCESS_MOV_TO_CR    0u
#define CR_ACCESS_LMSW         3u
#define CR_QUAL_LMSW_DATA(q)   (((q) >> 16) & 0xFFFFu)

static uint64_t gpr_value(struct vcpu *v, unsigned int n)
{
	return n == GPR_RSP ? vmread(GUEST_RSP) : v->regs->gpr[n];
}

static void guest_write_cr0(struct vcpu *v, uint64_t value)
{
	const struct vmx_caps *c = &machine.caps;
	/* Bits 63:32 are reserved (#GP); with unrestricted guest, PE and PG are free. */
	if (value >> 32) {
		vmx_inject_gp0(v);
		return;
	}
	/* Paging on with EFER.LME set enters IA-32e mode (SDM Vol. 3A 10.8.5): the processor
	 * would set EFER.LMA; for an emulated write the monitor does, and sets the
	 * "IA-32e mode guest" entry control to match (SDM Vol. 3C 26.2.4, 26.3.1.1). Paging
	 * off leaves it. An AP that INIT-SIPI put in real mode passes here on its way to
	 * long mode. */
	uint64_t efer = vmread(GUEST_IA32_EFER);
	bool paging_was = (vmread(GUEST_CR0) & X86_CR0_PG) != 0;
	bool paging = (value & X86_CR0_PG) != 0;
	if (paging && !paging_was && (efer & EFER_LME)) {
		if (!(vmread(GUEST_CR4) & X86_CR4_PAE) || !(value & X86_CR0_PE)) {
			vmx_inject_gp0(v); /* SDM Vol. 2B MOV to CR0: #GP(0) */
			return;
		}
		efer |= EFER_LMA;
	} else if (!paging && paging_was && (efer & EFER_LMA)) {
		efer &= ~EFER_LMA;
	}
	uint64_t entry = vmread(VM_ENTRY_CONTROLS);
	entry = (efer & EFER_LMA) ? entry | VM_ENTRY_IA32E_MODE
				  : entry & ~(uint64_t)VM_ENTRY_IA32E_MODE;
	uint64_t fixed0 = c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	vmwrite(GUEST_IA32_EFER, efer);
	vmwrite(VM_ENTRY_CONTROLS, entry);
	vmwrite(CR0_READ_SHADOW, value);
	vmwrite(GUEST_CR0, (value | fixed0) & c->cr0_fixed1);
	vmx_advance_rip(v);
}

static void guest_write_cr4(struct vcpu *v, uint64_t value)
{
	const struct vmx_caps *c = &machine.caps;
	/* The guest sees no VMX (CPUID), so setting CR4.VMXE faults as on such a CPU; so
	 * does any bit the processor cannot hold. */
	if ((value & X86_CR4_VMXE) || (value & ~c->cr4_fixed1 & ~X86_CR4_VMXE)) {
		vmx_inject_gp0(v);
		return;
	}
	vmwrite(CR4_READ_SHADOW, value);
	vmwrite(GUEST_CR4, (value | c->cr4_fixed0) & c->cr4_fixed1);
	vmx_advance_rip(v);
}

/* What the guest reads in CR0 or CR4: its own bits, and the read shadow's for the bits
 * the monitor owns (SDM 24.6.6). */
static uint64_t guest_visible_cr(unsigned int cr)
{
	uint64_t mask = vmread(cr == 0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK);
	uint64_t real = vmread(cr == 0 ? GUEST_CR0 : GUEST_CR4);
	uint64_t shadow = vmread(cr == 0 ? CR0_READ_SHADOW : CR4_READ_SHADOW);
	return (real & ~mask) | (shadow & mask);
}

/* The exit hooks see the write first (vmx/exit_hooks.h), then the pins of the CR table
 * (vmx/cr_policy.h): true if the write was refused or finished there. */
static bool hooks_took(struct vcpu *v, unsigned int cr, uint64_t value)
{
	uint64_t old = guest_visible_cr(cr);
	enum exit_hook_verdict verdict = exit_hooks_cr_write(v, cr, old, value);
	/* A pinned bit cleared: refused whatever a hook said (the hooks still saw it: kernel
	 * protection alerts on it). */
	if (cr_policy_refuses(cr, value, cr == 0 ? value : guest_visible_cr(0)))
		verdict = EXIT_HOOK_REFUSE;
	switch (verdict) {
	case EXIT_HOOK_REFUSE:
		vmx_inject_gp0(v);
		return true;
	case EXIT_HOOK_HANDLED:
		vmx_advance_rip(v);
		return true;
	case EXIT_HOOK_PASS:
		break;
	}
	return false;
}

void handle_cr_access(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	unsigned int cr = CR_QUAL_NUMBER(q);
	switch (CR_QUAL_ACCESS_TYPE(q)) {
	case CR_ACCESS_MOV_TO_CR:
		if (cr == 0) {
			uint64_t value = gpr_value(v, CR_QUAL_GPR(q));
			if (!hooks_took(v, 0, value))
				guest_write_cr0(v, value);
			return;
		}
		if (cr == 4) {
			uint64_t value = gpr_value(v, CR_QUAL_GPR(q));
			if (!hooks_took(v, 4, value))
				guest_write_cr4(v, value);
			return;
		}
		break;
	case CR_ACCESS_LMSW: {
		/* LMSW writes CR0 bits 3:0 but cannot clear PE (SDM Vol. 2A LMSW). */
		uint64_t cr0 = guest_visible_cr(0);
		uint64_t data = CR_QUAL_LMSW_DATA(q) & 0xFu;
		uint64_t value = (cr0 & ~0xFull) | data | (cr0 & X86_CR0_PE);
		if (!hooks_took(v, 0, value))
			guest_write_cr0(v, value);
		return;
	}
	default:
		break;
	}
	handle_unexpected(v);
}
