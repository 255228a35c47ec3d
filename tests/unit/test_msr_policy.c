/* hv/vmx/msr_policy.c, tsc.c and exit_msr.c over a fake VMCS, MSRs and TSC (fake_vmcs.c).
 * The attack: a guest kernel rewinds the TSC (WRMSR IA32_TSC or IA32_TSC_ADJUST) so that
 * the monitor's deadlines, read with RDTSC in VMX root operation, never come. Contained:
 * the write becomes this vCPU's TSC_OFFSET; the processor's TSC is never written. */
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
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"
#include "x86/msr.h"
#include "x86/vmcs.h"

static int setup(void **state)
{
	(void)state;
	guest_vcpu_reset();
	fake_tsc = 1000000000ull;
	machine.tsc_deadline = true;
	return 0;
}

static bool bit(uint32_t msr, bool write)
{
	uint32_t base = write ? 2048u : 0u;
	if (msr >= 0xC0000000u) {
		base += 1024u;
		msr -= 0xC0000000u;
	}
	return (bitmap[base + msr / 8u] >> (msr % 8u)) & 1u;
}

static void guest_wrmsr(uint32_t msr, uint64_t value)
{
	guest_msr_write(&vcpu, msr, value);
}

static uint64_t guest_rdmsr(uint32_t msr)
{
	return guest_msr_read(&vcpu, msr);
}

static void test_bitmap_intercepts_what_the_table_names_and_nothing_else(void **state)
{
	(void)state;
	msr_policy_fill_bitmap(bitmap);
	assert_true(bit(MSR_IA32_TSC, true));
	assert_false(bit(MSR_IA32_TSC, false)); /* reads give TSC + offset by themselves */
	assert_true(bit(MSR_IA32_TSC_ADJUST, true));
	assert_true(bit(MSR_IA32_TSC_ADJUST, false));
	assert_true(bit(MSR_IA32_VMX_BASIC, false));
	assert_true(bit(0x491u, false));
	assert_true(bit(MSR_IA32_RTIT_FIRST, true));
	assert_false(bit(MSR_IA32_TSC_DEADLINE, true)); /* only once an offset exists */
	assert_false(bit(MSR_EFER, true));
	assert_true(bit(MSR_IA32_APIC_BASE, true));
	assert_false(bit(MSR_IA32_APIC_BASE, false));
	assert_true(bit(MSR_IA32_MISC_ENABLE, true));
	assert_false(bit(MSR_IA32_SYSENTER_CS, false));
}

static void test_a_guest_tsc_write_moves_only_its_offset(void **state)
{
	(void)state;
	guest_wrmsr(MSR_IA32_TSC, 5); /* the attack: rewind the clock to almost 0 */
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmx.advances, 1);
	assert_int_equal(fake_msr_writes(MSR_IA32_TSC), 0); /* the processor's TSC untouched */
	/* The guest now reads 5 (+ elapsed): processor TSC + offset. */
	assert_int_equal(fake_tsc + fake_vmcs[TSC_OFFSET], 5);
	fake_tsc += 700;
	assert_int_equal(fake_tsc + fake_vmcs[TSC_OFFSET], 705);
	assert_int_equal(vcpu.tsc_offset, fake_vmcs[TSC_OFFSET]);
	/* SDM 18.17.3: the write shows in TSC_ADJUST by the same difference */
	assert_int_equal(guest_rdmsr(MSR_IA32_TSC_ADJUST), fake_vmcs[TSC_OFFSET]);
}

static void test_tsc_adjust_is_virtual_and_moves_the_offset_by_the_difference(void **state)
{
	(void)state;
	guest_wrmsr(MSR_IA32_TSC_ADJUST, (uint64_t)-1000000);
	assert_int_equal(fake_msr_writes(MSR_IA32_TSC_ADJUST), 0);
	assert_int_equal((int64_t)fake_vmcs[TSC_OFFSET], -1000000);
	assert_int_equal(guest_rdmsr(MSR_IA32_TSC_ADJUST), (uint64_t)-1000000);
	guest_wrmsr(MSR_IA32_TSC_ADJUST, 0); /* back: the offset follows */
	assert_int_equal(fake_vmcs[TSC_OFFSET], 0);
	assert_int_equal(fake_vmx.gp, 0);
}

static void test_once_shifted_the_deadline_timer_is_shifted_back(void **state)
{
	(void)state;
	guest_wrmsr(MSR_IA32_TSC, fake_tsc - 400000); /* guest time 400000 behind */
	assert_true(bit(MSR_IA32_TSC_DEADLINE, true));
	assert_true(bit(MSR_IA32_TSC_DEADLINE, false));
	uint64_t guest_now = fake_tsc + fake_vmcs[TSC_OFFSET];
	guest_wrmsr(MSR_IA32_TSC_DEADLINE, guest_now + 5000); /* fire in 5000 ticks */
	assert_int_equal(fake_msr(MSR_IA32_TSC_DEADLINE), fake_tsc + 5000);
	assert_int_equal(guest_rdmsr(MSR_IA32_TSC_DEADLINE), guest_now + 5000);
	guest_wrmsr(MSR_IA32_TSC_DEADLINE, 0); /* disarm stays a disarm */
	assert_int_equal(fake_msr(MSR_IA32_TSC_DEADLINE), 0);
	guest_wrmsr(MSR_IA32_TSC_DEADLINE, 1); /* long past: fires at once, never "0" */
	assert_int_equal(fake_msr(MSR_IA32_TSC_DEADLINE), 1);
	assert_int_equal(fake_vmx.gp, 0);
}

static void test_without_a_deadline_timer_its_msr_faults_and_is_never_touched(void **state)
{
	(void)state;
	machine.tsc_deadline = false;
	guest_wrmsr(MSR_IA32_TSC, 5); /* intercepts 0x6E0 from now on */
	guest_wrmsr(MSR_IA32_TSC_DEADLINE, 1000);
	guest_rdmsr(MSR_IA32_TSC_DEADLINE);
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_msr_writes(MSR_IA32_TSC_DEADLINE), 0);
}

static void test_vmx_capability_reads_and_pt_writes_fault(void **state)
{
	(void)state;
	guest_rdmsr(MSR_IA32_VMX_BASIC);
	guest_wrmsr(MSR_IA32_RTIT_FIRST + 0x10u, 1);
	guest_rdmsr(0x40000000u); /* outside both bitmap ranges: always exits */
	/* the PEBS attack: a DS area pointing at monitor memory is never set */
	guest_wrmsr(MSR_IA32_DS_AREA, 0x3AD62000ull);
	guest_wrmsr(MSR_IA32_PEBS_ENABLE, 1);
	assert_int_equal(fake_msr_writes(MSR_IA32_DS_AREA), 0);
	assert_int_equal(fake_vmx.gp, 5);
	assert_int_equal(fake_vmx.advances, 0);
	assert_int_equal(fake_msr_writes(MSR_IA32_RTIT_FIRST + 0x10u), 0);
}

static void test_the_apic_page_cannot_move_onto_monitor_memory(void **state)
{
	(void)state;
	uint64_t base = 0xFEE00000ull | APIC_BASE_EN | APIC_BASE_BSP;
	fake_msr_set(MSR_IA32_APIC_BASE, base);
	/* the attack: the xAPIC page onto the monitor's (APIC accesses bypass EPT) */
	guest_wrmsr(MSR_IA32_APIC_BASE, 0x3AD62000ull | APIC_BASE_EN | APIC_BASE_BSP);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_msr(MSR_IA32_APIC_BASE), base);
	assert_int_equal(fake_msr_writes(MSR_IA32_APIC_BASE), 0);
	/* the BSP flag is the processor's, not the guest's */
	guest_wrmsr(MSR_IA32_APIC_BASE, base & ~APIC_BASE_BSP);
	assert_int_equal(fake_vmx.gp, 2);
	/* x2APIC mode at the same base is Linux's normal switch: it goes to the processor */
	guest_wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_msr(MSR_IA32_APIC_BASE), base | APIC_BASE_EXTD);
}

static void test_misc_enable_cannot_turn_on_mwait_or_change_the_cpuid_limit(void **state)
{
	(void)state;
	uint64_t now = 0x800089ull; /* fast strings, TCC, PEBS unavailable, xTPR off: MWAIT off */
	fake_msr_set(MSR_IA32_MISC_ENABLE, now);
	guest_wrmsr(MSR_IA32_MISC_ENABLE, now | MISC_ENABLE_MONITOR_FSM);
	guest_wrmsr(MSR_IA32_MISC_ENABLE, now | MISC_ENABLE_LIMIT_CPUID_MAXVAL);
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_msr_writes(MSR_IA32_MISC_ENABLE), 0);
	guest_wrmsr(MSR_IA32_MISC_ENABLE, now & ~1ull); /* another bit: passes */
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_msr(MSR_IA32_MISC_ENABLE), now & ~1ull);
}

/* The attack: a rootkit points LSTAR at its own stub, so every system call (and the
 * monitor's entry trap) goes through it first. Before the pin the write is carried out as
 * the processor would (the control); after it only the recorded value passes. */
static void test_entry_msrs_are_written_through_until_pinned_then_only_their_value(void **state)
{
	(void)state;
	const uint64_t entry = 0xffffffff81a00080ull, stub = 0xffffffffc0a01000ull;
	msr_policy_fill_bitmap(bitmap);
	assert_true(bit(MSR_LSTAR, true) && !bit(MSR_LSTAR, false));
	assert_true(bit(MSR_IA32_SYSENTER_ESP, true) && bit(MSR_CSTAR, true));
	assert_false(bit(MSR_KERNEL_GS_BASE, true)); /* written at every context switch */

	guest_wrmsr(MSR_LSTAR, entry);
	guest_wrmsr(MSR_IA32_SYSENTER_ESP, 0xfffffe0000003000ull);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_msr(MSR_LSTAR), entry);
	assert_int_equal(fake_vmcs[GUEST_SYSENTER_ESP], 0xfffffe0000003000ull);
	guest_wrmsr(MSR_LSTAR, stub); /* the control: unpinned, the hook goes in */
	assert_int_equal(fake_msr(MSR_LSTAR), stub);
	guest_wrmsr(MSR_LSTAR, entry);

	entry_msr_pin(&vcpu);
	guest_wrmsr(MSR_LSTAR, entry); /* syscall_init() again: the same value passes */
	assert_int_equal(fake_vmx.gp, 0);
	guest_wrmsr(MSR_LSTAR, stub);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_msr(MSR_LSTAR), entry);
	guest_wrmsr(MSR_IA32_SYSENTER_ESP, 0xfffffe0000004000ull);
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_vmcs[GUEST_SYSENTER_ESP], 0xfffffe0000003000ull);
	assert_int_equal(vcpu.entry_msr_refused, 2);
}

static void test_a_non_canonical_entry_is_refused_before_it_reaches_the_processor(void **state)
{
	(void)state;
	unsigned int writes = fake_msr_writes(MSR_LSTAR);
	guest_wrmsr(MSR_LSTAR, 0x0000800000000000ull);
	guest_wrmsr(MSR_IA32_SYSENTER_EIP, 0x8000000000000000ull);
	assert_int_equal(fake_vmx.gp, 2);
	assert_int_equal(fake_msr_writes(MSR_LSTAR), writes);
	assert_int_equal(fake_vmcs[GUEST_SYSENTER_EIP], 0);
	guest_wrmsr(MSR_STAR, 0x0023001000000000ull); /* STAR holds selectors: any value */
	assert_int_equal(fake_vmx.gp, 2);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bitmap_intercepts_what_the_table_names_and_nothing_else),
		T(test_a_guest_tsc_write_moves_only_its_offset),
		T(test_tsc_adjust_is_virtual_and_moves_the_offset_by_the_difference),
		T(test_once_shifted_the_deadline_timer_is_shifted_back),
		T(test_without_a_deadline_timer_its_msr_faults_and_is_never_touched),
		T(test_vmx_capability_reads_and_pt_writes_fault),
		T(test_the_apic_page_cannot_move_onto_monitor_memory),
		T(test_misc_enable_cannot_turn_on_mwait_or_change_the_cpuid_limit),
		T(test_entry_msrs_are_written_through_until_pinned_then_only_their_value),
		T(test_a_non_canonical_entry_is_refused_before_it_reaches_the_processor),
	};
	return cmocka_run_group_tests_name("msr_policy", tests, NULL, NULL);
}
