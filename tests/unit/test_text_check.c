/* hv/protect/text_check.c over a synthetic page of text with one site of each kind. Each
 * legal change has its control: the same site in an encoding its kind never has. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "protect/text_check.h"

#define BASE  0xffffffff81000000ull
#define SIZE  4096u
#define JUMP5 0x100u /* jump-label site, NOP5 at the lock, target 0x200 */
#define JUMP2 0x300u /* jump-label site, NOP2 at the lock, target 0x310 */
#define CALL  0x400u /* static-call site, CALL 0x800 at the lock */
#define TRAMP 0x900u /* .static_call.text [0x900, 0x980): a trampoline at 0x908 */
#define FUNC  0x600u /* a function start with ftrace's NOP5 */

static uint8_t old[SIZE], cur[SIZE];
static struct text_jump jumps[2] = {{BASE + JUMP5, BASE + 0x200}, {BASE + JUMP2, BASE + 0x310}};
static uint64_t calls[1] = {BASE + CALL};
static const struct text_sites sites = {
	.jumps = jumps,
	.jump_count = 2,
	.calls = calls,
	.call_count = 1,
	.tramp_start = BASE + TRAMP,
	.tramp_end = BASE + TRAMP + 0x80,
	.text_start = BASE,
	.text_end = BASE + SIZE,
	.modules_start = 0xffffffffa0000000ull,
	.modules_end = 0xfffffffffeffffffull,
};

static void put_rel32(uint8_t *at, uint8_t op, uint64_t from, uint64_t to)
{
	uint32_t rel = (uint32_t)(to - (from + 5));
	at[0] = op;
	for (int i = 0; i < 4; i++)
		at[1 + i] = (uint8_t)(rel >> (8 * i));
}

static int setup(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SIZE; i++)
		old[i] = (uint8_t)(0x40 + i % 7); /* no NOP, int3, CALL or JMP by accident */
	static const uint8_t nop5[5] = {0x0F, 0x1F, 0x44, 0x00, 0x00};
	memcpy(old + JUMP5, nop5, 5);
	old[JUMP2] = 0x66;
	old[JUMP2 + 1] = 0x90;
	put_rel32(old + CALL, 0xE8, BASE + CALL, BASE + 0x800);
	put_rel32(old + TRAMP + 8, 0xE9, BASE + TRAMP + 8, BASE + 0x800);
	memcpy(old + FUNC, nop5, 5);
	memcpy(cur, old, SIZE);
	return 0;
}

/* The one change there must be: its kind, start and length. */
static void expect_one(enum text_change_kind kind, unsigned off, unsigned len)
{
	struct text_change c[4];
	size_t next;
	size_t n = text_diff(&sites, old, cur, BASE, SIZE, 0, SIZE, c, 4, &next);
	assert_int_equal(n, 1);
	if (c[0].kind != kind)
		fail_msg("kind %s, expected %s", text_change_names[c[0].kind],
			 text_change_names[kind]);
	assert_int_equal(c[0].va, BASE + off);
	assert_int_equal(c[0].len, len);
}

static void test_identical_text_has_no_change(void **state)
{
	(void)state;
	struct text_change c[1];
	size_t next;
	assert_int_equal(text_diff(&sites, old, cur, BASE, SIZE, 0, SIZE, c, 1, &next), 0);
}

static void test_jump_label_to_its_own_target_only(void **state)
{
	(void)state;
	put_rel32(cur + JUMP5, 0xE9, BASE + JUMP5, BASE + 0x200);
	expect_one(TEXT_JUMP_LABEL, JUMP5, 5);
	cur[JUMP5] = 0xCC; /* text_poke_bp between its steps */
	expect_one(TEXT_JUMP_LABEL, JUMP5, 5);
	put_rel32(cur + JUMP5, 0xE9, BASE + JUMP5, BASE + 0x240); /* control: elsewhere */
	expect_one(TEXT_OTHER, JUMP5, 5);
	memcpy(cur, old, SIZE);
	cur[JUMP2] = 0xEB;
	cur[JUMP2 + 1] = 0x310 - (JUMP2 + 2);
	expect_one(TEXT_JUMP_LABEL, JUMP2, 2);
	cur[JUMP2 + 1] = 0x20; /* control */
	expect_one(TEXT_OTHER, JUMP2, 2);
}

static void test_static_call_site_and_trampoline(void **state)
{
	(void)state;
	put_rel32(cur + CALL, 0xE8, BASE + CALL, BASE + 0x900);
	expect_one(TEXT_STATIC_CALL, CALL, 5);
	put_rel32(cur + CALL, 0xE8, BASE + CALL, 0xffffffffa0001000ull); /* a module's */
	expect_one(TEXT_STATIC_CALL, CALL, 5);
	put_rel32(cur + CALL, 0xE8, BASE + CALL, 0xffff888000001000ull); /* control: data */
	expect_one(TEXT_OTHER, CALL, 5);
	memcpy(cur + CALL, "\xc3\xcc\xcc\xcc\xcc", 5); /* control: RET from the caller */
	expect_one(TEXT_OTHER, CALL, 5);
	memcpy(cur, old, SIZE);
	put_rel32(cur + TRAMP + 8, 0xE9, BASE + TRAMP + 8, BASE + 0xA00);
	expect_one(TEXT_STATIC_CALL, TRAMP + 8, 5);
	memcpy(cur + TRAMP + 8, "\xc3\xcc\xcc\xcc\xcc", 5);
	expect_one(TEXT_STATIC_CALL, TRAMP + 8, 5);
	put_rel32(cur + TRAMP + 8, 0xE8, BASE + TRAMP + 8, BASE + 0xA00); /* control */
	expect_one(TEXT_OTHER, TRAMP + 8, 5);
}

static void test_ftrace_kprobe_and_inline_hook(void **state)
{
	(void)state;
	put_rel32(cur + FUNC, 0xE8, BASE + FUNC, BASE + 0x700);
	expect_one(TEXT_FTRACE, FUNC, 5);
	memcpy(cur, old, SIZE);
	cur[0x701] = 0xCC;
	expect_one(TEXT_KPROBE, 0x701, 1);
	memcpy(cur, old, SIZE);
	put_rel32(cur + 0xA00, 0xE9, BASE + 0xA00, 0xffffffffa0002000ull); /* an inline hook */
	expect_one(TEXT_OTHER, 0xA00, 5);
	memcpy(cur, old, SIZE);
	cur[0xB00] = 0x90; /* a patched-out instruction byte */
	expect_one(TEXT_OTHER, 0xB00, 1);
}

static void test_more_changes_than_room_are_counted(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 10; i++)
		cur[0xC00 + 16 * i] ^= 0xFF;
	struct text_change c[3];
	size_t next;
	assert_int_equal(text_diff(&sites, old, cur, BASE, SIZE, 0, SIZE, c, 3, &next), 10);
	assert_int_equal(c[2].va, BASE + 0xC20);
	/* a change at the very end is within bounds */
	memcpy(cur, old, SIZE);
	cur[SIZE - 1] ^= 1;
	expect_one(TEXT_OTHER, SIZE - 1, 1);
}

/* Slices that resume where the last one stopped see every change once, whatever their
 * boundaries: a site cut by one is judged whole (here only the rel32 after the boundary
 * changed), and a bad run right after a legal site is its own change (the reviewer's
 * case: a hook written just past the last change one round listed). */
static size_t diff_in_slices(size_t slice, size_t max, struct text_change *all, size_t cap)
{
	struct text_change c[8];
	size_t total = 0, off = 0;
	while (off < SIZE) {
		size_t next, n = text_diff(&sites, old, cur, BASE, SIZE, off, off + slice, c, max,
					   &next);
		for (size_t i = 0; i < n && i < max; i++)
			if (total < cap)
				all[total++] = c[i];
		assert_true(next > off);
		off = next;
	}
	return total;
}

static void test_slices_see_each_change_once(void **state)
{
	(void)state;
	put_rel32(cur + JUMP5, 0xE9, BASE + JUMP5, BASE + 0x200); /* legal, bytes 0x100-0x104 */
	for (unsigned i = 0; i < 4; i++)
		cur[0x105 + i] ^= 0xFF; /* a hook right after it */
	cur[0x700] = 0xCC;
	struct text_change all[16];
	for (size_t slice = 1; slice < 0x300; slice += 0x51) {
		for (size_t max = 1; max <= 3; max++) {
			size_t n = diff_in_slices(slice, max, all, 16);
			if (n != 3)
				fail_msg("slice %zu max %zu: %zu changes", slice, max, n);
			assert_int_equal(all[0].kind, TEXT_JUMP_LABEL);
			assert_int_equal(all[1].kind, TEXT_OTHER);
			assert_int_equal(all[1].va, BASE + 0x105);
			assert_int_equal(all[2].kind, TEXT_KPROBE);
		}
	}
	/* a retargeted site whose first byte is unchanged, cut by a slice boundary */
	memcpy(cur, old, SIZE);
	put_rel32(cur + CALL, 0xE8, BASE + CALL, 0xffff888000001000ull); /* to data */
	cur[CALL] = old[CALL];
	size_t n = diff_in_slices(CALL + 2, 8, all, 16);
	assert_int_equal(n, 1);
	assert_int_equal(all[0].kind, TEXT_OTHER);
	assert_int_equal(all[0].va, BASE + CALL);
}

static void test_tables_decode_relative_and_sort(void **state)
{
	(void)state;
	/* two jump_entry records at va T: code and target relative to their own fields */
	const uint64_t t = BASE + 0x2000;
	uint8_t raw[32] = {0};
	int32_t rel[4] = {(int32_t)(BASE + 0x300 - t), (int32_t)(BASE + 0x310 - (t + 4)),
			  (int32_t)(BASE + 0x100 - (t + 16)), (int32_t)(BASE + 0x200 - (t + 20))};
	memcpy(raw, &rel[0], 4);
	memcpy(raw + 4, &rel[1], 4);
	memcpy(raw + 16, &rel[2], 4);
	memcpy(raw + 20, &rel[3], 4);
	struct text_jump j[2];
	assert_int_equal(text_jumps_decode(raw, 2, t, BASE, BASE + SIZE, j), 2);
	text_jumps_sort(j, 2);
	assert_int_equal(j[0].code, BASE + 0x100);
	assert_int_equal(j[0].target, BASE + 0x200);
	assert_int_equal(j[1].code, BASE + 0x300);
	/* sites outside text (init code, freed after boot) are left out */
	assert_int_equal(text_jumps_decode(raw, 2, t + 0x100000, BASE, BASE + SIZE, j), 0);
	int32_t init_site = (int32_t)(BASE + SIZE + 0x40 - t);
	memcpy(raw, &init_site, 4);
	assert_int_equal(text_jumps_decode(raw, 2, t, BASE, BASE + SIZE, j), 1);
	assert_int_equal(j[0].code, BASE + 0x100);

	uint64_t c[64];
	uint8_t craw[64 * 8] = {0};
	for (unsigned i = 0; i < 64; i++) {
		int32_t r = (int32_t)(BASE + ((i * 37) % 64) * 16 - (t + 8 * i));
		memcpy(craw + 8 * i, &r, 4);
	}
	assert_int_equal(text_calls_decode(craw, 64, t, BASE, BASE + SIZE, c), 64);
	text_calls_sort(c, 64);
	for (unsigned i = 0; i < 64; i++)
		assert_int_equal(c[i], BASE + i * 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_identical_text_has_no_change, setup),
		cmocka_unit_test_setup(test_jump_label_to_its_own_target_only, setup),
		cmocka_unit_test_setup(test_static_call_site_and_trampoline, setup),
		cmocka_unit_test_setup(test_ftrace_kprobe_and_inline_hook, setup),
		cmocka_unit_test_setup(test_more_changes_than_room_are_counted, setup),
		cmocka_unit_test_setup(test_slices_see_each_change_once, setup),
		cmocka_unit_test_setup(test_tables_decode_relative_and_sort, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
