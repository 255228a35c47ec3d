/* SPDX-License-Identifier: MIT */
/* The architectural state of a processor after INIT and after a SIPI, as VMCS guest state
 * (exit_init_sipi.c). Computed apart from writing it, so it can be checked on the host. */
#ifndef HV_VMX_INIT_STATE_H
#define HV_VMX_INIT_STATE_H

#include <stdint.h>

#include "core/monitor.h"

/* Access rights as the VMCS holds them (SDM Vol. 3C 24.4.1, Table 24-2). */
#define VMCS_AR_CODE_ACCESSED 0x9Bu /* present, S, execute/read, accessed */
#define VMCS_AR_DATA_ACCESSED 0x93u /* present, S, read/write, accessed */
#define VMCS_AR_LDT           0x82u /* present, LDT */
#define VMCS_AR_TSS_BUSY      0x8Bu /* present, 32-bit busy TSS (26.3.1.2) */

struct vmcs_segment_state {
	uint16_t selector;
	uint64_t base;
	uint32_t limit, ar;
};

struct vmcs_init_state {
	uint64_t rip, rflags, rdx;
	uint64_t cr0, cr0_shadow, cr3, cr4, cr4_shadow, dr7, efer;
	struct vmcs_segment_state cs, data, ldtr, tr; /* data: SS, DS, ES, FS, GS */
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
};

/* The state after INIT (SDM Vol. 3A 9.1.1, Table 9-1): cr0_now is the guest's CR0 as it
 * sees it (CD and NW survive INIT), cpu_signature CPUID.1:EAX (EDX after INIT). The real
 * CR0/CR4 keep the bits VMX fixes, except PE and PG under unrestricted guest. */
void vmcs_init_state(struct vmcs_init_state *s, uint64_t cr0_now, uint32_t cpu_signature,
		     const struct vmx_caps *caps);
/* Writes s into the current VMCS, leaves IA-32e mode and enters wait-for-SIPI. */
void vmcs_write_init_state(const struct vmcs_init_state *s);
/* A SIPI with `vector`: real mode at vector << 12, active. */
void vmcs_write_sipi_state(uint8_t vector);

#endif
