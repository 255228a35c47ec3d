/* SPDX-License-Identifier: MIT */
/* hvrelay (tools/hvrelay, included by the test): how it cuts the transport into lines, and
 * the relay whole, with --stdio, in front of the core's exchange behind a fake monitor
 * (fake_monitor.h): hvctl's side (tools/hvctl/chan_client.c) talks to it over pipes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_monitor.h"

#define main hvrelay_main
#include "tools/hvrelay/hvrelay.c"
#undef main

/* ---- lines */

static char seen[4][LINES_MAX + 1];
static size_t seen_n;

static void keep(const char *line, size_t len, void *ctx)
{
	(void)ctx;
	assert_true(seen_n < 4);
	assert_int_equal(strlen(line), len);
	memcpy(seen[seen_n++], line, len + 1);
}

static void test_a_line_in_pieces_comes_whole_without_its_crs(void **state)
{
	struct lines *s = calloc(1, sizeof(*s));
	(void)state;
	seen_n = 0;
	lines_feed(s, "F QU", 4, keep, NULL);
	lines_feed(s, "FB\r", 3, keep, NULL);
	assert_int_equal(seen_n, 0);
	lines_feed(s, "\nnext\n", 6, keep, NULL);
	assert_int_equal(seen_n, 2);
	assert_string_equal(seen[0], "F QUFB");
	assert_string_equal(seen[1], "next");
	free(s);
}

static void test_a_line_longer_than_the_limit_is_dropped_whole(void **state)
{
	struct lines *s = calloc(1, sizeof(*s));
	char *longest = malloc(LINES_MAX + 2);
	(void)state;
	seen_n = 0;
	memset(longest, 'A', LINES_MAX + 1);
	longest[LINES_MAX + 1] = '\n';
	lines_feed(s, longest, LINES_MAX + 2, keep, NULL); /* one too many: gone */
	lines_feed(s, "after\n", 6, keep, NULL);
	longest[LINES_MAX] = '\n';
	lines_feed(s, longest, LINES_MAX + 1, keep, NULL); /* just fits */
	assert_int_equal(seen_n, 2);
	assert_string_equal(seen[0], "after");
	assert_int_equal(strlen(seen[1]), LINES_MAX);
	assert_int_equal(s->dropped, 1);
	free(longest);
	free(s);
}

/* ---- the relay whole */

static int to_relay = -1, from_relay = -1;
static pid_t relay_pid;
static char inbox[4 * LINES_MAX];
static size_t inbox_len;

static void start_relay(void)
{
	int in[2], out[2];

	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	relay_pid = fork();
	assert_true(relay_pid >= 0);
	if (relay_pid == 0) {
		char *argv[] = {"hvrelay", "--stdio", NULL};
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[1]);
		close(out[0]);
		_exit(hvrelay_main(2, argv));
	}
	close(in[0]);
	close(out[1]);
	to_relay = in[1];
	from_relay = out[0];
	inbox_len = 0;
}

static void put(const char *text)
{
	assert_int_equal(write(to_relay, text, strlen(text)), (ssize_t)strlen(text));
}

/* times "F " lines of the frame, in one write (one read for the relay when small) */
static void put_frames(const uint8_t *f, size_t n, unsigned times)
{
	size_t one = 2 + BASE64_LEN(n) + 1, len = 0;
	char *text = malloc(one * times + 1);

	for (unsigned i = 0; i < times; i++) {
		memcpy(text + len, "F ", 2);
		len += 2 + base64_encode(f, n, text + len + 2);
		text[len++] = '\n';
	}
	text[len] = '\0';
	put(text);
	free(text);
}

static void put_frame(const uint8_t *f, size_t n)
{
	put_frames(f, n, 1);
}

/* The relay's next line (no newline) into line; false after 5 s without one. */
static bool get_line(char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(inbox, '\n', inbox_len);
		if (nl != NULL) {
			size_t n = (size_t)(nl - inbox);
			assert_true(n < cap);
			memcpy(line, inbox, n);
			line[n] = '\0';
			memmove(inbox, nl + 1, inbox_len - n - 1);
			inbox_len -= n + 1;
			return true;
		}
		struct pollfd p = {.fd = from_relay, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			return false;
		ssize_t r = read(from_relay, inbox + inbox_len, sizeof(inbox) - inbox_len);
		if (r <= 0)
			return false;
		inbox_len += (size_t)r;
	}
}

/* The relay's next frame line, decoded */
static size_t get_frame(uint8_t *f)
{
	static char line[LINES_MAX + 1];

	assert_true(get_line(line, sizeof(line)));
	assert_memory_equal(line, "F ", 2);
	long n = base64_decode(line + 2, strlen(line) - 2, f, CHAN_FRAME_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

static int stop_relay(void)
{
	int status;

	close(to_relay); /* end of input: it exits once nothing is owed */
	assert_int_equal(waitpid(relay_pid, &status, 0), relay_pid);
	close(from_relay);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_the_relay_carries_a_hello_and_a_request_in_pieces(void **state)
{
	struct chan_client c;
	struct chan_frame f;
	uint8_t frame[CHAN_FRAME_MAX], challenge[CHAN_DIGEST_LEN] = {7};
	size_t text = 0, n;
	(void)state;

	fake_monitor_boot(&c, 1);
	start_relay();
	put("noise the relay ignores\n");
	put_frame(frame, chan_client_hello(&c, challenge, frame, sizeof(frame)));
	n = get_frame(frame);
	assert_int_equal(chan_client_take_hello_reply(&c, frame, n, &f), CHAN_OK);
	put_frame(frame, chan_client_request(&c, "@r1 version", 11, frame, sizeof(frame)));
	while (!c.reply_done) {
		n = get_frame(frame);
		assert_int_equal(chan_client_take_reply(&c, frame, n, &f), CHAN_OK);
		if (text == 0)
			assert_memory_equal(f.body, "ran: @r1 version\r\n", 18);
		text += f.body_len;
	}
	assert_int_equal(text, FAKE_REPLY_LEN);
	assert_int_equal(stop_relay(), 0);
}

static void test_the_relay_says_why_the_monitor_refused_a_frame(void **state)
{
	struct chan_client c;
	struct chan_frame f;
	uint8_t frame[CHAN_FRAME_MAX], request[CHAN_FRAME_MAX];
	char line[128];
	size_t n;
	(void)state;

	fake_monitor_boot(&c, 2);
	fake_monitor_hello(&c);
	n = chan_client_request(&c, "@r2 ps", 6, request, sizeof(request));
	start_relay();
	put("F !!!!\n");
	assert_true(get_line(line, sizeof(line)));
	assert_string_equal(line, "E decode");
	put_frame(request, 10);
	assert_true(get_line(line, sizeof(line)));
	assert_string_equal(line, "E length");
	memcpy(frame, request, n);
	frame[n - 1] ^= 1;
	put_frame(frame, n);
	assert_true(get_line(line, sizeof(line)));
	assert_string_equal(line, "E signature");
	/* taken, its reply owed, so the same frame again (in the same read) is busy, not run
	 * twice; then the reply comes whole */
	put_frames(request, n, 2);
	assert_true(get_line(line, sizeof(line)));
	assert_string_equal(line, "E busy");
	while (!c.reply_done) {
		n = get_frame(frame);
		assert_int_equal(chan_client_take_reply(&c, frame, n, &f), CHAN_OK);
	}
	assert_int_equal(stop_relay(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_line_in_pieces_comes_whole_without_its_crs),
		cmocka_unit_test(test_a_line_longer_than_the_limit_is_dropped_whole),
		cmocka_unit_test(test_the_relay_carries_a_hello_and_a_request_in_pieces),
		cmocka_unit_test(test_the_relay_says_why_the_monitor_refused_a_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
