/* SPDX-License-Identifier: MIT */
#include "core/host_tables.h"

#include "core/log.h"
#include "core/vcpu.h"
#include "lib/string.h"
#include "x86/cpu.h"
#include "x86/cr.h"

#define IST_STACK_SIZE 8192u

/* SDM Vol. 3A 7.7 "Task Management in 64-bit Mode", Figure 7-11: the 64-bit TSS. */
struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

/* SDM Vol. 3A 6.14.1 "64-Bit Mode IDT", Figure 6-7 */
struct __attribute__((packed)) idt_gate64 {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct idt_gate64 idt[32] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));

extern const uint64_t host_exception_stubs[32];

void host_tables_init(struct host_tables *out)
{
	/* SDM Vol. 3A 3.4.5 "Segment Descriptors", 5.2.1 "Code-Segment Descriptor in 64-bit
	 * Mode": 0x08 = 64-bit code (L=1, P=1, S=1, type=0xA), 0x10 = data (type=2). */
	gdt[0] = 0;
	gdt[1] = 0x00AF9A000000FFFFull;
	gdt[2] = 0x00CF92000000FFFFull;

	/* 7.2.3 "TSS Descriptor in 64-bit mode": 16 bytes, type 9 (available 64-bit TSS). */
	memset(&tss, 0, sizeof(tss));
	tss.ist[0] = (uint64_t)(uintptr_t)(ist_stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[4] = base >> 32;

	/* Interrupt gates (type 0xE, P=1, DPL 0). #NMI, #DF and #MC run on IST1, so a
	 * corrupt host stack still reaches the report. */
	for (unsigned int v = 0; v < 32; v++) {
		uint64_t off = host_exception_stubs[v];
		idt[v].offset_low = (uint16_t)off;
		idt[v].selector = HOST_CS_SELECTOR_VALUE;
		idt[v].ist =
			(v == X86_VECTOR_NMI || v == X86_VECTOR_DF || v == X86_VECTOR_MC) ? 1 : 0;
		idt[v].type_attr = 0x8E;
		idt[v].offset_mid = (uint16_t)(off >> 16);
		idt[v].offset_high = (uint32_t)(off >> 32);
		idt[v].reserved = 0;
	}

	out->gdt_base = (uint64_t)(uintptr_t)gdt;
	out->idt_base = (uint64_t)(uintptr_t)idt;
	out->tss_base = base;
}

/* Called from idt_entry.asm for every exception taken in VMX root operation. */
void host_exception(struct host_exception_frame *f)
{
	if (f->vector == X86_VECTOR_NMI) {
		/* An NMI taken in VMX root operation belongs to the guest: queue it; the
		 * exit path injects it (SDM 24.8.3 "VM-Entry Controls for Event Injection"). */
		/* One NMI can be in service and one pending, as on hardware. */
		if (this_vcpu()->nmi_pending < 2)
			this_vcpu()->nmi_pending++;
		return;
	}
	log_printf("\r\nFATAL: monitor exception %llu error=0x%llx at rip=0x%llx cs=0x%llx "
		   "rflags=0x%llx rsp=0x%llx cr2=0x%llx\r\n",
		   (unsigned long long)f->vector, (unsigned long long)f->error_code,
		   (unsigned long long)f->rip, (unsigned long long)f->cs,
		   (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		   (unsigned long long)read_cr2());
	log_printf("rax=%llx rbx=%llx rcx=%llx rdx=%llx rsi=%llx rdi=%llx rbp=%llx\r\n",
		   (unsigned long long)f->rax, (unsigned long long)f->rbx,
		   (unsigned long long)f->rcx, (unsigned long long)f->rdx,
		   (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		   (unsigned long long)f->rbp);
	log_halt("monitor exception");
}
