/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state of the monitor: one struct vcpu per physical CPU, each running one vCPU
 * of the guest. Everything VMX needs per logical processor is here or reached from here:
 * its VMXON region and VMCS (SDM Vol. 3C 24.11.5, 24.2: one current VMCS per logical
 * processor), host stack, GDT/TSS/IST stack/IDT (host_tables.h) and VPID.
 *
 * The CPU finds its own: in VMX root operation GS base is HOST_GS_BASE (SDM Vol. 3C
 * 28.5.2, loaded at every VM exit), which holds the address of this structure, whose
 * first member points to itself; this_vcpu() reads %gs:0. No file-level static stands
 * for "the current CPU". Only the CPU itself writes its struct vcpu, with two exceptions:
 * other CPUs post requests and kicks (core/cpus.h, atomics), and read its counters for
 * `status` (torn reads of a counter are harmless).
 */
#ifndef HV_CORE_VCPU_H
#define HV_CORE_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "core/host_tables.h"
#include "x86/exit_reason.h"

/* The guest's general-purpose registers as vmx_entry.asm saves them at a VM exit, in the
 * order of the SDM's register numbers (Table 27-3: 0 = RAX ... 15 = R15), so a number from
 * an exit qualification indexes `gpr` directly. The RSP slot is unused: the guest's RSP
 * lives in the VMCS (GUEST_RSP). */
struct guest_regs {
	union {
		uint64_t gpr[16];
		struct {
			uint64_t rax, rcx, rdx, rbx, rsp_slot, rbp, rsi, rdi;
			uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
		};
	};
};
_Static_assert(sizeof(struct guest_regs) == 128, "vmx_entry.asm pushes 16 registers");

#define GPR_RSP 4u

struct vcpu {
	struct vcpu *self; /* first: what %gs:0 reads in VMX root operation */
	uint32_t id;       /* 0: the boot CPU; index in vm.vcpu[] */
	uint16_t vpid;     /* id + 1: VPID 0 is the host's (SDM Vol. 3C 24.6.12) */
	uint64_t vmxon_pa;
	uint64_t vmcs_pa;
	uint64_t host_stack_top;
	uint64_t cr4_before_vmxon; /* put back by vmx_disable() */
	struct host_tables host;   /* this CPU's own GDT, TSS, IDT */

	/* The exit being handled */
	struct guest_regs *regs;
	uint32_t exit_reason;
	uint32_t cr_policy_generation; /* of the CR masks in this vCPU's VMCS (vmx/cr_policy.h) */
	/* the system-call entry MSRs as pinned on this vCPU (vmx/entry_msr.c) */
#define ENTRY_MSR_COUNT 7u
	bool entry_msr_pinned;
	uint32_t entry_msr_generation; /* the pin request it last followed */
	uint64_t entry_msr_pin[ENTRY_MSR_COUNT];
	uint64_t entry_msr_refused; /* writes of another value, refused */
	uint64_t exit_qualification;
	bool event_injected; /* a handler queued an event: do not re-inject IDT-vectoring info */

	/* NMIs that arrived in VMX root operation or exited, waiting to go to the guest;
	 * changed by the exit path and by the host NMI handler: atomics only */
	uint32_t nmi_pending;

	/* Requests from other CPUs (core/cpus.h). The only fields other CPUs write, with
	 * atomic operations only. */
	uint32_t in_guest;      /* 1 from the entry gate to the next exit */
	uint32_t wait_for_sipi; /* entered in wait-for-SIPI: runs no guest code */
	uint32_t requests;      /* VCPU_REQ_* */
	/* GDTR and IDTR to load (VCPU_REQ_LOAD_DTR): written by the CPU holding this one */
	struct {
		uint64_t gdtr_base, idtr_base;
		uint32_t gdtr_limit, idtr_limit;
	} load_dtr;
	uint64_t kicks_sent;  /* NMIs other CPUs sent to make this one exit */
	uint64_t kicks_taken; /* NMIs taken as those kicks; every other NMI is the guest's */
	uint8_t xapic_id;     /* initial APIC ID (CPUID.1:EBX[31:24]) */
	uint32_t x2apic_id;   /* x2APIC ID (CPUID.0BH:EDX) */

	/* The guest's TSC (vmx/tsc.c): its TSC_OFFSET and IA32_TSC_ADJUST */
	uint64_t tsc_offset, tsc_adjust;
	bool tsc_deadline_intercepted;

	/* The guest's registers at this vCPU's last exit that say what it runs, for `ps` on
	 * the console CPU (which cannot VMREAD this CPU's VMCS): written first at each exit,
	 * before in_guest drops; read by others only while they hold this CPU. */
	struct {
		uint64_t cr3, cr4, gs_base, kernel_gs_base, ss_ar_bytes;
		uint64_t cr0, idtr_base, idtr_limit; /* what kernel protection checks */
		uint64_t gdtr_base, gdtr_limit;
		bool valid;
	} guest_snapshot;

	/* INIT and SIPI (vmx/exit_init_sipi.c) */
	bool sipi_started;   /* entered at the SIPI's page, no other exit since */
	uint8_t sipi_vector; /* of the last SIPI */
	uint64_t sipi_tsc;   /* when it came */
	uint64_t inits, sipis, init_echoes_ignored;

	/* Statistics for the console */
	uint64_t exits_total;
	uint64_t exits_by_reason[EXIT_REASON_MAX];
	uint64_t exits_unknown_reason;
	/* The monitor's work in exits: TSC ticks from taking the exit lock to letting it go
	 * (waits for the lock or for a hold not counted), by basic reason, and the longest. */
	uint64_t exit_work_tsc;
	uint64_t exit_work_tsc_by_reason[EXIT_REASON_MAX];
	uint64_t exit_work_tsc_max;
	uint32_t exit_work_max_reason;

	/* Set when the guest can no longer run (triple fault, unexpected exit): the vCPU
	 * then only serves the console. */
	bool guest_stopped;
	char stop_reason[160];
};

/* The struct vcpu of the CPU that runs this code, in VMX root operation. */
static inline struct vcpu *this_vcpu(void)
{
	struct vcpu *v;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

/* A struct vcpu (zeroed by the allocator) for CPU `id`, self-pointing, with its host tables built;
 * NULL when out of memory (core/vcpu.c). */
struct vcpu *vcpu_alloc(uint32_t id);

#endif
