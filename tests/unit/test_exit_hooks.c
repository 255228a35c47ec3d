/* hv/vmx/exit_hooks.c through the real exit handlers (exit_msr.c, exit_cr.c) over a fake
 * VMCS (fake_vmcs.c): what a subsystem outside hv/vmx/ (kernel protection, the entry trap)
 * relies on when it registers for guest writes of MSRs and control registers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/monitor.h"
#include "fake_vmcs.h"
#include "fake_vmx.h"
#include "guest_msr.h"
#include "vmx/exit_handlers.h"
#include "vmx/cr_policy.h"
#include "vmx/exit_hooks.h"
#include "x86/cr.h"
#include "x86/msr.h"
#include "x86/vmcs.h"

/* What the hooks saw, and what the first one answers. */
static struct {
	int msr_calls, cr_calls, second_calls;
	uint32_t msr;
	uint64_t value, old_cr, new_cr;
	unsigned int cr;
	enum exit_hook_verdict answer;
} seen;

static enum exit_hook_verdict first_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v;
	seen.msr_calls++;
	seen.msr = msr;
	seen.value = value;
	return seen.answer;
}

static enum exit_hook_verdict first_cr(struct vcpu *v, unsigned int cr, uint64_t old_value,
				       uint64_t new_value)
{
	(void)v;
	seen.cr_calls++;
	seen.cr = cr;
	seen.old_cr = old_value;
	seen.new_cr = new_value;
	/* A pin: CR0.WP may not be cleared (what kernel protection will register). */
	if (cr == 0 && (old_value & X86_CR0_WP) && !(new_value & X86_CR0_WP))
		return EXIT_HOOK_REFUSE;
	return seen.answer;
}

static enum exit_hook_verdict second_msr(struct vcpu *v, uint32_t msr, uint64_t value)
{
	(void)v;
	(void)msr;
	(void)value;
	seen.second_calls++;
	return EXIT_HOOK_PASS;
}

static const struct exit_hooks first = {
	.name = "first", .msr_write = first_msr, .cr_write = first_cr};
static const struct exit_hooks second = {.name = "second", .msr_write = second_msr};

static int group_setup(void **state)
{
	(void)state;
	/* Registered once, as at start; the list is then only read. */
	if (!exit_hooks_register(&first) || !exit_hooks_register(&second))
		return -1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	guest_vcpu_reset();
	memset(&seen, 0, sizeof(seen));
	fake_tsc = 1000000000ull;
	/* A 64-bit guest with paging: CR0 PE|PG|WP|NE, CR4 PAE; VMX fixes NE (CR0) and VMXE
	 * (CR4), and every other bit is free (FIXED1 all ones). */
	machine.caps.cr0_fixed0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG;
	machine.caps.cr0_fixed1 = 0xFFFFFFFFull;
	machine.caps.cr4_fixed0 = X86_CR4_VMXE;
	machine.caps.cr4_fixed1 = 0xFFFFFFFFull;
	uint64_t cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_NE;
	fake_vmcs[GUEST_CR0] = cr0;
	fake_vmcs[CR0_READ_SHADOW] = cr0;
	fake_vmcs[GUEST_CR4] = X86_CR4_PAE | X86_CR4_SMEP | X86_CR4_VMXE;
	fake_vmcs[CR4_READ_SHADOW] = X86_CR4_PAE | X86_CR4_SMEP;
	fake_vmcs[GUEST_IA32_EFER] = EFER_LME | EFER_LMA;
	cr_policy_load(&vcpu); /* as vmcs_setup() does */
	return 0;
}

/* MOV CR0 or CR4, RBX (SDM 27.2.1 Table 27-3: access type 0, register 3). */
static void guest_mov_to_cr(unsigned int cr, uint64_t value)
{
	regs.rbx = value;
	vcpu.exit_qualification = cr | (3u << 8);
	handle_cr_access(&vcpu);
}

static void test_a_refused_msr_write_is_gp_and_never_reaches_the_policy(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_REFUSE;
	guest_msr_write(&vcpu, MSR_IA32_TSC, 5);
	assert_int_equal(seen.msr_calls, 1);
	assert_int_equal(seen.msr, MSR_IA32_TSC);
	assert_int_equal(seen.value, 5);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_vmx.advances, 0);
	assert_int_equal(seen.second_calls, 0);     /* the first verdict ends the walk */
	assert_int_equal(fake_vmcs[TSC_OFFSET], 0); /* the policy's handler did not run */
}

static void test_an_msr_write_taken_by_a_hook_completes_without_the_policy(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_HANDLED;
	guest_msr_write(&vcpu, 0x12345u, 7); /* no policy entry: it would be #GP */
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmx.advances, 1);
}

static void test_an_msr_write_nobody_claims_gets_the_policy(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_PASS;
	guest_msr_write(&vcpu, MSR_IA32_TSC, fake_tsc - 100); /* rewinds: becomes an offset */
	assert_int_equal(seen.msr_calls, 1);
	assert_int_equal(seen.second_calls, 1);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmx.advances, 1);
	assert_int_equal((int64_t)fake_vmcs[TSC_OFFSET], -100);
	guest_msr_write(&vcpu, 0x12345u, 7); /* not in the table: #GP, as before */
	assert_int_equal(fake_vmx.gp, 1);
}

static void test_a_cr0_write_shows_the_hooks_the_guests_old_and_new_values(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_PASS;
	uint64_t cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_WP | X86_CR0_NE;
	guest_mov_to_cr(0, cr0 | X86_CR0_AM);
	assert_int_equal(seen.cr_calls, 1);
	assert_int_equal(seen.cr, 0);
	assert_int_equal(seen.old_cr, cr0);
	assert_int_equal(seen.new_cr, cr0 | X86_CR0_AM);
	assert_int_equal(fake_vmx.advances, 1);
	assert_int_equal(fake_vmcs[CR0_READ_SHADOW], cr0 | X86_CR0_AM);
}

static void test_clearing_a_pinned_cr0_bit_is_refused_and_changes_nothing(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_PASS;
	uint64_t before = fake_vmcs[GUEST_CR0];
	guest_mov_to_cr(0, before & ~X86_CR0_WP);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_vmx.advances, 0);
	assert_int_equal(fake_vmcs[GUEST_CR0], before);
	assert_int_equal(fake_vmcs[CR0_READ_SHADOW], before);
	/* The control: with the pin's hook answering for a bit it does not pin, the same kind
	 * of write goes through. */
	guest_mov_to_cr(0, before & ~X86_CR0_AM);
	assert_int_equal(fake_vmx.advances, 1);
}

static void test_lmsw_goes_through_the_hooks_too(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_REFUSE;
	vcpu.exit_qualification = 0u | (3u << 4) | ((uint64_t)(X86_CR0_PE | X86_CR0_MP) << 16);
	handle_cr_access(&vcpu);
	assert_int_equal(seen.cr_calls, 1);
	assert_int_equal(seen.new_cr & 0xFu, X86_CR0_PE | X86_CR0_MP);
	assert_int_equal(seen.new_cr & X86_CR0_WP, X86_CR0_WP); /* the rest of CR0 kept */
	assert_int_equal(fake_vmx.gp, 1);
}

/* ------------------------------------------------------------ the CR table */

static void test_masks_own_the_bits_vmx_fixes_and_no_others_until_pinned(void **state)
{
	(void)state;
	if (cr_policy_pinned(4) != 0)
		skip(); /* the pin test below ran first */
	assert_int_equal(fake_vmcs[CR0_GUEST_HOST_MASK], X86_CR0_NE);
	assert_int_equal(fake_vmcs[CR4_GUEST_HOST_MASK], X86_CR4_VMXE);
	assert_false(cr_policy_pin(0, X86_CR0_PG)); /* not a security bit of the table */
	assert_false(cr_policy_pin(3, 1));
	assert_false(cr_policy_pin(4, X86_CR4_SMEP | X86_CR4_PAE));
	assert_int_equal(cr_policy_pinned(4), 0);
}

static void test_a_pinned_bit_cannot_be_cleared_and_every_vcpu_reloads_the_masks(void **state)
{
	(void)state;
	seen.answer = EXIT_HOOK_PASS;
	uint64_t cr4 = X86_CR4_PAE | X86_CR4_SMEP;
	/* The control: not pinned, clearing SMEP goes through. */
	guest_mov_to_cr(4, X86_CR4_PAE);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], X86_CR4_PAE);
	guest_mov_to_cr(4, cr4);
	assert_int_equal(fake_vmx.advances, 2);

	assert_true(cr_policy_pin(4, X86_CR4_SMEP));
	/* This vCPU's VMCS is stale until its next exit reloads it. */
	assert_int_equal(fake_vmcs[CR4_GUEST_HOST_MASK], X86_CR4_VMXE);
	fake_vmcs[CR4_READ_SHADOW] = X86_CR4_PAE; /* a shadow that lags the register */
	cr_policy_load_if_stale(&vcpu);
	assert_int_equal(fake_vmcs[CR4_GUEST_HOST_MASK], X86_CR4_VMXE | X86_CR4_SMEP);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], cr4); /* the guest reads what it has */

	guest_mov_to_cr(4, X86_CR4_PAE);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(seen.cr_calls, 3); /* the hooks saw the refused write too */
	assert_int_equal(fake_vmcs[GUEST_CR4] & X86_CR4_SMEP, X86_CR4_SMEP);
	/* Other CR4 bits still change. */
	guest_mov_to_cr(4, cr4 | X86_CR4_PGE);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], cr4 | X86_CR4_PGE);
}

static void test_pins_hold_only_with_paging_on_and_a_stale_vcpu_gets_them_set(void **state)
{
	(void)state;
	if (!cr_policy_pinned(4))
		assert_true(cr_policy_pin(4, X86_CR4_SMEP));
	seen.answer = EXIT_HOOK_PASS;
	/* This vCPU cleared SMEP before its reload (an AP that was not held): its first exit
	 * sets it again. */
	vcpu.cr_policy_generation--;
	fake_vmcs[GUEST_CR4] = X86_CR4_PAE | X86_CR4_VMXE;
	fake_vmcs[CR4_READ_SHADOW] = X86_CR4_PAE;
	cr_policy_load_if_stale(&vcpu);
	assert_int_equal(fake_vmcs[GUEST_CR4] & X86_CR4_SMEP, X86_CR4_SMEP);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], X86_CR4_PAE | X86_CR4_SMEP);
	/* Paging off (INIT, real mode): the pinned bit means nothing and may be cleared. */
	fake_vmcs[GUEST_CR0] &= ~X86_CR0_PG;
	fake_vmcs[CR0_READ_SHADOW] &= ~X86_CR0_PG;
	guest_mov_to_cr(4, X86_CR4_PAE);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], X86_CR4_PAE);
}

static void test_the_list_is_bounded(void **state)
{
	(void)state;
	static const struct exit_hooks filler = {.name = "filler"};
	unsigned int added = 0;
	while (exit_hooks_register(&filler))
		added++;
	assert_int_equal(added, EXIT_HOOKS_MAX - 2u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_a_refused_msr_write_is_gp_and_never_reaches_the_policy,
				       setup),
		cmocka_unit_test_setup(
			test_an_msr_write_taken_by_a_hook_completes_without_the_policy, setup),
		cmocka_unit_test_setup(test_an_msr_write_nobody_claims_gets_the_policy, setup),
		cmocka_unit_test_setup(
			test_a_cr0_write_shows_the_hooks_the_guests_old_and_new_values, setup),
		cmocka_unit_test_setup(
			test_clearing_a_pinned_cr0_bit_is_refused_and_changes_nothing, setup),
		cmocka_unit_test_setup(test_lmsw_goes_through_the_hooks_too, setup),
		cmocka_unit_test_setup(test_masks_own_the_bits_vmx_fixes_and_no_others_until_pinned,
				       setup),
		cmocka_unit_test_setup(
			test_a_pinned_bit_cannot_be_cleared_and_every_vcpu_reloads_the_masks,
			setup),
		cmocka_unit_test_setup(
			test_pins_hold_only_with_paging_on_and_a_stale_vcpu_gets_them_set, setup),
		cmocka_unit_test_setup(test_the_list_is_bounded, setup),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
