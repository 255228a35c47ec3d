/* boot/hvcfg.c: reading \hv\hv.cfg. Every bad line is refused with its line number and a
 * message naming the problem; good files give exactly what they say. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/hvcfg.h"

static struct hv_config cfg;
static struct hvcfg_error err;

static int parse(const char *text)
{
	return hvcfg_parse(text, strlen(text), &cfg, &err);
}

#define MINIMAL "kernel = \\boot\\vmlinuz\nconsole = 0x2f8\n"

static void test_lab_config_is_read_completely(void **state)
{
	(void)state;
	const char *text = "# ctrvisor loader configuration\n"
			   "core = \\hv\\hv.elf\n"
			   "kernel = \\boot\\vmlinuz\n"
			   "initrd = \\boot\\initrd.img\n"
			   "cmdline = console=ttyS0,115200 quiet iomem=relaxed\n"
			   "console = 0x2f8\n"
			   "baud = 115200\n"
			   "allow_unprotected = no\n"
			   "profile = \\hv\\6.1.0-56-amd64.json\n";
	assert_int_equal(parse(text), 0);
	assert_string_equal(cfg.profile, "\\hv\\6.1.0-56-amd64.json");
	assert_string_equal(cfg.core, "\\hv\\hv.elf");
	assert_string_equal(cfg.kernel, "\\boot\\vmlinuz");
	assert_string_equal(cfg.initrd, "\\boot\\initrd.img");
	assert_string_equal(cfg.cmdline, "console=ttyS0,115200 quiet iomem=relaxed");
	assert_int_equal(cfg.console_port, 0x2f8);
	assert_int_equal(cfg.baud, 115200);
	assert_false(cfg.allow_unprotected);
}

static void test_defaults_apply_when_keys_are_absent(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0);
	assert_string_equal(cfg.core, "\\hv\\hv.elf");
	assert_string_equal(cfg.initrd, "");
	assert_string_equal(cfg.profile, "");
	assert_string_equal(cfg.cmdline, "");
	assert_int_equal(cfg.baud, 115200);
	assert_int_equal(cfg.memory_mb, 48);
	assert_false(cfg.allow_unprotected);
}

static void test_crlf_bom_blank_lines_and_spaces_are_accepted(void **state)
{
	(void)state;
	assert_int_equal(parse("\xEF\xBB\xBF\r\n  # comment\r\n\tkernel\t=\t\\k  \r\n\r\n"
			       "console=COM1\r\n"),
			 0);
	assert_string_equal(cfg.kernel, "\\k");
	assert_int_equal(cfg.console_port, 0x3f8);
}

static void test_console_accepts_com_names_hex_and_decimal(void **state)
{
	(void)state;
	assert_int_equal(parse("kernel=\\k\nconsole=COM3\n"), 0);
	assert_int_equal(cfg.console_port, 0x3e8);
	assert_int_equal(parse("kernel=\\k\nconsole=760\n"), 0);
	assert_int_equal(cfg.console_port, 0x2f8);
}

static void test_unknown_key_is_refused_with_its_line(void **state)
{
	(void)state;
	assert_int_equal(parse("kernel = \\k\nkernal = \\k\nconsole = 0x2f8\n"), -1);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.message, "unknown key 'kernal'"));
}

static void test_line_without_equals_is_refused(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL "just words\n"), -1);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "key = value"));
}

static void test_duplicate_key_is_refused(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL "kernel = \\other\n"), -1);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.message, "twice"));
}

static void test_missing_kernel_or_console_is_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("console = 0x2f8\n"), -1);
	assert_non_null(strstr(err.message, "kernel"));
	assert_int_equal(parse("kernel = \\k\n"), -1);
	assert_non_null(strstr(err.message, "console"));
}

static void test_bad_console_ports_are_refused(void **state)
{
	(void)state;
	const char *bad[] = {"0", "0x2f9", "0xfffff", "COM9", "-8", "0x", "12abc", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "kernel=\\k\nconsole=%s\n", bad[i]);
		assert_int_equal(parse(text), -1);
		assert_int_equal(err.line, 2);
		assert_non_null(strstr(err.message, "console"));
	}
}

static void test_paths_must_be_volume_paths(void **state)
{
	(void)state;
	assert_int_equal(parse("kernel = boot/vmlinuz\nconsole=COM2\n"), -1);
	assert_int_equal(err.line, 1);
	assert_int_equal(parse("kernel = \\boot/vmlinuz\nconsole=COM2\n"), -1);
	assert_int_equal(parse("kernel = \\a b\nconsole=COM2\n"), -1);
}

static void test_overlong_values_are_refused_not_truncated(void **state)
{
	(void)state;
	char text[2048];
	char path[300];
	memset(path, 'a', sizeof(path));
	path[0] = '\\';
	path[sizeof(path) - 1] = 0;
	snprintf(text, sizeof(text), "kernel = %s\nconsole=COM2\n", path);
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err.message, "longer"));

	char cmd[1100];
	memset(cmd, 'c', sizeof(cmd));
	cmd[sizeof(cmd) - 1] = 0;
	snprintf(text, sizeof(text), MINIMAL "cmdline = %s\n", cmd);
	assert_int_equal(parse(text), -1);
	assert_int_equal(err.line, 3);
}

static void test_binary_bytes_are_refused(void **state)
{
	(void)state;
	const char text[] = "kernel = \\k\nconsole = 0x2f8\ncmdline = a\0b\n";
	assert_int_equal(hvcfg_parse(text, sizeof(text) - 1, &cfg, &err), -1);
	assert_int_equal(err.line, 3);
	assert_int_equal(parse(MINIMAL "cmdline = caf\xc3\xa9\n"), -1);
}

static void test_bad_numbers_and_booleans_are_refused(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL "baud = 12345\n"), -1);
	assert_int_equal(parse(MINIMAL "baud = 99999999999999999999999\n"), -1);
	assert_int_equal(parse(MINIMAL "memory_mb = 2\n"), -1);
	assert_int_equal(parse(MINIMAL "memory_mb = 4096\n"), -1);
	assert_int_equal(parse(MINIMAL "allow_unprotected = maybe\n"), -1);
	assert_int_equal(parse(MINIMAL "allow_unprotected = yes\nbaud = 9600\nmemory_mb = 32\n"),
			 0);
	assert_true(cfg.allow_unprotected);
	assert_int_equal(cfg.baud, 9600);
	assert_int_equal(cfg.memory_mb, 32);
}

static void test_protection_settings(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0); /* the defaults */
	assert_int_equal(cfg.protect, HVCFG_PROTECT_ENFORCE);
	assert_false(cfg.allow_tracing);
	assert_int_equal(cfg.integrity_period_s, 5);
	assert_int_equal(parse(MINIMAL "protect = detect\nallow_tracing = yes\n"
				       "integrity_period = 0\n"),
			 0);
	assert_int_equal(cfg.protect, HVCFG_PROTECT_DETECT);
	assert_true(cfg.allow_tracing);
	assert_int_equal(cfg.integrity_period_s, 0);
	assert_int_equal(parse(MINIMAL "protect = off\n"), 0);
	assert_int_equal(cfg.protect, HVCFG_PROTECT_OFF);
	assert_int_equal(parse(MINIMAL "protect = enforcing\n"), -1);
	assert_non_null(strstr(err.message, "enforce, detect or off"));
	assert_int_equal(parse(MINIMAL "allow_tracing = sometimes\n"), -1);
	assert_int_equal(parse(MINIMAL "integrity_period = 3601\n"), -1);
	assert_int_equal(parse(MINIMAL "integrity_period = -1\n"), -1);
}

/* helper: auto (the default) or manual; anything else names the key and the choices. */
static void test_helper_mode(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0);
	assert_false(cfg.helper_manual);
	assert_int_equal(parse(MINIMAL "helper = manual\n"), 0);
	assert_true(cfg.helper_manual);
	assert_int_equal(parse(MINIMAL "helper = auto\n"), 0);
	assert_false(cfg.helper_manual);
	assert_int_equal(parse(MINIMAL "helper = yes\n"), -1);
	assert_non_null(strstr(err.message, "helper: expected auto or manual"));
	assert_int_equal(parse(MINIMAL "helper = manual\nhelper = auto\n"), -1);
}

/* operator_key: the 130 hex digits hvctl keygen writes (an uncompressed point, 04...);
 * absent, the channel takes nothing. */
#define OP_KEY                                                                                     \
	"042e0cd2552056266ef08129616c17af785de93b53494702d7fdba4c2bbb4ef238203b892bf3f3dceb35b2e4" \
	"3"                                                                                        \
	"463f25f6ed60f2f7e8eaa93a0c95f69a640cc98a4"
static void test_operator_key(void **state)
{
	(void)state;
	assert_int_equal(parse(MINIMAL), 0);
	assert_false(cfg.operator_key_set);
	assert_int_equal(parse(MINIMAL "operator_key = " OP_KEY "\n"), 0);
	assert_true(cfg.operator_key_set);
	assert_int_equal(cfg.operator_key[0], 0x04);
	assert_int_equal(cfg.operator_key[1], 0x2e);
	assert_int_equal(cfg.operator_key[64], 0xa4);
	assert_int_equal(parse(MINIMAL "operator_key = 02" OP_KEY "\n"), -1); /* too long */
	assert_non_null(strstr(err.message, "130 hex digits"));
	char text[sizeof(MINIMAL) + 200];
	snprintf(text, sizeof(text), MINIMAL "operator_key = 03%s\n", OP_KEY + 2);
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err.message, "begin with 04"));
	snprintf(text, sizeof(text), MINIMAL "operator_key = 04zz%s\n", OP_KEY + 4);
	assert_int_equal(parse(text), -1);
	assert_non_null(strstr(err.message, "not a hex digit at 2"));
}

static void test_parser_never_reads_past_the_length(void **state)
{
	(void)state;
	/* The text is not NUL-terminated: a heap buffer of exactly its length (ASan
	 * catches any read beyond). */
	const char src[] = MINIMAL "cmdline = x";
	char *buf = malloc(sizeof(src) - 1);
	memcpy(buf, src, sizeof(src) - 1);
	assert_int_equal(hvcfg_parse(buf, sizeof(src) - 1, &cfg, &err), 0);
	assert_string_equal(cfg.cmdline, "x");
	free(buf);
}

static void test_huge_file_is_refused(void **state)
{
	(void)state;
	size_t n = HVCFG_FILE_MAX + 1;
	char *buf = calloc(1, n);
	memset(buf, '\n', n);
	assert_int_equal(hvcfg_parse(buf, n, &cfg, &err), -1);
	assert_int_equal(err.line, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_config_is_read_completely),
		cmocka_unit_test(test_defaults_apply_when_keys_are_absent),
		cmocka_unit_test(test_crlf_bom_blank_lines_and_spaces_are_accepted),
		cmocka_unit_test(test_console_accepts_com_names_hex_and_decimal),
		cmocka_unit_test(test_unknown_key_is_refused_with_its_line),
		cmocka_unit_test(test_line_without_equals_is_refused),
		cmocka_unit_test(test_duplicate_key_is_refused),
		cmocka_unit_test(test_missing_kernel_or_console_is_refused),
		cmocka_unit_test(test_bad_console_ports_are_refused),
		cmocka_unit_test(test_paths_must_be_volume_paths),
		cmocka_unit_test(test_overlong_values_are_refused_not_truncated),
		cmocka_unit_test(test_binary_bytes_are_refused),
		cmocka_unit_test(test_bad_numbers_and_booleans_are_refused),
		cmocka_unit_test(test_protection_settings),
		cmocka_unit_test(test_helper_mode),
		cmocka_unit_test(test_operator_key),
		cmocka_unit_test(test_parser_never_reads_past_the_length),
		cmocka_unit_test(test_huge_file_is_refused),
	};
	return cmocka_run_group_tests_name("hvcfg", tests, NULL, NULL);
}
