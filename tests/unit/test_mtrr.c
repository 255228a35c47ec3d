/* hv/mm/mtrr.c: the memory type the EPT identity map gives each range, from a snapshot
 * of the MTRRs shaped like a PC's (SDM Vol. 3A 11.11). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "mm/mtrr.h"
#include "x86/ept.h"

#define VALID (1ull << 11)
#define MiB   (1ull << 20)
#define GiB   (1ull << 30)

static struct mtrr_state st;

/* Default WB; fixed ranges: WB below 0xA0000, UC for VGA 0xA0000-0xBFFFF, WP for the
 * BIOS 0xC0000-0xFFFFF; variable: UC for 3 GiB-4 GiB (the PCI hole). */
static int setup(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	st.enabled = true;
	st.fixed_enabled = true;
	st.default_type = MEMTYPE_WB;
	st.phys_addr_mask = (1ull << 39) - 1;
	for (int i = 0; i < 8; i++)
		st.fixed[i] = MEMTYPE_WB; /* 64K x 8: 0-0x7FFFF */
	for (int i = 8; i < 16; i++)
		st.fixed[i] = MEMTYPE_WB; /* 16K: 0x80000-0x9FFFF */
	for (int i = 16; i < 24; i++)
		st.fixed[i] = MEMTYPE_UC; /* 16K: 0xA0000-0xBFFFF */
	for (int i = 24; i < 88; i++)
		st.fixed[i] = MEMTYPE_WP; /* 4K: 0xC0000-0xFFFFF */
	st.variable_count = 2;
	st.phys_base[0] = (3 * GiB) | MEMTYPE_UC;
	st.phys_mask[0] = (~(GiB - 1) & st.phys_addr_mask) | VALID;
	return 0;
}

static uint8_t type_of(uint64_t pa, uint64_t size, bool *uniform)
{
	uint8_t t = 0xEE;
	*uniform = mtrr_range_type(&st, pa, size, &t);
	return t;
}

static void test_ram_is_write_back(void **state)
{
	(void)state;
	bool u;
	assert_int_equal(type_of(GiB, GiB, &u), MEMTYPE_WB);
	assert_true(u);
	assert_int_equal(type_of(0x200000, 0x200000, &u), MEMTYPE_WB);
}

static void test_pci_hole_is_uncacheable(void **state)
{
	(void)state;
	bool u;
	assert_int_equal(type_of(3 * GiB, GiB, &u), MEMTYPE_UC);
	assert_true(u);
	assert_int_equal(type_of(0xFEE00000, 0x1000, &u), MEMTYPE_UC);
}

static void test_fixed_ranges_give_vga_and_bios_their_types(void **state)
{
	(void)state;
	bool u;
	assert_int_equal(type_of(0xB8000, 0x1000, &u), MEMTYPE_UC);
	assert_int_equal(type_of(0xF0000, 0x1000, &u), MEMTYPE_WP);
	assert_int_equal(type_of(0x9F000, 0x1000, &u), MEMTYPE_WB);
}

static void test_first_2m_is_mixed_and_must_be_split(void **state)
{
	(void)state;
	bool u;
	type_of(0, 0x200000, &u);
	assert_false(u);
	type_of(0, GiB, &u);
	assert_false(u);
}

static void test_range_straddling_a_variable_mtrr_is_mixed(void **state)
{
	(void)state;
	bool u;
	/* a 2 GiB-aligned 2 GiB range covers WB (2-3 GiB) and UC (3-4 GiB) */
	type_of(2 * GiB, 2 * GiB, &u);
	assert_false(u);
}

static void test_overlapping_uc_wins_over_wb(void **state)
{
	(void)state;
	st.phys_base[1] = (0) | MEMTYPE_WB;
	st.phys_mask[1] = (~(4 * GiB - 1) & st.phys_addr_mask) | VALID; /* 0-4 GiB WB */
	bool u;
	assert_int_equal(type_of(3 * GiB, 0x200000, &u), MEMTYPE_UC);
	assert_true(u);
}

static void test_wt_and_wb_overlap_gives_wt(void **state)
{
	(void)state;
	st.phys_base[1] = GiB | MEMTYPE_WT;
	st.phys_mask[1] = (~(GiB - 1) & st.phys_addr_mask) | VALID;
	st.variable_count = 3;
	st.phys_base[2] = GiB | MEMTYPE_WB;
	st.phys_mask[2] = (~(GiB - 1) & st.phys_addr_mask) | VALID;
	bool u;
	assert_int_equal(type_of(GiB, 0x200000, &u), MEMTYPE_WT);
}

static void test_invalid_variable_mtrrs_are_ignored(void **state)
{
	(void)state;
	st.phys_mask[0] &= ~VALID;
	bool u;
	assert_int_equal(type_of(3 * GiB, GiB, &u), MEMTYPE_WB);
}

static void test_disabled_mtrrs_mean_uncacheable(void **state)
{
	(void)state;
	st.enabled = false;
	bool u;
	assert_int_equal(type_of(0, GiB, &u), MEMTYPE_UC);
	assert_true(u);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_ram_is_write_back),
		T(test_pci_hole_is_uncacheable),
		T(test_fixed_ranges_give_vga_and_bios_their_types),
		T(test_first_2m_is_mixed_and_must_be_split),
		T(test_range_straddling_a_variable_mtrr_is_mixed),
		T(test_overlapping_uc_wins_over_wb),
		T(test_wt_and_wb_overlap_gives_wt),
		T(test_invalid_variable_mtrrs_are_ignored),
		T(test_disabled_mtrrs_mean_uncacheable),
	};
	return cmocka_run_group_tests_name("mtrr", tests, NULL, NULL);
}
