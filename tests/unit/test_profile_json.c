/* hv/lib/json.c: the streaming tokenizer profiles are read with yields RFC 8259's tokens
 * with their nesting depth, decodes strings and unsigned integers exactly, and stops at the
 * first error with its byte offset. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json.h"

/* Tokenizes exactly strlen(doc) bytes from a heap copy (ASan sees overreads). Fills
 * types[] and depths[] and returns the token count (including the final END/ERROR). */
static size_t tokenize(const char *doc, enum json_token_type *types, uint32_t *depths, size_t max,
		       struct json_lexer *out)
{
	size_t len = strlen(doc);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, doc, len);
	struct json_lexer lx;
	struct json_token t;
	size_t n = 0;
	json_lexer_init(&lx, copy, len);
	while (n < max) {
		enum json_token_type type = json_next(&lx, &t);
		types[n] = type;
		depths[n] = t.depth;
		n++;
		if (type == JSON_END || type == JSON_ERROR)
			break;
	}
	free(copy);
	if (out)
		*out = lx;
	return n;
}

static void expect_error_at(const char *doc, size_t at, const char *why)
{
	enum json_token_type types[256];
	uint32_t depths[256];
	struct json_lexer lx;
	size_t n = tokenize(doc, types, depths, 256, &lx);
	assert_int_equal(types[n - 1], JSON_ERROR);
	assert_int_equal(lx.error_at, at);
	assert_non_null(strstr(lx.error, why));
}

static void test_tokens_of_a_document_come_in_order_with_depth(void **state)
{
	(void)state;
	enum json_token_type types[32];
	uint32_t depths[32];
	size_t n = tokenize(" {\"a\": [1, -2.5e3, \"s\", true, false, null], \"b\": {}} ", types,
			    depths, 32, NULL);
	static const enum json_token_type want[] = {
		JSON_OBJECT_BEGIN, JSON_KEY,        JSON_ARRAY_BEGIN, JSON_NUMBER,
		JSON_NUMBER,       JSON_STRING,     JSON_TRUE,        JSON_FALSE,
		JSON_NULL,         JSON_ARRAY_END,  JSON_KEY,         JSON_OBJECT_BEGIN,
		JSON_OBJECT_END,   JSON_OBJECT_END, JSON_END,
	};
	static const uint32_t want_depth[] = {1, 1, 2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 1, 0, 0};
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(types[i], want[i]);
		assert_int_equal(depths[i], want_depth[i]);
	}
}

static void test_scalar_documents_are_valid_json(void **state)
{
	(void)state;
	enum json_token_type types[4];
	uint32_t depths[4];
	assert_int_equal(tokenize("42", types, depths, 4, NULL), 2);
	assert_int_equal(types[0], JSON_NUMBER);
	assert_int_equal(types[1], JSON_END);
	assert_int_equal(tokenize("\"x\"\n", types, depths, 4, NULL), 2);
	assert_int_equal(types[0], JSON_STRING);
}

static void test_token_spans_point_into_the_text(void **state)
{
	(void)state;
	const char *doc = "{\"key\": \"va\\\"lue\", \"n\": 123}";
	struct json_lexer lx;
	struct json_token t;
	json_lexer_init(&lx, doc, strlen(doc));
	assert_int_equal(json_next(&lx, &t), JSON_OBJECT_BEGIN);
	assert_int_equal(json_next(&lx, &t), JSON_KEY);
	assert_int_equal(t.start, 2);
	assert_int_equal(t.len, 3);
	assert_int_equal(json_next(&lx, &t), JSON_STRING);
	assert_memory_equal(doc + t.start, "va\\\"lue", t.len);
	assert_int_equal(json_next(&lx, &t), JSON_KEY);
	assert_int_equal(json_next(&lx, &t), JSON_NUMBER);
	assert_memory_equal(doc + t.start, "123", t.len);
	assert_int_equal(t.len, 3);
}

static void test_end_and_error_repeat(void **state)
{
	(void)state;
	struct json_lexer lx;
	struct json_token t;
	json_lexer_init(&lx, "[]", 2);
	assert_int_equal(json_next(&lx, &t), JSON_ARRAY_BEGIN);
	assert_int_equal(json_next(&lx, &t), JSON_ARRAY_END);
	assert_int_equal(json_next(&lx, &t), JSON_END);
	assert_int_equal(json_next(&lx, &t), JSON_END);
	json_lexer_init(&lx, "[}", 2);
	assert_int_equal(json_next(&lx, &t), JSON_ARRAY_BEGIN);
	assert_int_equal(json_next(&lx, &t), JSON_ERROR);
	assert_int_equal(json_next(&lx, &t), JSON_ERROR);
	assert_int_equal(lx.error_at, 1);
}

static void test_errors_name_their_byte_offset(void **state)
{
	(void)state;
	expect_error_at("", 0, "unexpected end of input");
	expect_error_at("{\"a\" 1}", 5, "expected ':'");
	expect_error_at("{\"a\": 1,}", 8, "expected a string key");
	expect_error_at("[1,]", 3, "expected a value");
	expect_error_at("[1 2]", 3, "expected ',' or ']'");
	expect_error_at("{\"a\": 1 \"b\"}", 8, "expected ',' or '}'");
	expect_error_at("[1]]", 3, "trailing characters");
	expect_error_at("[tru]", 1, "invalid literal");
	expect_error_at("[007]", 2, "leading zero");
	expect_error_at("[1.]", 3, "after '.'");
	expect_error_at("[1e]", 3, "exponent");
	expect_error_at("[-]", 2, "digit expected");
	expect_error_at("[\"abc", 1, "unterminated string");
	expect_error_at("[\"a\\qb\"]", 3, "bad escape");
	expect_error_at("[\"\\u00G0\"]", 2, "bad \\u escape");
	expect_error_at("[\"a\nb\"]", 3, "control character");
	expect_error_at("[\"\xff\"]", 2, "invalid UTF-8");
	expect_error_at("[\"\xe2\x82\"]", 2, "invalid UTF-8"); /* cut sequence */
}

static void test_nesting_is_limited(void **state)
{
	(void)state;
	char doc[2 * JSON_MAX_DEPTH + 3];
	memset(doc, '[', JSON_MAX_DEPTH);
	memset(doc + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	doc[2 * JSON_MAX_DEPTH] = '\0';
	enum json_token_type types[2 * JSON_MAX_DEPTH + 4];
	uint32_t depths[2 * JSON_MAX_DEPTH + 4];
	size_t n = tokenize(doc, types, depths, 2 * JSON_MAX_DEPTH + 4, NULL);
	assert_int_equal(types[n - 1], JSON_END);

	memset(doc, '[', JSON_MAX_DEPTH + 1);
	memset(doc + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	doc[2 * JSON_MAX_DEPTH + 2] = '\0';
	expect_error_at(doc, JSON_MAX_DEPTH, "nesting deeper");
}

static void test_strings_decode_escapes_to_utf8(void **state)
{
	(void)state;
	const char raw[] = "a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00";
	char out[64];
	size_t n = json_string_decode(raw, sizeof(raw) - 1, out, sizeof(out));
	const char want[] = "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
	assert_int_equal(n, sizeof(want) - 1);
	assert_string_equal(out, want);
}

static void test_decoding_truncates_to_the_buffer_and_reports_the_length(void **state)
{
	(void)state;
	char out[4];
	size_t n = json_string_decode("abcdefgh", 8, out, sizeof(out));
	assert_int_equal(n, 8);
	assert_string_equal(out, "abc");
}

static void test_string_equality_decodes_escapes(void **state)
{
	(void)state;
	assert_true(json_string_equals("t\\u0061sk", 9, "task"));
	assert_true(json_string_equals("", 0, ""));
	assert_false(json_string_equals("task", 4, "tas"));
	assert_false(json_string_equals("tas", 3, "task"));
	assert_false(json_string_equals("tusk", 4, "task"));
}

static void test_unsigned_integers_convert_exactly(void **state)
{
	(void)state;
	uint64_t v = 1;
	assert_int_equal(json_number_u64("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(json_number_u64("129920", 6, &v), 0);
	assert_int_equal(v, 129920);
	assert_int_equal(json_number_u64("18446744073709551615", 20, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(json_number_u64("18446744073709551616", 20, &v), -1);
	assert_int_equal(json_number_u64("-1", 2, &v), -1);
	assert_int_equal(json_number_u64("1.0", 3, &v), -1);
	assert_int_equal(json_number_u64("1e3", 3, &v), -1);
	assert_int_equal(json_number_u64("", 0, &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_of_a_document_come_in_order_with_depth),
		cmocka_unit_test(test_scalar_documents_are_valid_json),
		cmocka_unit_test(test_token_spans_point_into_the_text),
		cmocka_unit_test(test_end_and_error_repeat),
		cmocka_unit_test(test_errors_name_their_byte_offset),
		cmocka_unit_test(test_nesting_is_limited),
		cmocka_unit_test(test_strings_decode_escapes_to_utf8),
		cmocka_unit_test(test_decoding_truncates_to_the_buffer_and_reports_the_length),
		cmocka_unit_test(test_string_equality_decodes_escapes),
		cmocka_unit_test(test_unsigned_integers_convert_exactly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
