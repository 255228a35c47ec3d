/*
 * The guest's MTRRs (hv/vmx/mtrr_guest.c through the MSR policy and exit_msr.c). The attack:
 * a guest kernel rewrites the MTRRs to change the memory type of the monitor's pages (or to
 * make RAM uncacheable under it). Contained: a write goes to the guest's copy and from it
 * into the EPT types of the guest's own identity-mapped memory; the processor's MTRRs (the
 * monitor's types) are never written, the monitor's pages (mapped to the sink) keep theirs.
 * The control: the same write does change the type of the guest's own memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/monitor.h"
#include "fake_vmcs.h"
#include "fake_vmx.h"
#include "guest_msr.h"
#include "heap_ept.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/msr.h"

static int teardown(void **state)
{
	(void)state;
	heap_ept_free_all();
	return 0;
}

#define MB           (1ull << 20)
#define MONITOR_PAGE (32 * MB)          /* a hidden monitor page: mapped to the sink */
#define SINK_PAGE    (3ull << 30)       /* where the sink lives (any other address) */
#define PHYS_MASK_36 ((1ull << 36) - 1) /* MAXPHYADDR 36 */
#define VALID        (1ull << 11)

static int setup(void **state)
{
	(void)state;
	guest_vcpu_reset();
	/* What the firmware left: MTRRs on, WB by default, 8 variable ranges, fixed ones. */
	memset(&vm.guest_mtrr, 0, sizeof(vm.guest_mtrr));
	vm.guest_mtrr.cap = 0x508; /* VCNT 8, FIX */
	vm.guest_mtrr.enabled = true;
	vm.guest_mtrr.fixed_enabled = true;
	vm.guest_mtrr.default_type = MEMTYPE_WB;
	vm.guest_mtrr.variable_count = 8;
	vm.guest_mtrr.phys_addr_mask = PHYS_MASK_36;
	memset(vm.guest_mtrr.fixed, MEMTYPE_WB, sizeof(vm.guest_mtrr.fixed));
	/* EPT: the first GiB 1:1 WB (2 MiB leaves), 4 KiB leaves at 32 MiB with the monitor's
	 * page mapped to the sink, as ept_setup() and ept_hide_monitor() leave them. */
	assert_int_equal(ept_init(&vm.ept, &heap_ept_alloc, true), EPT_OK);
	assert_int_equal(ept_map(&vm.ept, 0, 0, 1ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	assert_int_equal(ept_map(&vm.ept, MONITOR_PAGE, MONITOR_PAGE, 2 * MB, EPT_RWX, MEMTYPE_WB),
			 EPT_OK);
	assert_int_equal(ept_map(&vm.ept, MONITOR_PAGE, MONITOR_PAGE, 4096, EPT_RWX, MEMTYPE_WB),
			 EPT_OK);
	assert_int_equal(ept_map(&vm.ept, MONITOR_PAGE, SINK_PAGE, 4096, EPT_RWX, MEMTYPE_WB),
			 EPT_OK);
	return 0;
}

static uint8_t ept_type(uint64_t gpa)
{
	uint64_t hpa, leaf, size;
	assert_true(ept_translate(&vm.ept, gpa, &hpa, &leaf, &size));
	return (uint8_t)((leaf & EPT_MT_MASK) >> EPT_MT_SHIFT);
}

static void guest_wrmsr(uint32_t msr, uint64_t value)
{
	guest_msr_write(&vcpu, msr, value);
}

static uint64_t guest_rdmsr(uint32_t msr)
{
	return guest_msr_read(&vcpu, msr);
}

/* Variable range 1 = [base, base + size) of `type`. */
static void guest_sets_range(uint64_t base, uint64_t size, uint8_t type)
{
	guest_wrmsr(MSR_IA32_MTRR_PHYSBASE0 + 2, base | type);
	guest_wrmsr(MSR_IA32_MTRR_PHYSMASK0 + 2, (PHYS_MASK_36 & ~(size - 1)) | VALID);
}

static void uc_range_changes_the_guests_memory_type_in_ept(void **state)
{
	(void)state;
	assert_int_equal(ept_type(16 * MB), MEMTYPE_WB);
	guest_sets_range(16 * MB, 2 * MB, MEMTYPE_UC);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(ept_type(16 * MB), MEMTYPE_UC);
	assert_int_equal(ept_type(18 * MB), MEMTYPE_WB); /* outside the range */
	assert_true(fake_vmx.invept_all >= 1);
	assert_int_equal(guest_rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2), 16 * MB | MEMTYPE_UC);
}

static void monitor_pages_and_the_processors_mtrrs_keep_their_types(void **state)
{
	(void)state;
	guest_sets_range(MONITOR_PAGE, 2 * MB, MEMTYPE_UC);
	assert_int_equal(ept_type(MONITOR_PAGE), MEMTYPE_WB);        /* the sink's own */
	assert_int_equal(ept_type(MONITOR_PAGE + 4096), MEMTYPE_UC); /* the guest's page */
	guest_wrmsr(MSR_IA32_MTRR_DEF_TYPE, MEMTYPE_UC | (1u << 11));
	assert_int_equal(ept_type(MONITOR_PAGE), MEMTYPE_WB);
	assert_int_equal(ept_type(512 * MB), MEMTYPE_UC);
	/* (the fake holds few MSRs: the ones these writes would have reached) */
	assert_int_equal(fake_msr_writes(MSR_IA32_MTRR_PHYSBASE0 + 2), 0);
	assert_int_equal(fake_msr_writes(MSR_IA32_MTRR_PHYSMASK0 + 2), 0);
	assert_int_equal(fake_msr_writes(MSR_IA32_MTRR_DEF_TYPE), 0);
}

static void a_range_inside_a_large_leaf_makes_it_uncacheable_without_allocating(void **state)
{
	(void)state;
	uint32_t pages = vm.ept.table_pages;
	guest_sets_range(100 * MB, 4096, MEMTYPE_WC); /* inside one 2 MiB leaf */
	assert_int_equal(vm.ept.table_pages, pages);
	assert_int_equal(ept_type(100 * MB), MEMTYPE_UC); /* mixed: UC, always correct */
	guest_wrmsr(MSR_IA32_MTRR_PHYSMASK0 + 2, 0);      /* the range off: the leaf is WB again */
	assert_int_equal(ept_type(100 * MB), MEMTYPE_WB);
}

static void invalid_values_get_gp_and_change_nothing(void **state)
{
	(void)state;
	guest_wrmsr(MSR_IA32_MTRR_PHYSBASE0 + 2, 16 * MB | 2u); /* type 2 is reserved */
	assert_int_equal(fake_vmx.gp, 1);
	guest_wrmsr(MSR_IA32_MTRR_PHYSMASK0 + 2, (1ull << 40) | VALID); /* above MAXPHYADDR */
	assert_int_equal(fake_vmx.gp, 2);
	guest_wrmsr(MSR_IA32_MTRR_DEF_TYPE, MEMTYPE_WB | (1u << 9)); /* reserved bit */
	assert_int_equal(fake_vmx.gp, 3);
	guest_wrmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * 8, MEMTYPE_UC); /* only 8 ranges */
	assert_int_equal(fake_vmx.gp, 4);
	assert_int_equal(guest_rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2), 0);
	assert_int_equal(ept_type(16 * MB), MEMTYPE_WB);
	assert_int_equal(fake_vmx.invept_all, 0);
}

static void fixed_ranges_follow_too(void **state)
{
	(void)state;
	/* FIX64K_00000 covers 0-512 KiB in 64 KiB steps: make 64-128 KiB UC. */
	uint64_t v = 0x0606060606060606ull & ~(0xffull << 8);
	guest_wrmsr(MSR_IA32_MTRR_FIX64K_00000, v);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(guest_rdmsr(MSR_IA32_MTRR_FIX64K_00000), v);
	/* The first 2 MiB leaf now has two types in it: UC. */
	assert_int_equal(ept_type(0x10000), MEMTYPE_UC);
	assert_int_equal(fake_msr_writes(MSR_IA32_MTRR_FIX64K_00000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(uc_range_changes_the_guests_memory_type_in_ept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			monitor_pages_and_the_processors_mtrrs_keep_their_types, setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_range_inside_a_large_leaf_makes_it_uncacheable_without_allocating, setup,
			teardown),
		cmocka_unit_test_setup_teardown(invalid_values_get_gp_and_change_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(fixed_ranges_follow_too, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
