/* tools/mkprofile/kallsyms.c over a synthetic .rodata written the way Linux's
 * scripts/kallsyms.c writes its tables (8-byte aligned, in order: offsets, relative_base,
 * num_syms, names, markers, [seqs_of_names], token_table, token_index), with other data
 * around it that holds the digits' run too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kallsyms.h"

#define VA     0xffffffff82000000ull
#define BASE   0xffffffff81000000ull
#define NSYMS  1300u /* more than NUM_SYMS_MIN, six markers */
#define RO_MAX (1u << 20)

static uint8_t ro[RO_MAX];
static size_t len;

static size_t align8(size_t x)
{
	return (x + 7u) & ~(size_t)7u;
}

static void put(const void *p, size_t n)
{
	memcpy(ro + len, p, n);
	len += n;
}

/* Token t (0-255): the one-character token for printable bytes, else a two-letter one.
 * Every name is spelled with one-character tokens only (enough for the test). */
static void token(unsigned int t, char *out)
{
	if (t >= 0x20 && t < 0x7f) {
		out[0] = (char)t;
		out[1] = 0;
	} else {
		out[0] = 'A' + (char)(t % 26);
		out[1] = 'a' + (char)(t / 26);
		out[2] = 0;
	}
}

static void sym_name(unsigned int i, char *out)
{
	if (i == 7)
		strcpy(out, "entry_SYSCALL_64");
	else if (i == 1100)
		strcpy(out, "init_task");
	else
		sprintf(out, "sym_%u", i);
}

static uint64_t sym_addr(unsigned int i)
{
	return i == 3 ? 0x1000u /* a per-CPU symbol: absolute */ : BASE + 0x40u * i;
}

/* Builds the image; `seqs`: with kallsyms_seqs_of_names. */
static void build(bool seqs)
{
	memset(ro, 0, sizeof(ro));
	len = 0;
	/* Unrelated data before, with a decoy digits' run. */
	put("xx0\0"
	    "1\0"
	    "2\0"
	    "3\0"
	    "4\0"
	    "5\0"
	    "6\0"
	    "7\0"
	    "8\0"
	    "9\0",
	    22);
	len = align8(len + 100);
	for (unsigned int i = 0; i < NSYMS; i++) {
		uint64_t a = sym_addr(i);
		int32_t off = a < BASE ? (int32_t)a : (int32_t)(-(int64_t)(a - BASE) - 1);
		put(&off, 4);
	}
	len = align8(len);
	uint64_t base = BASE;
	put(&base, 8);
	uint32_t n = NSYMS;
	put(&n, 4);
	len = align8(len);
	size_t names = len;
	uint32_t markers[(NSYMS + 255) / 256];
	for (unsigned int i = 0; i < NSYMS; i++) {
		if (i % 256 == 0)
			markers[i / 256] = (uint32_t)(len - names);
		char nm[64];
		sym_name(i, nm);
		size_t l = strlen(nm) + 1; /* the type letter first */
		uint8_t lb = (uint8_t)l;
		put(&lb, 1);
		uint8_t type = i == 3 ? 'D' : 'T';
		put(&type, 1);
		put(nm, l - 1);
	}
	len = align8(len);
	put(markers, sizeof(markers));
	len = align8(len);
	if (seqs) {
		len += 3u * NSYMS; /* contents do not matter here */
		len = align8(len);
	}
	size_t tt = len;
	uint16_t index[256];
	for (unsigned int t = 0; t < 256; t++) {
		char tok[4];
		token(t, tok);
		index[t] = (uint16_t)(len - tt);
		put(tok, strlen(tok) + 1);
	}
	len = align8(len);
	put(index, sizeof(index));
	put("trailing data", 14);
}

static void expect_symbols(void)
{
	struct kallsyms k;
	char why[160];
	assert_true(kallsyms_find(ro, len, VA, &k, why, sizeof(why)));
	assert_int_equal(k.num_syms, NSYMS);
	assert_int_equal(k.relative_base, BASE);
	uint64_t a;
	assert_true(kallsyms_lookup(&k, "entry_SYSCALL_64", &a));
	assert_int_equal(a, sym_addr(7));
	assert_true(kallsyms_lookup(&k, "init_task", &a));
	assert_int_equal(a, sym_addr(1100));
	assert_false(kallsyms_lookup(&k, "no_such_symbol", &a));
	/* every symbol in order, with its type; the per-CPU one absolute */
	size_t pos = 0;
	uint32_t i = 0;
	char name[KALLSYMS_NAME_MAX], type, want[64];
	while (kallsyms_next(&k, &pos, &i, name, &type, &a)) {
		sym_name(i - 1, want);
		assert_string_equal(name, want);
		assert_int_equal(a, sym_addr(i - 1));
		assert_int_equal(type, i - 1 == 3 ? 'D' : 'T');
	}
	assert_int_equal(i, NSYMS);
}

static void test_tables_with_seqs_of_names_as_in_debians_6_1(void **state)
{
	(void)state;
	build(true);
	expect_symbols();
}

static void test_tables_without_seqs_of_names_as_before_6_2(void **state)
{
	(void)state;
	build(false);
	expect_symbols();
}

static void test_damaged_tables_are_refused_with_a_reason(void **state)
{
	(void)state;
	struct kallsyms k;
	char why[160];
	build(true);
	assert_true(kallsyms_find(ro, len, VA, &k, why, sizeof(why)));
	size_t tt = k.token_table;
	uint32_t num = 0;
	memcpy(ro + k.names - 8, &num, 4); /* num_syms wiped */
	assert_false(kallsyms_find(ro, len, VA, &k, why, sizeof(why)));
	assert_non_null(strstr(why, "no num_syms"));
	/* no token table at all */
	memset(ro + tt, 0, 300);
	assert_false(kallsyms_find(ro, len, VA, &k, why, sizeof(why)));
	assert_non_null(strstr(why, "no kallsyms token table"));
	/* truncated section: nothing read past it (ASan) */
	build(true);
	assert_false(kallsyms_find(ro, tt + 10, VA, &k, why, sizeof(why)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables_with_seqs_of_names_as_in_debians_6_1),
		cmocka_unit_test(test_tables_without_seqs_of_names_as_before_6_2),
		cmocka_unit_test(test_damaged_tables_are_refused_with_a_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
