/* tools/hvctl/keys.c: the operator's key files as `hvctl keygen` makes them and hvctl
 * reads them back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/hex.h"
#include "tools/hvctl/keys.h"

static char dir[64], key[128], pub_path[160];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_keys.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/op", dir);
	snprintf(pub_path, sizeof(pub_path), "%s/op.pub", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(key);
	unlink(pub_path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *path, mode_t mode, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_keygen_writes_a_secret_private_key_and_its_public_line(void **state)
{
	uint8_t pub[CHAN_PUBKEY_LEN], priv[CHAN_PRIVKEY_LEN], again[CHAN_PUBKEY_LEN];
	char why[256], line[512], hex[2 * CHAN_PUBKEY_LEN + 1];
	struct stat st;
	(void)state;
	assert_int_equal(keys_generate(key, pub, why, sizeof(why)), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), 0);
	assert_int_equal(chan_public_key(priv, again), 0);
	assert_memory_equal(again, pub, sizeof(pub));
	FILE *f = fopen(pub_path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	hex_encode(pub, sizeof(pub), hex);
	assert_true(strncmp(line, "operator_key = ", 15) == 0);
	assert_memory_equal(line + 15, hex, strlen(hex));
	/* never over an existing key */
	assert_int_equal(keys_generate(key, pub, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "exists"));
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), 0);
	assert_memory_equal(again, pub, sizeof(pub)); /* the same key as before */
}

static void test_a_private_key_others_may_read_is_refused(void **state)
{
	uint8_t pub[CHAN_PUBKEY_LEN], priv[CHAN_PRIVKEY_LEN];
	char why[256];
	(void)state;
	assert_int_equal(keys_generate(key, pub, why, sizeof(why)), 0);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "readable by others"));
}

static void test_malformed_key_files_are_refused(void **state)
{
	uint8_t priv[CHAN_PRIVKEY_LEN];
	char why[256];
	(void)state;
	write_file(key, 0600, "nothing here\n");
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no \""));
	unlink(key);
	write_file(key, 0600, KEYS_PRIVATE_TAG "12zz\n");
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "hex digits"));
	unlink(key);
	/* 0 is no private key */
	write_file(key, 0600,
		   KEYS_PRIVATE_TAG
		   "0000000000000000000000000000000000000000000000000000000000000000\n");
	assert_int_equal(keys_load_private(key, priv, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a valid"));
	assert_int_equal(keys_load_private("/nonexistent/key", priv, why, sizeof(why)), -1);
}

static void test_hex_round_trips_and_refuses_bad_digits(void **state)
{
	uint8_t in[3] = {0x00, 0xab, 0xff}, out[3];
	char hex[7];
	(void)state;
	hex_encode(in, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_int_equal(hex_decode("00ABff", 6, out, 3, NULL), 0);
	assert_memory_equal(out, in, 3);
	assert_int_equal(hex_decode("00abf", 5, out, 3, NULL), -1);
	assert_int_equal(hex_decode("00abfg", 6, out, 3, NULL), -1);
}

#define RFC6979_PUB                                                                                \
	"0460FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"                       \
	"7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"

static int pair_of(const char *json, uint8_t key[CHAN_PUBKEY_LEN], char *why)
{
	return pair_monitor_key(json, strlen(json), key, why, 256);
}

static void test_pair_takes_the_monitor_key_of_the_channel_only(void **state)
{
	uint8_t key[CHAN_PUBKEY_LEN];
	char why[256];
	(void)state;
	assert_int_equal(pair_of("{\"name\":\"x\",\"channel\":{\"operator_key_sha256\":null,"
				 "\"monitor_key\":\"" RFC6979_PUB "\",\"entropy\":\"RDRAND\"}}",
				 key, why),
			 0);
	assert_int_equal(key[0], 0x04);
	assert_int_equal(key[1], 0x60);
	assert_int_equal(key[64], 0x99);
	/* a monitor_key outside "channel" (a guest string in another member, say) is not it */
	assert_int_equal(pair_of("{\"monitor_key\":\"" RFC6979_PUB "\",\"channel\":{}}", key, why),
			 -1);
	assert_non_null(strstr(why, "names no monitor key"));
	assert_int_equal(pair_of("{\"channel\":{\"monitor_key\":null}}", key, why), -1);
	assert_non_null(strstr(why, "no channel key"));
	/* off the curve, or not hex */
	char bad[512];
	snprintf(bad, sizeof(bad), "{\"channel\":{\"monitor_key\":\"%.129s0\"}}", RFC6979_PUB);
	assert_int_equal(pair_of(bad, key, why), -1);
	assert_non_null(strstr(why, "not a P-256 point"));
	assert_int_equal(pair_of("{\"channel\":{\"monitor_key\":\"04zz\"}}", key, why), -1);
	assert_int_equal(pair_of("not json", key, why), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_keygen_writes_a_secret_private_key_and_its_public_line, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_a_private_key_others_may_read_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_key_files_are_refused, setup,
						teardown),
		cmocka_unit_test(test_hex_round_trips_and_refuses_bad_digits),
		cmocka_unit_test(test_pair_takes_the_monitor_key_of_the_channel_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
