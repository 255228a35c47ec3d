/* hv/lib/fmt.c: the freestanding formatter behaves like C99 snprintf where C99 defines it,
 * and as fmt.h documents where it deliberately differs. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fmt.h"

/* Formats the same thing with fmt_snprintf and libc snprintf; both text and return value
 * must agree. */
#define EXPECT_LIKE_LIBC(...)                                                                      \
	do {                                                                                       \
		char mine_[512], ref_[512];                                                        \
		int mine_n_ = fmt_snprintf(mine_, sizeof(mine_), __VA_ARGS__);                     \
		int ref_n_ = snprintf(ref_, sizeof(ref_), __VA_ARGS__);                            \
		assert_string_equal(mine_, ref_);                                                  \
		assert_int_equal(mine_n_, ref_n_);                                                 \
	} while (0)

static void test_plain_text_is_copied(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("hello, world");
	EXPECT_LIKE_LIBC("%s", "");
	EXPECT_LIKE_LIBC("a%%b%%");
}

static void test_signed_decimal_matches_libc(void **state)
{
	static const int values[] = {0, 1, -1, 42, -42, 1000000, INT_MAX, INT_MIN};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		EXPECT_LIKE_LIBC("%d", values[i]);
		EXPECT_LIKE_LIBC("%i", values[i]);
	}
}

static void test_unsigned_and_hex_match_libc(void **state)
{
	static const unsigned int values[] = {0, 1, 9, 10, 15, 16, 255, 0xdeadbeefu, UINT_MAX};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		EXPECT_LIKE_LIBC("%u", values[i]);
		EXPECT_LIKE_LIBC("%x", values[i]);
		EXPECT_LIKE_LIBC("%X", values[i]);
	}
}

static void test_length_modifiers_match_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("%hhd %hhu %hhx", (signed char)-5, (unsigned char)250,
			 (unsigned char)0xab);
	EXPECT_LIKE_LIBC("%hd %hu %hx", (short)-30000, (unsigned short)65535,
			 (unsigned short)0xbeef);
	EXPECT_LIKE_LIBC("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
	EXPECT_LIKE_LIBC("%lld %llu %llX", LLONG_MIN, ULLONG_MAX, 0xfedcba9876543210ULL);
	EXPECT_LIKE_LIBC("%zu %zx %zd", SIZE_MAX, (size_t)4096, (ptrdiff_t)-7);
	EXPECT_LIKE_LIBC("%jd %ju %td", INTMAX_MIN, UINTMAX_MAX, (ptrdiff_t)-123456789);
}

static void test_width_and_flags_match_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%5d]", 42);
	EXPECT_LIKE_LIBC("[%-5d]", 42);
	EXPECT_LIKE_LIBC("[%05d]", 42);
	EXPECT_LIKE_LIBC("[%05d]", -42);
	EXPECT_LIKE_LIBC("[%08x]", 0xbeefu);
	EXPECT_LIKE_LIBC("[%016llx]", 0x1234ULL);
	EXPECT_LIKE_LIBC("[%1d]", 12345);
	EXPECT_LIKE_LIBC("[%40u]", 7u);
}

static void test_star_width_matches_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%*d]", 6, 42);
	EXPECT_LIKE_LIBC("[%-*d]", 6, 42);
	EXPECT_LIKE_LIBC("[%*d]", -6, 42); /* negative: left-justified */
	EXPECT_LIKE_LIBC("[%*s]", 8, "ab");
	EXPECT_LIKE_LIBC("[%*s]", -8, "ab");
	EXPECT_LIKE_LIBC("[%0*x]", 4, 0xau);
}

static void test_integer_precision_matches_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%.0d]", 0);
	EXPECT_LIKE_LIBC("[%5.0d]", 0);
	EXPECT_LIKE_LIBC("[%.0x]", 0u);
	EXPECT_LIKE_LIBC("[%.5d]", 42);
	EXPECT_LIKE_LIBC("[%.5d]", -42);
	EXPECT_LIKE_LIBC("[%8.3x]", 0xau);
	EXPECT_LIKE_LIBC("[%-8.3d]", 7);
	/* C99 ignores '0' with a precision (GCC warns about it: see the random test). */
	EXPECT_LIKE_LIBC("[%.*d]", 4, 3);
	EXPECT_LIKE_LIBC("[%.*d]", -4, 3); /* negative: as if omitted */
}

static void test_sign_and_alternate_flags_match_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%+d] [%+d] [%+d]", 5, -5, 0);
	EXPECT_LIKE_LIBC("[% d] [% d]", 5, -5);
	EXPECT_LIKE_LIBC("[%+05d]", 5);
	EXPECT_LIKE_LIBC("[%#x] [%#X] [%#x]", 255u, 255u, 0u);
	EXPECT_LIKE_LIBC("[%#010x]", 0xabcu);
	EXPECT_LIKE_LIBC("[%-#10x]", 0xabcu);
}

static void test_string_width_and_precision_match_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%10s]", "abc");
	EXPECT_LIKE_LIBC("[%-10s]", "abc");
	EXPECT_LIKE_LIBC("[%.2s]", "abc");
	EXPECT_LIKE_LIBC("[%.0s]", "abc");
	EXPECT_LIKE_LIBC("[%.10s]", "abc");
	EXPECT_LIKE_LIBC("[%6.2s]", "abc");
	EXPECT_LIKE_LIBC("[%-6.2s]", "abc");
	EXPECT_LIKE_LIBC("[%.*s]", 3, "abcdef");
	EXPECT_LIKE_LIBC("[%.*s]", -1, "abcdef");
	EXPECT_LIKE_LIBC("[%2s]", "abcdef");
}

static void test_string_precision_reads_no_further_than_the_precision(void **state)
{
	/* Unterminated, on the heap: ASan reports a read past it. */
	char *raw = malloc(3);
	char out[16];

	(void)state;
	memcpy(raw, "xyz", 3);
	assert_int_equal(fmt_snprintf(out, sizeof(out), "%.3s|%.*s", raw, 2, raw), 6);
	assert_string_equal(out, "xyz|xy");
	free(raw);
}

static void test_null_string_prints_null(void **state)
{
	/* volatile: GCC rejects a literal NULL for %s at compile time. */
	const char *volatile nothing = NULL;
	char out[32];

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "<%s>", nothing), 8);
	assert_string_equal(out, "<(null)>");
	fmt_snprintf(out, sizeof(out), "<%8s|%.3s>", nothing, nothing);
	assert_string_equal(out, "<  (null)|(nu>");
}

static void test_char_conversion_matches_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%c]", 'x');
	EXPECT_LIKE_LIBC("[%3c]", 'x');
	EXPECT_LIKE_LIBC("[%-3c]", 'x');
	EXPECT_LIKE_LIBC("[%c%c%c]", 'a', 'b', 'c');
}

static void test_nul_char_is_written_and_counted(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'z', sizeof(out));
	assert_int_equal(fmt_snprintf(out, sizeof(out), "a%cb", 0), 3);
	assert_memory_equal(out, "a\0b\0", 4);
}

static void test_pointer_matches_libc_for_non_null(void **state)
{
	int x;

	(void)state;
	EXPECT_LIKE_LIBC("%p", (void *)&x);
	EXPECT_LIKE_LIBC("%p", (void *)(uintptr_t)0xffffffffffffffffULL);
	EXPECT_LIKE_LIBC("[%20p]", (void *)(uintptr_t)0x1000);
}

static void test_null_pointer_prints_0x0(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "%p", (void *)NULL), 3);
	assert_string_equal(out, "0x0");
}

static void test_returns_the_full_length_when_truncated(void **state)
{
	char out[5];

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "%s-%d", "abcdef", 123), 10);
	assert_string_equal(out, "abcd");
}

static void test_capacity_one_gives_an_empty_string(void **state)
{
	char out[1] = {'x'};

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "%d", 12345), 5);
	assert_int_equal(out[0], '\0');
}

static void test_capacity_zero_writes_nothing(void **state)
{
	char out[4] = {'a', 'b', 'c', 'd'};

	(void)state;
	assert_int_equal(fmt_snprintf(out, 0, "%s", "hello"), 5);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(fmt_snprintf(NULL, 0, "%x", 0xabcu), 3);
}

static void test_padding_longer_than_a_block_matches_libc(void **state)
{
	(void)state;
	EXPECT_LIKE_LIBC("[%100d]", -1);
	EXPECT_LIKE_LIBC("[%-100s]", "x");
	EXPECT_LIKE_LIBC("[%0100x]", 0xfu);
	EXPECT_LIKE_LIBC("[%.100u]", 1u);
}

/* These pass what the format does not describe, on purpose; GCC and clang warn. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
static void test_short_modifiers_truncate_the_promoted_value_like_libc(void **state)
{
	(void)state;
	/* An int passed for %hhd is converted to signed char, as C99 says. */
	EXPECT_LIKE_LIBC("%hhd", 300);
	EXPECT_LIKE_LIBC("%hhu", -1);
	EXPECT_LIKE_LIBC("%hd", 70000);
	EXPECT_LIKE_LIBC("%hx", -1);
}

static void test_unknown_conversion_is_printed_verbatim(void **state)
{
	char out[32];

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "a%-5qb%d", 7), 7);
	assert_string_equal(out, "a%-5qb7");
}

static void test_trailing_percent_is_printed(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(fmt_snprintf(out, sizeof(out), "100%"), 4);
	assert_string_equal(out, "100%");
}
#pragma GCC diagnostic pop

struct pieces {
	char text[64];
	size_t len;
	int calls;
};

static void collect(void *ctx, const char *s, size_t n)
{
	struct pieces *p = ctx;

	assert_true(n > 0);
	assert_true(p->len + n < sizeof(p->text));
	memcpy(p->text + p->len, s, n);
	p->len += n;
	p->calls++;
}

static int vformat_to(struct pieces *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vformat(collect, p, fmt, ap);
	va_end(ap);
	return n;
}

static void test_vformat_streams_to_the_sink(void **state)
{
	struct pieces p = {{0}, 0, 0};

	(void)state;
	assert_int_equal(vformat_to(&p, "id=%u name=%-4s|", 17u, "ab"), 16);
	assert_int_equal(p.len, 16);
	assert_memory_equal(p.text, "id=17 name=ab  |", 16);
	assert_true(p.calls >= 4);
}

/* Random conversion specifications, restricted to what C99 defines, against libc. */
static void test_random_specifications_match_libc(void **state)
{
	static const char *const convs[] = {"d",  "i",   "u",   "x",   "X",   "s",   "c",
					    "ld", "lu",  "lx",  "lld", "llu", "llX", "hd",
					    "hu", "hhd", "hhx", "zu",  "zx"};
	static const char *const strings[] = {"", "a", "hello", "with space", "0123456789abcdef"};
	uint64_t seed = 0x2545f4914f6cdd1dULL;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		char spec[32];
		size_t n = 0;
		const char *conv;
		uint64_t r;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		r = seed;
		conv = convs[r % (sizeof(convs) / sizeof(convs[0]))];
		r /= 32;

		bool is_s = conv[0] == 's', is_c = conv[0] == 'c';
		bool is_int = !is_s && !is_c;
		bool is_signed = strchr(conv, 'd') != NULL || strchr(conv, 'i') != NULL;

		spec[n++] = '[';
		spec[n++] = '%';
		if (r & 1)
			spec[n++] = '-';
		if ((r & 2) && is_int)
			spec[n++] = '0';
		if ((r & 4) && is_signed)
			spec[n++] = '+';
		if ((r & 8) && is_signed)
			spec[n++] = ' ';
		if ((r & 16) && is_int && !is_signed && strchr(conv, 'u') == NULL)
			spec[n++] = '#';
		r >>= 5;
		if (r & 1)
			n += (size_t)sprintf(spec + n, "%u", (unsigned)(r >> 1) % 24u);
		r >>= 6;
		if ((r & 1) && !is_c)
			n += (size_t)sprintf(spec + n, ".%u", (unsigned)(r >> 1) % 20u);
		r >>= 6;
		n += (size_t)sprintf(spec + n, "%s]", conv);

		char mine[256], ref[256];
		int a, b;
		uint64_t v = seed * 0x9e3779b97f4a7c15ULL;

		if (is_s) {
			const char *s = strings[r % (sizeof(strings) / sizeof(strings[0]))];
			a = fmt_snprintf(mine, sizeof(mine), spec, s);
			b = snprintf(ref, sizeof(ref), spec, s);
		} else if (strstr(conv, "ll") != NULL) {
			a = fmt_snprintf(mine, sizeof(mine), spec, (long long)v);
			b = snprintf(ref, sizeof(ref), spec, (long long)v);
		} else if (conv[0] == 'l' || conv[0] == 'z') {
			a = fmt_snprintf(mine, sizeof(mine), spec, (long)v);
			b = snprintf(ref, sizeof(ref), spec, (long)v);
		} else if (is_c) {
			a = fmt_snprintf(mine, sizeof(mine), spec, 'A' + (int)(v % 26u));
			b = snprintf(ref, sizeof(ref), spec, 'A' + (int)(v % 26u));
		} else {
			/* Small and extreme values as often as ordinary ones. */
			int x = (v & 3) == 0 ? (int)(v >> 60) - 8 : (v & 3) == 1 ? INT_MIN : (int)v;
			a = fmt_snprintf(mine, sizeof(mine), spec, x);
			b = snprintf(ref, sizeof(ref), spec, x);
		}
		if (strcmp(mine, ref) != 0 || a != b)
			fail_msg("spec \"%s\": fmt gave \"%s\" (%d), libc \"%s\" (%d)", spec, mine,
				 a, ref, b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_is_copied),
		cmocka_unit_test(test_signed_decimal_matches_libc),
		cmocka_unit_test(test_unsigned_and_hex_match_libc),
		cmocka_unit_test(test_length_modifiers_match_libc),
		cmocka_unit_test(test_short_modifiers_truncate_the_promoted_value_like_libc),
		cmocka_unit_test(test_width_and_flags_match_libc),
		cmocka_unit_test(test_star_width_matches_libc),
		cmocka_unit_test(test_integer_precision_matches_libc),
		cmocka_unit_test(test_sign_and_alternate_flags_match_libc),
		cmocka_unit_test(test_string_width_and_precision_match_libc),
		cmocka_unit_test(test_string_precision_reads_no_further_than_the_precision),
		cmocka_unit_test(test_null_string_prints_null),
		cmocka_unit_test(test_char_conversion_matches_libc),
		cmocka_unit_test(test_nul_char_is_written_and_counted),
		cmocka_unit_test(test_pointer_matches_libc_for_non_null),
		cmocka_unit_test(test_null_pointer_prints_0x0),
		cmocka_unit_test(test_returns_the_full_length_when_truncated),
		cmocka_unit_test(test_capacity_one_gives_an_empty_string),
		cmocka_unit_test(test_capacity_zero_writes_nothing),
		cmocka_unit_test(test_padding_longer_than_a_block_matches_libc),
		cmocka_unit_test(test_unknown_conversion_is_printed_verbatim),
		cmocka_unit_test(test_trailing_percent_is_printed),
		cmocka_unit_test(test_vformat_streams_to_the_sink),
		cmocka_unit_test(test_random_specifications_match_libc),
	};

	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
