/* SPDX-License-Identifier: MIT */
#include "console/console.h"

#include "console/channel.h"
#include "console/cmd.h"
#include "console/rx.h"
#include "console/proto.h"
#include "lib/fmt.h"
#include "console/uart.h"
#include "console/zbody.h"
#include "console/verbs.h"
#include "console/verbs_ops.h"
#include "core/monitor.h"
#include "platform/wake_port.h"
#include "x86/cpu.h"
#include "lib/string.h"

#define TX_RING_SIZE   (2u * 1024u * 1024u) /* power of two: `ps --json` of 1000+ tasks fits */
#define RX_PER_POLL    64u                  /* bounded work per exit */
#define RX_QUIET_POLLS 4000u /* polls without a received byte: about 1 s at the busy rate */
#define FLUSH_SPIN_MAX 200000000u

static struct uart uart;
static struct rx rx; /* received bytes into lines */
static struct console_stats stats;
static char tx_ring[TX_RING_SIZE];
static uint32_t tx_head, tx_tail; /* head: next write; tail: next send */
static uint32_t rx_recent;        /* polls since the last received byte, saturating */
static bool deferred;             /* a verb's reply is still to come */
/* Where a request came from, and so where its reply goes: the UART's ring, or the
 * channel's reply text (console/channel.h). One request at a time is deferred or a job,
 * whichever its origin. */
enum origin { ORIGIN_SERIAL, ORIGIN_CHANNEL };
static enum origin deferred_origin;
static char deferred_tag[PROTO_TAG_MAX + 1];
static bool deferred_deflate; /* its body goes through the open zbody stream */
/* A reply made over several exits (console_start_job): its step, and the reply its steps
 * write through (error and line state carry over from one step to the next) */
static bool (*job_step)(struct reply *r, void *ctx);
static void *job_ctx;
static struct reply job_reply;
struct reply_sink;
static struct reply_sink job_sink;
static void job_reply_ready(void);
/* Replies to other requests while a job's reply is made (busy, a lost line), held whole and
 * sent after its status line, never inside its body */
#define HELD_MAX 4096u
static char held[HELD_MAX];
static uint32_t held_len;
/* The monitor's log lines held while a plain reply's line is open (console_log) */
#define LOG_HOLD_MAX (64u * 1024u) /* about a minute of alerts at their rate limit */
static bool open_line[2];          /* by origin: the last reply byte queued there was not '\n' */
static char log_hold[LOG_HOLD_MAX];
static uint32_t log_hold_len;
static uint32_t log_lost_untold; /* lines lost since the last that went out */

bool console_init(uint16_t port, uint32_t baud)
{
	rx_init(&rx);
	tx_head = tx_tail = 0;
	open_line[ORIGIN_SERIAL] = open_line[ORIGIN_CHANNEL] = false;
	log_hold_len = log_lost_untold = 0;
	return uart_init(&uart, port, baud);
}

bool console_present(void)
{
	return uart.present;
}

uint16_t console_port(void)
{
	return uart.port;
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (tx_head - tx_tail >= TX_RING_SIZE) {
			stats.tx_dropped += n - i;
			return;
		}
		tx_ring[tx_head++ & (TX_RING_SIZE - 1)] = s[i];
	}
}

/* The UART's interrupt line as console_irq_line left it. It is down whenever the console
 * sends: a line held up while the transmit FIFO empties and refills would give the guest
 * an edge per burst (the THRE interrupt), which would tell it when the console talks. */
static bool irq_up;
#define WAKE_LINE_HOLD_MS 5u /* the longest the line stays up for a ring not served */

static void transmit_some(void)
{
	if (tx_head == tx_tail || !uart_tx_ready(&uart))
		return;
	if (irq_up) {
		uart_irq_line(&uart, false);
		irq_up = false;
	}
	/* THRE set with FIFOs enabled means the whole transmit FIFO is empty. */
	for (uint32_t i = 0; i < 16u && tx_tail != tx_head; i++) {
		uart_tx_byte(&uart, (uint8_t)tx_ring[tx_tail++ & (TX_RING_SIZE - 1)]);
		stats.tx_bytes++;
	}
}

/* Room kept free in the ring for a status line, so that a reply too long for the ring
 * still ends with one (an error saying it was cut) and the client is not left waiting. */
#define STATUS_RESERVE 512u

static uint32_t out_used(enum origin o)
{
	return o == ORIGIN_SERIAL ? tx_head - tx_tail : channel_text_used();
}

static uint32_t out_capacity(enum origin o)
{
	return o == ORIGIN_SERIAL ? TX_RING_SIZE : channel_text_capacity();
}

/* The monitor's log and a reply's line. A log line is whole, and must not land inside a
 * line of a plain reply (a `--json` body is one line made over many exits, with the guest
 * running between them): while the last reply byte queued for the UART left a line open,
 * log lines wait in log_hold, and go out once the reply's line ends. A log line takes
 * room in the ring only whole and outside STATUS_RESERVE; one that finds none (or no
 * room in log_hold) is lost, counted, and the next log line that goes out says so. */

/* One log line into the ring, whole, or lost (counted; told by the next that goes out). */
static bool log_fits(size_t n)
{
	return tx_head - tx_tail + n <= TX_RING_SIZE - STATUS_RESERVE;
}

static bool log_put_line(const char *s, size_t n)
{
	if (!log_fits(n)) {
		stats.log_lost++;
		log_lost_untold++;
		return false;
	}
	console_write(s, n);
	return true;
}

/* What was lost since the last log line out, told once there is room for it. */
static void log_tell_lost(void)
{
	char line[96];
	uint32_t lost = log_lost_untold;
	if (lost == 0)
		return;
	size_t n = fmt_snprintf(
		line, sizeof(line),
		"ctrvisor: %u log line(s) lost: the console had no room for them\r\n", lost);
	if (log_fits(n)) {
		console_write(line, n);
		log_lost_untold -= lost;
	}
}

/* The held log lines out, each whole or lost, then what was lost. */
static void log_release(void)
{
	for (uint32_t at = 0; at < log_hold_len;) {
		uint32_t end = at;
		while (end < log_hold_len && log_hold[end] != '\n')
			end++;
		end += end < log_hold_len; /* its '\n' (log lines always end with one) */
		log_put_line(log_hold + at, end - at);
		at = end;
	}
	log_hold_len = 0;
	log_tell_lost();
}

void console_log_now(void)
{
	if (open_line[ORIGIN_SERIAL])
		console_write("\r\n", 2);
	open_line[ORIGIN_SERIAL] = false;
	log_release();
}

void console_log(const char *s, size_t n)
{
	if (n == 0)
		return;
	if (open_line[ORIGIN_SERIAL]) {
		if (log_hold_len + n <= LOG_HOLD_MAX) {
			memcpy(log_hold + log_hold_len, s, n);
			log_hold_len += (uint32_t)n;
		} else {
			stats.log_lost++;
			log_lost_untold++;
		}
		return;
	}
	if (log_put_line(s, n))
		log_tell_lost();
}

static void out_write(enum origin o, const char *s, size_t n)
{
	if (o == ORIGIN_CHANNEL)
		channel_text_write(s, n);
	else
		console_write(s, n);
	if (n > 0)
		open_line[o] = s[n - 1] != '\n';
	if (o == ORIGIN_SERIAL && !open_line[o] && (log_hold_len > 0 || log_lost_untold > 0))
		log_release();
}

/* A reply's status line was written: for the channel, its text is complete. */
static void out_end(enum origin o)
{
	if (o == ORIGIN_CHANNEL)
		channel_text_end();
}

struct reply_sink {
	enum origin origin;
	bool truncated;
	uint64_t dropped;
	bool deflate; /* the body goes through the zbody stream (console/zbody.h) */
};

static void sink_out(void *ctx, const char *s, size_t n)
{
	struct reply_sink *sink = ctx;
	uint32_t used = out_used(sink->origin);
	if (sink->truncated || used + n > out_capacity(sink->origin) - STATUS_RESERVE) {
		sink->truncated = true;
		sink->dropped += n;
		return;
	}
	out_write(sink->origin, s, n);
}

/* A reply's body: plain, or compressed when its request asked (+deflate). */
static void reply_to_console(void *ctx, const char *s, size_t n)
{
	struct reply_sink *sink = ctx;
	if (sink->deflate)
		zbody_write(s, n, sink_out, sink);
	else
		sink_out(ctx, s, n);
}

/* A compressed body's end (a cut one is only closed: its end would not fit either); after
 * it, sink->truncated says whether the whole body went out. */
static void sink_end_body(struct reply_sink *sink)
{
	if (!sink->deflate)
		return;
	if (!sink->truncated)
		zbody_end(sink_out, sink);
	zbody_abort();
	sink->deflate = false;
}

/* The end of a deferred reply's or a job's body, before its status line. Whole: its held
 * bytes and last line's end go into the stream before it is closed. Cut: the reply's own
 * line state says nothing of what reached the output (sink_out drops every write from the
 * first that does not fit), so the line is ended from what did, and the reply fails. The
 * status line then always fits: STATUS_RESERVE is kept free for it. */
static void end_reply_body(struct reply *r, struct reply_sink *sink)
{
	if (!sink->truncated)
		reply_end_body(r);
	sink_end_body(sink);
	if (sink->truncated) {
		reply_fail(r, PROTO_FAILED, "the reply was cut: %llu bytes did not fit",
			   (unsigned long long)sink->dropped);
		r->held = 0;
		r->mid_line = false;
		if (open_line[sink->origin])
			out_write(sink->origin, "\r\n", 2);
	}
	sink->truncated = false;
}

/* A reply's status line, after its body's end. A cut reply's is not written: whoever cut it
 * writes one saying so. Otherwise it goes out whatever the body left: STATUS_RESERVE was
 * kept free for it. */
static void status_to_console(void *ctx, const char *s, size_t n)
{
	struct reply_sink *sink = ctx;
	sink_end_body(sink);
	if (sink->truncated) {
		sink->dropped += n;
		return;
	}
	out_write(sink->origin, s, n);
}

/* A reply to the console through sink (its body compressed when sink->deflate). */
static void reply_to_sink(struct reply *r, struct reply_sink *sink)
{
	reply_init(r, reply_to_console, sink);
	r->write_status = status_to_console;
}

/* One reply to another request while a job runs: whole, or not at all. */
struct held_reply {
	char buf[PROTO_STATUS_MAX + 8];
	size_t len;
	bool over;
};

static void reply_to_held(void *ctx, const char *s, size_t n)
{
	struct held_reply *h = ctx;
	if (h->over || h->len + n > sizeof(h->buf)) {
		h->over = true;
		return;
	}
	memcpy(h->buf + h->len, s, n);
	h->len += n;
}

/* A line just ended, or was lost, from origin o: run it or report it. */
static void run_request(enum origin o, enum line_event ev, struct line_state *line)
{
	struct reply r;
	struct reply_sink sink = {o, false, 0, false};
	struct held_reply h = {.len = 0, .over = false};
	char tag[PROTO_TAG_MAX + 1] = "";
	/* a job's body is going out on this stream: nothing in its middle */
	bool hold = job_step != NULL && deferred_origin == o;
	bool started = false; /* this request deferred its reply */
	cmd_request_tag(line->buf, tag);
	/* a compressed body only for a request that runs now (a busy reply has none) */
	sink.deflate = ev == LINE_READY && !deferred && !hold && cmd_request_deflate(line->buf) &&
		       zbody_begin();
	if (hold)
		reply_init(&r, reply_to_held, &h);
	else
		reply_to_sink(&r, &sink);
	stats.requests++;
	if (ev == LINE_READY && deferred) {
		/* One operation at a time: its reply must not interleave with another. */
		reply_fail(&r, PROTO_BUSY, "an operation is still running; its reply comes first");
		cmd_write_status(&r, tag[0] ? tag : 0);
	} else if (ev == LINE_READY) {
		if (cmd_dispatch(console_verbs, console_verb_count, line->buf, &r)) {
			deferred = true;
			deferred_origin = o;
			deferred_deflate = sink.deflate;
			started = true;
			memcpy(deferred_tag, r.tag, sizeof(deferred_tag));
		}
	} else
		cmd_report_line_event(ev, line, &r);
	if (sink.truncated) {
		char msg[96], status[PROTO_STATUS_MAX];
		fmt_snprintf(msg, sizeof(msg),
			     "the reply was cut: %llu bytes did not fit the console's buffer",
			     (unsigned long long)sink.dropped);
		size_t len = proto_format_status(status, sizeof(status), PROTO_FAILED, msg,
						 tag[0] ? tag : 0);
		if (open_line[o])
			out_write(o, "\r\n", 2);
		out_write(o, status, len);
		out_write(o, "\r\n", 2);
		stats.tx_dropped += sink.dropped;
		r.error = PROTO_FAILED;
	}
	if (r.error != PROTO_OK)
		stats.errors++;
	if (hold) {
		if (!h.over && held_len + h.len <= HELD_MAX) {
			memcpy(held + held_len, h.buf, h.len);
			held_len += (uint32_t)h.len;
		} else {
			stats.tx_dropped += h.len;
		}
	}
	if (!started)
		out_end(o);
}

static void line_event(void *ctx, enum line_event ev, struct line_state *line)
{
	(void)ctx;
	run_request(ORIGIN_SERIAL, ev, line);
}

/* A request the channel took (console/channel.h): its body goes through the same line
 * rules as typed bytes (length, text only), then runs as a line from the serial console
 * would, its reply going to the channel. A body that holds a line end is bad input. */
static void run_channel_request(void)
{
	const uint8_t *body;
	uint32_t len;
	if (!channel_next_request(&body, &len))
		return;
	static struct line_state ls;
	line_init(&ls);
	enum line_event ev = LINE_NONE;
	uint32_t i = 0;
	while (i < len && ev == LINE_NONE)
		ev = line_feed(&ls, body[i++]);
	if (ev != LINE_NONE) { /* a CR or LF in the body ended a line: not one request */
		ls.bad_byte = body[i - 1];
		ev = LINE_BAD_INPUT;
	} else {
		ev = line_feed(&ls, '\n');
	}
	if (ev == LINE_NONE) { /* nothing but spaces, or a cancelled line */
		struct reply r;
		struct reply_sink sink = {ORIGIN_CHANNEL, false, 0, false};
		reply_init(&r, reply_to_console, &sink);
		reply_fail(&r, PROTO_BAD_ARGUMENT, "an empty request");
		cmd_write_status(&r, 0);
		out_end(ORIGIN_CHANNEL);
		return;
	}
	run_request(ORIGIN_CHANNEL, ev, &ls);
}

static void job_run(void);
static void job_end(void);

/* A job whose reply goes to the channel waits while the channel's buffer is full, that is
 * until the relay in the guest takes pieces of it; meanwhile every other request, the
 * serial console's included, is answered busy. A relay that takes no piece for
 * CHANNEL_STALL_S, or keeps the job waiting CHANNEL_WAIT_S in all (a piece now and then),
 * gets the job cut (its reply ends with an error), so the guest cannot keep the trusted
 * console busy for longer. A reply of 1 MiB over 115200 baud waits about 100 s. */
#define CHANNEL_STALL_S 10u
#define CHANNEL_WAIT_S  120u
static uint64_t stall_pieces, stall_since; /* the last piece taken, and since when */
static uint64_t waited, wait_mark;         /* TSC the job waited in all; the last look */

static void cut_stalled_channel_job(void)
{
	uint64_t now = rdtsc(), pieces = channel_pieces_out();
	if (wait_mark != 0)
		waited += now - wait_mark;
	wait_mark = now;
	if (waited >= machine.tsc_hz * CHANNEL_WAIT_S) {
		reply_fail(&job_reply, PROTO_FAILED,
			   "cut: the relay took the reply too slowly (%u s of waiting)",
			   CHANNEL_WAIT_S);
		job_end();
		return;
	}
	if (stall_since == 0 || pieces != stall_pieces) {
		stall_pieces = pieces;
		stall_since = now;
		return;
	}
	if (now - stall_since < machine.tsc_hz * CHANNEL_STALL_S)
		return;
	reply_fail(&job_reply, PROTO_FAILED, "cut: the relay took none of the reply for %u s",
		   CHANNEL_STALL_S);
	job_end();
}

/* Ctrl-X from the serial console: the job being made for it ends now, with no further step,
 * so the next request is not kept waiting behind a reply nobody reads. What is already
 * queued (less than CONSOLE_JOB_LOW_WATER and one step) still goes out: the ring also holds
 * the monitor's log lines (alerts), which must not be lost with it. An operation (deferred,
 * not a job) is never cut halfway: it ends by its own deadline. */
static void cancel_serial_job(void)
{
	if (job_step == NULL || deferred_origin != ORIGIN_SERIAL)
		return;
	job_reply_ready(); /* (a Ctrl-X in the poll that started the job: no step ran yet) */
	stats.cancelled++;
	reply_fail(&job_reply, PROTO_FAILED,
		   "cancelled by the client (Ctrl-X); what was queued was sent");
	job_end();
}

void console_poll(void)
{
	if (!uart.present)
		return;
	verbs_ops_poll();
	run_channel_request();
	for (uint32_t i = 0; i < RX_PER_POLL; i++) {
		int c = uart_rx_byte(&uart);
		bool overrun = uart_take_overrun(&uart);
		stats.rx_overruns += overrun;
		rx_step(&rx, c, overrun, line_event, 0);
		if (c == (int)CONSOLE_CANCEL)
			cancel_serial_job();
		if (c < 0)
			break;
		stats.rx_bytes++;
		rx_recent = 0;
	}
	if (rx_recent < 1000000u)
		rx_recent++;
	if (rx_recent == RX_QUIET_POLLS)
		rx_idle(&rx, line_event, 0); /* a damaged line whose end will not come */
	if (job_step != NULL && out_used(deferred_origin) < CONSOLE_JOB_LOW_WATER) {
		stall_since = 0;
		wait_mark = 0;
		job_run();
	} else if (job_step != NULL && deferred_origin == ORIGIN_CHANNEL) {
		cut_stalled_channel_job();
	}
	transmit_some();
	wake_port_poll(rdtsc(), machine.tsc_hz / 1000u * WAKE_LINE_HOLD_MS);
}

void console_finish_deferred(void (*body)(struct reply *r, void *ctx), void *ctx,
			     enum proto_error error, const char *message)
{
	if (!deferred)
		return;
	struct reply r;
	struct reply_sink sink = {deferred_origin, false, 0, deferred_deflate};
	reply_to_sink(&r, &sink);
	if (body)
		body(&r, ctx);
	if (error != PROTO_OK)
		reply_fail(&r, error, "%s", message);
	end_reply_body(&r, &sink);
	cmd_write_status(&r, deferred_tag[0] ? deferred_tag : 0);
	deferred = false;
	deferred_deflate = false;
	out_end(deferred_origin);
	if (r.error != PROTO_OK)
		stats.errors++;
}

void console_start_job(bool (*step)(struct reply *r, void *ctx), void *ctx)
{
	waited = 0;
	wait_mark = stall_since = 0;
	job_step = step;
	job_ctx = ctx;
}

static bool job_handed_over; /* the job's last step started an operation */

void console_job_hand_over(void)
{
	job_handed_over = true;
}

/* The job's reply, set up at its first step (or at a cancel before it): its request's
 * origin and encoding are known only once the verb has returned. */
static void job_reply_ready(void)
{
	if (job_reply.write != NULL)
		return;
	job_sink = (struct reply_sink){deferred_origin, false, 0, deferred_deflate};
	reply_to_sink(&job_reply, &job_sink);
}

/* The job's next step; after its last, the status line. */
static void job_run(void)
{
	if (!deferred) { /* started outside a request: nothing to answer */
		job_step = NULL;
		return;
	}
	job_reply_ready();
	if (!job_step(&job_reply, job_ctx) && job_reply.error == PROTO_OK) {
		if (job_sink.deflate) /* what this step wrote goes out now */
			zbody_flush(sink_out, &job_sink);
		return;
	}
	if (job_handed_over && job_reply.error == PROTO_OK) {
		/* the operation's reply ends the request (console_finish_deferred) */
		job_handed_over = false;
		job_step = NULL;
		reply_end_body(&job_reply);
		job_reply.write = NULL;
		console_write(held, held_len);
		held_len = 0;
		return;
	}
	job_handed_over = false;
	job_end();
}

/* The job's reply is complete (or cut): its status line, then the replies held meanwhile. */
static void job_end(void)
{
	end_reply_body(&job_reply, &job_sink);
	cmd_write_status(&job_reply, deferred_tag[0] ? deferred_tag : 0);
	if (job_reply.error != PROTO_OK)
		stats.errors++;
	stats.tx_dropped += job_sink.dropped;
	job_step = NULL;
	job_reply.write = NULL;
	deferred = false;
	deferred_deflate = false;
	out_end(deferred_origin);
	console_write(held, held_len); /* the replies held meanwhile, after it */
	held_len = 0;
}

/* Busy while output waits or for ~4000 polls (about 1 s at the busy rate) after the last
 * received byte: a person typing, or hvctl pacing its request. */
bool console_busy(void)
{
	return tx_head != tx_tail || rx_recent < RX_QUIET_POLLS || job_step != NULL ||
	       channel_pending();
}

void console_flush_blocking(void)
{
	for (uint32_t spin = 0; tx_head != tx_tail && spin < FLUSH_SPIN_MAX; spin++)
		transmit_some();
}

const struct console_stats *console_stats(void)
{
	return &stats;
}

void console_irq_line(bool high)
{
	uart_irq_line(&uart, high);
	irq_up = high;
}

bool console_irq_line_up(void)
{
	return irq_up;
}

bool console_tx_idle(void)
{
	return tx_head == tx_tail && uart_tx_ready(&uart);
}
