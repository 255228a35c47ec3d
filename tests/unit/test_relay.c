/* hvctl's side of the relay (tools/hvctl/relay.c) end to end on the host: a thread plays the
 * relay in the guest and the monitor behind it (hv/console/channel.c, the console's part
 * done by hand) on a socketpair, honest or hostile. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootinfo.h"
#include "chan/vmcall.h"
#include "console/channel.h"
#include "lib/base64.h"
#include "tools/hvctl/relay.h"

void chan_vmcall_status_text(struct reply *r)
{
	(void)r;
}
void chan_vmcall_status_json(struct reply *r)
{
	(void)r;
}

/* What the fake relay does besides passing frames. */
enum mode {
	HONEST,
	BUSY_ONCE,      /* answers the first request "E busy" without passing it */
	JUNK_FIRST,     /* sends a forged frame and garbage lines before each real frame */
	FLIP_REPLY,     /* flips a byte of every reply piece it passes */
	REPLAY_REPLY,   /* passes the previous request's reply again before the real one */
	TAKEN_THEN_LIE, /* passes requests (they run), drops their replies, says "E seq" */
	LOSE_FIRST,     /* the first request frame is lost on the way, silently */
	SLOW_REPLY,     /* the first request's reply comes after 3 resend periods */
};

static struct {
	int fd;
	enum mode mode;
	unsigned requests_passed, busy_sent, requests_seen, busy_said;
	uint64_t slow_since; /* SLOW_REPLY: the request taken then, its reply not made yet */
	uint8_t last_reply[CHAN_FRAME_MAX];
	size_t last_reply_len;
} fake;

static void put_frame(const uint8_t *f, size_t n)
{
	char *text = malloc(BASE64_LEN(n) + 4);
	size_t len = 2 + base64_encode(f, n, text + 2);
	memcpy(text, "F ", 2);
	text[len++] = '\n';
	assert_int_equal(write(fake.fd, text, len), (ssize_t)len);
	free(text);
}

static void put_line(const char *s)
{
	assert_int_equal(write(fake.fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The monitor's console: runs a taken request, its reply text the request's line back. */
static void console_step(void)
{
	const uint8_t *body;
	uint32_t len;
	if (!channel_next_request(&body, &len))
		return;
	char text[300];
	int n = snprintf(text, sizeof(text), "ran: %.*s\r\n=ok\r\n", (int)len, body);
	channel_text_write(text, (size_t)n);
	channel_text_end();
}

static void pass_out(void)
{
	uint8_t f[CHAN_FRAME_MAX];
	long n;
	while ((n = channel_recv(f, sizeof(f))) > 0) {
		if (f[5] == CHAN_REPLY && fake.mode == REPLAY_REPLY && fake.last_reply_len > 0)
			put_frame(fake.last_reply, fake.last_reply_len);
		if (fake.mode == JUNK_FIRST) {
			uint8_t forged[CHAN_FRAME_MAX];
			memcpy(forged, f, (size_t)n);
			forged[n - 1] ^= 0x40; /* the signature */
			put_frame(forged, (size_t)n);
			put_line("F !!!not base64\nnoise\n");
		}
		if (f[5] == CHAN_REPLY) {
			memcpy(fake.last_reply, f, (size_t)n);
			fake.last_reply_len = (size_t)n;
		}
		if (f[5] == CHAN_REPLY && fake.mode == FLIP_REPLY)
			f[CHAN_HEADER_LEN] ^= 1;
		put_frame(f, (size_t)n);
	}
}

static void *fake_relay(void *arg)
{
	char line[8192];
	size_t len = 0;
	(void)arg;
	for (;;) {
		char ch;
		if (fake.slow_since != 0) {
			struct pollfd p = {.fd = fake.fd, .events = POLLIN};
			if (poll(&p, 1, 20) == 0) {
				if (conn_now_ms() - fake.slow_since >= 1500) {
					fake.slow_since = 0;
					console_step();
					pass_out();
				}
				continue;
			}
		}
		ssize_t r = read(fake.fd, &ch, 1);
		if (r <= 0)
			return NULL;
		if (ch != '\n') {
			if (len < sizeof(line) - 1)
				line[len++] = ch;
			continue;
		}
		uint8_t f[CHAN_FRAME_MAX];
		long n = len > 2 ? base64_decode(line + 2, len - 2, f, sizeof(f)) : -1;
		len = 0;
		if (n < 0)
			continue;
		if (f[5] == CHAN_REQUEST && fake.requests_seen++ == 0 && fake.mode == LOSE_FIRST)
			continue;
		if (f[5] == CHAN_REQUEST && fake.mode == BUSY_ONCE && fake.busy_sent == 0) {
			fake.busy_sent++;
			put_line("E busy\n");
			continue;
		}
		unsigned reason = channel_send(f, (size_t)n);
		if (reason != CHAN_OK) {
			char e[64];
			snprintf(e, sizeof(e), "E %s\n", chan_reason_name(reason));
			fake.busy_said += reason == CHAN_VMCALL_BUSY;
			put_line(e);
			continue;
		}
		fake.requests_passed += f[5] == CHAN_REQUEST;
		if (fake.mode == SLOW_REPLY && f[5] == CHAN_REQUEST) {
			/* the request runs a while (1.5 s, past three resend periods): the
			 * copies sent meanwhile are refused busy by the channel */
			fake.slow_since = conn_now_ms();
			continue;
		}
		console_step();
		if (fake.mode == TAKEN_THEN_LIE && f[5] == CHAN_REQUEST) {
			uint8_t drop[CHAN_FRAME_MAX];
			while (channel_recv(drop, sizeof(drop)) > 0)
				;
			put_line("E seq\n");
			continue;
		}
		pass_out();
	}
}

static struct relay rl;
static struct conn c;
static pthread_t thread;
static char got[4096];
static size_t got_len;

static void take(void *ctx, const char *text, size_t n)
{
	(void)ctx;
	assert_true(got_len + n < sizeof(got));
	memcpy(got + got_len, text, n);
	got_len += n;
}

static int start(enum mode mode)
{
	uint8_t seed[BOOT_CHANNEL_SEED_LEN], op_seed[48], pub[CHAN_PUBKEY_LEN];
	int sv[2];
	memset(&rl, 0, sizeof(rl));
	memset(&fake, 0, sizeof(fake));
	for (size_t i = 0; i < sizeof(op_seed); i++)
		op_seed[i] = (uint8_t)(i * 3 + 11);
	assert_int_equal(chan_keygen(op_seed, sizeof(op_seed), rl.cl.operator_priv, pub), 0);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 17 + 2);
	channel_configure(pub, seed, 1u << BOOT_ENTROPY_RDRAND);
	assert_true(channel_monitor_public_key(rl.cl.monitor_pub));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK); /* as conn_open leaves it */
	c = (struct conn){.fd = sv[0], .log_fd = -1, .addr = "socketpair"};
	fake.fd = sv[1];
	fake.mode = mode;
	got_len = 0;
	return pthread_create(&thread, NULL, fake_relay, NULL);
}

static void stop(void)
{
	shutdown(c.fd, SHUT_RDWR);
	pthread_join(thread, NULL);
	close(c.fd);
	close(fake.fd);
	relay_free(&rl);
}

static int exchange(const char *line, unsigned ms, char *why)
{
	got_len = 0;
	return relay_exchange(&c, &rl, line, conn_now_ms() + ms, take, NULL, why, 256);
}

static void test_an_honest_relay_carries_requests_and_replies(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(HONEST), 0);
	assert_int_equal(exchange("@a1 containers --json", 5000, why), 0);
	assert_int_equal(got_len, strlen("ran: @a1 containers --json\r\n=ok\r\n"));
	assert_memory_equal(got, "ran: @a1 containers --json\r\n=ok\r\n", got_len);
	assert_int_equal(exchange("@a2 version", 5000, why), 0); /* the session goes on */
	assert_memory_equal(got, "ran: @a2 version", 16);
	assert_int_equal(fake.requests_passed, 2);
	assert_int_equal(rl.refused, 0);
	stop();
}

static void test_busy_is_retried_with_the_same_frame(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(BUSY_ONCE), 0);
	assert_int_equal(exchange("@b1 version", 5000, why), 0);
	assert_int_equal(fake.busy_sent, 1);
	assert_int_equal(fake.requests_passed, 1); /* ran once */
	stop();
}

/* A request frame lost on the way (the relay says nothing) is sent again after silence,
 * and runs once; the control: with no resend it would wait for nothing (the first copy
 * never reached the monitor: nothing ran before the copy). */
static void test_a_lost_request_is_sent_again_after_silence(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(LOSE_FIRST), 0);
	assert_int_equal(exchange("@l1 version", 5000, why), 0);
	assert_int_equal(fake.requests_seen, 2);
	assert_int_equal(fake.requests_passed, 1); /* ran once: the copy */
	assert_int_equal(rl.resent, 1);
	assert_non_null(strstr(got, "ran: @l1 version"));
	stop();
}

/* A request that runs longer than the silence: the copies sent meanwhile are refused busy
 * (the first was taken), the reply comes whole, and the request ran once. */
static void test_a_slow_request_is_not_run_again(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(SLOW_REPLY), 0);
	assert_int_equal(exchange("@s1 version", 8000, why), 0);
	assert_int_equal(fake.requests_passed, 1);
	assert_true(fake.busy_said >= 1 && rl.resent >= 1 && rl.resent <= 3);
	assert_non_null(strstr(got, "ran: @s1 version"));
	print_message("resent %u times, refused busy %u times\n", rl.resent, fake.busy_said);
	stop();
}

static void test_forged_frames_and_noise_are_refused_and_skipped(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(JUNK_FIRST), 0);
	assert_int_equal(exchange("@c1 ps", 5000, why), 0);
	assert_memory_equal(got, "ran: @c1 ps\r\n=ok\r\n", got_len);
	assert_true(rl.refused >= 2); /* the forged hello reply and reply piece */
	assert_string_equal(rl.refused_why, "signature");
	stop();
}

static void test_an_altered_reply_is_never_taken(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(FLIP_REPLY), 0);
	assert_int_equal(exchange("@d1 ps", 1500, why), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(got_len, 0);
	assert_true(rl.refused >= 1);
	assert_string_equal(rl.refused_why, "signature");
	assert_false(rl.cl.have_session); /* a hello first next time */
	stop();
}

static void test_a_replayed_reply_of_another_request_is_refused(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(REPLAY_REPLY), 0);
	assert_int_equal(exchange("@e1 first", 5000, why), 0);
	assert_int_equal(exchange("@e2 second", 5000, why), 0);
	assert_memory_equal(got, "ran: @e2 second\r\n=ok\r\n", got_len);
	assert_true(rl.refused >= 1); /* e1's reply, signed but not this request's */
	assert_string_equal(rl.refused_why, "boot");
	stop();
}

/* The reviewer's attack: the request runs, its reply is dropped and the relay says it was
 * refused for its number. hvctl asks a new hello, whose signed reply names the request
 * taken last: its own, so it is not sent again (it would run twice). */
static void test_a_relay_that_lies_cannot_make_a_request_run_twice(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(start(TAKEN_THEN_LIE), 0);
	assert_int_equal(exchange("@f1 exec web -- rm -rf /data/old", 5000, why), -1);
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(why, "took the request, but its reply was lost"));
	assert_int_equal(fake.requests_passed, 1);
	assert_int_equal(got_len, 0);
	stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_honest_relay_carries_requests_and_replies),
		cmocka_unit_test(test_busy_is_retried_with_the_same_frame),
		cmocka_unit_test(test_a_lost_request_is_sent_again_after_silence),
		cmocka_unit_test(test_a_slow_request_is_not_run_again),
		cmocka_unit_test(test_forged_frames_and_noise_are_refused_and_skipped),
		cmocka_unit_test(test_an_altered_reply_is_never_taken),
		cmocka_unit_test(test_a_replayed_reply_of_another_request_is_refused),
		cmocka_unit_test(test_a_relay_that_lies_cannot_make_a_request_run_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
