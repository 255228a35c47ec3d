/* hv/console/line.c: how console bytes become request lines (docs/console-protocol.md,
 * "Requests"). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "console/line.h"

/* What feeding a run of bytes produced. */
struct events {
	int ready, too_long, bad_input;
	enum line_event last;            /* the event of the last byte */
	char line[CONSOLE_LINE_MAX + 1]; /* the last LINE_READY line */
	uint8_t bad_byte;                /* at the last LINE_BAD_INPUT */
};

static struct events feed(struct line_state *ls, const void *bytes, size_t n)
{
	const uint8_t *p = bytes;
	struct events ev;

	memset(&ev, 0, sizeof(ev));
	for (size_t i = 0; i < n; i++) {
		ev.last = line_feed(ls, p[i]);
		switch (ev.last) {
		case LINE_READY:
			ev.ready++;
			/* Every ready line is NUL-terminated within the buffer. */
			assert_true(strlen(ls->buf) <= CONSOLE_LINE_MAX);
			strcpy(ev.line, ls->buf);
			break;
		case LINE_TOO_LONG:
			ev.too_long++;
			break;
		case LINE_BAD_INPUT:
			ev.bad_input++;
			ev.bad_byte = ls->bad_byte;
			break;
		case LINE_LOST: /* only line_lost() says it */
			fail_msg("line_feed returned LINE_LOST");
			break;
		case LINE_NONE:
			break;
		}
	}
	return ev;
}

static struct events feed_str(struct line_state *ls, const char *s)
{
	return feed(ls, s, strlen(s));
}

static int setup(void **state)
{
	static struct line_state ls;

	line_init(&ls);
	*state = &ls;
	return 0;
}

static void test_newline_ends_a_line(void **state)
{
	struct events ev = feed_str(*state, "status --json\n");

	assert_int_equal(ev.ready, 1);
	assert_int_equal(ev.last, LINE_READY);
	assert_string_equal(ev.line, "status --json");
}

static void test_nothing_is_ready_before_the_end_of_line(void **state)
{
	struct events ev = feed_str(*state, "status");

	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_cr_alone_ends_a_line(void **state)
{
	struct events ev = feed_str(*state, "help\r");

	assert_int_equal(ev.last, LINE_READY);
	assert_string_equal(ev.line, "help");
}

static void test_crlf_is_one_end_of_line(void **state)
{
	struct events ev = feed_str(*state, "help\r\nversion\r\n");

	assert_int_equal(ev.ready, 2);
	assert_string_equal(ev.line, "version");
	assert_int_equal(ev.last, LINE_NONE); /* the '\n' after '\r' */
}

static void test_lf_after_a_crlf_is_an_empty_line(void **state)
{
	struct events ev = feed_str(*state, "help\r\n\nversion\n");

	assert_int_equal(ev.ready, 2);
	assert_string_equal(ev.line, "version");
}

static void test_cr_cr_lf_ends_one_line_and_one_empty_line(void **state)
{
	struct events ev = feed_str(*state, "a\r\r\nb\n");

	assert_int_equal(ev.ready, 2);
	assert_string_equal(ev.line, "b");
}

static void test_empty_line_is_ignored(void **state)
{
	struct events ev = feed_str(*state, "\n\r\n\r");

	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_blank_line_is_ignored(void **state)
{
	struct events ev = feed_str(*state, "   \t \n\t\r\n");

	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_blanks_inside_the_line_are_kept(void **state)
{
	struct events ev = feed_str(*state, "  mem\t--json  \n");

	assert_string_equal(ev.line, "  mem\t--json  ");
}

static void test_tab_is_text(void **state)
{
	struct events ev = feed_str(*state, "a\tb\n");

	assert_int_equal(ev.ready, 1);
	assert_int_equal(ev.bad_input, 0);
}

static void test_line_of_255_bytes_is_accepted(void **state)
{
	char line[CONSOLE_LINE_MAX + 2];
	struct events ev;

	memset(line, 'x', CONSOLE_LINE_MAX);
	line[CONSOLE_LINE_MAX] = '\n';
	ev = feed(*state, line, CONSOLE_LINE_MAX + 1);
	assert_int_equal(ev.ready, 1);
	assert_int_equal(strlen(ev.line), CONSOLE_LINE_MAX);
}

static void test_line_of_256_bytes_is_too_long(void **state)
{
	char line[CONSOLE_LINE_MAX + 2];
	struct events ev;

	memset(line, 'x', CONSOLE_LINE_MAX + 1);
	line[CONSOLE_LINE_MAX + 1] = '\n';
	ev = feed(*state, line, CONSOLE_LINE_MAX + 2);
	assert_int_equal(ev.ready, 0);
	assert_int_equal(ev.too_long, 1);
	assert_int_equal(ev.last, LINE_TOO_LONG);
}

static void test_too_long_is_reported_once_at_the_end_of_line(void **state)
{
	struct line_state *ls = *state;
	char junk[1000];
	struct events ev;

	memset(junk, 'y', sizeof(junk));
	ev = feed(ls, junk, sizeof(junk));
	assert_int_equal(ev.too_long, 0); /* not before the end of line */
	ev = feed_str(ls, "\r\n");
	assert_int_equal(ev.too_long, 1);
	assert_int_equal(ev.ready, 0);
}

static void test_next_line_is_accepted_after_a_too_long_one(void **state)
{
	struct line_state *ls = *state;
	char junk[400];
	struct events ev;

	memset(junk, 'y', sizeof(junk));
	feed(ls, junk, sizeof(junk));
	feed_str(ls, "\n");
	ev = feed_str(ls, "help\n");
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "help");
}

static void test_too_long_line_keeps_its_start_for_the_tag(void **state)
{
	struct line_state *ls = *state;
	char junk[300];
	struct events ev;

	memset(junk, 'z', sizeof(junk));
	feed_str(ls, "@t1 echo ");
	feed(ls, junk, sizeof(junk));
	ev = feed_str(ls, "\n");
	assert_int_equal(ev.last, LINE_TOO_LONG);
	assert_int_equal(strlen(ls->buf), CONSOLE_LINE_MAX);
	assert_memory_equal(ls->buf, "@t1 echo zzz", 12);
}

static void test_control_byte_makes_the_line_bad_input(void **state)
{
	struct events ev = feed_str(*state, "hel\x01p\n");

	assert_int_equal(ev.ready, 0);
	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.bad_byte, 0x01);
}

static void test_nul_byte_is_bad_input(void **state)
{
	struct events ev = feed(*state, "a\0b\n", 4);

	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.bad_byte, 0x00);
}

static void test_del_is_bad_input(void **state)
{
	struct events ev = feed_str(*state, "ab\x7f\n");

	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.bad_byte, 0x7f);
}

static void test_eight_bit_bytes_are_bad_input(void **state)
{
	struct line_state *ls = *state;
	struct events ev = feed_str(ls, "\x80\n");

	assert_int_equal(ev.bad_byte, 0x80);
	ev = feed_str(ls, "caf\xc3\xa9\n");
	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.bad_byte, 0xc3);
	ev = feed_str(ls, "\xff\n");
	assert_int_equal(ev.bad_byte, 0xff);
}

static void test_bad_input_is_reported_once_at_the_end_of_line(void **state)
{
	struct line_state *ls = *state;
	struct events ev = feed_str(ls, "a\x02\x03\x04 b");

	assert_int_equal(ev.bad_input, 0);
	ev = feed_str(ls, "\n");
	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.bad_byte, 0x02); /* the first one */
}

static void test_next_line_is_accepted_after_bad_input(void **state)
{
	struct line_state *ls = *state;
	struct events ev;

	feed_str(ls, "\x1b[A\n");
	ev = feed_str(ls, "version\n");
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "version");
}

static void test_bad_input_before_overflow_is_reported_as_bad_input(void **state)
{
	struct line_state *ls = *state;
	char junk[300];
	struct events ev;

	memset(junk, 'x', sizeof(junk));
	feed_str(ls, "\x05");
	feed(ls, junk, sizeof(junk));
	ev = feed_str(ls, "\n");
	assert_int_equal(ev.bad_input, 1);
	assert_int_equal(ev.too_long, 0);
}

static void test_overflow_before_bad_input_is_reported_as_too_long(void **state)
{
	struct line_state *ls = *state;
	char junk[300];
	struct events ev;

	memset(junk, 'x', sizeof(junk));
	feed(ls, junk, sizeof(junk));
	feed_str(ls, "\x05");
	ev = feed_str(ls, "\n");
	assert_int_equal(ev.too_long, 1);
	assert_int_equal(ev.bad_input, 0);
}

static void test_ctrl_u_discards_buffered_bytes(void **state)
{
	struct events ev = feed_str(*state, "garbage\x15help\n");

	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "help");
}

static void test_ctrl_u_clears_an_overflow(void **state)
{
	struct line_state *ls = *state;
	char junk[300];
	struct events ev;

	memset(junk, 'x', sizeof(junk));
	feed(ls, junk, sizeof(junk));
	ev = feed_str(ls, "\x15status\n");
	assert_int_equal(ev.too_long, 0);
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "status");
}

static void test_ctrl_u_clears_bad_input(void **state)
{
	struct events ev = feed_str(*state, "\x01\x02\xfe\x15mem\n");

	assert_int_equal(ev.bad_input, 0);
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "mem");
}

static void test_ctrl_u_alone_on_a_line_gives_nothing(void **state)
{
	struct events ev = feed_str(*state, "abc\x15\n");

	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_ctrl_u_between_cr_and_lf_does_not_join_them(void **state)
{
	/* The '\n' no longer follows the '\r': it ends an (empty) line of its own. */
	struct events ev = feed_str(*state, "a\r\x15\nb\n");

	assert_int_equal(ev.ready, 2);
	assert_string_equal(ev.line, "b");
}

static void test_ready_line_stays_until_the_next_byte(void **state)
{
	struct line_state *ls = *state;

	feed_str(ls, "first\n");
	assert_string_equal(ls->buf, "first");
	feed_str(ls, "x");
	assert_int_equal(ls->buf[0], 'x');
}

static void test_random_noise_never_overruns_and_recovers(void **state)
{
	struct line_state *ls = *state;
	uint32_t x = 12345;
	struct events ev;

	for (int i = 0; i < 200000; i++) {
		x = x * 1103515245u + 12345u;
		line_feed(ls, (uint8_t)(x >> 16));
		assert_true(ls->len <= CONSOLE_LINE_MAX);
	}
	ev = feed_str(ls, "\x15"
			  "help\n");
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "help");
}

#define T(name) cmocka_unit_test_setup(name, setup)

/* ------------------------------------------------------------ bytes lost by the UART */

static void test_a_line_that_lost_bytes_is_reported_at_once_and_never_run(void **state)
{
	struct line_state *ls = *state;
	struct events ev = feed(ls, "@t1 kill tre", 12);
	assert_int_equal(ev.last, LINE_NONE);
	assert_int_equal(line_lost(ls), LINE_LOST);
	assert_string_equal(ls->buf, "@t1 kill tre"); /* its start, for the tag */
	/* "2" of "tree2" was lost; what arrives after the gap is not a request */
	ev = feed(ls, "\n", 1);
	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
	ev = feed(ls, "@t2 ping\n", 9);
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "@t2 ping");
}

static void test_a_second_loss_in_the_same_line_is_not_reported_again(void **state)
{
	struct line_state *ls = *state;
	feed(ls, "@t1 sta", 7);
	assert_int_equal(line_lost(ls), LINE_LOST);
	feed(ls, "tu", 2);
	assert_int_equal(line_lost(ls), LINE_NONE);
	struct events ev = feed(ls, "s\n", 2);
	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_a_loss_whose_end_of_line_was_lost_ends_at_the_next_kill_byte(void **state)
{
	struct line_state *ls = *state;
	feed(ls, "@t1 ps --js", 11);
	assert_int_equal(line_lost(ls), LINE_LOST);
	/* "on\n" lost: the next request starts with 0x15, as hvctl sends it */
	struct events ev = feed(ls, "\x15@t2 ps --json\n", 15);
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "@t2 ps --json");
}

static void test_a_loss_in_a_bad_line_is_reported_as_a_loss_only(void **state)
{
	struct line_state *ls = *state;
	struct events ev = feed(ls, "@t1 a\x01", 6);
	assert_int_equal(line_lost(ls), LINE_LOST);
	ev = feed(ls, "b\n", 2);
	assert_int_equal(ev.ready + ev.too_long + ev.bad_input, 0);
}

static void test_a_loss_between_lines_drops_the_next_one(void **state)
{
	struct line_state *ls = *state;
	feed(ls, "@t1 ping\n", 9);
	assert_int_equal(line_lost(ls), LINE_LOST); /* the start of the next line was lost */
	assert_string_equal(ls->buf, "");
	struct events ev = feed(ls, "ping\n@t3 ping\n", 14);
	assert_int_equal(ev.ready, 1);
	assert_string_equal(ev.line, "@t3 ping");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_newline_ends_a_line),
		T(test_a_line_that_lost_bytes_is_reported_at_once_and_never_run),
		T(test_a_second_loss_in_the_same_line_is_not_reported_again),
		T(test_a_loss_whose_end_of_line_was_lost_ends_at_the_next_kill_byte),
		T(test_a_loss_in_a_bad_line_is_reported_as_a_loss_only),
		T(test_a_loss_between_lines_drops_the_next_one),
		T(test_nothing_is_ready_before_the_end_of_line),
		T(test_cr_alone_ends_a_line),
		T(test_crlf_is_one_end_of_line),
		T(test_lf_after_a_crlf_is_an_empty_line),
		T(test_cr_cr_lf_ends_one_line_and_one_empty_line),
		T(test_empty_line_is_ignored),
		T(test_blank_line_is_ignored),
		T(test_blanks_inside_the_line_are_kept),
		T(test_tab_is_text),
		T(test_line_of_255_bytes_is_accepted),
		T(test_line_of_256_bytes_is_too_long),
		T(test_too_long_is_reported_once_at_the_end_of_line),
		T(test_next_line_is_accepted_after_a_too_long_one),
		T(test_too_long_line_keeps_its_start_for_the_tag),
		T(test_control_byte_makes_the_line_bad_input),
		T(test_nul_byte_is_bad_input),
		T(test_del_is_bad_input),
		T(test_eight_bit_bytes_are_bad_input),
		T(test_bad_input_is_reported_once_at_the_end_of_line),
		T(test_next_line_is_accepted_after_bad_input),
		T(test_bad_input_before_overflow_is_reported_as_bad_input),
		T(test_overflow_before_bad_input_is_reported_as_too_long),
		T(test_ctrl_u_discards_buffered_bytes),
		T(test_ctrl_u_clears_an_overflow),
		T(test_ctrl_u_clears_bad_input),
		T(test_ctrl_u_alone_on_a_line_gives_nothing),
		T(test_ctrl_u_between_cr_and_lf_does_not_join_them),
		T(test_ready_line_stays_until_the_next_byte),
		T(test_random_noise_never_overruns_and_recovers),
	};

	return cmocka_run_group_tests_name("line", tests, NULL, NULL);
}
