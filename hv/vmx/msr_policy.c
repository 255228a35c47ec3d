/* SPDX-License-Identifier: MIT */
#include "vmx/msr_policy.h"

#include "mm/mtrr.h"
#include "x86/cpu.h"
#include "x86/msr.h"

static enum msr_result refuse_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	(void)v, (void)msr, (void)value;
	return MSR_GP;
}

static enum msr_result refuse_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v, (void)msr, (void)value;
	return MSR_GP;
}

enum msr_result apic_base_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v;
	uint64_t now = rdmsr(msr);
	/* The address and the BSP flag are fixed (BSP is read-only: SDM Vol. 3A 11.4.4); the
	 * enable and x2APIC bits go to the processor, which checks their transitions
	 * itself (11.12.5: an invalid one raises #GP in the guest). */
	if ((value ^ now) & (APIC_BASE_ADDRESS_MASK | APIC_BASE_BSP))
		return MSR_GP;
	wrmsr(msr, value);
	return MSR_DONE;
}

enum msr_result misc_enable_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v;
	uint64_t now = rdmsr(msr);
	if ((value ^ now) & (MISC_ENABLE_MONITOR_FSM | MISC_ENABLE_LIMIT_CPUID_MAXVAL))
		return MSR_GP;
	wrmsr(msr, value);
	return MSR_DONE;
}

/*
 * Not in the table, and why that is safe:
 *   IA32_DEBUGCTL (LBR, BTF, BTS): saved at each exit and loaded at each entry (the debug
 *     controls, vmcs_setup.c), and cleared at every VM exit (SDM Vol. 3C 27.5.1 "Loading
 *     Host Control Registers, Debug Registers, MSRs"): no branch of the monitor is ever
 *     recorded, and BTS has nowhere to write without IA32_DS_AREA (refused below);
 *   the performance counters (IA32_PERF_GLOBAL_CTRL, PERFEVTSELx, PMCx, FIXED_CTR*): they
 *     count events of the monitor too while enabled, but write no memory (PEBS needs the
 *     DS area, refused) and record no address.
 */
static const struct msr_policy policy[] = {
	{MSR_IA32_APIC_BASE, MSR_IA32_APIC_BASE, 0, apic_base_write,
	 "the APIC page must not move (onto monitor memory)"},
	{MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, 0, misc_enable_write,
	 "MWAIT enable and the CPUID limit are the monitor's"},
	{MSR_IA32_TSC, MSR_IA32_TSC, 0, tsc_write,
	 "the TSC is the monitor's clock: a write moves only this vCPU's offset"},
	{MSR_IA32_TSC_ADJUST, MSR_IA32_TSC_ADJUST, tsc_adjust_read, tsc_write,
	 "TSC_ADJUST changes the TSC: virtual, per vCPU"},
	/* TSC_DEADLINE (0x6E0) is intercepted only once a vCPU's TSC offset is not 0
	 * (tsc.c): Linux arms it at every timer tick, and with offset 0 it needs nothing. */
	{MSR_IA32_VMX_BASIC, 0x491u, refuse_read, 0,
	 "a CPU without VMX (what CPUID shows) has no VMX capability MSRs"},
	{MSR_IA32_MTRR_PHYSBASE0, MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_MAX_VARIABLE - 1,
	 mtrr_guest_read, mtrr_guest_write,
	 "the guest's MTRRs type its memory through EPT; the processor's type the monitor's"},
	{MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX64K_00000, mtrr_guest_read, mtrr_guest_write,
	 "fixed-range MTRR: the guest's copy"},
	{MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000, mtrr_guest_read, mtrr_guest_write,
	 "fixed-range MTRRs: the guest's copy"},
	{MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_FIX4K_C0000 + 7, mtrr_guest_read,
	 mtrr_guest_write, "fixed-range MTRRs: the guest's copy"},
	{MSR_IA32_MTRR_DEF_TYPE, MSR_IA32_MTRR_DEF_TYPE, mtrr_guest_read, mtrr_guest_write,
	 "MTRR default type: the guest's copy"},
	{MSR_STAR, MSR_SYSCALL_MASK, 0, entry_msr_write,
	 "the syscall entry (STAR, LSTAR, CSTAR, SFMASK): pinnable, a stub of a rootkit's would "
	 "see every call first (entry_msr.c)"},
	{MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_EIP, 0, entry_msr_write,
	 "the SYSENTER entry: pinnable, as the syscall entry"},
	{MSR_IA32_DS_AREA, MSR_IA32_DS_AREA, 0, refuse_write,
	 "no Debug Store (hidden in CPUID): BTS/PEBS records would be written through the "
	 "monitor's page tables by a counter still running at a VM exit"},
	{MSR_IA32_PEBS_ENABLE, MSR_IA32_PEBS_ENABLE, 0, refuse_write, "no PEBS (hidden in CPUID)"},
	{MSR_IA32_RTIT_FIRST, MSR_IA32_RTIT_LAST, 0, refuse_write,
	 "Intel PT would write trace output to host-physical memory, past EPT"},
};

/* Entries that are switched on at run time (msr_policy_intercept): looked up too. */
static const struct msr_policy late_policy[] = {
	{MSR_IA32_TSC_DEADLINE, MSR_IA32_TSC_DEADLINE, tsc_deadline_read, tsc_deadline_write,
	 "the LAPIC compares the deadline with the real TSC: shifted by the vCPU's offset"},
};

const struct msr_policy *msr_policy_find(uint32_t msr)
{
	for (unsigned int i = 0; i < sizeof(policy) / sizeof(policy[0]); i++)
		if (msr >= policy[i].first && msr <= policy[i].last)
			return &policy[i];
	for (unsigned int i = 0; i < sizeof(late_policy) / sizeof(late_policy[0]); i++)
		if (msr >= late_policy[i].first && msr <= late_policy[i].last)
			return &late_policy[i];
	return 0;
}

/* SDM 24.6.9: read bitmap for low MSRs (0-0x1FFF) at 0, high (0xC0000000-0xC0001FFF) at
 * 1024; the write bitmaps follow at 2048 and 3072. */
static void set_bit(uint8_t *bitmap, uint32_t msr, bool write)
{
	uint32_t base = write ? 2048u : 0u;
	if (msr >= 0xC0000000u && msr <= 0xC0001FFFu) {
		base += 1024u;
		msr -= 0xC0000000u;
	} else if (msr > 0x1FFFu) {
		return; /* outside both ranges: always exits */
	}
	bitmap[base + msr / 8u] |= (uint8_t)(1u << (msr % 8u));
}

void msr_policy_intercept(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	if (read)
		set_bit(bitmap, msr, false);
	if (write)
		set_bit(bitmap, msr, true);
}

void msr_policy_fill_bitmap(uint8_t *bitmap)
{
	for (unsigned int i = 0; i < sizeof(policy) / sizeof(policy[0]); i++)
		for (uint32_t msr = policy[i].first; msr <= policy[i].last; msr++)
			msr_policy_intercept(bitmap, msr, policy[i].read != 0,
					     policy[i].write != 0);
}
