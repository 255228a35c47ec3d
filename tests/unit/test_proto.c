/* hv/console/proto.c: the reply status line, as the monitor writes it and hvctl reads it
 * (docs/console-protocol.md, "Replies"). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "console/proto.h"

static const enum proto_error all_errors[] = {
	PROTO_OK,        PROTO_UNKNOWN_VERB, PROTO_BAD_ARGUMENT, PROTO_LINE_TOO_LONG,
	PROTO_BAD_INPUT, PROTO_LINE_LOST,    PROTO_BUSY,         PROTO_FAILED,
};

static void test_error_names_are_the_documented_kinds(void **state)
{
	(void)state;
	assert_string_equal(proto_error_name(PROTO_OK), "ok");
	assert_string_equal(proto_error_name(PROTO_UNKNOWN_VERB), "unknown-verb");
	assert_string_equal(proto_error_name(PROTO_BAD_ARGUMENT), "bad-argument");
	assert_string_equal(proto_error_name(PROTO_LINE_TOO_LONG), "line-too-long");
	assert_string_equal(proto_error_name(PROTO_BAD_INPUT), "bad-input");
	assert_string_equal(proto_error_name(PROTO_LINE_LOST), "line-lost");
	assert_string_equal(proto_error_name(PROTO_BUSY), "busy");
	assert_string_equal(proto_error_name(PROTO_FAILED), "failed");
}

static void test_error_name_out_of_range_is_failed(void **state)
{
	(void)state;
	assert_string_equal(proto_error_name((enum proto_error)99), "failed");
	assert_string_equal(proto_error_name((enum proto_error) - 1), "failed");
}

static void test_format_ok_without_tag(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(proto_format_status(buf, sizeof(buf), PROTO_OK, "ignored", NULL), 4);
	assert_string_equal(buf, "= ok");
}

static void test_format_ok_with_tag(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(proto_format_status(buf, sizeof(buf), PROTO_OK, NULL, "a1_-Z"), 11);
	assert_string_equal(buf, "= ok @a1_-Z");
}

static void test_format_error_with_message_and_tag(void **state)
{
	char buf[128];

	(void)state;
	proto_format_status(buf, sizeof(buf), PROTO_UNKNOWN_VERB,
			    "unknown verb \"frob\"; \"help\" lists the verbs", "x9");
	assert_string_equal(
		buf, "= error unknown-verb: unknown verb \"frob\"; \"help\" lists the verbs @x9");
}

static void test_format_error_without_message_says_what_the_kind_means(void **state)
{
	char buf[128];

	(void)state;
	proto_format_status(buf, sizeof(buf), PROTO_BUSY, NULL, NULL);
	assert_string_equal(buf, "= error busy: busy, try again");
	proto_format_status(buf, sizeof(buf), PROTO_FAILED, "", "t");
	assert_string_equal(buf, "= error failed: failed @t");
}

static void test_format_leaves_out_an_invalid_tag(void **state)
{
	char buf[128];

	(void)state;
	proto_format_status(buf, sizeof(buf), PROTO_OK, NULL, "");
	assert_string_equal(buf, "= ok");
	proto_format_status(buf, sizeof(buf), PROTO_OK, NULL, "bad tag");
	assert_string_equal(buf, "= ok");
	proto_format_status(buf, sizeof(buf), PROTO_OK, NULL, "x0123456789abcdef"); /* 17 */
	assert_string_equal(buf, "= ok");
}

static void test_format_replaces_bytes_that_would_break_the_line(void **state)
{
	char buf[128];

	(void)state;
	proto_format_status(buf, sizeof(buf), PROTO_FAILED, "a\r\nb\x01\x7f\xff\tc", NULL);
	assert_string_equal(buf, "= error failed: a??b??? c");
}

static void test_format_message_ending_like_a_tag_gets_a_dot(void **state)
{
	char buf[128];
	struct proto_status st;

	(void)state;
	proto_format_status(buf, sizeof(buf), PROTO_FAILED, "cannot reach @host1", NULL);
	assert_string_equal(buf, "= error failed: cannot reach @host1.");
	assert_int_equal(proto_parse_status(buf, &st), 1);
	assert_string_equal(st.tag, "");

	proto_format_status(buf, sizeof(buf), PROTO_FAILED, "@x", "t");
	assert_int_equal(proto_parse_status(buf, &st), 1);
	assert_string_equal(st.tag, "t");
	assert_string_equal(st.message, "@x.");
}

static void test_format_truncates_the_message_and_keeps_the_tag(void **state)
{
	char msg[400], buf[60];
	struct proto_status st;
	size_t n;

	(void)state;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	n = proto_format_status(buf, sizeof(buf), PROTO_FAILED, msg, "tag7");
	assert_int_equal(n, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), n);
	assert_int_equal(proto_parse_status(buf, &st), 1);
	assert_string_equal(st.tag, "tag7");
	assert_int_equal(st.error, PROTO_FAILED);
}

static void test_format_truncation_cannot_expose_a_tag_like_end(void **state)
{
	/* Cut right after "@ab", the message would end like a tag. */
	const char *msg = "see @abcdef for details";
	char buf[64];
	struct proto_status st;

	(void)state;
	for (size_t cap = 17; cap < 40; cap++) {
		proto_format_status(buf, cap, PROTO_FAILED, msg, NULL);
		assert_true(strlen(buf) < cap);
		if (proto_parse_status(buf, &st))
			assert_string_equal(st.tag, "");
	}
}

static void test_format_never_writes_past_a_tiny_buffer(void **state)
{
	char buf[8];

	(void)state;
	for (size_t cap = 1; cap <= sizeof(buf); cap++) {
		memset(buf, 'X', sizeof(buf));
		size_t n = proto_format_status(buf, cap, PROTO_BAD_ARGUMENT, "message", "tag");
		assert_true(n < cap);
		assert_int_equal(buf[n], '\0');
		for (size_t i = cap; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 'X');
	}
	assert_int_equal(proto_format_status(buf, 0, PROTO_OK, NULL, NULL), 0);
}

static void test_longest_status_fits_proto_status_max(void **state)
{
	char msg[PROTO_MESSAGE_MAX + 1], buf[PROTO_STATUS_MAX + 1];

	(void)state;
	memset(msg, 'a', PROTO_MESSAGE_MAX);
	msg[PROTO_MESSAGE_MAX] = '\0';
	assert_int_equal(
		proto_format_status(buf, sizeof(buf), PROTO_LINE_TOO_LONG, msg, "0123456789abcdef"),
		23 + PROTO_MESSAGE_MAX + 2 + 16);
	/* A message ending in a tag-like word needs the '.' too. */
	memcpy(msg + PROTO_MESSAGE_MAX - 3, " @x", 3);
	assert_int_equal(
		proto_format_status(buf, sizeof(buf), PROTO_LINE_TOO_LONG, msg, "0123456789abcdef"),
		PROTO_STATUS_MAX);
}

static void test_parse_ok(void **state)
{
	struct proto_status st;

	(void)state;
	assert_int_equal(proto_parse_status("= ok", &st), 1);
	assert_int_equal(st.error, PROTO_OK);
	assert_string_equal(st.tag, "");
	assert_string_equal(st.message, "");
}

static void test_parse_ok_with_tag(void **state)
{
	struct proto_status st;

	(void)state;
	assert_int_equal(proto_parse_status("= ok @abc-1", &st), 1);
	assert_int_equal(st.error, PROTO_OK);
	assert_string_equal(st.tag, "abc-1");
}

static void test_parse_error_with_tag(void **state)
{
	struct proto_status st;

	(void)state;
	assert_int_equal(proto_parse_status("= error bad-argument: unexpected \"-x\" @q", &st), 1);
	assert_int_equal(st.error, PROTO_BAD_ARGUMENT);
	assert_string_equal(st.message, "unexpected \"-x\"");
	assert_string_equal(st.tag, "q");
}

static void test_parse_ignores_the_line_end(void **state)
{
	struct proto_status st;

	(void)state;
	assert_int_equal(proto_parse_status("= ok @t\r\n", &st), 1);
	assert_string_equal(st.tag, "t");
	assert_int_equal(proto_parse_status("= error busy: later\r", &st), 1);
	assert_string_equal(st.message, "later");
}

static void test_format_and_parse_round_trip_for_every_kind(void **state)
{
	static const char *const tags[] = {NULL, "t", "ABCdef012_-xyz99"};
	char buf[PROTO_STATUS_MAX + 1];
	struct proto_status st;

	(void)state;
	for (size_t e = 0; e < sizeof(all_errors) / sizeof(all_errors[0]); e++) {
		for (size_t t = 0; t < sizeof(tags) / sizeof(tags[0]); t++) {
			proto_format_status(buf, sizeof(buf), all_errors[e], "it: went @ wrong",
					    tags[t]);
			assert_int_equal(proto_parse_status(buf, &st), 1);
			assert_int_equal(st.error, all_errors[e]);
			assert_string_equal(st.tag, tags[t] != NULL ? tags[t] : "");
			assert_string_equal(st.message,
					    all_errors[e] == PROTO_OK ? "" : "it: went @ wrong");
		}
	}
}

static void test_parse_reads_an_unknown_kind_as_failed(void **state)
{
	struct proto_status st;

	(void)state;
	assert_int_equal(proto_parse_status("= error out-of-cheese: redo from start @z", &st), 1);
	assert_int_equal(st.error, PROTO_FAILED);
	assert_string_equal(st.message, "out-of-cheese: redo from start");
	assert_string_equal(st.tag, "z");
}

static void test_parse_truncates_a_long_message(void **state)
{
	char line[400];
	struct proto_status st;

	(void)state;
	strcpy(line, "= error failed: ");
	memset(line + strlen(line), 'w', 300);
	line[16 + 300] = '\0';
	strcat(line, " @end");
	assert_int_equal(proto_parse_status(line, &st), 1);
	assert_int_equal(strlen(st.message), PROTO_MESSAGE_MAX);
	assert_string_equal(st.tag, "end");
}

static void test_parse_rejects_lines_that_are_not_status_lines(void **state)
{
	static const char *const bad[] = {
		"",
		"=",
		"= ",
		"=ok",
		" = ok",
		"ok",
		"= OK",
		"= okay",
		"= ok extra",
		"= ok @",
		"= ok @x0123456789abcdef", /* a 17-character tag is no tag */
		"= ok @bad!",
		"= ok  @t ",
		"= error",
		"= error ",
		"= error failed",
		"= error failed x",
		"= error : x",
		"= error Failed: x",
		"= error bad argument: x",
		"= errors failed: x",
		"body line",
		"== ok",
	};
	struct proto_status st;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (proto_parse_status(bad[i], &st) != 0)
			fail_msg("\"%s\" was taken for a status line", bad[i]);
	}
}

static void test_tag_validity(void **state)
{
	(void)state;
	assert_true(proto_tag_valid("a"));
	assert_true(proto_tag_valid("Az09_-"));
	assert_true(proto_tag_valid("0123456789abcdef"));
	assert_false(proto_tag_valid(NULL));
	assert_false(proto_tag_valid(""));
	assert_false(proto_tag_valid("0123456789abcdefg"));
	assert_false(proto_tag_valid("a b"));
	assert_false(proto_tag_valid("@a"));
	assert_false(proto_tag_valid("a.b"));
	assert_false(proto_tag_valid("\xc3\xa9"));
}

/* A log line: the prefix unless it has it; the line ends around it dropped and one put at
 * its end; line ends inside it (from a guest string) and control bytes become '?'. */
static void test_a_log_line_is_one_line_with_the_prefix(void **state)
{
	char buf[128];
	(void)state;
	const char *in = "\r\nctrvisor: stopped\r\n";
	assert_int_equal(proto_format_log(buf, sizeof(buf), in, strlen(in)), 19);
	assert_string_equal(buf, "ctrvisor: stopped\r\n");
	in = "guest: rip=1\r\n";
	proto_format_log(buf, sizeof(buf), in, strlen(in));
	assert_string_equal(buf, "ctrvisor: guest: rip=1\r\n");
	in = "ctrvisor: task x\r\n~AAAA\nctrvisor: ok\r= ok @t\x1b[2J\tz\r\n";
	proto_format_log(buf, sizeof(buf), in, strlen(in));
	assert_string_equal(buf, "ctrvisor: task x??~AAAA?ctrvisor: ok?= ok @t?[2J z\r\n");
	assert_int_equal(proto_format_log(buf, sizeof(buf), "\r\n\r\n", 4), 0);
	assert_string_equal(buf, "");
	assert_true(proto_is_log_line("ctrvisor: x", 11));
	assert_false(proto_is_log_line("ctrvisor:", 9));
	assert_false(proto_is_log_line(" ctrvisor: ", 11));
}

/* Cut to fit, its line end kept; never past the buffer. */
static void test_a_log_line_is_cut_to_fit_with_its_end(void **state)
{
	char buf[32];
	(void)state;
	const char *in = "one two three four five six seven eight\r\n";
	size_t n = proto_format_log(buf, 20, in, strlen(in));
	assert_int_equal(n, 19);
	assert_string_equal(buf, "ctrvisor: one two\r\n");
	assert_int_equal(proto_format_log(buf, 13, in, strlen(in)), 12);
	assert_string_equal(buf, "ctrvisor: \r\n");
	assert_int_equal(proto_format_log(buf, 12, in, strlen(in)), 0);
	assert_int_equal(proto_format_log(buf, 0, in, strlen(in)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names_are_the_documented_kinds),
		cmocka_unit_test(test_error_name_out_of_range_is_failed),
		cmocka_unit_test(test_format_ok_without_tag),
		cmocka_unit_test(test_format_ok_with_tag),
		cmocka_unit_test(test_format_error_with_message_and_tag),
		cmocka_unit_test(test_format_error_without_message_says_what_the_kind_means),
		cmocka_unit_test(test_format_leaves_out_an_invalid_tag),
		cmocka_unit_test(test_format_replaces_bytes_that_would_break_the_line),
		cmocka_unit_test(test_format_message_ending_like_a_tag_gets_a_dot),
		cmocka_unit_test(test_format_truncates_the_message_and_keeps_the_tag),
		cmocka_unit_test(test_format_truncation_cannot_expose_a_tag_like_end),
		cmocka_unit_test(test_format_never_writes_past_a_tiny_buffer),
		cmocka_unit_test(test_longest_status_fits_proto_status_max),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_ok_with_tag),
		cmocka_unit_test(test_parse_error_with_tag),
		cmocka_unit_test(test_parse_ignores_the_line_end),
		cmocka_unit_test(test_format_and_parse_round_trip_for_every_kind),
		cmocka_unit_test(test_parse_reads_an_unknown_kind_as_failed),
		cmocka_unit_test(test_parse_truncates_a_long_message),
		cmocka_unit_test(test_parse_rejects_lines_that_are_not_status_lines),
		cmocka_unit_test(test_tag_validity),
		cmocka_unit_test(test_a_log_line_is_one_line_with_the_prefix),
		cmocka_unit_test(test_a_log_line_is_cut_to_fit_with_its_end),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
