/* SPDX-License-Identifier: MIT */
/* The lab's hostile relay (tools/lab/guest/chanattack.c) against the core's exchange behind a
 * fake monitor (fake_monitor.h): every attack it makes is refused for the reason it expects
 * and its controls are taken, so a GUEST-CHANATTACK-DONE ok=N of=N under the monitor means
 * the same checks held there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_monitor.h"

#define main chanattack_main
#include "tools/lab/guest/chanattack.c"
#undef main

static char out[16384];

/* chanattack DIR with its stdout kept in out; its exit status */
static int run_chanattack(const char *dir)
{
	char path[] = "/tmp/test_chanattack.XXXXXX";
	int fd = mkstemp(path), saved = dup(STDOUT_FILENO);
	char *argv[] = {"chanattack", (char *)dir, NULL};

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, STDOUT_FILENO);
	steps = steps_ok = 0;
	memset(frame_len, 0, sizeof(frame_len));
	int rc = chanattack_main(2, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ssize_t n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	for (const char *line = out; *line;) { /* print_message cuts long text */
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line + 1) : (int)strlen(line);
		print_message("%.*s", len, line);
		line += len;
	}
	return rc;
}

/* DIR/frame1..3.bin: requests numbered from the next one, as hvctl sign-requests makes them */
static void write_frames(struct chan_client *c, const char *dir)
{
	for (int i = 1; i <= 3; i++) {
		uint8_t f[CHAN_FRAME_MAX];
		char path[256];
		size_t n = chan_client_request(c, "@t version", 10, f, sizeof(f));

		assert_true(n > 0);
		snprintf(path, sizeof(path), "%s/frame%d.bin", dir, i);
		FILE *file = fopen(path, "wb");
		assert_non_null(file);
		assert_int_equal(fwrite(f, 1, n, file), n);
		fclose(file);
	}
}

static void remove_frames(const char *dir)
{
	char path[256];

	for (int i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s/frame%d.bin", dir, i);
		unlink(path);
	}
	rmdir(dir);
}

static void test_every_attack_is_refused_for_its_reason_and_the_controls_taken(void **state)
{
	char dir[] = "/tmp/chanattack.XXXXXX";
	struct chan_client c;
	(void)state;

	assert_non_null(mkdtemp(dir));
	fake_monitor_boot(&c, 1);
	fake_monitor_hello(&c);
	write_frames(&c, dir);
	assert_int_equal(run_chanattack(dir), 0);
	assert_non_null(strstr(out, "GUEST-CHANATTACK-DONE ok=15 of=15\n"));
	assert_non_null(
		strstr(out, "step=recv-readonly rax=-384 want=fault ok=1 got=fault zeros=1\n"));
	assert_non_null(strstr(out, "step=drain frames=2 last=1 ok=1\n")); /* two pieces */
	/* the e2e's reading (tests/e2e/relay_checks.py): every step's line, and the random
	 * calls' words are only refusals */
	assert_non_null(strstr(out, "step=control rax=0 want=taken ok=1 "));
	assert_non_null(strstr(out, "step=random-user-check empty=33 unexpected=0 ok=1\n"));
	const char *ru = strstr(out, "step=random-user calls=2000 ud=");
	assert_non_null(ru);
	for (const char *w = strstr(ru, "returned="); *w != '\n'; w++)
		assert_true(strncmp(w, "empty", 5) && strncmp(w, "ok", 2) &&
			    strncmp(w, "frame", 5));
	assert_int_equal(fake_monitor_ran(), 2); /* frame2 and frame3, once each */
	remove_frames(dir);
}

static void test_frames_of_another_boot_fail_the_steps_that_need_them(void **state)
{
	char dir[] = "/tmp/chanattack.XXXXXX";
	struct chan_client c;
	(void)state;

	assert_non_null(mkdtemp(dir));
	fake_monitor_boot(&c, 2);
	fake_monitor_hello(&c);
	write_frames(&c, dir);
	fake_monitor_boot(&c, 3); /* another boot: the frames are stale */
	assert_int_equal(run_chanattack(dir), 1);
	assert_non_null(strstr(out, "step=reorder-later rax=-264 want=taken ok=0 got=boot\n"));
	assert_int_equal(fake_monitor_ran(), 0);
	remove_frames(dir);
}

static void test_missing_frames_are_said_and_the_rest_still_runs(void **state)
{
	struct chan_client c;
	(void)state;

	fake_monitor_boot(&c, 4);
	assert_int_equal(run_chanattack("/nonexistent"), 1);
	assert_non_null(
		strstr(out, "GUEST-CHANATTACK-ERROR frame=/nonexistent/frame1.bin missing"));
	assert_non_null(strstr(out, "step=control skipped=no-frame want=taken ok=0"));
	assert_non_null(strstr(out, "step=recv-small rax=-387 want=small ok=1 got=small\n"));
	assert_non_null(strstr(out, "step=random-user calls=2000"));
	assert_non_null(strstr(out, "GUEST-CHANATTACK-DONE ok="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_every_attack_is_refused_for_its_reason_and_the_controls_taken),
		cmocka_unit_test(test_frames_of_another_boot_fail_the_steps_that_need_them),
		cmocka_unit_test(test_missing_frames_are_said_and_the_rest_still_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
