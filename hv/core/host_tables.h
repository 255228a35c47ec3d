/* SPDX-License-Identifier: MIT */
/* The monitor's GDT, TSS and IDT, used in VMX root operation only (host state of the
 * VMCS). Each CPU has its own (they live in its struct vcpu): a TSS names its CPU's IST
 * stack, and the GDT its TSS. The firmware's tables stay the guest's. */
#ifndef HV_CORE_HOST_TABLES_H
#define HV_CORE_HOST_TABLES_H

#include <stdint.h>

#include "x86/desc.h"

#define HOST_CS_SELECTOR_VALUE 0x08u
#define HOST_DS_SELECTOR_VALUE 0x10u
#define HOST_TR_SELECTOR_VALUE 0x18u

#define HOST_IST_STACK_PAGES 2u

struct host_tables {
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct idt_gate64 idt[X86_IDT_HOST_VECTORS] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
	uint64_t ist_stack_top; /* IST1: #NMI, #DF, #MC */
};

/* Fills t in place (it must stay where it is: the GDT holds the TSS's address); the
 * IST stack comes from the page allocator. Returns 0, or -1 when out of memory. */
int host_tables_init(struct host_tables *t);

/* What idt_entry.asm pushes, lowest address first. */
struct host_exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the processor (SDM 6.14.2) */
};

#endif
