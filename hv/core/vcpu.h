/* SPDX-License-Identifier: MIT */
/* Per-virtual-CPU state of the monitor. One vCPU today (the boot CPU); SMP adds more. */
#ifndef HV_CORE_VCPU_H
#define HV_CORE_VCPU_H

#include <stdbool.h>
#include <stdint.h>

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
	uint32_t id;
	uint16_t vpid;
	uint64_t vmxon_pa;
	uint64_t vmcs_pa;
	uint64_t host_stack_top;
	uint64_t launch_tsc;

	/* The exit being handled */
	struct guest_regs *regs;
	uint32_t exit_reason;
	uint64_t exit_qualification;
	bool event_injected; /* a handler queued an event: do not re-inject IDT-vectoring info */

	/* NMIs that arrived in VMX root operation or exited, waiting to go to the guest */
	uint32_t nmi_pending;

	/* Statistics for the console */
	uint64_t exits_total;
	uint64_t exits_by_reason[EXIT_REASON_MAX];
	uint64_t exits_unknown_reason;

	/* Set when the guest can no longer run (triple fault, unexpected exit): the vCPU
	 * then only serves the console. */
	bool guest_stopped;
	char stop_reason[160];
};

struct vcpu *this_vcpu(void);

#endif
