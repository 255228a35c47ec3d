/* The core's side of the exchange (hv/console/channel.c) driven as the VMCALL calls and the
 * console drive it, with hvctl's client (tools/hvctl/chan_client.c) at the other end: a
 * request runs once, its reply comes whole and in order, a second request waits (busy)
 * without using its number, a hello in the middle drops the reply owed, and what a hostile
 * relay sends is refused with its reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootinfo.h"
#include "chan/vmcall.h"
#include "console/channel.h"
#include "tools/hvctl/chan_client.h"

/* chan_vmcall.c is not linked: its status lines are not under test here */
void chan_vmcall_status_text(struct reply *r)
{
	(void)r;
}
void chan_vmcall_status_json(struct reply *r)
{
	(void)r;
}

static struct chan_client cl;
static uint8_t frame[CHAN_FRAME_MAX];

static int setup(void **state)
{
	uint8_t seed[BOOT_CHANNEL_SEED_LEN], op_seed[48], pub[CHAN_PUBKEY_LEN];
	(void)state;
	memset(&cl, 0, sizeof(cl));
	for (size_t i = 0; i < sizeof(op_seed); i++)
		op_seed[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(chan_keygen(op_seed, sizeof(op_seed), cl.operator_priv, pub), 0);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 13 + 5);
	channel_configure(pub, seed, 1u << BOOT_ENTROPY_RDRAND);
	/* the monitor's key, as hvctl pair reads it from status --json */
	assert_true(channel_monitor_public_key(cl.monitor_pub));
	/* nothing owed: the console would find nothing to run */
	const uint8_t *body;
	uint32_t len;
	assert_false(channel_next_request(&body, &len));
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0);
	return 0;
}

static void do_hello(void)
{
	uint8_t challenge[CHAN_DIGEST_LEN];
	struct chan_frame f;
	memset(challenge, 0x5a, sizeof(challenge));
	size_t n = chan_client_hello(&cl, challenge, frame, sizeof(frame));
	assert_true(n > 0);
	assert_int_equal(channel_send(frame, n), CHAN_OK);
	long got = channel_recv(frame, sizeof(frame));
	assert_true(got > 0);
	assert_int_equal(chan_client_take_hello_reply(&cl, frame, (size_t)got, &f), CHAN_OK);
}

/* Sends `line`; returns the frame's length (the frame stays in req). */
static size_t send_request(const char *line, uint8_t *req, unsigned want)
{
	size_t n = chan_client_request(&cl, line, strlen(line), req, CHAN_FRAME_MAX);
	assert_true(n > 0);
	assert_int_equal(channel_send(req, n), want);
	return n;
}

/* The console's part: takes the request and writes `text` as its reply. */
static void console_runs(const char *want_line, const char *text, size_t text_len)
{
	const uint8_t *body;
	uint32_t len;
	assert_true(channel_pending());
	assert_true(channel_next_request(&body, &len));
	assert_int_equal(len, strlen(want_line));
	assert_memory_equal(body, want_line, len);
	assert_false(channel_next_request(&body, &len)); /* once */
	channel_text_write(text, text_len);
	channel_text_end();
}

/* Every piece of the reply, checked by the client, into out; returns the pieces. */
static unsigned take_reply(char *out, size_t cap, size_t *out_len)
{
	unsigned pieces = 0;
	*out_len = 0;
	for (int i = 0; i < 1000 && !cl.reply_done; i++) {
		struct chan_frame f;
		long got = channel_recv(frame, sizeof(frame));
		assert_true(got > 0);
		assert_int_equal(chan_client_take_reply(&cl, frame, (size_t)got, &f), CHAN_OK);
		assert_true(*out_len + f.body_len <= cap);
		memcpy(out + *out_len, f.body, f.body_len);
		*out_len += f.body_len;
		pieces++;
	}
	assert_true(cl.reply_done);
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0); /* nothing more */
	return pieces;
}

static void test_request_runs_once_and_its_reply_comes_whole(void **state)
{
	static char text[3 * CHAN_BODY_MAX + 100], got[sizeof(text)];
	uint8_t req[CHAN_FRAME_MAX];
	size_t got_len;
	(void)state;
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	do_hello();
	size_t n = send_request("@t1 ps --json", req, CHAN_OK);
	/* the console has not run it: no piece yet, and another request waits */
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0);
	uint8_t req2[CHAN_FRAME_MAX];
	struct chan_client saved = cl;
	send_request("@t2 version", req2, CHAN_VMCALL_BUSY);
	cl = saved; /* refused before its number moved: the client sends the same again */
	console_runs("@t1 ps --json", text, sizeof(text));
	assert_int_equal(take_reply(got, sizeof(got), &got_len), 4);
	assert_int_equal(got_len, sizeof(text));
	assert_memory_equal(got, text, sizeof(text));
	/* replayed: refused for its number, and it does not run again */
	assert_int_equal(channel_send(req, n), CHAN_ERR_SEQ);
	assert_false(channel_pending());
}

static void test_a_reply_comes_in_full_pieces_while_it_is_made(void **state)
{
	static char text[CHAN_BODY_MAX + 10];
	uint8_t req[CHAN_FRAME_MAX];
	const uint8_t *body;
	uint32_t len;
	struct chan_frame f;
	(void)state;
	memset(text, 'x', sizeof(text));
	do_hello();
	send_request("@t3 ps", req, CHAN_OK);
	assert_true(channel_next_request(&body, &len));
	channel_text_write(text, 100);
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0); /* not a full piece yet */
	channel_text_write(text + 100, sizeof(text) - 100);
	long got = channel_recv(frame, sizeof(frame));
	assert_true(got > 0);
	assert_int_equal(chan_client_take_reply(&cl, frame, (size_t)got, &f), CHAN_OK);
	assert_int_equal(f.body_len, CHAN_BODY_MAX);
	assert_false(cl.reply_done);
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0); /* the rest: at the end */
	channel_text_end();
	got = channel_recv(frame, sizeof(frame));
	assert_int_equal(chan_client_take_reply(&cl, frame, (size_t)got, &f), CHAN_OK);
	assert_int_equal(f.body_len, 10);
	assert_true(cl.reply_done);
}

static void test_a_hello_drops_the_reply_owed(void **state)
{
	uint8_t req[CHAN_FRAME_MAX];
	const uint8_t *body;
	uint32_t len;
	(void)state;
	do_hello();
	send_request("@t4 pause busy", req, CHAN_OK);
	assert_true(channel_next_request(&body, &len));
	channel_text_write("half", 4);
	do_hello(); /* hvctl lost the reply: the rest of it is dropped */
	uint64_t after_hello = cl.next_seq;
	/* the request still runs: a new one waits for it */
	send_request("@t5 version", req, CHAN_VMCALL_BUSY);
	cl.next_seq = after_hello;
	channel_text_write(" more", 5);
	channel_text_end();
	assert_int_equal(channel_recv(frame, sizeof(frame)), 0); /* nothing of it comes */
	char got[64];
	size_t got_len;
	send_request("@t6 version", req, CHAN_OK);
	console_runs("@t6 version", "v\r\n", 3);
	take_reply(got, sizeof(got), &got_len);
	assert_int_equal(got_len, 3);
}

static void test_what_a_hostile_relay_sends_is_refused(void **state)
{
	uint8_t req[CHAN_FRAME_MAX], bad[CHAN_FRAME_MAX];
	(void)state;
	do_hello();
	size_t n = chan_client_request(&cl, "@t7 version", 11, req, sizeof(req));
	memcpy(bad, req, n);
	bad[CHAN_HEADER_LEN] ^= 1; /* a body byte */
	assert_int_equal(channel_send(bad, n), CHAN_ERR_SIGNATURE);
	assert_int_equal(channel_send(req, n - 1), CHAN_ERR_LENGTH);
	bad[CHAN_HEADER_LEN] ^= 1;
	bad[4] = 9;
	assert_int_equal(channel_send(bad, n), CHAN_ERR_VERSION);
	/* a reply frame passed back in: not a kind the monitor takes */
	bad[4] = CHAN_VERSION;
	bad[5] = CHAN_REPLY;
	assert_int_equal(channel_send(bad, n), CHAN_ERR_KIND);
	assert_false(channel_pending());
	/* the control: the same frame unchanged is taken */
	assert_int_equal(channel_send(req, n), CHAN_OK);
	assert_true(channel_pending());
	char got[64];
	size_t got_len;
	console_runs("@t7 version", "ok\r\n", 4);
	take_reply(got, sizeof(got), &got_len);
}

static void test_an_empty_reply_still_ends(void **state)
{
	uint8_t req[CHAN_FRAME_MAX];
	char got[8];
	size_t got_len;
	(void)state;
	do_hello();
	send_request("@t8 x", req, CHAN_OK);
	console_runs("@t8 x", "", 0);
	assert_int_equal(take_reply(got, sizeof(got), &got_len), 1);
	assert_int_equal(got_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_request_runs_once_and_its_reply_comes_whole, setup),
		cmocka_unit_test_setup(test_a_reply_comes_in_full_pieces_while_it_is_made, setup),
		cmocka_unit_test_setup(test_a_hello_drops_the_reply_owed, setup),
		cmocka_unit_test_setup(test_what_a_hostile_relay_sends_is_refused, setup),
		cmocka_unit_test_setup(test_an_empty_reply_still_ends, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
