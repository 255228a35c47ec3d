/* hv/lib/base64.c: RFC 4648 base64 as cp and upload use it on the console. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/base64.h"

static void test_rfc4648_vectors_encode(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
					  "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char buf[16];
		size_t n = base64_encode((const uint8_t *)in[i], strlen(in[i]), buf);
		assert_int_equal(n, strlen(out[i]));
		assert_memory_equal(buf, out[i], n);
	}
}

static void test_every_byte_value_round_trips(void **state)
{
	uint8_t data[256], back[256];
	char text[BASE64_LEN(256)];
	(void)state;
	for (int len = 0; len <= 256; len += 1) {
		for (int i = 0; i < len; i++)
			data[i] = (uint8_t)(i * 37 + len);
		size_t n = base64_encode(data, (size_t)len, text);
		assert_int_equal(n, BASE64_LEN((size_t)len));
		assert_int_equal(base64_decode(text, n, back, sizeof(back)), len);
		assert_memory_equal(back, data, (size_t)len);
	}
}

static void test_bad_input_is_refused(void **state)
{
	uint8_t out[16];
	(void)state;
	assert_int_equal(base64_decode("Zm9", 3, out, sizeof(out)), -1);      /* not 4k */
	assert_int_equal(base64_decode("Zm9*", 4, out, sizeof(out)), -1);     /* alphabet */
	assert_int_equal(base64_decode("Z===", 4, out, sizeof(out)), -1);     /* padding */
	assert_int_equal(base64_decode("Zg==Zm9v", 8, out, sizeof(out)), -1); /* '=' inside */
	assert_int_equal(base64_decode("Zm=v", 4, out, sizeof(out)), -1);     /* '=' then data */
	assert_int_equal(base64_decode("Zm9vYmFy", 8, out, 5), -1);           /* too small */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors_encode),
		cmocka_unit_test(test_every_byte_value_round_trips),
		cmocka_unit_test(test_bad_input_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
