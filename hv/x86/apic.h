/* SPDX-License-Identifier: MIT */
/*
 * The local APIC registers the monitor uses to send an IPI (SDM Vol. 3A ch. 10 "Advanced
 * Programmable Interrupt Controller (APIC)"). The one place they are defined; the MSRs
 * (IA32_APIC_BASE, the x2APIC ICR) are in x86/msr.h.
 */
#ifndef HV_X86_APIC_H
#define HV_X86_APIC_H

/* 10.4.1 "The Local APIC Block Diagram", Table 10-1: xAPIC register offsets from the APIC
 * base. */
#define XAPIC_ICR_LOW  0x300u
#define XAPIC_ICR_HIGH 0x310u

/* 10.6.1 "Interrupt Command Register (ICR)", Figure 10-12. */
#define APIC_ICR_DELIVERY_NMI    (4u << 8)
#define APIC_ICR_DELIVERY_STATUS (1u << 12) /* xAPIC: the previous IPI is still being sent */
#define APIC_ICR_LEVEL_ASSERT    (1u << 14)
#define XAPIC_ICR_DEST_SHIFT     24u /* ICR high: destination field, bits 63:56 */
#define X2APIC_ICR_DEST_SHIFT    32u /* 10.12.9: the 64-bit ICR, destination bits 63:32 */

/* CPUID leaves that give a CPU's APIC ID (SDM Vol. 2A CPUID): leaf 1 EBX[31:24] the initial
 * xAPIC ID, leaf 0BH EDX the x2APIC ID. */
#define CPUID_1_EBX_APIC_ID_SHIFT 24u
#define CPUID_LEAF_TOPOLOGY       0x0Bu

#endif
