/* The console and the channel together (hv/console/console.c, channel.c): a request taken
 * from the channel runs through the console's dispatcher and its reply goes to the channel,
 * not the UART; a job (ps of many tasks) whose reply the relay stops taking is cut after
 * CHANNEL_STALL_S, so the guest cannot keep the trusted serial console busy; before that
 * the serial console is answered busy (the control: the wedge is real). The UART, the clock
 * and the verbs are fakes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bootinfo.h"
#include "console/channel.h"
#include "console/cmd.h"
#include "console/console.h"
#include "console/uart.h"
#include "core/log.h"
#include "core/monitor.h"
#include "tools/hvctl/chan_client.h"
#include "tools/hvctl/zreply.h"

struct machine machine;
static uint64_t now;
uint64_t rdtsc(void)
{
	return now += 1000; /* 1 ms a call at the 1 MHz of machine.tsc_hz below */
}
void verbs_ops_poll(void)
{
}
void wake_port_poll(uint64_t t, uint64_t hold)
{
	(void)t;
	(void)hold;
}
void chan_vmcall_status_text(struct reply *r)
{
	(void)r;
}
void chan_vmcall_status_json(struct reply *r)
{
	(void)r;
}

static const char *rx_src;
static size_t rx_pos;
static char tx[4 << 20];
static size_t tx_len;
bool uart_init(struct uart *u, uint16_t port, uint32_t baud)
{
	(void)baud;
	u->port = port;
	u->present = true;
	return true;
}
bool uart_tx_ready(struct uart *u)
{
	(void)u;
	return true;
}
void uart_tx_byte(const struct uart *u, uint8_t b)
{
	(void)u;
	if (tx_len < sizeof(tx) - 1)
		tx[tx_len++] = (char)b;
	tx[tx_len] = 0;
}
int uart_rx_byte(struct uart *u)
{
	(void)u;
	return rx_src && rx_src[rx_pos] ? (unsigned char)rx_src[rx_pos++] : -1;
}
bool uart_take_overrun(struct uart *u)
{
	(void)u;
	return false;
}
void uart_irq_line(const struct uart *u, bool high)
{
	(void)u;
	(void)high;
}

/* ps: a job of 128 steps of 64 lines (about 4 KiB each), as on a guest with many tasks */
static unsigned steps;
static bool ps_step(struct reply *r, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 64; i++)
		reply_line(r, "%6u %-56s", steps * 64 + i, "some-task-with-a-long-name");
	return ++steps >= 128;
}
static int verb_ps(struct reply *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	steps = 0;
	console_start_job(ps_step, NULL);
	return CMD_DEFERRED;
}
/* crash: a job of 4 steps whose second step writes the monitor's log as a guest stopped
 * for a fault does (vmx_dump_guest_state: lines that were not "ctrvisor: " ones), with an
 * alert naming a guest string that holds line ends, a compressed piece and a status line;
 * crash_raw: the control, the same lines written to the console bypassing log_printf */
static unsigned crash_steps;
static bool crash_raw;
static const char crash_comm[] = "x\r\n~AAAA\r\n= ok @zz\r\n\x1b[2J";
static bool crash_step(struct reply *r, void *ctx)
{
	(void)ctx;
	for (int i = 0; i < 16; i++)
		reply_line(r, "line %u.%d of the reply", crash_steps, i);
	if (crash_steps == 1 && !crash_raw) {
		log_printf("guest: rip=0x%x rsp=0x%x\r\n", 0x1234, 0x5678);
		log_printf("\r\nexit: reason=0x%x\r\n", 2);
		log_printf("ctrvisor: alert: task %s\r\n", crash_comm);
	} else if (crash_steps == 1) {
		static const char raw[] = "guest: rip=0x1234 rsp=0x5678\r\n";
		console_write(raw, sizeof(raw) - 1);
	}
	return ++crash_steps >= 4;
}
static int verb_crash(struct reply *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	crash_steps = 0;
	console_start_job(crash_step, NULL);
	return CMD_DEFERRED;
}
/* longline N: a job of 4 steps making one body line (as `ps --json` does), with N log
 * lines of 64 bytes written at its second step */
static unsigned long_steps, long_logs;
static bool long_step(struct reply *r, void *ctx)
{
	(void)ctx;
	reply_printf(r, "%s{\"part\":%u}", long_steps ? "," : "[", long_steps);
	for (unsigned i = 0; long_steps == 1 && i < long_logs; i++)
		log_printf("alert: number %05u raised while the line is open, 64 bytes\r\n", i);
	if (++long_steps < 4)
		return false;
	reply_printf(r, "]\r\n");
	return true;
}
static int verb_longline(struct reply *r, int argc, char **argv)
{
	(void)r;
	long_logs = argc == 2 ? (unsigned)atoi(argv[1]) : 0;
	long_steps = 0;
	console_start_job(long_step, NULL);
	return CMD_DEFERRED;
}
/* flood: a job whose one step writes a line longer than the console's ring, then its end:
 * the reply is cut inside the line, while the reply's own state says the line ended */
static bool flood_step(struct reply *r, void *ctx)
{
	static char chunk[4097];
	(void)ctx;
	memset(chunk, 'x', sizeof(chunk) - 1);
	for (int i = 0; i < 600; i++)
		reply_printf(r, "%s", chunk);
	reply_printf(r, "\r\n");
	return true;
}
static int verb_flood(struct reply *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	console_start_job(flood_step, NULL);
	return CMD_DEFERRED;
}
static int verb_status(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	reply_line(r, "status ok");
	return 0;
}
static int verb_none(struct reply *r, int argc, char **argv)
{
	(void)r;
	(void)argc;
	(void)argv;
	return 0;
}
const struct cmd_verb console_verbs[] = {{"ps", "ps", "", verb_ps},
					 {"status", "status", "", verb_status},
					 {"none", "none", "", verb_none},
					 {"crash", "crash", "", verb_crash},
					 {"longline", "longline", "", verb_longline},
					 {"flood", "flood", "", verb_flood}};
const size_t console_verb_count = 6;

static struct chan_client cl;
static uint8_t f[CHAN_FRAME_MAX];

static void serial(const char *line)
{
	rx_src = line;
	rx_pos = 0;
	tx_len = 0;
	tx[0] = 0;
	for (int i = 0; i < 200; i++)
		console_poll();
}

static int setup(void **state)
{
	uint8_t seed[BOOT_CHANNEL_SEED_LEN], op_seed[48], pub[CHAN_PUBKEY_LEN], ch[32] = {7};
	struct chan_frame fr;
	(void)state;
	memset(&cl, 0, sizeof(cl));
	machine.tsc_hz = 1000000;
	for (size_t i = 0; i < sizeof(op_seed); i++)
		op_seed[i] = (uint8_t)(i * 3 + 11);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 17 + 2);
	assert_int_equal(chan_keygen(op_seed, sizeof(op_seed), cl.operator_priv, pub), 0);
	channel_configure(pub, seed, 1u << BOOT_ENTROPY_RDRAND);
	assert_true(channel_monitor_public_key(cl.monitor_pub));
	console_init(0x2f8, 115200);
	size_t n = chan_client_hello(&cl, ch, f, sizeof(f));
	assert_int_equal(channel_send(f, n), 0);
	long m = channel_recv(f, sizeof(f));
	assert_int_equal(chan_client_take_hello_reply(&cl, f, (size_t)m, &fr), CHAN_OK);
	n = chan_client_request(&cl, "@abc123 ps", 10, f, sizeof(f));
	assert_int_equal(channel_send(f, n), 0);
	return 0;
}

static void test_a_relay_that_stops_taking_the_reply_cannot_keep_the_console_busy(void **state)
{
	(void)state;
	/* about 5 s of polls: the job waits for the relay, the serial console is busy */
	for (int i = 0; i < 2000; i++)
		console_poll();
	assert_true(steps < 128);
	assert_true(channel_text_used() >= CONSOLE_JOB_LOW_WATER);
	serial(" @s1 status\n"); /* (a blank before the tag: the busy reply still has it) */
	assert_non_null(strstr(tx, "busy"));
	assert_non_null(strstr(tx, " @s1\r\n"));
	assert_null(strstr(tx, "status ok"));
	/* past CHANNEL_STALL_S: the job is cut, its reply ends with the error */
	for (int i = 0; i < 6000; i++)
		console_poll();
	serial("@s2 status\n");
	assert_non_null(strstr(tx, "status ok"));
	assert_null(strstr(tx, "busy"));
	assert_null(strstr(tx, "some-task")); /* nothing of the channel's reply on the UART */
	/* the relay coming back gets the reply up to the cut and its error status line */
	static char got[1 << 20];
	size_t got_len = 0;
	struct chan_frame fr;
	for (int i = 0; i < 1000 && !cl.reply_done; i++) {
		long m = channel_recv(f, sizeof(f));
		assert_true(m > 0);
		assert_int_equal(chan_client_take_reply(&cl, f, (size_t)m, &fr), CHAN_OK);
		memcpy(got + got_len, fr.body, fr.body_len);
		got_len += fr.body_len;
	}
	got[got_len] = 0;
	assert_true(cl.reply_done);
	assert_non_null(strstr(got, "cut: the relay took none of the reply"));
	assert_non_null(strstr(got, "@abc123"));
}

static void test_a_relay_that_takes_the_reply_gets_all_of_it(void **state)
{
	static char got[1 << 20];
	size_t got_len = 0;
	struct chan_frame fr;
	(void)state;
	for (int i = 0; i < 100000 && !cl.reply_done; i++) {
		console_poll();
		long m = channel_recv(f, sizeof(f));
		if (m == 0)
			continue;
		assert_int_equal(chan_client_take_reply(&cl, f, (size_t)m, &fr), CHAN_OK);
		memcpy(got + got_len, fr.body, fr.body_len);
		got_len += fr.body_len;
		now += 500000; /* half a second a piece: a slow line, never 10 s without one */
	}
	got[got_len] = 0;
	assert_true(cl.reply_done);
	assert_int_equal(steps, 128);
	assert_non_null(strstr(got, "  8191 some-task"));
	assert_null(strstr(got, "cut:"));
	assert_null(strstr(tx, "some-task"));
}

/* A relay that takes a piece now and then (never 10 s without one) keeps the job waiting;
 * after CHANNEL_WAIT_S of waiting in all the job is cut and the serial console answers. */
static void test_a_relay_that_trickles_cannot_keep_the_console_busy_either(void **state)
{
	struct chan_frame fr;
	bool cut = false;
	(void)state;
	for (int piece = 0; piece < 60 && !cl.reply_done; piece++) {
		for (uint64_t t0 = now; now - t0 < 9u * 1000000u;) /* 9 s of polls */
			console_poll();
		long m = channel_recv(f, sizeof(f));
		if (m <= 0)
			continue;
		assert_int_equal(chan_client_take_reply(&cl, f, (size_t)m, &fr), CHAN_OK);
		if (memmem(fr.body, fr.body_len, "too slowly", 10) != NULL)
			cut = true;
		if (piece == 2) { /* the control: meanwhile the console is busy */
			serial("@s3 status\n");
			assert_non_null(strstr(tx, "busy"));
		}
	}
	assert_true(steps < 128);
	for (int i = 0; i < 200 && !cl.reply_done; i++) {
		long m = channel_recv(f, sizeof(f));
		if (m <= 0)
			break;
		assert_int_equal(chan_client_take_reply(&cl, f, (size_t)m, &fr), CHAN_OK);
		if (memmem(fr.body, fr.body_len, "too slowly", 10) != NULL)
			cut = true;
	}
	assert_true(cut && cl.reply_done);
	serial("@s4 status\n");
	assert_non_null(strstr(tx, "status ok"));
}

/* ------------------------------------------------ compressed replies, cancelling a reply */

static int setup_serial(void **state)
{
	(void)state;
	machine.tsc_hz = 1000000;
	console_init(0x2f8, 115200);
	return 0;
}

/* Sends line on the serial console and polls until a status line with @tag has gone out
 * (at most max polls); the bytes sent meanwhile in tx. */
static bool serial_until(const char *line, const char *tag, int max)
{
	char want[32];
	snprintf(want, sizeof(want), " @%s\r\n", tag);
	rx_src = line;
	rx_pos = 0;
	tx_len = 0;
	tx[0] = 0;
	for (int i = 0; i < max; i++) {
		console_poll();
		if (strstr(tx, want) != NULL)
			return true;
	}
	return false;
}

/* The body of the reply in tx: what comes before its status line ("= "), as hvctl keeps it
 * (each line's "\r\n" as "\n"). */
static size_t body_of(char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = tx; *p != 0 && !(p[0] == '=' && (p == tx || p[-1] == '\n')); p++) {
		if (*p == '\r')
			continue;
		assert_true(n + 1 < cap);
		out[n++] = *p;
	}
	out[n] = 0;
	return n;
}

static void test_a_deflated_reply_inflates_to_the_plain_one(void **state)
{
	static char plain[4096], packed[4096];
	(void)state;
	assert_true(serial_until("@z1 status\n", "z1", 200));
	body_of(plain, sizeof(plain));
	assert_true(serial_until("@z2 +deflate status\n", "z2", 200));
	size_t n = body_of(packed, sizeof(packed));
	assert_int_equal(packed[0], '~');
	assert_null(strstr(tx, "status ok"));      /* it went compressed */
	assert_non_null(strstr(tx, "\n= ok @z2")); /* its status line plain */
	char *text, why[160];
	size_t len;
	assert_true(zreply_is_compressed(packed, n));
	assert_int_equal(zreply_inflate(packed, n, &text, &len, why, sizeof(why)), 0);
	assert_string_equal(text, plain);
	free(text);
	/* a line of the monitor's log that came between two pieces stays where it came */
	static char mixed[8192], want[8192];
	snprintf(mixed, sizeof(mixed), "ctrvisor: a log line\n%s", packed);
	snprintf(want, sizeof(want), "ctrvisor: a log line\n%s", plain);
	/* (the monitor's log lines start "ctrvisor: ") */
	assert_int_equal(zreply_inflate(mixed, strlen(mixed), &text, &len, why, sizeof(why)), 0);
	assert_string_equal(text, want);
	free(text);
	/* the control: a damaged stream is refused, not taken for a body */
	packed[3] ^= 0x10;
	int rc = zreply_inflate(packed, n, &text, &len, why, sizeof(why));
	free(text);
	assert_int_equal(rc, -1);
}

/* A job's body (ps of 8192 lines over 128 exits) streams through deflate: every step's
 * lines go out at its end (a sync flush), and the whole inflates to the plain reply. */
static void test_a_deflated_job_streams_and_inflates_to_the_plain_reply(void **state)
{
	static char plain[1 << 20], packed[1 << 20];
	(void)state;
	assert_true(serial_until("@z3 ps\n", "z3", 200000));
	size_t plain_len = body_of(plain, sizeof(plain));
	assert_int_equal(steps, 128);
	assert_true(serial_until("@z4 +deflate ps\n", "z4", 200000));
	size_t n = body_of(packed, sizeof(packed));
	for (size_t i = 0; i < n; i++) /* every body line is a compressed one */
		assert_true(i == 0 ? packed[i] == '~' : packed[i - 1] != '\n' || packed[i] == '~');
	char *text, why[160];
	size_t len;
	assert_int_equal(zreply_inflate(packed, n, &text, &len, why, sizeof(why)), 0);
	assert_int_equal(len, plain_len);
	assert_string_equal(text, plain);
	free(text);
	print_message("ps of 8192 lines: %zu bytes plain, %zu compressed (%.1fx)\n", plain_len, n,
		      (double)plain_len / (double)n);
	assert_true(n * 4 < plain_len);
}

/* Ctrl-X while a job's reply is made for the serial console: the job ends with no further
 * step, what was queued goes out (the ring holds the monitor's log lines too), then an
 * error naming the cancel, and the next request is answered. The control: without it, the
 * next request waits behind the reply (its busy held). */
static void test_ctrl_x_cancels_the_reply_being_made(void **state)
{
	(void)state;
	assert_false(serial_until("@c1 ps\n", "c1", 300));
	assert_true(steps < 128);
	/* the control: meanwhile a request waits, its busy held behind the reply */
	assert_false(serial_until("@c2 status\n", "c2", 300));
	assert_null(strstr(tx, "status ok"));
	unsigned at_cancel = steps;
	assert_true(serial_until("\x18", "c2", 40000));
	assert_non_null(strstr(tx, "= error failed: cancelled by the client (Ctrl-X)"));
	assert_non_null(strstr(tx, " @c1\r\n"));
	assert_non_null(strstr(tx, "= error busy")); /* c2's, after it */
	assert_int_equal(steps, at_cancel);          /* no step after the cancel */
	assert_true(serial_until("@c3 status\n", "c3", 300));
	assert_non_null(strstr(tx, "status ok"));
	/* a Ctrl-X with no reply being made changes nothing */
	assert_true(serial_until("\x18@c4 status\n", "c4", 300));
	assert_non_null(strstr(tx, "status ok\r\n= ok @c4"));
	/* a Ctrl-X in the same poll as the request: the job ends before its first step */
	assert_true(serial_until("@c5 ps\n\x18", "c5", 300));
	assert_non_null(strstr(tx, "= error failed: cancelled by the client (Ctrl-X)"));
	assert_int_equal(steps, 0);
}

/* An empty body asked compressed is nothing, as a plain one; a stream with a piece missing
 * is refused by the client (the zlib format's Adler-32), not taken for a shorter body. */
static void test_a_compressed_reply_is_whole_or_refused(void **state)
{
	static char packed[1 << 20], cut[1 << 20];
	(void)state;
	assert_true(serial_until("@e1 +deflate none\n", "e1", 200));
	assert_string_equal(tx, "= ok @e1\r\n");
	assert_true(serial_until("@e2 +deflate ps\n", "e2", 200000));
	size_t n = body_of(packed, sizeof(packed));
	/* the second line left out: every line is whole, the stream is not */
	const char *second = strchr(packed, '\n') + 1, *third = strchr(second, '\n') + 1;
	size_t head = (size_t)(second - packed);
	memcpy(cut, packed, head);
	memcpy(cut + head, third, n - (size_t)(third - packed) + 1);
	char *text, why[160];
	size_t len;
	int rc = zreply_inflate(cut, strlen(cut), &text, &len, why, sizeof(why));
	free(text);
	assert_int_equal(rc, -1);
	/* the control: the whole stream inflates */
	assert_int_equal(zreply_inflate(packed, n, &text, &len, why, sizeof(why)), 0);
	free(text);
	/* a line that is neither compressed nor the monitor's log is damage too */
	memcpy(cut, "junk\n", 5);
	memcpy(cut + 5, packed, n + 1);
	rc = zreply_inflate(cut, n + 5, &text, &len, why, sizeof(why));
	free(text);
	assert_int_equal(rc, -1);
}

/* The monitor's log lines that come between the pieces of a compressed reply all start
 * "ctrvisor: " (log_printf makes them so), so hvctl keeps them where they came and takes
 * the reply: even lines written without the prefix (a guest's state dump) and a guest
 * string holding line ends, "~" and "= ok" cannot read as a piece or a status. The
 * control: the same dump written past log_printf is refused as damage (what hvctl did
 * with the monitor's dump of a guest it stopped). */
static void test_log_lines_between_compressed_pieces_are_taken_as_the_log(void **state)
{
	static char packed[1 << 16];
	char *text, why[160];
	size_t len;
	(void)state;
	crash_raw = false;
	assert_true(serial_until("@z7 +deflate crash\n", "z7", 2000));
	assert_null(strstr(tx, "\n= ok @zz"));
	assert_null(strstr(tx, "\n~AAAA"));
	assert_null(strstr(tx, "\x1b"));
	size_t n = body_of(packed, sizeof(packed));
	assert_int_equal(zreply_inflate(packed, n, &text, &len, why, sizeof(why)), 0);
	assert_non_null(strstr(text, "ctrvisor: guest: rip=0x1234 rsp=0x5678\n"));
	assert_non_null(strstr(text, "ctrvisor: exit: reason=0x2\n"));
	assert_non_null(strstr(text, "ctrvisor: alert: task x??~AAAA?"
				     "?= ok @zz?"
				     "??[2J\n"));
	assert_non_null(strstr(text, "line 3.15 of the reply\n"));
	free(text);
	/* the control */
	crash_raw = true;
	assert_true(serial_until("@z8 +deflate crash\n", "z8", 2000));
	n = body_of(packed, sizeof(packed));
	int rc = zreply_inflate(packed, n, &text, &len, why, sizeof(why));
	free(text);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(why, "neither compressed nor the monitor's log"));
}

/* A log line written while a plain reply's line is open (over steps, the guest running
 * between them) waits for the line's end: the body line stays whole. Past the hold's
 * room, log lines are lost, counted, and the next log line out says how many. */
static void test_a_log_line_never_lands_inside_a_reply_line(void **state)
{
	(void)state;
	assert_true(serial_until("@l1 longline 1\n", "l1", 2000));
	assert_non_null(strstr(tx, "[{\"part\":0},{\"part\":1},{\"part\":2},{\"part\":3}]\r\n"
				   "ctrvisor: alert: number 00000 raised"));
	uint64_t lost = console_stats()->log_lost;
	assert_true(serial_until("@l2 longline 1200\n", "l2", 20000));
	assert_non_null(strstr(tx, "[{\"part\":0},{\"part\":1},{\"part\":2},{\"part\":3}]\r\n"));
	uint64_t now_lost = console_stats()->log_lost - lost;
	char want[96];
	snprintf(want, sizeof(want), "\r\nctrvisor: %llu log line(s) lost: the console had no room",
		 (unsigned long long)now_lost);
	assert_true(now_lost > 0 && now_lost < 1200);
	assert_non_null(strstr(tx, want));
	assert_non_null(strstr(tx, "ctrvisor: alert: number 00000 raised"));
	assert_null(strstr(tx, "number 01199"));
	/* the log is whole lines: each starts a line */
	for (const char *p = strstr(tx, "alert: number"); p; p = strstr(p + 1, "alert: number"))
		assert_memory_equal(p - 11, "\nctrvisor: ", 11);
}

/* A job's reply cut inside a line gets its status on a line of its own (what reached the
 * wire decides, not the reply's state, whose last write ended the line), and the log
 * written after it is not held behind a line that will never end. */
static void test_a_reply_cut_inside_a_line_still_ends_with_its_status(void **state)
{
	(void)state;
	rx_src = "@f1 flood\n";
	rx_pos = 0;
	tx_len = 0;
	tx[0] = 0;
	for (int i = 0; i < 200000; i++)
		console_poll();
	assert_true(tx_len > (1u << 20));
	const char *status = strstr(tx, "= error failed: the reply was cut");
	assert_non_null(status);
	assert_int_equal(status[-1], '\n');
	assert_non_null(strstr(status, " @f1\r\n"));
	log_printf("after the cut\r\n");
	for (int i = 0; i < 100; i++)
		console_poll();
	assert_non_null(strstr(status, "@f1\r\nctrvisor: after the cut\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(
			test_a_relay_that_stops_taking_the_reply_cannot_keep_the_console_busy,
			setup),
		cmocka_unit_test_setup(test_a_relay_that_takes_the_reply_gets_all_of_it, setup),
		cmocka_unit_test_setup(
			test_a_relay_that_trickles_cannot_keep_the_console_busy_either, setup),
		cmocka_unit_test_setup(test_a_deflated_reply_inflates_to_the_plain_one,
				       setup_serial),
		cmocka_unit_test_setup(test_a_deflated_job_streams_and_inflates_to_the_plain_reply,
				       setup_serial),
		cmocka_unit_test_setup(test_ctrl_x_cancels_the_reply_being_made, setup_serial),
		cmocka_unit_test_setup(test_a_compressed_reply_is_whole_or_refused, setup_serial),
		cmocka_unit_test_setup(
			test_log_lines_between_compressed_pieces_are_taken_as_the_log,
			setup_serial),
		cmocka_unit_test_setup(test_a_log_line_never_lands_inside_a_reply_line,
				       setup_serial),
		cmocka_unit_test_setup(test_a_reply_cut_inside_a_line_still_ends_with_its_status,
				       setup_serial),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
