/* SPDX-License-Identifier: MIT */
/*
 * Which MSRs the guest cannot reach directly, and what it gets instead: one table that
 * both the MSR bitmap (vmcs_setup.c) and the RDMSR/WRMSR exit handlers (exit_msr.c) read
 * (SDM Vol. 3C 24.6.9 "MSR-Bitmap Address", 25.1.3). An MSR not in the table passes
 * through; one outside the bitmap's two ranges always exits and gets #GP(0).
 */
#ifndef HV_VMX_MSR_POLICY_H
#define HV_VMX_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"

/* What a handler decided. */
enum msr_result {
	MSR_DONE, /* emulated: the value is read or written */
	MSR_GP,   /* #GP(0), as a CPU without it (or refusing the value) gives */
};

struct msr_policy {
	uint32_t first, last; /* a range of MSR numbers */
	/* NULL: accessed directly (not intercepted) in that direction */
	enum msr_result (*read)(struct vcpu *v, uint32_t msr, uint64_t *value);
	enum msr_result (*write)(struct vcpu *v, uint32_t msr, uint64_t value);
	const char *why;
};

/* The entry for msr, or NULL (not intercepted). */
const struct msr_policy *msr_policy_find(uint32_t msr);
/* Sets the read and write bits of every intercepted MSR in a 4 KiB MSR bitmap. */
void msr_policy_fill_bitmap(uint8_t *bitmap);
/* Makes WRMSR/RDMSR of msr exit from now on (a bitmap bit set at run time). */
void msr_policy_intercept(uint8_t *bitmap, uint32_t msr, bool read, bool write);

/* Registers that would move hardware under the monitor (msr_policy.c): the APIC's base
 * stays where it was at start (a relocated xAPIC page could sit on monitor memory, where
 * EPT does not apply to the APIC's own accesses); MISC_ENABLE cannot turn MONITOR/MWAIT
 * on (deep C-states stop the preemption timer) or change the CPUID leaves the monitor
 * relies on (LIMIT_CPUID_MAXVAL). Other bits pass to the processor. */
enum msr_result apic_base_write(struct vcpu *v, uint32_t msr, uint64_t value);
enum msr_result misc_enable_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* The system-call entry MSRs (entry_msr.c): written as the processor would, until pinned on
 * a vCPU; then only the recorded value is accepted (an identical rewrite), any other is
 * #GP. entry_msr_pin records this vCPU's current values (call it on the vCPU itself). */
enum msr_result entry_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
void entry_msr_pin(struct vcpu *v);
/* Pins every vCPU: each records its own values at its next VM exit (the caller's own at
 * its current one, through entry_msr_pin_if_requested; exit_dispatch.c calls it). */
void entry_msr_pin_all(void);
/* The index of an entry MSR in struct vcpu's entry_msr_pin[] (0 STAR, 1 LSTAR, 2 CSTAR,
 * 3 SFMASK, 4-6 SYSENTER_CS/ESP/EIP), or -1 for any other MSR. */
int entry_msr_slot(uint32_t msr);
#define ENTRY_MSR_SLOT_SYSENTER_ESP 5
void entry_msr_pin_if_requested(struct vcpu *v);

/* The guest's MTRRs (mtrr_guest.c): a copy that types the guest's memory through EPT. */
enum msr_result mtrr_guest_read(struct vcpu *v, uint32_t msr, uint64_t *value);
enum msr_result mtrr_guest_write(struct vcpu *v, uint32_t msr, uint64_t value);

/* The guest's view of the TSC (tsc.c): its writes to IA32_TSC and IA32_TSC_ADJUST change
 * only this vCPU's TSC offset, never the processor's TSC, which the monitor's own
 * deadlines use (DESIGN §3: a guest must not be able to rewind the monitor's clock). */
enum msr_result tsc_write(struct vcpu *v, uint32_t msr, uint64_t value);
enum msr_result tsc_adjust_read(struct vcpu *v, uint32_t msr, uint64_t *value);
enum msr_result tsc_deadline_read(struct vcpu *v, uint32_t msr, uint64_t *value);
enum msr_result tsc_deadline_write(struct vcpu *v, uint32_t msr, uint64_t value);

#endif
