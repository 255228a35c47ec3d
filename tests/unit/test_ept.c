/* hv/mm/ept.c: building EPT paging structures, driven through a fake allocator whose
 * "physical" addresses are host pointers. Checked by walking the tables the way the
 * processor does (ept_translate) and by looking at the raw entries. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mm/ept.h"
#include "x86/ept.h"

#define MAX_PAGES 4096

struct fake_alloc {
	void *pages[MAX_PAGES];
	unsigned int used;
	unsigned int limit; /* fail after this many pages */
};

static void *fake_alloc_page(void *ctx)
{
	struct fake_alloc *a = ctx;
	if (a->used >= a->limit || a->used >= MAX_PAGES)
		return NULL;
	void *p = aligned_alloc(4096, 4096);
	memset(p, 0, 4096);
	a->pages[a->used++] = p;
	return p;
}

static uint64_t fake_v2p(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va;
}

static void *fake_p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static struct fake_alloc fa;
static struct ept_alloc alloc = {fake_alloc_page, fake_v2p, fake_p2v, &fa};
static struct ept e;

static int setup(void **state)
{
	(void)state;
	memset(&fa, 0, sizeof(fa));
	fa.limit = MAX_PAGES;
	return ept_init(&e, &alloc, true) == EPT_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < fa.used; i++)
		free(fa.pages[i]);
	return 0;
}

static void expect_map(uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms, uint8_t mt)
{
	uint64_t got, leaf, psize;
	assert_true(ept_translate(&e, gpa, &got, &leaf, &psize));
	assert_int_equal(got, hpa);
	assert_int_equal(psize, size);
	assert_int_equal(leaf & EPT_RWX, perms);
	assert_int_equal((leaf & EPT_MT_MASK) >> EPT_MT_SHIFT, mt);
}

static void test_identity_gigabyte_uses_one_1g_page(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0, 0, 1ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	expect_map(0x12345678, 0x12345678, 1ull << 30, EPT_RWX, MEMTYPE_WB);
	/* PML4 + one PDPT */
	assert_int_equal(e.table_pages, 2);
}

static void test_without_1g_support_uses_2m_pages(void **state)
{
	(void)state;
	e.allow_1g = false;
	assert_int_equal(ept_map(&e, 0, 0, 1ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	expect_map(0x3fffffff, 0x3fffffff, 2ull << 20, EPT_RWX, MEMTYPE_WB);
	assert_int_equal(e.table_pages, 3);
}

static void test_remapping_one_page_splits_the_large_page_and_keeps_the_rest(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0, 0, 1ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	uint64_t sink = 0x7000;
	assert_int_equal(ept_map(&e, 0x3c178000, sink, 4096, EPT_READ | EPT_WRITE, MEMTYPE_WB),
			 EPT_OK);
	expect_map(0x3c178abc, sink + 0xabc, 4096, EPT_READ | EPT_WRITE, MEMTYPE_WB);
	/* neighbours keep the identity mapping, in the smallest pages the split needed */
	expect_map(0x3c177fff, 0x3c177fff, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(0x3c179000, 0x3c179000, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(0x3c000000, 0x3c000000, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(0x3be00000, 0x3be00000, 2ull << 20, EPT_RWX, MEMTYPE_WB);
	expect_map(0x00000000, 0x00000000, 2ull << 20, EPT_RWX, MEMTYPE_WB);
}

static void test_hiding_a_range_maps_every_page_to_the_sink(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0, 0, 4ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	uint64_t base = 0x3c178000, size = 16708ull * 1024, sink = 0x3d1c8000;
	for (uint64_t off = 0; off < size; off += 4096)
		assert_int_equal(ept_map(&e, base + off, sink, 4096, EPT_RWX, MEMTYPE_WB), EPT_OK);
	for (uint64_t off = 0; off < size; off += 4096)
		expect_map(base + off + 8, sink + 8, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(base - 1, base - 1, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(base + size, base + size, 4096, EPT_RWX, MEMTYPE_WB);
}

static void test_memory_type_is_written_per_range(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0, 0, 3ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	assert_int_equal(ept_map(&e, 3ull << 30, 3ull << 30, 1ull << 30, EPT_RWX, MEMTYPE_UC),
			 EPT_OK);
	assert_int_equal(ept_map(&e, 0xA0000, 0xA0000, 0x20000, EPT_RWX, MEMTYPE_UC), EPT_OK);
	expect_map(0xB8000, 0xB8000, 4096, EPT_RWX, MEMTYPE_UC);
	expect_map(0x9F000, 0x9F000, 4096, EPT_RWX, MEMTYPE_WB);
	expect_map(0xFEC00000, 0xFEC00000, 1ull << 30, EPT_RWX, MEMTYPE_UC);
}

static void test_unmapped_addresses_do_not_translate(void **state)
{
	(void)state;
	uint64_t hpa, leaf, size;
	assert_false(ept_translate(&e, 0x1000, &hpa, &leaf, &size));
	assert_int_equal(ept_map(&e, 0x200000, 0x200000, 0x200000, EPT_RWX, MEMTYPE_WB), EPT_OK);
	assert_false(ept_translate(&e, 0x1000, &hpa, &leaf, &size));
	assert_false(ept_translate(&e, 1ull << 48, &hpa, &leaf, &size));
	/* perms 0 removes a mapping */
	assert_int_equal(ept_map(&e, 0x200000, 0x200000, 0x1000, 0, MEMTYPE_WB), EPT_OK);
	assert_false(ept_translate(&e, 0x200000, &hpa, &leaf, &size));
	assert_true(ept_translate(&e, 0x201000, &hpa, &leaf, &size));
}

static void test_bad_arguments_are_refused(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0x1001, 0x1000, 0x1000, EPT_RWX, MEMTYPE_WB),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, 0x1000, 0x1001, 0x1000, EPT_RWX, MEMTYPE_WB),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0x1001, EPT_RWX, MEMTYPE_WB),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0, EPT_RWX, MEMTYPE_WB), EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, (1ull << 48) - 4096, 0, 8192, EPT_RWX, MEMTYPE_WB),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, 0, 0, 4096, 8, MEMTYPE_WB), EPT_BAD_ARGUMENT);
	assert_int_equal(ept_map(&e, 0, 0, 4096, EPT_RWX, 9), EPT_BAD_ARGUMENT);
	assert_int_equal(e.table_pages, 1);
}

static void test_out_of_memory_is_reported_not_crashed(void **state)
{
	(void)state;
	fa.limit = fa.used + 2; /* room for a PDPT and a PD only */
	assert_int_equal(ept_map(&e, 0x1000, 0x1000, 0x1000, EPT_RWX, MEMTYPE_WB), EPT_NO_MEMORY);
}

static void test_pointer_has_wb_and_four_level_walk(void **state)
{
	(void)state;
	uint64_t eptp = ept_pointer(&e);
	assert_int_equal(eptp & 7, 6);        /* WB */
	assert_int_equal((eptp >> 3) & 7, 3); /* walk length 4 - 1 */
	assert_int_equal(eptp & ~0xfffull, e.pml4_pa);
}

static void test_table_page_bound_stops_growth_and_is_reported(void **state)
{
	(void)state;
	assert_int_equal(ept_map(&e, 0, 0, 1ull << 30, EPT_RWX, MEMTYPE_WB), EPT_OK);
	e.table_pages_max = e.table_pages + 1; /* one more table page, then no more */
	/* A 2 MiB page in a new 1 GiB region: one PD page. */
	assert_int_equal(ept_map(&e, 5ull << 30, 5ull << 30, 2ull << 20, EPT_RWX, MEMTYPE_UC),
			 EPT_OK);
	uint32_t used = e.table_pages;
	assert_int_equal(ept_map(&e, 7ull << 30, 7ull << 30, 2ull << 20, EPT_RWX, MEMTYPE_UC),
			 EPT_NO_MEMORY);
	assert_int_equal(e.table_pages, used);
	uint64_t hpa, leaf, size;
	assert_false(ept_translate(&e, 7ull << 30, &hpa, &leaf, &size));
	assert_true(ept_translate(&e, 5ull << 30, &hpa, &leaf, &size)); /* the first one stays */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity_gigabyte_uses_one_1g_page, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_1g_support_uses_2m_pages, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_remapping_one_page_splits_the_large_page_and_keeps_the_rest, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_hiding_a_range_maps_every_page_to_the_sink,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_type_is_written_per_range, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unmapped_addresses_do_not_translate, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_memory_is_reported_not_crashed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_table_page_bound_stops_growth_and_is_reported,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer_has_wb_and_four_level_walk, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
