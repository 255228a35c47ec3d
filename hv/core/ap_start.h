/* SPDX-License-Identifier: MIT */
/* Virtualizing the other CPUs (ap_start.c, ap_entry.asm). */
#ifndef HV_CORE_AP_START_H
#define HV_CORE_AP_START_H

#include <stdint.h>

/* The caller of hv_ap_entry as it must find itself again, as the guest (ap_entry.asm
 * fills it; vmx_launch_context reads it: keep the order). */
struct launch_context {
	uint64_t rbx, rbp, r12, r13, r14, r15;
	uint64_t rflags, rip, rsp;
};
_Static_assert(sizeof(struct launch_context) == 72, "ap_entry.asm lays out 9 registers");

__attribute__((sysv_abi)) int hv_ap_entry(uint32_t id, char *error, uint64_t cap);

#endif
