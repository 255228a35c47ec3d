/* SPDX-License-Identifier: MIT */
/* CPUID exits unconditionally (SDM 25.1.2 "Instructions That Cause VM Exits
 * Unconditionally"). We run it for the guest and change what a guest must not see or
 * cannot use, and announce ourselves in the hypervisor leaves. */
#include "core/monitor.h"
#include "lib/string.h"
#include "version.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"
#include "x86/cpuid.h"
#include "x86/vmcs.h"
#include "x86/cr.h"
#include "x86/vmx_controls.h"

void handle_cpuid(struct vcpu *v)
{
	struct guest_regs *r = v->regs;
	uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
	struct cpuid_regs c;
	uint32_t sec = machine.secondary_controls;

	if (leaf >= CPUID_HV_VENDOR_LEAF && leaf <= CPUID_HV_LAST_LEAF) {
		c = (struct cpuid_regs){0, 0, 0, 0};
		if (leaf == CPUID_HV_VENDOR_LEAF) {
			/* EAX = highest hypervisor leaf; EBX:ECX:EDX = signature. Leaf
			 * 0x40000001 (features) is all zero: no paravirtual interfaces. */
			c.eax = CPUID_HV_FEATURES_LEAF;
			memcpy(&c.ebx, HV_CPUID_SIGNATURE + 0, 4);
			memcpy(&c.ecx, HV_CPUID_SIGNATURE + 4, 4);
			memcpy(&c.edx, HV_CPUID_SIGNATURE + 8, 4);
		}
	} else {
		c = cpuid_count(leaf, subleaf);
		switch (leaf) {
		case 1:
			/* No nested VMX, no SMX; the "hypervisor present" bit is the
			 * conventional way to say a guest runs virtualized. */
			c.ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX);
			c.ecx |= CPUID_1_ECX_HYPERVISOR;
			/* OSXSAVE mirrors CR4.OSXSAVE: the guest's, not the monitor's (which
			 * always has it). */
			c.ecx &= ~CPUID_1_ECX_OSXSAVE;
			if (vmread(GUEST_CR4) & X86_CR4_OSXSAVE)
				c.ecx |= CPUID_1_ECX_OSXSAVE;
			/* No MONITOR/MWAIT: deep C-states stop the VMX-preemption timer
			 * (SDM 25.5.1) and with it the console's polling. */
			c.ecx &= ~CPUID_1_ECX_MONITOR;
			/* No Debug Store: BTS and PEBS records go to the linear address in
			 * IA32_DS_AREA, and a counter still running at a VM exit would write
			 * them through the monitor's page tables (its writes are refused:
			 * msr_policy.c). */
			c.edx &= ~CPUID_1_EDX_DS;
			c.ecx &= ~(CPUID_1_ECX_DS_CPL | CPUID_1_ECX_PDCM);
			break;
		case 5:
			c = (struct cpuid_regs){0, 0, 0, 0}; /* MONITOR/MWAIT leaf: hidden */
			break;
		case 7:
			if (subleaf == 0) {
				if (!(sec & SECONDARY_EXEC_ENABLE_INVPCID))
					c.ebx &= ~CPUID_7_EBX_INVPCID;
				if (!(sec & SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE))
					c.ecx &= ~CPUID_7_ECX_WAITPKG;
				if (!(sec & SECONDARY_EXEC_ENABLE_RDTSCP))
					c.ecx &= ~CPUID_7_ECX_RDPID;
				/* OSPKE mirrors the guest's CR4.PKE. Intel PT is hidden: its
				 * output would go to host-physical addresses, past EPT. */
				c.ecx &= ~CPUID_7_ECX_OSPKE;
				if (vmread(GUEST_CR4) & X86_CR4_PKE)
					c.ecx |= CPUID_7_ECX_OSPKE;
				c.ebx &= ~CPUID_7_EBX_INTEL_PT;
			}
			break;
		case 0x14:
			c = (struct cpuid_regs){0, 0, 0, 0}; /* Intel PT leaf: hidden */
			break;
		case 0xD:
			if (subleaf == 1 && !(sec & SECONDARY_EXEC_XSAVES))
				c.eax &= ~CPUID_D1_EAX_XSAVES;
			break;
		case 0x80000001:
			if (!(sec & SECONDARY_EXEC_ENABLE_RDTSCP))
				c.edx &= ~CPUID_80000001_EDX_RDTSCP;
			break;
		default:
			break;
		}
	}
	/* CPUID writes the low 32 bits and clears the upper halves. */
	r->rax = c.eax;
	r->rbx = c.ebx;
	r->rcx = c.ecx;
	r->rdx = c.edx;
	vmx_advance_rip(v);
}
