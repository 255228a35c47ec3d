/* hv/console/cmd.c: running a request through a verb table and writing its reply
 * (docs/console-protocol.md). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "console/cmd.h"
#include "console/line.h"

/* Everything the console would have sent. */
static char out[8192];
static size_t out_len;

static void capture(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	assert_true(out_len + n < sizeof(out));
	memcpy(out + out_len, s, n);
	out_len += n;
	out[out_len] = '\0';
}

static int run_echo(struct reply *r, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		reply_line(r, "%d:%s", i, argv[i]);
	assert_null(argv[argc]);
	return 0;
}

static int run_broken(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(r, "partial work");
	return reply_fail(r, PROTO_FAILED, "disk on fire (%d)", 42);
}

static int run_sloppy(struct reply *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	return -1; /* forgot reply_fail */
}

static int run_twice(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_fail(r, PROTO_BUSY, "first");
	return reply_fail(r, PROTO_FAILED, "second");
}

static int run_status(struct reply *r, int argc, char **argv)
{
	static const char *const allowed[] = {"--json", NULL};

	if (cmd_expect_only_flags(r, argc, argv, allowed) != 0)
		return -1;
	if (cmd_has_flag(argc, argv, "--json"))
		reply_line(r, "{\"up\":1}");
	else
		reply_line(r, "up 1");
	return 0;
}

static int run_equals(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(r, "=looks like status");
	reply_printf(r, "a\r\n=b\r\n");
	return 0;
}

/* A guest string with a terminal escape sequence, a bell and a byte above ASCII, as a
 * process's comm or a cgroup's name could hold them */
static int run_guest_string(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(r, "comm %s", "\x1b]0;owned\x07\x1b[2Jx\xff\ty");
	return 0;
}

static int run_unfinished(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_printf(r, "no line end");
	return 0;
}

static int run_later(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(r, "started");
	return CMD_DEFERRED;
}

static int run_later_refused(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_fail(r, PROTO_BUSY, "not now");
	return CMD_DEFERRED;
}

static const struct cmd_verb verbs[] = {

	{"echo", "echo [WORD...]", "prints its words", run_echo},
	{"broken", "broken", "always fails", run_broken},
	{"sloppy", "sloppy", "fails without saying why", run_sloppy},
	{"twice", "twice", "fails twice", run_twice},
	{"status", "status [--json]", "uptime", run_status},
	{"equals", "equals", "body lines starting with =", run_equals},
	{"guest", "guest", "a guest string", run_guest_string},
	{"unfinished", "unfinished", "body without line end", run_unfinished},
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))
/* Verbs that defer their reply (not in the help test's table). */
static const struct cmd_verb deferring[] = {
	{"later", "later", "replies later", run_later},
	{"refused", "refused", "defers after failing", run_later_refused},
};

static struct reply reply;

static int setup(void **state)
{
	(void)state;
	out_len = 0;
	out[0] = '\0';
	reply_init(&reply, capture, NULL);
	return 0;
}

/* Dispatches a copy of `request` (cmd_dispatch writes into its line). */
static const char *dispatch(const char *request)
{
	char line[CONSOLE_LINE_MAX + 1];

	snprintf(line, sizeof(line), "%s", request);
	out_len = 0;
	out[0] = '\0';
	cmd_dispatch(verbs, NVERBS, line, &reply);
	return out;
}

static void test_verb_runs_and_reply_ends_with_ok(void **state)
{
	(void)state;
	assert_string_equal(dispatch("echo"), "= ok\r\n");
}

static void test_verb_gets_its_arguments(void **state)
{
	(void)state;
	assert_string_equal(dispatch("echo a bb"), "1:a\r\n2:bb\r\n= ok\r\n");
}

static void test_words_are_split_on_runs_of_spaces_and_tabs(void **state)
{
	(void)state;
	assert_string_equal(dispatch(" \techo\t a  \t b \t"), "1:a\r\n2:b\r\n= ok\r\n");
}

static void test_tag_is_echoed_on_ok(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@r2d2 echo x"), "1:x\r\n= ok @r2d2\r\n");
}

static void test_tag_is_echoed_on_error(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@t-1 broken"),
			    "partial work\r\n= error failed: disk on fire (42) @t-1\r\n");
}

static void test_only_the_first_word_can_be_a_tag(void **state)
{
	(void)state;
	assert_string_equal(dispatch("echo @x"), "1:@x\r\n= ok\r\n");
}

static void test_unknown_verb_names_it_and_points_at_help(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@a frobnicate now"),
			    "= error unknown-verb: unknown verb \"frobnicate\"; \"help\" lists the "
			    "verbs @a\r\n");
}

static void test_verb_names_match_exactly(void **state)
{
	(void)state;
	assert_non_null(strstr(dispatch("ech"), "= error unknown-verb:"));
	assert_non_null(strstr(dispatch("echoo"), "= error unknown-verb:"));
	assert_non_null(strstr(dispatch("ECHO"), "= error unknown-verb:"));
}

static void test_a_very_long_unknown_verb_is_shortened_in_the_message(void **state)
{
	char line[CONSOLE_LINE_MAX + 1];
	struct proto_status st;
	const char *o;

	(void)state;
	memset(line, 'v', CONSOLE_LINE_MAX);
	line[CONSOLE_LINE_MAX] = '\0';
	o = dispatch(line);
	assert_int_equal(proto_parse_status(o, &st), 1);
	assert_int_equal(st.error, PROTO_UNKNOWN_VERB);
	assert_non_null(strstr(st.message, "...\"; \"help\" lists the verbs"));
}

static void test_sixteen_words_are_accepted(void **state)
{
	(void)state;
	dispatch("echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15");
	assert_non_null(strstr(out, "15:15\r\n= ok\r\n"));
}

static void test_seventeen_words_are_a_bad_argument(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@m echo 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"),
			    "= error bad-argument: too many words: at most 16, the verb included "
			    "@m\r\n");
}

/* cmd_request_tag (the tag of a busy reply, made without dispatching) names the tag the
 * dispatcher echoes, for every form of request: leading blanks, tabs, +deflate, bad tags. */
static void test_request_tag_agrees_with_the_dispatcher(void **state)
{
	static const char *const lines[] = {
		"@a echo",
		" @b echo",
		"\t@c\techo x",
		"@d +deflate echo",
		"echo @e",
		"@ echo",
		"@no/slash echo",
		"@0123456789abcdefX echo",
		"@0123456789abcdef echo",
		"@f",
		"+deflate @g echo",
		"  echo",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char tag[PROTO_TAG_MAX + 1], want[64] = "";
		bool has = cmd_request_tag(lines[i], tag);
		const char *o = dispatch(lines[i]);
		const char *end = strrchr(o, '@');
		if (end != NULL && end[-1] == ' ' && strstr(end, "\r\n") == o + strlen(o) - 2)
			snprintf(want, sizeof(want), "%.*s", (int)(strlen(end) - 3), end + 1);
		print_message("%-28s tag \"%s\", dispatcher \"%s\"\n", lines[i], tag, want);
		assert_string_equal(tag, want);
		assert_int_equal(has, want[0] != '\0');
	}
}

static void test_bad_tag_is_a_bad_argument_and_not_echoed(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@no/slash echo"),
			    "= error bad-argument: bad tag \"@no/slash\": a tag is 1-16 of A-Z "
			    "a-z 0-9 _ -\r\n");
	assert_non_null(
		strstr(dispatch("@0123456789abcdefX echo"), "= error bad-argument: bad tag"));
	assert_non_null(strstr(dispatch("@ echo"), "= error bad-argument: bad tag \"@\""));
}

static void test_tag_without_verb_is_an_unknown_verb(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@lonely"),
			    "= error unknown-verb: no verb after the tag; \"help\" lists the verbs "
			    "@lonely\r\n");
}

static void test_verb_failure_is_the_status(void **state)
{
	struct proto_status st;

	(void)state;
	dispatch("broken");
	assert_int_equal(proto_parse_status(strstr(out, "= "), &st), 1);
	assert_int_equal(st.error, PROTO_FAILED);
	assert_string_equal(st.message, "disk on fire (42)");
}

static void test_nonzero_return_without_message_is_failed(void **state)
{
	(void)state;
	assert_string_equal(dispatch("sloppy"), "= error failed: sloppy failed\r\n");
}

static void test_first_failure_of_a_request_wins(void **state)
{
	(void)state;
	assert_string_equal(dispatch("twice"), "= error busy: first\r\n");
}

static void test_failure_does_not_leak_into_the_next_request(void **state)
{
	(void)state;
	dispatch("broken");
	assert_string_equal(dispatch("echo"), "= ok\r\n");
}

/* Every byte but printable ASCII, tab and the line ends reaches the terminal as '?' */
static void test_body_bytes_outside_printable_ascii_become_question_marks(void **state)
{
	(void)state;
	assert_string_equal(dispatch("guest"), "comm ?]0;owned??[2Jx?\ty\r\n= ok\r\n");
}

static void test_body_line_starting_with_equals_is_shifted(void **state)
{
	(void)state;
	assert_string_equal(dispatch("equals"), " =looks like status\r\na\r\n =b\r\n= ok\r\n");
}

/* A body line that would read as the monitor's log ("ctrvisor: ", a container's output can
 * print it) is pushed right too, even when it comes in pieces; one that parts from the
 * prefix, or holds it later, goes as it is, and a held start is never lost. */
static void test_body_line_starting_like_the_log_is_shifted(void **state)
{
	(void)state;
	out_len = 0;
	out[0] = '\0';
	reply_init(&reply, capture, NULL);
	reply_line(&reply, "ctrvisor: fake alert");
	reply_printf(&reply, "ctr");
	reply_printf(&reply, "visor: in pieces\r\n");
	reply_line(&reply, "ctrvisor:x");
	reply_line(&reply, "c");
	reply_line(&reply, "=ctrvisor: ");
	reply_line(&reply, "a ctrvisor: mid-line");
	reply_printf(&reply, "ctrvis");
	cmd_write_status(&reply, NULL);
	assert_string_equal(out, " ctrvisor: fake alert\r\n ctrvisor: in pieces\r\nctrvisor:x\r\n"
				 "c\r\n =ctrvisor: \r\na ctrvisor: mid-line\r\nctrvis\r\n= ok\r\n");
}

static void test_status_starts_a_line_of_its_own_after_an_unfinished_body(void **state)
{
	(void)state;
	assert_string_equal(dispatch("unfinished"), "no line end\r\n= ok\r\n");
}

static void test_flag_is_recognized(void **state)
{
	(void)state;
	assert_string_equal(dispatch("status --json"), "{\"up\":1}\r\n= ok\r\n");
	assert_string_equal(dispatch("status"), "up 1\r\n= ok\r\n");
}

static void test_has_flag_looks_only_at_arguments(void **state)
{
	char *argv[] = {"--json", "a", "--all", NULL};

	(void)state;
	assert_true(cmd_has_flag(3, argv, "--all"));
	assert_false(cmd_has_flag(3, argv, "--json")); /* argv[0] is the verb */
	assert_false(cmd_has_flag(3, argv, "--al"));
}

static void test_unexpected_argument_is_named_with_the_usage(void **state)
{
	(void)state;
	assert_string_equal(dispatch("@u status --jsno"),
			    "= error bad-argument: unexpected \"--jsno\"; usage: status [--json] "
			    "@u\r\n");
}

static void test_expect_only_flags_with_no_allowed_list_refuses_any_argument(void **state)
{
	char *argv[] = {"version", "x", NULL};
	char *bare[] = {"version", NULL};

	(void)state;
	assert_int_equal(cmd_expect_only_flags(&reply, 1, bare, NULL), 0);
	assert_int_equal(reply.error, PROTO_OK);
	assert_int_equal(cmd_expect_only_flags(&reply, 2, argv, NULL), -1);
	assert_int_equal(reply.error, PROTO_BAD_ARGUMENT);
	assert_string_equal(reply.message, "unexpected \"x\"; usage: version");
}

static void test_help_lists_every_verb_with_usage_and_summary(void **state)
{
	(void)state;
	cmd_help(verbs, 2, &reply);
	assert_string_equal(out, "echo [WORD...] - prints its words\r\n"
				 "broken         - always fails\r\n");
}

static void test_json_string_escapes_what_json_requires(void **state)
{
	(void)state;
	reply_json_string(&reply, "a\"b\\c\nd\re\tf\x01g\x7fh\xc3\xa9");
	assert_string_equal(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u007fh\\u00c3\\u00a9\"");
}

static void test_json_string_of_null_is_null(void **state)
{
	(void)state;
	reply_json_string(&reply, NULL);
	assert_string_equal(out, "null");
}

static void test_json_string_starting_a_line_with_equals_stays_valid_json(void **state)
{
	(void)state;
	reply_json_string(&reply, "=");
	assert_string_equal(out, "\"=\"");
}

/* Feeds a whole request through line_feed and reports its end as the monitor would. */
static enum line_event feed_and_report(const void *bytes, size_t n)
{
	static struct line_state ls;
	const uint8_t *p = bytes;
	enum line_event ev = LINE_NONE;

	line_init(&ls);
	for (size_t i = 0; i < n; i++) {
		ev = line_feed(&ls, p[i]);
		cmd_report_line_event(ev, &ls, &reply);
	}
	return ev;
}

static void test_too_long_line_is_reported_with_its_tag(void **state)
{
	char req[400];
	int n = snprintf(req, sizeof(req), "@big echo ");

	(void)state;
	memset(req + n, 'x', 300);
	req[n + 300] = '\n';
	assert_int_equal(feed_and_report(req, (size_t)n + 301), LINE_TOO_LONG);
	assert_string_equal(out, "= error line-too-long: request longer than 255 bytes; it was "
				 "dropped @big\r\n");
}

static void test_bad_input_is_reported_with_the_byte_in_hex(void **state)
{
	(void)state;
	assert_int_equal(feed_and_report("@b7 echo \x1b[A\n", 13), LINE_BAD_INPUT);
	assert_string_equal(out, "= error bad-input: byte 0x1b is not printable text; the request "
				 "was dropped @b7\r\n");
}

static void test_line_error_is_untagged_when_the_tag_was_cut(void **state)
{
	(void)state;
	feed_and_report("@ab\x01 echo\n", 10);
	assert_string_equal(out, "= error bad-input: byte 0x01 is not printable text; the request "
				 "was dropped\r\n");
}

static void test_line_error_is_untagged_without_a_tag(void **state)
{
	(void)state;
	feed_and_report("\xff\n", 2);
	assert_string_equal(out, "= error bad-input: byte 0xff is not printable text; the request "
				 "was dropped\r\n");
}

static void test_other_line_events_write_nothing(void **state)
{
	struct line_state ls;

	(void)state;
	line_init(&ls);
	cmd_report_line_event(LINE_NONE, &ls, &reply);
	cmd_report_line_event(LINE_READY, &ls, &reply);
	assert_int_equal(out_len, 0);
}

static void test_deferred_verb_gets_no_status_line_and_keeps_the_tag(void **state)
{
	char line[CONSOLE_LINE_MAX + 1] = "@t-7 later";
	(void)state;
	out_len = 0;
	assert_true(cmd_dispatch(deferring, 2, line, &reply));
	assert_string_equal(out, "started\r\n");
	assert_string_equal(reply.tag, "t-7");
	/* The later status line, as the console writes it. */
	cmd_write_status(&reply, reply.tag);
	assert_string_equal(out, "started\r\n= ok @t-7\r\n");
}

static void test_a_failure_is_never_deferred(void **state)
{
	char line[CONSOLE_LINE_MAX + 1] = "refused";
	(void)state;
	out_len = 0;
	assert_false(cmd_dispatch(deferring, 2, line, &reply));
	assert_string_equal(out, "= error busy: not now\r\n");
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_verb_runs_and_reply_ends_with_ok),
		T(test_verb_gets_its_arguments),
		T(test_words_are_split_on_runs_of_spaces_and_tabs),
		T(test_tag_is_echoed_on_ok),
		T(test_tag_is_echoed_on_error),
		T(test_only_the_first_word_can_be_a_tag),
		T(test_unknown_verb_names_it_and_points_at_help),
		T(test_verb_names_match_exactly),
		T(test_a_very_long_unknown_verb_is_shortened_in_the_message),
		T(test_sixteen_words_are_accepted),
		T(test_seventeen_words_are_a_bad_argument),
		T(test_bad_tag_is_a_bad_argument_and_not_echoed),
		T(test_request_tag_agrees_with_the_dispatcher),
		T(test_tag_without_verb_is_an_unknown_verb),
		T(test_verb_failure_is_the_status),
		T(test_nonzero_return_without_message_is_failed),
		T(test_first_failure_of_a_request_wins),
		T(test_failure_does_not_leak_into_the_next_request),
		T(test_body_line_starting_with_equals_is_shifted),
		T(test_body_line_starting_like_the_log_is_shifted),
		T(test_body_bytes_outside_printable_ascii_become_question_marks),
		T(test_status_starts_a_line_of_its_own_after_an_unfinished_body),
		T(test_flag_is_recognized),
		T(test_has_flag_looks_only_at_arguments),
		T(test_unexpected_argument_is_named_with_the_usage),
		T(test_expect_only_flags_with_no_allowed_list_refuses_any_argument),
		T(test_help_lists_every_verb_with_usage_and_summary),
		T(test_json_string_escapes_what_json_requires),
		T(test_json_string_of_null_is_null),
		T(test_json_string_starting_a_line_with_equals_stays_valid_json),
		T(test_too_long_line_is_reported_with_its_tag),
		T(test_bad_input_is_reported_with_the_byte_in_hex),
		T(test_line_error_is_untagged_when_the_tag_was_cut),
		T(test_line_error_is_untagged_without_a_tag),
		T(test_other_line_events_write_nothing),
		T(test_deferred_verb_gets_no_status_line_and_keeps_the_tag),
		T(test_a_failure_is_never_deferred),
	};

	return cmocka_run_group_tests_name("cmd", tests, NULL, NULL);
}
