/* SPDX-License-Identifier: MIT */
/* The list of exit hooks (vmx/exit_hooks.h). */
#include "vmx/exit_hooks.h"

static const struct exit_hooks *hooks[EXIT_HOOKS_MAX];
static unsigned int nr_hooks;

bool exit_hooks_register(const struct exit_hooks *h)
{
	if (nr_hooks >= EXIT_HOOKS_MAX)
		return false;
	hooks[nr_hooks++] = h;
	return true;
}

bool exit_hooks_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	for (unsigned int i = 0; i < nr_hooks; i++)
		if (hooks[i]->ept_violation && hooks[i]->ept_violation(v, gpa, qualification))
			return true;
	return false;
}

bool exit_hooks_vmcall(struct vcpu *v)
{
	for (unsigned int i = 0; i < nr_hooks; i++)
		if (hooks[i]->vmcall && hooks[i]->vmcall(v))
			return true;
	return false;
}

enum exit_hook_verdict exit_hooks_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	for (unsigned int i = 0; i < nr_hooks; i++) {
		if (!hooks[i]->msr_write)
			continue;
		enum exit_hook_verdict d = hooks[i]->msr_write(v, msr, value);
		if (d != EXIT_HOOK_PASS)
			return d;
	}
	return EXIT_HOOK_PASS;
}

enum exit_hook_verdict exit_hooks_cr_write(struct vcpu *v, unsigned int cr, uint64_t old_value,
					   uint64_t new_value)
{
	for (unsigned int i = 0; i < nr_hooks; i++) {
		if (!hooks[i]->cr_write)
			continue;
		enum exit_hook_verdict d = hooks[i]->cr_write(v, cr, old_value, new_value);
		if (d != EXIT_HOOK_PASS)
			return d;
	}
	return EXIT_HOOK_PASS;
}

void exit_hooks_tick(struct vcpu *v)
{
	for (unsigned int i = 0; i < nr_hooks; i++)
		if (hooks[i]->tick)
			hooks[i]->tick(v);
}

bool exit_hooks_mtf(struct vcpu *v)
{
	for (unsigned int i = 0; i < nr_hooks; i++)
		if (hooks[i]->mtf && hooks[i]->mtf(v))
			return true;
	return false;
}
