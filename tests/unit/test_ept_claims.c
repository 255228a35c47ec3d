/* hv/mm/ept_claims.c over real EPT tables (hv/mm/ept.c) in host memory, read back the way
 * the processor walks them (ept_translate). The owners are the monitor's: hiding, the
 * syscall-entry trap, kernel protection. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heap_ept.h"
#include "mm/ept_claims.h"
#include "x86/ept.h"

#define PAGE        4096ull
#define ENTRY       0x1000000ull /* the "syscall entry" page */
#define SHADOW      0x7000000ull /* the trap's shadow copy */
#define SINK        0x7001000ull
#define CORE        0x2000000ull /* the "monitor", 4 pages */
#define TYPE_OF(pa) ((pa) < 0x100000ull ? MEMTYPE_UC : MEMTYPE_WB)

static uint8_t identity_type(void *ctx, uint64_t pa)
{
	(void)ctx;
	return TYPE_OF(pa);
}

static struct ept e;
static struct ept_claims t;

static int setup(void **state)
{
	(void)state;
	if (ept_init(&e, &heap_ept_alloc, true) != EPT_OK)
		return -1;
	/* The identity map: 64 MiB RWX, 2 MiB pages. */
	for (uint64_t pa = 0; pa < (64ull << 20); pa += 2ull << 20)
		if (ept_map(&e, pa, pa, 2ull << 20, EPT_RWX, TYPE_OF(pa)) != EPT_OK)
			return -1;
	memset(&t, 0, sizeof(t));
	t.ept = &e;
	t.identity_type = identity_type;
	t.execute_only_ok = true;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	heap_ept_free_all();
	return 0;
}

/* What the processor would use for gpa: host page and permissions (and memory type). */
static void leaf(uint64_t gpa, uint64_t *hpa, uint64_t *perms, uint8_t *type)
{
	uint64_t entry, size;
	assert_true(ept_translate(&e, gpa, hpa, &entry, &size));
	*perms = entry & EPT_RWX;
	*type = (uint8_t)((entry >> 3) & 7u);
}

static void expect(uint64_t gpa, uint64_t hpa, uint64_t perms, uint8_t type)
{
	uint64_t h, p;
	uint8_t ty;
	leaf(gpa, &h, &p, &ty);
	assert_int_equal(h, hpa);
	assert_int_equal(p, perms);
	assert_int_equal(ty, type);
}

/* The case: the trap's disarm used to make its page RWX whatever else wanted. */
static void test_dropping_the_traps_claim_leaves_protections_read_only(void **state)
{
	(void)state;
	assert_int_equal(
		ept_claim(&t, EPT_OWNER_PROTECT, ENTRY, PAGE, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
		EPT_OK);
	expect(ENTRY, ENTRY, EPT_READ, MEMTYPE_WB);
	/* The trap's original view: readable and writable, not executable. */
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, PAGE, EPT_READ | EPT_WRITE,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(ENTRY, ENTRY, EPT_READ, MEMTYPE_WB); /* no write: protection said so */
	assert_int_equal(ept_release(&t, EPT_OWNER_TRAP, ENTRY, PAGE), EPT_OK);
	expect(ENTRY, ENTRY, EPT_READ, MEMTYPE_WB); /* still read-only, not RWX */
	/* The control: without protection's claim, the same release gives RWX back. */
	assert_int_equal(ept_release(&t, EPT_OWNER_PROTECT, ENTRY, PAGE), EPT_OK);
	expect(ENTRY, ENTRY, EPT_RWX, MEMTYPE_WB);
	expect(ENTRY + PAGE, ENTRY + PAGE, EPT_RWX, MEMTYPE_WB); /* the neighbour untouched */
}

static void test_a_claim_replaced_by_its_owner_takes_the_new_view(void **state)
{
	(void)state;
	/* Shadow view (execute-only copy), then original view, then shadow again. */
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, PAGE, EPT_EXEC, EPT_REDIRECT_LINEAR,
				   SHADOW, MEMTYPE_WB),
			 EPT_OK);
	expect(ENTRY, SHADOW, EPT_EXEC, MEMTYPE_WB);
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, PAGE, EPT_READ | EPT_WRITE,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(ENTRY, ENTRY, EPT_READ | EPT_WRITE, MEMTYPE_WB);
	unsigned int n = 0;
	for (unsigned int i = 0; i < EPT_CLAIMS_MAX; i++)
		n += t.claim[i].used;
	assert_int_equal(n, 1); /* replaced, not added */
}

static void test_hiding_wins_over_every_other_redirect(void **state)
{
	(void)state;
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, CORE + PAGE, PAGE, EPT_EXEC,
				   EPT_REDIRECT_LINEAR, SHADOW, MEMTYPE_WB),
			 EPT_OK);
	assert_int_equal(ept_claim(&t, EPT_OWNER_HIDING, CORE, 4 * PAGE, EPT_RWX,
				   EPT_REDIRECT_ONE_PAGE, SINK, MEMTYPE_WB),
			 EPT_OK);
	for (uint64_t k = 0; k < 4; k++)
		expect(CORE + k * PAGE, SINK, k == 1 ? EPT_EXEC : EPT_RWX, MEMTYPE_WB);
}

static void test_identity_pages_keep_the_guests_memory_type(void **state)
{
	(void)state;
	assert_int_equal(ept_claim(&t, EPT_OWNER_PROTECT, 0xA0000, 2 * PAGE, EPT_READ,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(0xA0000, 0xA0000, EPT_READ, MEMTYPE_UC);
	assert_int_equal(ept_release(&t, EPT_OWNER_PROTECT, 0xA0000, 2 * PAGE), EPT_OK);
	expect(0xA1000, 0xA1000, EPT_RWX, MEMTYPE_UC);
}

static void test_bad_claims_are_refused_and_change_nothing(void **state)
{
	(void)state;
	assert_int_equal(ept_claim(&t, EPT_OWNERS, ENTRY, PAGE, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(
		ept_claim(&t, EPT_OWNER_TRAP, ENTRY + 1, PAGE, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
		EPT_BAD_ARGUMENT);
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, 0, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, PAGE, EPT_READ, EPT_REDIRECT_LINEAR,
				   SHADOW + 8, 0),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, 0,
				   (uint64_t)(EPT_CLAIM_MAX_PAGES + 1) * PAGE, EPT_READ,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ~0ull & ~(PAGE - 1), PAGE, EPT_READ,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_release(&t, EPT_OWNER_TRAP, ENTRY, PAGE), EPT_BAD_ARGUMENT);
	expect(ENTRY, ENTRY, EPT_RWX, MEMTYPE_WB);
}

static void test_a_full_table_refuses_another_claim(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < EPT_CLAIMS_MAX; i++)
		assert_int_equal(ept_claim(&t, EPT_OWNER_PROTECT, ENTRY + i * PAGE, PAGE, EPT_READ,
					   EPT_REDIRECT_NONE, 0, 0),
				 EPT_OK);
	assert_int_equal(
		ept_claim(&t, EPT_OWNER_TRAP, CORE, PAGE, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
		EPT_BAD_ARGUMENT);
	expect(CORE, CORE, EPT_RWX, MEMTYPE_WB);
	/* Replacing an existing claim still works when full. */
	assert_int_equal(ept_claim(&t, EPT_OWNER_PROTECT, ENTRY, PAGE, EPT_READ | EPT_EXEC,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(ENTRY, ENTRY, EPT_READ | EPT_EXEC, MEMTYPE_WB);
}

static void test_combinations_the_processor_rejects_are_narrowed_not_widened(void **state)
{
	(void)state;
	/* Write without read (SDM 28.2.3.1: a misconfiguration): the write goes. */
	assert_int_equal(ept_claim(&t, EPT_OWNER_PROTECT, ENTRY, PAGE, EPT_WRITE | EPT_EXEC,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(ENTRY, ENTRY, EPT_EXEC, MEMTYPE_WB);
	/* Execute-only where the processor cannot: not present (0), never readable. */
	t.execute_only_ok = false;
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, ENTRY, PAGE, EPT_EXEC, EPT_REDIRECT_LINEAR,
				   SHADOW, MEMTYPE_WB),
			 EPT_OK);
	uint64_t hpa, entry, size;
	assert_false(ept_translate(&e, ENTRY, &hpa, &entry, &size));
	/* ... and the on-demand mapper is told to keep off it. */
	assert_true(ept_claims_overlap(&t, ENTRY & ~((2ull << 20) - 1), 2ull << 20));
	assert_false(ept_claims_overlap(&t, ENTRY + PAGE, PAGE));
	assert_false(ept_claims_overlap(&t, ENTRY - PAGE, PAGE));
}

/* Write tracking (kernel text): read-only but for the pages the owner made writable; a
 * page made writable never loosens another owner's claim. */
static void test_tracked_claim_opens_one_page_at_a_time(void **state)
{
	uint64_t write_ok[1] = {0};
	const uint64_t text = 0x3000000ull, size = 8 * PAGE;

	(void)state;
	assert_int_equal(ept_claim(&t, EPT_OWNER_PROTECT, text, size, EPT_READ | EPT_EXEC,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	assert_int_equal(ept_claim_track_writes(&t, EPT_OWNER_PROTECT, text, size, write_ok),
			 EPT_OK);
	expect(text + 3 * PAGE, text + 3 * PAGE, EPT_READ | EPT_EXEC, MEMTYPE_WB);
	write_ok[0] |= 1u << 3;
	assert_int_equal(ept_claim_page_write(&t, EPT_OWNER_PROTECT, text, text + 3 * PAGE + 17),
			 EPT_OK);
	expect(text + 3 * PAGE, text + 3 * PAGE, EPT_RWX, MEMTYPE_WB);
	expect(text + 2 * PAGE, text + 2 * PAGE, EPT_READ | EPT_EXEC, MEMTYPE_WB);
	expect(text + 4 * PAGE, text + 4 * PAGE, EPT_READ | EPT_EXEC, MEMTYPE_WB);
	/* another owner's read-only claim on that page still holds */
	assert_int_equal(ept_claim(&t, EPT_OWNER_TRAP, text + 3 * PAGE, PAGE, EPT_READ | EPT_EXEC,
				   EPT_REDIRECT_NONE, 0, 0),
			 EPT_OK);
	expect(text + 3 * PAGE, text + 3 * PAGE, EPT_READ | EPT_EXEC, MEMTYPE_WB);
	assert_int_equal(ept_release(&t, EPT_OWNER_TRAP, text + 3 * PAGE, PAGE), EPT_OK);
	expect(text + 3 * PAGE, text + 3 * PAGE, EPT_RWX, MEMTYPE_WB);
	/* closed again */
	write_ok[0] = 0;
	assert_int_equal(ept_claim_page_write(&t, EPT_OWNER_PROTECT, text, text + 3 * PAGE),
			 EPT_OK);
	expect(text + 3 * PAGE, text + 3 * PAGE, EPT_READ | EPT_EXEC, MEMTYPE_WB);
	/* a page outside the claim, or a claim without tracking, is refused */
	assert_int_equal(ept_claim_page_write(&t, EPT_OWNER_PROTECT, text, text + size),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(
		ept_claim(&t, EPT_OWNER_PROTECT, ENTRY, PAGE, EPT_READ, EPT_REDIRECT_NONE, 0, 0),
		EPT_OK);
	assert_int_equal(ept_claim_page_write(&t, EPT_OWNER_PROTECT, ENTRY, ENTRY),
			 EPT_BAD_ARGUMENT);
	assert_int_equal(ept_claim_track_writes(&t, EPT_OWNER_TRAP, text, size, write_ok),
			 EPT_BAD_ARGUMENT);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dropping_the_traps_claim_leaves_protections_read_only),
		T(test_tracked_claim_opens_one_page_at_a_time),
		T(test_a_claim_replaced_by_its_owner_takes_the_new_view),
		T(test_hiding_wins_over_every_other_redirect),
		T(test_identity_pages_keep_the_guests_memory_type),
		T(test_bad_claims_are_refused_and_change_nothing),
		T(test_a_full_table_refuses_another_claim),
		T(test_combinations_the_processor_rejects_are_narrowed_not_widened),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
