/* SPDX-License-Identifier: MIT */
/*
 * The VM exits other subsystems act on (the syscall-entry trap, the injection engine, kernel
 * protection, ...) reach them through this list, not by name: hv/vmx/ knows the hardware,
 * a subsystem registers what it wants to see.
 *
 * Owner: registration happens at start, on the boot CPU, before any vCPU is launched
 * (core/entry.c); afterwards the list is only read, under the exit lock. Hooks run in
 * registration order; the first that claims an exit ends the walk.
 */
#ifndef HV_VMX_EXIT_HOOKS_H
#define HV_VMX_EXIT_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/vcpu.h"

#define EXIT_HOOKS_MAX 4u

/* What a hook decided about a guest write it saw. */
enum exit_hook_verdict {
	EXIT_HOOK_PASS,    /* not mine, or allowed: the next hook, then the default handling */
	EXIT_HOOK_HANDLED, /* done by the hook (the write emulated): the instruction completes */
	EXIT_HOOK_REFUSE,  /* refused: the guest gets #GP(0), as for a value the CPU rejects */
};

struct exit_hooks {
	const char *name;
	/* Each may be NULL. */
	/* An EPT violation at gpa (SDM 28.2.3.2 qualification): true if it was the hook's
	 * and is resolved (the access is retried). */
	bool (*ept_violation)(struct vcpu *v, uint64_t gpa, uint64_t qualification);
	/* A VMCALL (SDM 25.1.2: it always exits): true if it was the hook's. */
	bool (*vmcall)(struct vcpu *v);
	/* A WRMSR of an intercepted MSR (msr_policy.c, msr_policy_intercept), before its
	 * policy entry's handler. */
	enum exit_hook_verdict (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t value);
	/* A MOV to CR0 or CR4 (or LMSW) that exits (cr_policy.c says which bits do): the
	 * value the guest would see, and what it saw before. */
	enum exit_hook_verdict (*cr_write)(struct vcpu *v, unsigned int cr, uint64_t old_value,
					   uint64_t new_value);
	/* Every exit of the console CPU (vCPU 0), after the exit's handler: timeouts and work
	 * that waits for guest time to pass. */
	void (*tick)(struct vcpu *v);
	/* A monitor-trap-flag exit (SDM Vol. 3C 26.5.2: after one guest instruction, when the
	 * hook set the control to step one): true if it was the hook's step. */
	bool (*mtf)(struct vcpu *v);
};

/* Adds h (not copied: static storage) to the list; false when the list is full. */
bool exit_hooks_register(const struct exit_hooks *h);

/* Used by the exit handlers. */
bool exit_hooks_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification);
bool exit_hooks_vmcall(struct vcpu *v);
enum exit_hook_verdict exit_hooks_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
enum exit_hook_verdict exit_hooks_cr_write(struct vcpu *v, unsigned int cr, uint64_t old_value,
					   uint64_t new_value);
void exit_hooks_tick(struct vcpu *v);
bool exit_hooks_mtf(struct vcpu *v);

#endif
