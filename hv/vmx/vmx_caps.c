/* SPDX-License-Identifier: MIT */
/* Does this CPU do what we need, and with which control settings. */
#include "core/monitor.h"
#include "vmx/vmx.h"
#include "x86/cpuid.h"
#include "x86/msr.h"
#include "x86/vmx_controls.h"

int vmx_check_support(void)
{
	if (!(cpuid_count(1, 0).ecx & CPUID_1_ECX_VMX))
		return start_fail(
			HV_START_NO_VMX,
			"this CPU has no VMX (Intel VT-x): CPUID.1:ECX.VMX = 0. Use an "
			"Intel CPU with VT-x, or enable nested virtualization for this VM");

	/* SDM 23.7 "Enabling and Entering VMX Operation": VMXON needs IA32_FEATURE_CONTROL
	 * locked with "enable VMX outside SMX" set. If the firmware left it unlocked, we
	 * set and lock it ourselves; if it locked it with VMX off, only the firmware
	 * setup can change that (until the next reset). */
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (fc & FEATURE_CONTROL_LOCKED) {
		if (!(fc & FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX))
			return start_fail(HV_START_VMX_DISABLED,
					  "VT-x is disabled and locked by the firmware "
					  "(IA32_FEATURE_CONTROL=0x%llx): enable \"Intel "
					  "Virtualization Technology\" in the firmware setup",
					  (unsigned long long)fc);
	} else {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX);
	}
	return HV_START_OK;
}

uint32_t vmx_adjust_controls(uint32_t msr, uint32_t wanted)
{
	uint64_t cap = rdmsr(msr);
	return (wanted | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

int vmx_read_caps(void)
{
	struct vmx_caps *c = &machine.caps;
	/* Not VMX, but read once here with the rest: tsc.c may touch IA32_TSC_DEADLINE only
	 * where it exists (SDM Vol. 3A 11.5.4.1). */
	machine.tsc_deadline = (cpuid_count(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE) != 0;
	/* The XCR0 bits XSETBV may set (SDM Vol. 1 13.3: CPUID.(EAX=0DH,ECX=0):EDX:EAX), read
	 * once: later CPUID answers do not change what the monitor accepts. */
	struct cpuid_regs xsave = cpuid_count(0xD, 0);
	machine.xcr0_supported = ((uint64_t)xsave.edx << 32) | xsave.eax;
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	/* A.1: bit 55 says whether the TRUE_* MSRs exist; they allow clearing some
	 * "default1" controls and are the ones to use when present (SDM 31.5.1). */
	bool true_ctls = (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
	c->pin_msr = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS;
	c->proc_msr = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS;
	c->exit_msr = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS;
	c->entry_msr = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS;

	uint64_t proc = rdmsr(c->proc_msr);
	c->has_secondary = (proc >> 32) & CPU_BASED_ACTIVATE_SECONDARY;
	if (!c->has_secondary)
		return start_fail(HV_START_MISSING_FEATURE,
				  "the CPU has no secondary VM-execution controls (needed for "
				  "EPT): it is too old for this monitor");
	c->secondary = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	uint32_t sec1 = (uint32_t)(c->secondary >> 32);
	if (!(sec1 & SECONDARY_EXEC_ENABLE_EPT))
		return start_fail(HV_START_MISSING_FEATURE, "the CPU offers no EPT");
	if (!(sec1 & SECONDARY_EXEC_UNRESTRICTED_GUEST))
		return start_fail(HV_START_MISSING_FEATURE,
				  "the CPU offers no unrestricted guest mode");
	c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	/* 28.2.2 / A.10: we build 4-level tables, WB paging structures, 2 MiB pages. */
	if (!(c->ept_vpid & VMX_EPT_PAGE_WALK_4_BIT) || !(c->ept_vpid & VMX_EPTP_WB_BIT) ||
	    !(c->ept_vpid & VMX_EPT_2MB_PAGE_BIT) || !(c->ept_vpid & VMX_EPT_INVEPT_BIT))
		return start_fail(HV_START_MISSING_FEATURE,
				  "EPT lacks 4-level walks, WB tables, 2 MiB pages or INVEPT "
				  "(IA32_VMX_EPT_VPID_CAP=0x%llx)",
				  (unsigned long long)c->ept_vpid);
	uint64_t pin = rdmsr(c->pin_msr);
	if (!((pin >> 32) & PIN_BASED_VMX_PREEMPTION_TIMER))
		return start_fail(HV_START_MISSING_FEATURE,
				  "the CPU has no VMX-preemption timer (the console is polled "
				  "from it)");
	if (!((pin >> 32) & PIN_BASED_VIRTUAL_NMIS))
		return start_fail(HV_START_MISSING_FEATURE, "the CPU has no virtual NMIs");
	return HV_START_OK;
}
