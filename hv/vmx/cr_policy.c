/* SPDX-License-Identifier: MIT */
/* The CR0/CR4 ownership table (vmx/cr_policy.h). */
#include "vmx/cr_policy.h"

#include "core/monitor.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/vmcs.h"

static const struct cr_rule rules[] = {
	{0, 0, CR_RULE_VMX_FIXED,
	 "the bits VMX operation fixes (IA32_VMX_CR0_FIXED0/1), NE among them; PE and PG stay "
	 "the guest's (unrestricted guest, SDM 26.3.1.1)"},
	{4, 0, CR_RULE_VMX_FIXED,
	 "the bits VMX operation fixes (IA32_VMX_CR4_FIXED0/1): VMXE, which the guest sees clear "
	 "(it has no VMX)"},
	{0, X86_CR0_WP, CR_RULE_PINNABLE,
	 "write protection: with it clear, kernel code writes read-only pages (text, rodata)"},
	{4, X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_UMIP, CR_RULE_PINNABLE,
	 "SMEP, SMAP and UMIP: the kernel running or reading user pages, user mode reading "
	 "descriptor tables"},
};
#define NR_RULES (sizeof(rules) / sizeof(rules[0]))

/* Written under the exit lock; generation counts pin changes (vCPUs compare theirs). */
static uint64_t pinned[2];
static uint32_t generation;

static unsigned int slot(unsigned int cr)
{
	return cr == 4 ? 1u : 0u;
}

static uint64_t vmx_fixed(unsigned int cr)
{
	const struct vmx_caps *c = &machine.caps;
	if (cr == 0)
		return (c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) |
		       (~c->cr0_fixed1 & 0xFFFFFFFFull);
	return c->cr4_fixed0 | (~c->cr4_fixed1 & 0xFFFFFFFFull);
}

uint64_t cr_policy_mask(unsigned int cr)
{
	return (vmx_fixed(cr) | pinned[slot(cr)]) & 0xFFFFFFFFull;
}

static uint64_t pinnable(unsigned int cr)
{
	uint64_t bits = 0;
	for (unsigned int i = 0; i < NR_RULES; i++)
		if (rules[i].cr == cr && rules[i].kind == CR_RULE_PINNABLE)
			bits |= rules[i].bits;
	return bits;
}

bool cr_policy_pin(unsigned int cr, uint64_t bits)
{
	if ((cr != 0 && cr != 4) || bits == 0 || (bits & ~pinnable(cr)))
		return false;
	pinned[slot(cr)] |= bits;
	__atomic_add_fetch(&generation, 1u, __ATOMIC_SEQ_CST);
	return true;
}

uint64_t cr_policy_pinned(unsigned int cr)
{
	return (cr == 0 || cr == 4) ? pinned[slot(cr)] : 0;
}

bool cr_policy_refuses(unsigned int cr, uint64_t new_value, uint64_t cr0)
{
	uint64_t p = cr_policy_pinned(cr);
	return (cr0 & X86_CR0_PG) && (new_value & p) != p;
}

/* With paging on, a pinned bit is set in the guest's register (set here if the vCPU had
 * cleared it since the pin), and the read shadow says what the register holds. */
static void load_one(unsigned int cr)
{
	bool is0 = cr == 0;
	uint64_t p = pinned[slot(cr)];
	uint64_t real = vmread(is0 ? GUEST_CR0 : GUEST_CR4);
	if ((vmread(GUEST_CR0) & X86_CR0_PG) && (real & p) != p) {
		real |= p;
		vmwrite(is0 ? GUEST_CR0 : GUEST_CR4, real);
	}
	uint64_t shadow = vmread(is0 ? CR0_READ_SHADOW : CR4_READ_SHADOW);
	vmwrite(is0 ? CR0_READ_SHADOW : CR4_READ_SHADOW, (shadow & ~p) | (real & p));
	vmwrite(is0 ? CR0_GUEST_HOST_MASK : CR4_GUEST_HOST_MASK, cr_policy_mask(cr));
}

void cr_policy_load(struct vcpu *v)
{
	v->cr_policy_generation = __atomic_load_n(&generation, __ATOMIC_SEQ_CST);
	load_one(0);
	load_one(4);
}

void cr_policy_load_if_stale(struct vcpu *v)
{
	if (v->cr_policy_generation != __atomic_load_n(&generation, __ATOMIC_SEQ_CST))
		cr_policy_load(v);
}
