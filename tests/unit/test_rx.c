/* hv/console/rx.c: which lines a UART overrun damaged (docs/console-protocol.md, "Lost
 * bytes"). A poll reads the FIFO until it is empty; an overrun is reported with the first
 * byte read after it, and the bytes it dropped came after everything the FIFO held. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "console/rx.h"

#define EVENTS_MAX 16

struct seen {
	int n;
	enum line_event ev[EVENTS_MAX];
	char line[EVENTS_MAX][CONSOLE_LINE_MAX + 1];
};

static void record(void *ctx, enum line_event ev, struct line_state *ls)
{
	struct seen *s = ctx;
	assert_true(s->n < EVENTS_MAX);
	assert_int_not_equal(ev, LINE_NONE);
	s->ev[s->n] = ev;
	strcpy(s->line[s->n], ls->buf);
	s->n++;
}

/* One poll: the bytes the FIFO holds (the first read reports `overrun`), then empty. */
static void poll_fifo(struct rx *rx, struct seen *s, const char *fifo, bool overrun)
{
	for (size_t i = 0; fifo[i]; i++)
		rx_step(rx, (uint8_t)fifo[i], overrun && i == 0, record, s);
	rx_step(rx, -1, overrun && !fifo[0], record, s);
}

static int setup(void **state)
{
	static struct rx rx;
	rx_init(&rx);
	*state = &rx;
	return 0;
}

static struct seen *fresh(void)
{
	static struct seen s;
	memset(&s, 0, sizeof(s));
	return &s;
}

static void test_lines_without_overrun_are_ready(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@a1 ps\n\x15@a2 con", false);
	poll_fifo(rx, s, "tainers\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_READY);
	assert_string_equal(s->line[0], "@a1 ps");
	assert_int_equal(s->ev[1], LINE_READY);
	assert_string_equal(s->line[1], "@a2 containers");
}

/* What the e2e saw: "@z22mp513 probe --pid 119 --json" arrived as "probe19 --json". The
 * FIFO held the request's first 16 bytes when the overrun was seen; the line that went on
 * after the FIFO was found empty is the damaged one. */
static void test_the_line_going_on_after_the_drain_is_lost(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@a1 kill tree\n", false);
	poll_fifo(rx, s, "\x15@z22mp513 probe", true);
	poll_fifo(rx, s, "19 --json\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_READY);
	assert_int_equal(s->ev[1], LINE_LOST);
	assert_memory_equal(s->line[1], "@z22mp513", 9); /* its tag: hvctl sends it again */
}

static void test_after_the_damaged_line_the_next_is_ready(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@b1 probe", true);
	poll_fifo(rx, s, "son\n\x15@b2 ps\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_LOST);
	assert_int_equal(s->ev[1], LINE_READY);
	assert_string_equal(s->line[1], "@b2 ps");
}

/* The FIFO ended on a line's end: what was lost began the next line. */
static void test_a_gap_at_a_line_end_takes_the_next_line(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@c1 ps\n", true);
	poll_fifo(rx, s, "e2 --json\n\x15@c3 ps\n", false);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->ev[0], LINE_LOST); /* ended while the FIFO was drained */
	assert_int_equal(s->ev[1], LINE_LOST); /* "e2 --json": the rest of a lost line */
	assert_int_equal(s->ev[2], LINE_READY);
}

/* A line whose end was lost, cut short by the next request's Ctrl-U: that line is
 * reported lost with its tag, the next one runs. */
static void test_a_line_cut_by_ctrl_u_is_lost(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@d1 stop tre", true);
	poll_fifo(rx, s, "\x15@d2 ps\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_LOST);
	assert_memory_equal(s->line[0], "@d1", 3);
	assert_int_equal(s->ev[1], LINE_READY);
	assert_string_equal(s->line[1], "@d2 ps");
}

/* A second overrun before the first one's line ended: the line going on after the last
 * drain is the one refused; the taint lasts until then. */
static void test_a_second_overrun_moves_the_gap(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@e1 kill tre", true);
	poll_fifo(rx, s, "e2 --x", true);
	poll_fifo(rx, s, "y\n\x15@e3 ps\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_LOST);
	assert_int_equal(s->ev[1], LINE_READY);
}

/* The e2e's syscall-trap check: a request refused as lost, then its resend lost its own
 * end (newline included) to a second overrun. Nothing more comes: when the line has been
 * quiet for a while it is reported lost with its tag, so hvctl sends it again at once
 * instead of waiting for the next request's Ctrl-U. */
static void test_a_damaged_line_that_stops_is_lost_when_quiet(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "\x15@f1 trap sta", true);
	poll_fifo(rx, s, "tus --json\n", false);
	poll_fifo(rx, s, "\x15@f2 trap st", true); /* the rest never comes */
	rx_idle(rx, record, s);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_LOST);
	assert_int_equal(s->ev[1], LINE_LOST);
	assert_memory_equal(s->line[1], "@f2", 3);
	rx_idle(rx, record, s); /* once */
	poll_fifo(rx, s, "\x15@f3 trap status --json\n", false);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->ev[2], LINE_READY);
	assert_string_equal(s->line[2], "@f3 trap status --json");
}

/* A person typing slowly: an undamaged line is never cut for being quiet. */
static void test_a_clean_quiet_line_is_kept(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "sta", false);
	rx_idle(rx, record, s);
	poll_fifo(rx, s, "tus\n", false);
	assert_int_equal(s->n, 1);
	assert_int_equal(s->ev[0], LINE_READY);
	assert_string_equal(s->line[0], "status");
}

/* An overrun seen on an empty FIFO read (the flag alone): the next line is refused. */
static void test_an_overrun_with_nothing_to_read_taints_the_next_line(void **state)
{
	struct rx *rx = *state;
	struct seen *s = fresh();
	poll_fifo(rx, s, "", true);
	poll_fifo(rx, s, "s --json\n\x15@f2 ps\n", false);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->ev[0], LINE_LOST);
	assert_int_equal(s->ev[1], LINE_READY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_lines_without_overrun_are_ready, setup),
		cmocka_unit_test_setup(test_the_line_going_on_after_the_drain_is_lost, setup),
		cmocka_unit_test_setup(test_after_the_damaged_line_the_next_is_ready, setup),
		cmocka_unit_test_setup(test_a_gap_at_a_line_end_takes_the_next_line, setup),
		cmocka_unit_test_setup(test_a_line_cut_by_ctrl_u_is_lost, setup),
		cmocka_unit_test_setup(test_a_second_overrun_moves_the_gap, setup),
		cmocka_unit_test_setup(test_a_damaged_line_that_stops_is_lost_when_quiet, setup),
		cmocka_unit_test_setup(test_a_clean_quiet_line_is_kept, setup),
		cmocka_unit_test_setup(test_an_overrun_with_nothing_to_read_taints_the_next_line,
				       setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
