/* SPDX-License-Identifier: MIT */
/*
 * RDMSR/WRMSR exits (SDM Vol. 3C 25.1.3): an MSR the policy table intercepts (msr_policy.c)
 * goes to the exit hooks (vmx/exit_hooks.h) when written, then to its handler; an MSR outside the
 * bitmap's ranges, or one the table refuses, gets what a CPU without such an MSR gives: #GP(0).
 * Linux's "safe" MSR accessors expect exactly that (DESIGN §8). ECX holds the MSR, EDX:EAX the
 * value (SDM Vol. 2B RDMSR, WRMSR).
 */
#include "vmx/exit_handlers.h"
#include "vmx/exit_hooks.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"

void handle_rdmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs->rcx;
	const struct msr_policy *p = msr_policy_find(msr);
	uint64_t value = 0;
	if (p == 0 || p->read == 0 || p->read(v, msr, &value) != MSR_DONE) {
		vmx_inject_gp0(v);
		return;
	}
	v->regs->rax = (uint32_t)value;
	v->regs->rdx = value >> 32;
	vmx_advance_rip(v);
}

void handle_wrmsr(struct vcpu *v)
{
	uint32_t msr = (uint32_t)v->regs->rcx;
	const struct msr_policy *p = msr_policy_find(msr);
	uint64_t value = ((v->regs->rdx & 0xFFFFFFFFull) << 32) | (v->regs->rax & 0xFFFFFFFFull);
	enum exit_hook_verdict d = exit_hooks_msr_write(v, msr, value);
	if (d == EXIT_HOOK_REFUSE) {
		vmx_inject_gp0(v);
		return;
	}
	if (d == EXIT_HOOK_PASS &&
	    (p == 0 || p->write == 0 || p->write(v, msr, value) != MSR_DONE)) {
		vmx_inject_gp0(v);
		return;
	}
	vmx_advance_rip(v);
}
