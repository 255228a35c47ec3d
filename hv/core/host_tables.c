/* SPDX-License-Identifier: MIT */
#include "core/host_tables.h"

#include "core/cpus.h"

#include "core/log.h"
#include "core/vcpu.h"
#include "lib/string.h"
#include "mm/palloc.h"
#include "x86/paging.h"
#include "x86/cpu.h"
#include "x86/cr.h"

extern const uint64_t host_exception_stubs[32];

int host_tables_init(struct host_tables *t)
{
	uint8_t *ist_stack = palloc_pages(HOST_IST_STACK_PAGES);
	if (ist_stack == NULL)
		return -1;
	t->ist_stack_top = (uint64_t)(uintptr_t)(ist_stack + HOST_IST_STACK_PAGES * PAGE_SIZE_4K);

	/* SDM Vol. 3A 3.4.5 "Segment Descriptors", 5.2.1 "Code-Segment Descriptor in 64-bit
	 * Mode": 0x08 = 64-bit code (L=1, P=1, S=1, type=0xA), 0x10 = data (type=2). */
	t->gdt[0] = 0;
	t->gdt[1] = 0x00AF9A000000FFFFull;
	t->gdt[2] = 0x00CF92000000FFFFull;

	/* 7.2.3 "TSS Descriptor in 64-bit mode": 16 bytes, type 9 (available 64-bit TSS). */
	memset(&t->tss, 0, sizeof(t->tss));
	t->tss.ist[0] = t->ist_stack_top;
	t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */
	uint64_t base = (uint64_t)(uintptr_t)&t->tss;
	uint64_t limit = sizeof(t->tss) - 1;
	t->gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		    (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	t->gdt[4] = base >> 32;

	/* Interrupt gates (type 0xE, P=1, DPL 0). #NMI, #DF and #MC run on IST1, so a
	 * corrupt host stack still reaches the report. */
	for (unsigned int v = 0; v < X86_IDT_HOST_VECTORS; v++) {
		uint64_t off = host_exception_stubs[v];
		struct idt_gate64 *g = &t->idt[v];
		g->offset_low = (uint16_t)off;
		g->selector = HOST_CS_SELECTOR_VALUE;
		g->ist = (v == X86_VECTOR_NMI || v == X86_VECTOR_DF || v == X86_VECTOR_MC) ? 1 : 0;
		g->type_attr = 0x8E;
		g->offset_mid = (uint16_t)(off >> 16);
		g->offset_high = (uint32_t)(off >> 32);
		g->reserved = 0;
	}
	return 0;
}

/* Called from idt_entry.asm for every exception taken in VMX root operation. */
void host_exception(struct host_exception_frame *f)
{
	if (f->vector == X86_VECTOR_NMI) {
		/* An NMI taken in VMX root operation belongs to the guest: queue it; the
		 * exit path injects it (SDM 24.8.3 "VM-Entry Controls for Event Injection"). */
		/* One NMI can be in service and one pending, as on hardware. */
		struct vcpu *v = this_vcpu();
		if (!vcpu_nmi_is_kick(v))
			vcpu_queue_guest_nmi(v);
		return;
	}
	log_printf("\r\nctrvisor: FATAL: monitor exception on CPU %u: %llu error=0x%llx at "
		   "rip=0x%llx cs=0x%llx "
		   "rflags=0x%llx rsp=0x%llx cr2=0x%llx\r\n",
		   this_vcpu()->id, (unsigned long long)f->vector,
		   (unsigned long long)f->error_code, (unsigned long long)f->rip,
		   (unsigned long long)f->cs, (unsigned long long)f->rflags,
		   (unsigned long long)f->rsp, (unsigned long long)read_cr2());
	log_printf("ctrvisor: rax=%llx rbx=%llx rcx=%llx rdx=%llx rsi=%llx rdi=%llx rbp=%llx\r\n",
		   (unsigned long long)f->rax, (unsigned long long)f->rbx,
		   (unsigned long long)f->rcx, (unsigned long long)f->rdx,
		   (unsigned long long)f->rsi, (unsigned long long)f->rdi,
		   (unsigned long long)f->rbp);
	log_halt("monitor exception");
}
