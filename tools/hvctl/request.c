/* A request goes out tagged and paced; its reply is the body lines that follow the last
 * status line seen, up to the status line carrying our tag. Lines from earlier replies or
 * from noise are dropped on the way. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "console/cmd.h"
#include "console/line.h"
#include "console/proto.h"
#include "relay.h"
#include "request.h"
#include "zreply.h"

void reader_free(struct reader *rd)
{
	free(rd->line);
	memset(rd, 0, sizeof(*rd));
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (q == NULL) {
		fprintf(stderr, "hvctl: out of memory\n");
		exit(HVCTL_EXIT_USAGE);
	}
	return q;
}

/* A fresh tag per request, so a late reply to an earlier one cannot be taken for ours. */
static void hvctl_new_tag(char *tag, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t rnd[PROTO_TAG_MAX];

	if (getrandom(rnd, len, GRND_NONBLOCK) != (ssize_t)len) {
		struct timespec ts;
		uint64_t x;

		clock_gettime(CLOCK_REALTIME, &ts);
		x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)getpid();
		for (size_t i = 0; i < len; i++) {
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			rnd[i] = (uint8_t)(x >> 56);
		}
	}
	for (size_t i = 0; i < len; i++)
		tag[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	tag[len] = '\0';
}

int hvctl_request_sendable(const char *request, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = request[i];
		if (ch == '\0' || ch == '\r' || ch == '\n' || ch == (char)CONSOLE_KILL_LINE ||
		    ch == (char)CONSOLE_CANCEL)
			return 0;
	}
	return 1;
}

struct watch;
static void progress_clear(struct watch *w);

struct body {
	char *text;
	size_t len, cap;
	size_t earlier_bytes;     /* bytes of earlier replies' lines that came before ours */
	unsigned earlier_replies; /* their status lines */
	size_t lines;             /* lines taken (the monitor's log is not taken) */
	bool deflated;            /* the request asked for a compressed body */
	struct watch *watch;      /* the progress line to clear before a log line, or NULL */
};

static void body_add_line(struct body *b, const char *line, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->text = xrealloc(b->text, b->cap);
	}
	memcpy(b->text + b->len, line, n);
	b->len += n;
	b->text[b->len++] = '\n';
}

/* A line of the monitor's own log (it goes to the console too; no body line starts like
 * it): on stderr as it comes, so that stdout holds the reply alone. */
static void log_line_out(struct body *body, const char *line, size_t n)
{
	if (body->watch != NULL)
		progress_clear(body->watch);
	fprintf(stderr, "%.*s\n", (int)n, line);
}

/* Handles one received line (line end removed). Returns 1 when it is our status line. */
static int hvctl_line(const char *line, size_t n, const char *tag, struct body *body,
		      struct proto_status *st)
{
	if (proto_parse_status(line, st)) {
		if (strcmp(st->tag, tag) == 0)
			return 1;
		/* the end of an earlier reply: what came before is not ours */
		body->earlier_bytes += body->len + n + 1;
		body->earlier_replies++;
		body->len = 0;
		return 0;
	}
	if (proto_is_log_line(line, n)) {
		log_line_out(body, line, n);
		return 0;
	}
	body->lines++;
	body_add_line(body, line, n);
	return 0;
}

/* Takes received bytes into rd; each complete line goes to hvctl_line until our status
 * line, which makes it return 1. What follows it in the same read is no reply of ours:
 * its complete lines are dropped, but the monitor's log among them (an alert raised at the
 * reply's end) goes to stderr, and a line not yet complete stays in rd, for the next
 * request's reader to complete. */
static int hvctl_take(struct reader *rd, const char *buf, size_t n, const char *tag,
		      struct body *body, struct proto_status *st)
{
	int done = 0;

	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			size_t len = rd->len;

			while (len > 0 && rd->line[len - 1] == '\r')
				len--;
			if (rd->cap == 0)
				rd->line = xrealloc(rd->line, rd->cap = 256);
			rd->line[len] = '\0';
			/* A NUL inside a line is noise; proto_parse_status sees the line up
			 * to it, which is not a status line unless the start was one. */
			if (!done)
				done = hvctl_line(rd->line, len, tag, body, st);
			else if (proto_is_log_line(rd->line, len))
				log_line_out(body, rd->line, len);
			rd->len = 0;
			rd->dropped = 0;
			continue;
		}
		if (rd->len + 2 > HVCTL_LINE_LIMIT) {
			rd->dropped++;
			continue;
		}
		if (rd->len + 2 > rd->cap) {
			rd->cap = rd->cap == 0 ? 256 : rd->cap * 2;
			rd->line = xrealloc(rd->line, rd->cap);
		}
		rd->line[rd->len++] = buf[i];
	}
	return done;
}

int hvctl_request(struct conn *c, struct reader *rd, const char *request, double timeout_s)
{
	return hvctl_request_body(c, rd, request, timeout_s, NULL, NULL);
}

/* A request the monitor refused because the serial line dropped some of its bytes
 * (`line-lost`: it was not run) goes out again, at most this many times. */
#define HVCTL_LINE_LOST_RETRIES 3

static int request_body(struct conn *c, struct reader *rd, const char *request, double timeout_s,
			char **body_out, size_t *len_out, bool quiet);

int hvctl_request_body(struct conn *c, struct reader *rd, const char *request, double timeout_s,
		       char **body_out, size_t *len_out)
{
	return request_body(c, rd, request, timeout_s, body_out, len_out, false);
}

/* The body of a request sent with +deflate, inflated in place; a damaged one is an error.
 * (One sent without it is never inflated, whatever its lines look like: a command's output
 * may hold a line starting with '~'.) A body with no compressed line is taken as it is: an
 * empty one, or the plain body of a monitor that could not compress it. */
static int inflate_body(struct body *body, int status, bool quiet)
{
	char *text, why[160];
	size_t len;
	if (!body->deflated || !zreply_is_compressed(body->text, body->len))
		return status;
	/* A compressed body is "~" lines from its first on: a plain line before that is not
	 * part of it (the end of a line the monitor had begun before hvctl connected): it
	 * goes to stderr, as the monitor's log does. */
	size_t first = 0;
	while (first < body->len && body->text[first] != '~') {
		const char *nl = memchr(body->text + first, '\n', body->len - first);
		first = nl ? (size_t)(nl - body->text) + 1 : body->len;
	}
	if (first > 0 && !quiet)
		fprintf(stderr, "%.*s", (int)first, body->text);
	int rc = zreply_inflate(body->text + first, body->len - first, &text, &len, why,
				sizeof(why));
	free(body->text);
	body->text = text;
	body->len = body->cap = len;
	if (rc == 0)
		return status;
	if (!quiet)
		fprintf(stderr, "hvctl: %s (what came before it is printed)\n", why);
	return status == HVCTL_EXIT_OK ? HVCTL_EXIT_ERROR_REPLY : status;
}

/* The reply is whole: its body to the caller or stdout, its error on stderr (unless quiet). */
static int finish(struct body *body, const struct proto_status *st, int status, char **body_out,
		  size_t *len_out, bool quiet)
{
	status = inflate_body(body, status, quiet);
	if (body_out != NULL) {
		*body_out = body->text;
		*len_out = body->len;
	} else {
		if (body->len > 0)
			fwrite(body->text, 1, body->len, stdout);
		fflush(stdout);
		free(body->text);
	}
	if (status != HVCTL_EXIT_OK && !quiet)
		fprintf(stderr, "hvctl: error %s: %s\n", proto_error_name(st->error), st->message);
	return status;
}

/* The request line's words before the request: "+deflate " when compressed bodies are asked. */
static const char *encoding_word(const struct conn *c)
{
	return c->deflate ? CMD_DEFLATE_WORD " " : "";
}

/* The text of a reply through the relay, piece by piece, into the same line reader. */
struct relay_take {
	struct reader *rd;
	const char *tag;
	struct body *body;
	struct proto_status *st;
	int done;
};

static void relay_take_text(void *ctx, const char *text, size_t n)
{
	struct relay_take *t = ctx;
	if (!t->done)
		t->done = hvctl_take(t->rd, text, n, t->tag, t->body, t->st);
}

/* One request through the relay in the guest (relay.h): the same tagged line, sent as a
 * signed frame; the same reply text, taken only from pieces that passed the checks. */
static int relay_request(struct conn *c, struct reader *rd, const char *request, double timeout_s,
			 char **body_out, size_t *len_out, bool quiet)
{
	uint64_t deadline = conn_now_ms() + (uint64_t)(timeout_s * 1000.0);
	char tag[9], why[256];
	struct body body = {0};
	struct proto_status st;
	hvctl_new_tag(tag, sizeof(tag) - 1);
	char *line = xrealloc(NULL, strlen(request) + sizeof(tag) + 16);
	sprintf(line, "@%s %s%s", tag, encoding_word(c), request);
	rd->len = 0;
	body.deflated = c->deflate;
	struct relay_take t = {rd, tag, &body, &st, 0};
	int rc = relay_exchange(c, c->relay, line, deadline, relay_take_text, &t, why, sizeof(why));
	int err = errno;
	free(line);
	rd->len = 0;
	if (rc != 0) {
		free(body.text);
		if (err == EINTR && conn_interrupted) {
			fprintf(stderr, "hvctl: interrupted (a request through the relay is not "
					"cancelled: its reply is signed whole)\n");
			return HVCTL_EXIT_INTERRUPTED;
		}
		if (err == ETIMEDOUT)
			fprintf(stderr,
				"hvctl: no answer through the relay on %s within %g s "
				"(%s%s%s%s%s)\n",
				c->addr, timeout_s, why,
				c->relay->note[0] ? "; the relay last said " : "", c->relay->note,
				c->relay->refused ? "; frames refused, the last for " : "",
				c->relay->refused ? c->relay->refused_why : "");
		else
			fprintf(stderr, "hvctl: %s\n", why);
		return HVCTL_EXIT_NO_ANSWER;
	}
	if (!t.done) {
		free(body.text);
		fprintf(stderr,
			"hvctl: the monitor's signed reply ended without its status line\n");
		return HVCTL_EXIT_ERROR_REPLY;
	}
	return finish(&body, &st, st.error == PROTO_OK ? HVCTL_EXIT_OK : HVCTL_EXIT_ERROR_REPLY,
		      body_out, len_out, quiet);
}

/* Did the monitor refuse the +deflate word (one older than compressed replies)? Then the
 * request goes again without it, and so do the later ones. */
static bool deflate_refused(struct conn *c, const struct proto_status *st)
{
	static const char refused[] = "unknown verb \"" CMD_DEFLATE_WORD "\"";
	if (!c->deflate || st->error != PROTO_UNKNOWN_VERB ||
	    strncmp(st->message, refused, sizeof(refused) - 1) != 0)
		return false;
	c->deflate = false;
	return true;
}

/* What a request's reader knows for its messages and its progress line. */
struct watch {
	uint64_t start, last_byte, last_shown;
	size_t bytes;
	bool tty, shown, cancelling;
};

#define PROGRESS_AFTER_MS 1000u /* a reply that takes longer gets a progress line */
#define PROGRESS_EVERY_MS 250u
#define CANCEL_WAIT_MS    10000u /* after Ctrl-X, the status line is awaited this long */

static void progress_clear(struct watch *w)
{
	if (w->shown)
		fputs("\r\033[K", stderr);
	w->shown = false;
}

/* On stderr when it is a terminal: what has come, and whether it is ours yet. */
static void progress_show(struct watch *w, const struct body *b, uint64_t now)
{
	if (!w->tty || now - w->start < PROGRESS_AFTER_MS ||
	    now - w->last_shown < PROGRESS_EVERY_MS)
		return;
	w->last_shown = now;
	w->shown = true;
	fprintf(stderr, "\r\033[Khvctl: %s %zu bytes in %.1f s",
		w->cancelling ? "cancelling;" : "receiving:", w->bytes,
		(double)(now - w->start) / 1000.0);
	if (b->earlier_replies > 0)
		fprintf(stderr, " (%zu of them an earlier reply, still draining when we asked)",
			b->earlier_bytes);
	if (now - w->last_byte >= 2000)
		fprintf(stderr, "; no byte for %.0f s", (double)(now - w->last_byte) / 1000.0);
	fflush(stderr);
}

/* quiet: an error reply is not reported (the sync below takes any status line) */
static int request_body(struct conn *c, struct reader *rd, const char *request, double timeout_s,
			char **body_out, size_t *len_out, bool quiet)
{
	/* The timeout counts silence: every byte received starts it again. */
	uint64_t silence_ms = (uint64_t)(timeout_s * 1000.0);
	char tag[9];
	size_t rlen = strlen(request);
	struct body body = {0};
	struct proto_status st;
	int status = -1;
	struct watch w = {.tty = !quiet && body_out == NULL && isatty(2)};

	body.watch = &w;
	if (c->relay != NULL)
		return relay_request(c, rd, request, timeout_s, body_out, len_out, quiet);
	/* A line behind a program (exec:) may carry the program's own words first (conserver's
	 * console prints "[Enter `^Ec?' for help]"): they would be taken for the body of the
	 * first reply. One `version` first takes them away with its own body. */
	if (c->sync_first) {
		char *junk = NULL;
		size_t junk_len = 0;
		c->sync_first = false;
		int rc = request_body(c, rd, "version", timeout_s, &junk, &junk_len, true);
		free(junk);
		if (rc == HVCTL_EXIT_NO_ANSWER)
			return rc;
	}

	for (int attempt = 0; status < 0; attempt++) {
		char *out = xrealloc(NULL, rlen + sizeof(tag) + 16);
		size_t olen;

		hvctl_new_tag(tag, sizeof(tag) - 1);
		/* Ctrl-U first: whatever noise the monitor has buffered must not prefix the
		 * request. */
		olen = (size_t)sprintf(out, "%c@%s %s%s\n", (char)CONSOLE_KILL_LINE, tag,
				       encoding_word(c), request);
		body.deflated = c->deflate;
		w.start = w.last_byte = w.last_shown = conn_now_ms();
		if (conn_write(c, out, olen, w.start + silence_ms) != 0) {
			int e = errno;
			free(out);
			if (e == ETIMEDOUT)
				goto no_answer;
			fprintf(stderr, "hvctl: cannot write to %s: %s\n", c->addr, strerror(e));
			return HVCTL_EXIT_NO_ANSWER;
		}
		free(out);

		body.len = 0;
		while (status < 0) {
			char buf[4096];
			uint64_t wait = w.cancelling && CANCEL_WAIT_MS < silence_ms ? CANCEL_WAIT_MS
										    : silence_ms;
			uint64_t until = w.last_byte + wait;
			if (w.tty && until > conn_now_ms() + PROGRESS_EVERY_MS)
				until = conn_now_ms() + PROGRESS_EVERY_MS;
			ssize_t r = conn_read(c, buf, sizeof(buf), until);
			uint64_t now = conn_now_ms();

			if (r < 0 && errno == EINTR && conn_interrupted) {
				conn_interrupted = 0;
				if (w.cancelling) { /* a second interrupt: leave now */
					progress_clear(&w);
					free(body.text);
					fprintf(stderr, "hvctl: interrupted\n");
					return HVCTL_EXIT_INTERRUPTED;
				}
				/* Ctrl-X: the monitor ends the reply it is making for us */
				w.cancelling = true;
				w.last_byte = now;
				progress_clear(&w);
				fprintf(stderr,
					"hvctl: interrupted: asking the monitor to cancel the "
					"rest of the reply\n");
				char can = (char)CONSOLE_CANCEL;
				if (conn_write(c, &can, 1, now + 2000) != 0)
					goto no_answer;
				continue;
			}
			if (r == 0 && now < w.last_byte + wait) {
				progress_show(&w, &body, now);
				continue;
			}
			if (r == 0)
				goto no_answer;
			if (r < 0) {
				progress_clear(&w);
				fprintf(stderr, "hvctl: lost the console %s: %s\n", c->addr,
					errno == EPIPE ? "the other end closed it"
						       : strerror(errno));
				free(body.text);
				return HVCTL_EXIT_NO_ANSWER;
			}
			/* Silence is counted in what is not the monitor's log: a guest that makes
			 * it log (alerts) cannot keep a dead request waiting. */
			size_t lines = body.lines, earlier = body.earlier_replies;
			w.bytes += (size_t)r;
			if (hvctl_take(rd, buf, (size_t)r, tag, &body, &st))
				status = st.error == PROTO_OK ? HVCTL_EXIT_OK
							      : HVCTL_EXIT_ERROR_REPLY;
			if (body.lines != lines || body.earlier_replies != earlier ||
			    (rd->len > 0 && !proto_is_log_line(rd->line, rd->len)))
				w.last_byte = now;
			progress_show(&w, &body, now);
		}
		progress_clear(&w);
		if (st.error == PROTO_LINE_LOST && attempt < HVCTL_LINE_LOST_RETRIES) {
			fprintf(stderr,
				"hvctl: the serial line dropped bytes of the request; sending "
				"it again\n");
			status = -1;
		} else if (deflate_refused(c, &st)) {
			status = -1; /* the same request, plain */
		}
	}
	if (w.cancelling) {
		free(body.text);
		fprintf(stderr, "hvctl: %s\n",
			st.error == PROTO_OK ? "the reply was complete before the cancel came"
					     : st.message);
		return HVCTL_EXIT_INTERRUPTED;
	}

	return finish(&body, &st, status, body_out, len_out, quiet);

no_answer:
	progress_clear(&w);
	free(body.text);
	if (w.cancelling)
		fprintf(stderr, "hvctl: interrupted; the monitor did not end the reply in time\n");
	else if (w.bytes == 0)
		fprintf(stderr,
			"hvctl: no answer from the monitor on %s within %g s "
			"(is the lab running? is this the monitor's console?)\n",
			c->addr, timeout_s);
	else if (body.earlier_replies > 0 && body.len == 0)
		fprintf(stderr,
			"hvctl: no answer from the monitor on %s: no byte for %g s after %zu "
			"bytes, all of earlier replies (still draining when we asked)\n",
			c->addr, timeout_s, w.bytes);
	else
		fprintf(stderr,
			"hvctl: the reply stopped: no byte from the monitor on %s for %g s, after "
			"%zu bytes in %.1f s\n",
			c->addr, timeout_s, w.bytes, (double)(conn_now_ms() - w.start) / 1000.0);
	return w.cancelling ? HVCTL_EXIT_INTERRUPTED : HVCTL_EXIT_NO_ANSWER;
}
