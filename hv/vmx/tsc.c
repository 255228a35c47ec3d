/* SPDX-License-Identifier: MIT */
/*
 * The guest's TSC (msr_policy.h). With "use TSC offsetting" (SDM Vol. 3C 24.6.5, 25.3)
 * RDTSC, RDTSCP and RDMSR of IA32_TSC in the guest return the processor's TSC plus the
 * vCPU's TSC_OFFSET; the monitor reads the processor's own TSC in VMX root operation. So
 * a guest write of IA32_TSC (SDM Vol. 3B 18.17) or IA32_TSC_ADJUST (18.17.3: a write
 * changes the TSC by the difference) becomes a new offset: the guest sees the TSC it
 * asked for, and every deadline of the monitor keeps running on a clock the guest cannot
 * rewind.
 *
 * The TSC-deadline timer (SDM Vol. 3A 11.5.4.1) compares IA32_TSC_DEADLINE with the
 * processor's TSC: once an offset is not 0, its writes and reads are shifted by it.
 */
#include "core/monitor.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/msr.h"
#include "x86/vmcs.h"

static void set_offset(struct vcpu *v, uint64_t offset)
{
	/* 18.17.3: a write of IA32_TSC adds the same difference to IA32_TSC_ADJUST. */
	v->tsc_adjust += offset - v->tsc_offset;
	v->tsc_offset = offset;
	vmwrite(TSC_OFFSET, offset);
	if (offset != 0 && !v->tsc_deadline_intercepted) {
		/* Shared by every vCPU: each one with offset 0 shifts by 0. */
		msr_policy_intercept(vmx_msr_bitmap(), MSR_IA32_TSC_DEADLINE, true, true);
		v->tsc_deadline_intercepted = true;
	}
}

enum msr_result tsc_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (msr == MSR_IA32_TSC_ADJUST) {
		/* 18.17.3: adding (new - old) to TSC_ADJUST adds the same to the TSC. */
		set_offset(v, v->tsc_offset + (value - v->tsc_adjust));
		return MSR_DONE;
	}
	/* IA32_TSC: from now on the guest reads `value` plus the time since. */
	set_offset(v, value - rdtsc());
	return MSR_DONE;
}

enum msr_result tsc_adjust_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	(void)msr;
	*value = v->tsc_adjust;
	return MSR_DONE;
}

enum msr_result tsc_deadline_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	if (!machine.tsc_deadline) /* no such MSR (SDM Vol. 3A 11.5.4.1) */
		return MSR_GP;
	/* 0 disarms; a deadline already past (in processor time) fires at once: 1. */
	uint64_t host = value == 0 ? 0 : value - v->tsc_offset;
	if (value != 0 && (int64_t)(host - rdtsc()) <= 0)
		host = 1;
	wrmsr(msr, host);
	return MSR_DONE;
}

enum msr_result tsc_deadline_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	if (!machine.tsc_deadline) /* no such MSR (SDM Vol. 3A 11.5.4.1) */
		return MSR_GP;
	/* The processor's deadline in the guest's time, or 0 once it fired or was disarmed
	 * (the processor clears it). Derived, not stored: right also for a deadline armed
	 * before this vCPU's reads were intercepted. */
	uint64_t host = rdmsr(msr);
	*value = host == 0 ? 0 : host + v->tsc_offset;
	return MSR_DONE;
}
