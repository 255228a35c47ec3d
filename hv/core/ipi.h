/* SPDX-License-Identifier: MIT */
/* An NMI from this CPU to another one, sent through the local APIC the guest also uses. */
#ifndef HV_CORE_IPI_H
#define HV_CORE_IPI_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* The APIC IDs of the CPU running this code, from CPUID (written to `v` at its start). */
void ipi_read_apic_ids(struct vcpu *v);

/* Sends an NMI to `target`, adding one to *sent just before the write that sends it (so
 * the NMI can never arrive before it is counted, and a failure counts nothing). False if
 * this CPU's local APIC is disabled (IA32_APIC_BASE.EN clear) or the previous IPI did not
 * leave the xAPIC's ICR in time. */
bool ipi_send_nmi(const struct vcpu *target, uint64_t *sent);

#endif
