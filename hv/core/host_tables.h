/* SPDX-License-Identifier: MIT */
/* The monitor's GDT, TSS and IDT, used in VMX root operation only (host state of the
 * VMCS). The firmware's tables stay the guest's. */
#ifndef HV_CORE_HOST_TABLES_H
#define HV_CORE_HOST_TABLES_H

#include <stdint.h>

#define HOST_CS_SELECTOR_VALUE 0x08u
#define HOST_DS_SELECTOR_VALUE 0x10u
#define HOST_TR_SELECTOR_VALUE 0x18u

struct host_tables {
	uint64_t gdt_base;
	uint64_t idt_base;
	uint64_t tss_base;
};

void host_tables_init(struct host_tables *out);

/* What idt_entry.asm pushes, lowest address first. */
struct host_exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the processor (SDM 6.14.2) */
};

#endif
