/* SPDX-License-Identifier: MIT */
/* lib/string.c: memcpy, memmove, memset, memcmp at every length 0..40 and every
 * alignment 0..7 of each side, against byte loops (this binary's memcpy is the core's). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/string.h"

#define LEN_MAX 40u
#define BUF     (LEN_MAX + 16u)

static uint8_t src[BUF], dst[BUF], want[BUF];

static void fill(uint8_t *b, uint8_t seed)
{
	for (size_t i = 0; i < BUF; i++)
		b[i] = (uint8_t)(seed + i * 7u);
}

static void assert_same(void)
{
	for (size_t i = 0; i < BUF; i++)
		assert_int_equal(dst[i], want[i]);
}

static void test_memcpy_every_length_and_alignment(void **state)
{
	(void)state;
	for (size_t n = 0; n <= LEN_MAX; n++)
		for (size_t a = 0; a < 8; a++)
			for (size_t b = 0; b < 8; b++) {
				fill(src, 1);
				fill(dst, 100);
				fill(want, 100);
				for (size_t i = 0; i < n; i++)
					want[a + i] = src[b + i];
				assert_ptr_equal(memcpy(dst + a, src + b, n), dst + a);
				assert_same(); /* nothing before or after touched */
			}
}

static void test_memset_every_length_and_alignment(void **state)
{
	(void)state;
	for (size_t n = 0; n <= LEN_MAX; n++)
		for (size_t a = 0; a < 8; a++) {
			fill(dst, 3);
			fill(want, 3);
			for (size_t i = 0; i < n; i++)
				want[a + i] = 0xA5;
			assert_ptr_equal(memset(dst + a, 0x1A5, n), dst + a); /* as unsigned char */
			assert_same();
		}
}

static void test_memmove_overlapping_both_ways(void **state)
{
	(void)state;
	for (size_t n = 0; n <= LEN_MAX - 8; n++)
		for (size_t from = 0; from < 16; from++)
			for (size_t to = 0; to < 16; to++) {
				uint8_t tmp[BUF];
				fill(dst, 9);
				fill(want, 9);
				for (size_t i = 0; i < n; i++)
					tmp[i] = want[from + i];
				for (size_t i = 0; i < n; i++)
					want[to + i] = tmp[i];
				assert_ptr_equal(memmove(dst + to, dst + from, n), dst + to);
				assert_same();
			}
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_memcmp_sign_at_every_position(void **state)
{
	(void)state;
	for (size_t n = 0; n <= LEN_MAX; n++) {
		fill(src, 5);
		fill(dst, 5);
		assert_int_equal(memcmp(src + 1, dst + 1, n), 0);
		for (size_t at = 0; at < n; at++) {
			/* the first difference decides, as unsigned bytes, whatever follows */
			fill(dst, 5);
			dst[1 + at] = (uint8_t)(src[1 + at] + 0x80);
			if (at + 1 < n)
				dst[2 + at] = (uint8_t)(src[2 + at] - 1);
			int want_sign = src[1 + at] < dst[1 + at] ? -1 : 1;
			assert_int_equal(sign(memcmp(src + 1, dst + 1, n)), want_sign);
			assert_int_equal(sign(memcmp(dst + 1, src + 1, n)), -want_sign);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy_every_length_and_alignment),
		cmocka_unit_test(test_memset_every_length_and_alignment),
		cmocka_unit_test(test_memmove_overlapping_both_ways),
		cmocka_unit_test(test_memcmp_sign_at_every_position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
