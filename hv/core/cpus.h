/* SPDX-License-Identifier: MIT */
/*
 * What one CPU of the monitor asks of the others (ACRN's per-vCPU request bits, with an
 * NMI as the doorbell):
 *
 *   cpus_invept_all()     after EPT entries were tightened: returns once no CPU can use a
 *                         stale translation (each has run INVEPT, or runs no guest code
 *                         and will before it does again);
 *   cpus_hold_others()    every other CPU is out of the guest and stays out until
 *                         cpus_release_others(): guest memory holds still for a reader.
 *
 * Both are called only from a VM exit of the caller, under the exit lock
 * (vmx/exit_dispatch.c). A CPU that does not answer within CPUS_ANSWER_MS makes them fail:
 * the caller then refuses its operation rather than go on with a CPU it cannot account for.
 *
 * Every vCPU runs vcpu_exit_begin() first at each VM exit and vcpu_enter_gate() last before
 * each VM entry. The gate and the requester each write their own flag and then read the
 * other's, both sequentially consistent, so at least one of them sees the other: either the
 * entering vCPU sees the request (and acts on it, or waits) or the requester sees the vCPU
 * in the guest (and kicks it out with an NMI; a kick that is lost, e.g. spent in VMX root
 * operation between the gate and VMRESUME, is made up for by the vCPU's preemption timer,
 * which brings every vCPU out at least every 10 ms).
 */
#ifndef HV_CORE_CPUS_H
#define HV_CORE_CPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* Bits of struct vcpu .requests */
#define VCPU_REQ_INVEPT   1u /* run INVEPT before running guest code again */
#define VCPU_REQ_LOAD_DTR 2u /* load GDTR and IDTR from .load_dtr first */

/* Has vCPU o (this one, or one held) GDTR and IDTR loaded with these before it runs guest
 * code again. */
void vcpu_load_dtr(struct vcpu *self, struct vcpu *o, uint64_t gdtr_base, uint32_t gdtr_limit,
		   uint64_t idtr_base, uint32_t idtr_limit);

#define CPUS_ANSWER_MS 1000u /* how long a CPU may take to answer a request */

void vcpu_exit_begin(struct vcpu *v);
void vcpu_enter_gate(struct vcpu *v);

/* An NMI reached this CPU (as a VM exit or in VMX root operation): true if it was one of
 * the kicks other CPUs sent, false if it is the guest's (and must be delivered to it). */
bool vcpu_nmi_is_kick(struct vcpu *v);
/* Queues the guest's NMI for injection: one in service and one pending, as on hardware. */
void vcpu_queue_guest_nmi(struct vcpu *v);

bool cpus_invept_all(struct vcpu *self, char *why, size_t cap);
/* Holds nest: each successful hold is released once; a hold never released (a stopped
 * guest) keeps the others out for good. */
bool cpus_hold_others(struct vcpu *self, char *why, size_t cap);
void cpus_release_others(struct vcpu *self);

#endif
