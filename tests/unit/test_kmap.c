/* hv/protect/kmap.c over page tables laid out in a fake guest memory: a 2 MiB page and a
 * 4 KiB page of a kernel image, what a remap changes, and what the walk refuses. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protect/kmap.h"
#include "x86/paging.h"

#define MEM_SIZE (64u * 4096u)
static uint64_t mem[MEM_SIZE / 8]; /* guest-physical 0 .. MEM_SIZE */

static bool read_entry(void *ctx, uint64_t gpa, uint64_t *e)
{
	(void)ctx;
	if (gpa % 8 || gpa >= MEM_SIZE)
		return false;
	*e = mem[gpa / 8];
	return true;
}

static void set(uint64_t table, unsigned idx, uint64_t e)
{
	mem[(table + 8 * idx) / 8] = e;
}

#define PML4 0x1000u
#define PDPT 0x2000u
#define PD   0x3000u
#define PT   0x4000u
#define VA2M 0xffffffff81000000ull /* text: a 2 MiB page */
#define VA4K 0xffffffff82000000ull /* rodata: 4 KiB pages */

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	set(PML4, 511, PDPT | PTE_P | PTE_RW);
	set(PDPT, 510, PD | PTE_P | PTE_RW);
	set(PD, 8, 0x1000000ull | PTE_P | PTE_PS | PTE_G); /* RO+X 2 MiB */
	set(PD, 16, PT | PTE_P | PTE_RW);
	set(PT, 0, 0x2000000ull | PTE_P | PTE_NX | PTE_G);          /* RO+NX 4 KiB */
	set(PT, 1, 0x2001000ull | PTE_P | PTE_RW | PTE_NX | PTE_G); /* RW+NX */
	return 0;
}

static void test_walk_finds_leaves_and_rights(void **state)
{
	(void)state;
	struct kmap_leaf l;
	assert_true(kmap_walk(read_entry, NULL, PML4, VA2M + 0x1234, &l));
	assert_int_equal(l.levels, 3);
	assert_int_equal(l.size, PAGE_SIZE_2M);
	assert_int_equal(l.va, VA2M);
	assert_int_equal(kmap_pa(&l, VA2M + 0x1234), 0x1001234);
	assert_false(kmap_writable(&l));
	assert_true(kmap_executable(&l));
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K + 0x10, &l));
	assert_int_equal(l.levels, 4);
	assert_int_equal(kmap_pa(&l, VA4K + 0x10), 0x2000010);
	assert_false(kmap_writable(&l));
	assert_false(kmap_executable(&l));
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K + 0x1000, &l));
	assert_true(kmap_writable(&l));
}

static void test_remap_is_seen_and_restored(void **state)
{
	(void)state;
	struct kmap_leaf then, now;
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &then));
	set(PT, 0, mem[PT / 8] | PTE_A | PTE_D); /* the CPU's own bits: no change */
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &now));
	assert_true(kmap_same(&then, &now));
	set(PT, 0, 0x3000000ull | PTE_P | PTE_NX); /* rootkit: another page */
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &now));
	assert_false(kmap_same(&then, &now));
	set(PT, 0, 0x2000000ull | PTE_P | PTE_RW | PTE_NX | PTE_G); /* made writable */
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &now));
	assert_false(kmap_same(&then, &now));
	set(PD, 16, 0x5000 | PTE_P | PTE_RW); /* a whole new table under it */
	set(0x5000, 0, 0x2000000ull | PTE_P | PTE_NX | PTE_G);
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &now));
	assert_false(kmap_same(&then, &now));      /* same leaf value, other place */
	for (unsigned i = 0; i < then.levels; i++) /* what the repair does */
		mem[then.entry_gpa[i] / 8] = then.entry[i];
	assert_true(kmap_walk(read_entry, NULL, PML4, VA4K, &now));
	assert_true(kmap_same(&then, &now));
}

static void test_walk_refuses_absent_and_wild_tables(void **state)
{
	(void)state;
	struct kmap_leaf l;
	assert_false(kmap_walk(read_entry, NULL, PML4, 0xffff888000000000ull, &l)); /* absent */
	set(PDPT, 510, 0x7fff000ull | PTE_P); /* a table outside guest memory */
	assert_false(kmap_walk(read_entry, NULL, PML4, VA2M, &l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_walk_finds_leaves_and_rights, setup),
		cmocka_unit_test_setup(test_remap_is_seen_and_restored, setup),
		cmocka_unit_test_setup(test_walk_refuses_absent_and_wild_tables, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
