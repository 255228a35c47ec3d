/* SPDX-License-Identifier: MIT */
/*
 * Which CR0 and CR4 bits the monitor owns, and why: one table that VMCS set-up (the
 * guest/host masks) and the MOV-to-CR exit handler (exit_cr.c) read. A bit set in a
 * guest/host mask is the monitor's: the guest reads the read shadow there, and a MOV to
 * the register that would change it exits (SDM Vol. 3C 24.6.6, 25.1.3).
 *
 * Two kinds of owned bits:
 *  - the bits VMX fixes in VMX operation (IA32_VMX_CR0_FIXED0/1, IA32_VMX_CR4_FIXED0/1,
 *    SDM Vol. 3D A.7, A.8): owned always; the guest keeps its own view in the shadow;
 *  - pinnable security bits (CR0.WP, CR4.SMEP/SMAP/UMIP): owned once a subsystem pins
 *    them (kernel protection, at its lock); from then on a write that clears a pinned bit
 *    while paging is on is refused (#GP). Without paging they mean nothing and are not
 *    enforced: INIT, an AP's start in real mode and a reboot through real mode clear them
 *    on the way, and the kernel sets them again when it turns paging on.
 *
 * Owner: the pins are written under the exit lock. Each vCPU loads the masks into its own
 * VMCS at launch and, after a pin, at its next VM exit (cr_policy_load_if_stale): the
 * pinner holds or kicks the other CPUs (core/cpus.h) before it relies on the pin.
 */
#ifndef HV_VMX_CR_POLICY_H
#define HV_VMX_CR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"

enum cr_rule_kind {
	CR_RULE_VMX_FIXED, /* what VMX operation forces (bits from the capability MSRs) */
	CR_RULE_PINNABLE,  /* a security bit a subsystem may pin set */
};

struct cr_rule {
	unsigned int cr; /* 0 or 4 */
	uint64_t bits;   /* 0 for CR_RULE_VMX_FIXED: the capability MSRs say */
	enum cr_rule_kind kind;
	const char *why;
};

/* The guest/host mask of CR0 or CR4: the bits VMX fixes and the pinned bits. */
uint64_t cr_policy_mask(unsigned int cr);
/* Pins bits of CR0 or CR4 (each must be pinnable and set in the guest's value now, as the
 * pinner checks): false, and nothing pinned, otherwise. */
bool cr_policy_pin(unsigned int cr, uint64_t bits);
/* The bits pinned (0 when none). */
uint64_t cr_policy_pinned(unsigned int cr);
/* Would writing new_value to CR0 or CR4 clear a pinned bit with paging on? cr0 is CR0 as
 * it will be after the write (new_value itself for CR0). */
bool cr_policy_refuses(unsigned int cr, uint64_t new_value, uint64_t cr0);

/* Writes the masks into the current VMCS (vmcs_setup), and again at an exit after the pins
 * changed (exit_dispatch.c). A vCPU with paging on gets the pinned bits set if it had
 * cleared them before its reload: the pin holds from its first exit after the pin. */
void cr_policy_load(struct vcpu *v);
void cr_policy_load_if_stale(struct vcpu *v);

#endif
