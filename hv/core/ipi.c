/* SPDX-License-Identifier: MIT */
/*
 * NMIs between the monitor's CPUs (the kick of core/cpus.c). The monitor does not
 * virtualize the local APIC: the guest owns it, in xAPIC or x2APIC mode, and the monitor
 * borrows its ICR for one write. An NMI, because every vCPU exits on NMIs ("NMI exiting",
 * SDM Vol. 3C 24.6.1) whatever the guest's interrupt flag or NMI blocking ("virtual NMIs":
 * the guest's blocking is virtual, 24.6.1, 25.3), and because a local APIC accepts NMIs
 * even when software-disabled (SDM Vol. 3A 10.4.7.2).
 *
 * The xAPIC page is reached through the monitor's identity map, whose PAT entry is WB: the
 * firmware's MTRRs make the APIC range UC, and UC wins (SDM Vol. 3A 11.5.2.2, Table 11-7).
 */
#include "core/ipi.h"

#include "core/vcpu.h"
#include "x86/apic.h"
#include "x86/cpu.h"
#include "x86/msr.h"

/* How long to wait for the xAPIC to take a previous IPI (it takes microseconds). */
#define ICR_IDLE_SPINS 100000u

void ipi_read_apic_ids(struct vcpu *v)
{
	struct cpuid_regs r = cpuid_count(1, 0);
	v->xapic_id = (uint8_t)(r.ebx >> CPUID_1_EBX_APIC_ID_SHIFT);
	v->x2apic_id = v->xapic_id;
	if (cpuid_count(0, 0).eax >= CPUID_LEAF_TOPOLOGY) {
		r = cpuid_count(CPUID_LEAF_TOPOLOGY, 0);
		if (r.ebx != 0) /* leaf 0BH is valid when EBX[15:0] != 0 (SDM Vol. 2A CPUID) */
			v->x2apic_id = r.edx;
	}
}

static volatile uint32_t *xapic_reg(uint64_t apic_base, uint32_t offset)
{
	return (volatile uint32_t *)(uintptr_t)((apic_base & APIC_BASE_ADDRESS_MASK) + offset);
}

bool ipi_send_nmi(const struct vcpu *target, uint64_t *sent)
{
	uint64_t apic_base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(apic_base & APIC_BASE_EN))
		return false;
	uint32_t icr_low = APIC_ICR_DELIVERY_NMI | APIC_ICR_LEVEL_ASSERT; /* physical dest. */
	if (apic_base & APIC_BASE_EXTD) {
		/* 10.12.9: in x2APIC mode one WRMSR writes the whole ICR and sends. That WRMSR
		 * is not serializing (10.12.3): fence, so the count is visible first (as Linux's
		 * weak_wrmsr_fence). */
		__atomic_add_fetch(sent, 1, __ATOMIC_SEQ_CST);
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(MSR_X2APIC_ICR,
		      ((uint64_t)target->x2apic_id << X2APIC_ICR_DEST_SHIFT) | icr_low);
		return true;
	}
	volatile uint32_t *low = xapic_reg(apic_base, XAPIC_ICR_LOW);
	volatile uint32_t *high = xapic_reg(apic_base, XAPIC_ICR_HIGH);
	unsigned int spins = 0;
	while (*low & APIC_ICR_DELIVERY_STATUS) {
		if (++spins == ICR_IDLE_SPINS)
			return false;
		cpu_relax();
	}
	/* The guest may be between its own writes of ICR high and ICR low (the IPI goes at
	 * the write of ICR low, 10.6.1): give it its destination back. */
	uint32_t guest_high = *high;
	*high = (uint32_t)target->xapic_id << XAPIC_ICR_DEST_SHIFT;
	__atomic_add_fetch(sent, 1, __ATOMIC_SEQ_CST); /* a locked add: before the store */
	*low = icr_low;
	*high = guest_high;
	return true;
}
