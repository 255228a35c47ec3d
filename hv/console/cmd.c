/* Console requests: words, verb table, reply (docs/console-protocol.md). The line comes
 * from whoever is on the console, so every limit here is checked, never assumed. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/cmd.h"
#include "lib/fmt.h"

static bool cmd_streq(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static size_t cmd_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

void reply_init(struct reply *r, void (*write)(void *ctx, const char *s, size_t n), void *ctx)
{
	r->write = write;
	r->write_status = NULL;
	r->ctx = ctx;
	r->error = PROTO_OK;
	r->message[0] = '\0';
	r->verb = NULL;
	r->mid_line = false;
	r->held = 0;
	r->tag[0] = '\0';
}

/* Bytes a body may carry as they are: printable ASCII, tab and the line ends. */
static bool body_byte_ok(char c)
{
	unsigned char u = (unsigned char)c;
	return (u >= 0x20u && u < 0x7fu) || c == '\t' || c == '\r' || c == '\n';
}

/* The start of PROTO_LOG_PREFIX held back at the start of a body line goes out as it was:
 * the line turned out not to be one that would read as the monitor's log. */
static void reply_release_held(struct reply *r)
{
	if (r->held > 0)
		r->write(r->ctx, PROTO_LOG_PREFIX, r->held);
	r->held = 0;
}

/* Every body byte passes here. Body lines never start with '=' (the protocol reserves it
 * for the status line) nor with PROTO_LOG_PREFIX (the monitor's log): such a line is
 * pushed right by one space. Since a line can come in pieces, the bytes of the prefix at
 * the start of a line are held back (r->held) until the line parts from it. Any other
 * byte than printable ASCII, tab and the line ends becomes '?': guest strings (a
 * process's comm, a cgroup's name, a command's output) reach an operator's terminal, and
 * an escape sequence there could rewrite what it shows. */
static void reply_body_sink(void *ctx, const char *s, size_t n)
{
	struct reply *r = ctx;
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (r->held > 0 || (!r->mid_line && s[i] == PROTO_LOG_PREFIX[0])) {
			if (i > run)
				r->write(r->ctx, s + run, i - run);
			run = i;
			if (s[i] == PROTO_LOG_PREFIX[r->held]) {
				run = i + 1;
				r->mid_line = true;
				if (++r->held == PROTO_LOG_PREFIX_LEN) {
					r->write(r->ctx, " " PROTO_LOG_PREFIX,
						 PROTO_LOG_PREFIX_LEN + 1);
					r->held = 0;
				}
				continue;
			}
			reply_release_held(r);
		}
		if (!r->mid_line && s[i] == '=') {
			if (i > run)
				r->write(r->ctx, s + run, i - run);
			r->write(r->ctx, " ", 1);
			run = i;
		}
		if (!body_byte_ok(s[i])) {
			if (i > run)
				r->write(r->ctx, s + run, i - run);
			r->write(r->ctx, "?", 1);
			run = i + 1;
		}
		r->mid_line = s[i] != '\n';
	}
	if (n > run)
		r->write(r->ctx, s + run, n - run);
}

void reply_printf(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(reply_body_sink, r, fmt, ap);
	va_end(ap);
}

void reply_line(struct reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(reply_body_sink, r, fmt, ap);
	va_end(ap);
	reply_body_sink(r, "\r\n", 2);
}

void reply_json_string(struct reply *r, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, i;

	if (s == NULL) {
		reply_body_sink(r, "null", 4);
		return;
	}
	reply_body_sink(r, "\"", 1);
	for (i = 0; s[i] != '\0'; i++) {
		uint8_t c = (uint8_t)s[i];
		char esc[6] = {'\\', 0, 0, 0, 0, 0};
		size_t len = 2;

		if (c == '"' || c == '\\')
			esc[1] = (char)c;
		else if (c == '\n')
			esc[1] = 'n';
		else if (c == '\r')
			esc[1] = 'r';
		else if (c == '\t')
			esc[1] = 't';
		else if (c < 0x20u || c >= 0x7fu) {
			/* RFC 8259 §7; a byte >= 0x80 as U+0080..U+00FF keeps the JSON valid
			 * whatever the encoding of the (guest-provided) string was. */
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xfu];
			len = 6;
		} else {
			continue;
		}
		if (i > run)
			reply_body_sink(r, s + run, i - run);
		reply_body_sink(r, esc, len);
		run = i + 1;
	}
	if (i > run)
		reply_body_sink(r, s + run, i - run);
	reply_body_sink(r, "\"", 1);
}

int reply_fail(struct reply *r, enum proto_error e, const char *fmt, ...)
{
	va_list ap;

	if (r->error != PROTO_OK)
		return -1;
	r->error = e == PROTO_OK ? PROTO_FAILED : e;
	va_start(ap, fmt);
	fmt_vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	return -1;
}

void reply_end_body(struct reply *r)
{
	reply_release_held(r);
	if (r->mid_line)
		r->write(r->ctx, "\r\n", 2); /* the body's own end */
	r->mid_line = false;
}

/* The status line ends the reply; it must start a line of its own even after a body that
 * did not end its last line. */
void cmd_write_status(struct reply *r, const char *tag)
{
	char status[PROTO_STATUS_MAX + 1];
	size_t n = proto_format_status(status, sizeof(status), r->error, r->message, tag);

	reply_end_body(r);
	void (*out)(void *, const char *, size_t) = r->write_status ? r->write_status : r->write;
	out(r->ctx, status, n);
	out(r->ctx, "\r\n", 2);
	r->mid_line = false;
}

static bool cmd_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The word at p, after blanks: its start, and its end in *end (a blank or the line's end). */
static const char *cmd_word(const char *p, const char **end)
{
	while (cmd_is_blank(*p))
		p++;
	*end = p;
	while (**end != '\0' && !cmd_is_blank(**end))
		(*end)++;
	return p;
}

static bool cmd_word_is(const char *w, const char *end, const char *s)
{
	size_t n = (size_t)(end - w);
	if (cmd_strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (w[i] != s[i])
			return false;
	return true;
}

bool cmd_request_deflate(const char *line)
{
	const char *end, *w = cmd_word(line, &end);
	if (*w == '@')
		w = cmd_word(end, &end);
	return cmd_word_is(w, end, CMD_DEFLATE_WORD);
}

bool cmd_request_tag(const char *line, char tag[PROTO_TAG_MAX + 1])
{
	const char *end, *w = cmd_word(line, &end);
	size_t n = (size_t)(end - w);

	tag[0] = '\0';
	if (*w != '@' || n < 2 || n - 1 > PROTO_TAG_MAX)
		return false;
	for (size_t i = 1; i < n; i++)
		tag[i - 1] = w[i];
	tag[n - 1] = '\0';
	if (!proto_tag_valid(tag))
		tag[0] = '\0';
	return tag[0] != '\0';
}

bool cmd_dispatch(const struct cmd_verb *verbs, size_t n, char *line, struct reply *r)
{
	int rc;
	char *argv[CMD_MAX_ARGS + 1];
	uint32_t argc = 0, words = 0;
	const char *tag = NULL;
	bool deflate = false;
	char *p = line;

	r->error = PROTO_OK;
	r->message[0] = '\0';
	r->verb = NULL;
	r->mid_line = false;
	r->held = 0;
	r->tag[0] = '\0';

	/* Split in place. Words past CMD_MAX_ARGS are counted, not kept. */
	for (;;) {
		char *word;

		while (cmd_is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p != '\0' && !cmd_is_blank(*p))
			p++;
		if (*p != '\0')
			*p++ = '\0';

		if (words == 0 && tag == NULL && !deflate && word[0] == '@') {
			tag = word + 1;
			continue;
		}
		if (words == 0 && !deflate && cmd_streq(word, CMD_DEFLATE_WORD)) {
			deflate = true; /* the console compresses the body: not the verb's */
			continue;
		}
		if (argc < CMD_MAX_ARGS)
			argv[argc++] = word;
		words++;
	}
	argv[argc] = NULL;

	if (tag != NULL && !proto_tag_valid(tag)) {
		reply_fail(r, PROTO_BAD_ARGUMENT,
			   "bad tag \"@%.20s%s\": a tag is 1-%u of A-Z a-z 0-9 _ -", tag,
			   cmd_strlen(tag) > 20 ? "..." : "", PROTO_TAG_MAX);
		cmd_write_status(r, NULL);
		return false;
	}
	if (tag != NULL) {
		size_t i = 0;
		for (; tag[i] != '\0' && i < PROTO_TAG_MAX; i++)
			r->tag[i] = tag[i];
		r->tag[i] = '\0';
	}
	if (argc == 0) {
		reply_fail(r, PROTO_UNKNOWN_VERB,
			   "no verb after the tag; \"help\" lists the verbs");
		cmd_write_status(r, tag);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (cmd_streq(verbs[i].name, argv[0])) {
			r->verb = &verbs[i];
			break;
		}
	}
	if (r->verb == NULL) {
		reply_fail(r, PROTO_UNKNOWN_VERB,
			   "unknown verb \"%.32s%s\"; \"help\" lists the verbs", argv[0],
			   cmd_strlen(argv[0]) > 32 ? "..." : "");
	} else if (words > CMD_MAX_ARGS) {
		reply_fail(r, PROTO_BAD_ARGUMENT, "too many words: at most %u, the verb included",
			   CMD_MAX_ARGS);
	} else if ((rc = r->verb->run(r, (int)argc, argv)) == CMD_DEFERRED &&
		   r->error == PROTO_OK) {
		reply_end_body(r); /* the rest of the body comes through another reply */
		r->verb = NULL;
		return true;
	} else if (rc != 0 && r->error == PROTO_OK) {
		reply_fail(r, PROTO_FAILED, "%s failed", r->verb->name);
	}
	cmd_write_status(r, tag);
	r->verb = NULL;
	return false;
}

/* The tag of a line that was dropped, if its kept start holds a whole one ("@TAG "). */
static bool cmd_salvage_tag(const char *buf, char *tag, size_t cap)
{
	size_t i = 0, n = 0;

	while (cmd_is_blank(buf[i]))
		i++;
	if (buf[i] != '@')
		return false;
	i++;
	while (buf[i + n] != '\0' && !cmd_is_blank(buf[i + n]) && n < PROTO_TAG_MAX + 1)
		n++;
	if (!cmd_is_blank(buf[i + n]) || n + 1 > cap)
		return false; /* cut by the problem, or too long to be a tag */
	for (size_t k = 0; k < n; k++)
		tag[k] = buf[i + k];
	tag[n] = '\0';
	return proto_tag_valid(tag);
}

void cmd_report_line_event(enum line_event ev, const struct line_state *ls, struct reply *r)
{
	char tag[PROTO_TAG_MAX + 1];
	bool has_tag;

	if (ev != LINE_TOO_LONG && ev != LINE_BAD_INPUT && ev != LINE_LOST)
		return;
	has_tag = cmd_salvage_tag(ls->buf, tag, sizeof(tag));
	r->error = PROTO_OK;
	r->message[0] = '\0';
	if (ev == LINE_TOO_LONG)
		reply_fail(r, PROTO_LINE_TOO_LONG, "request longer than %u bytes; it was dropped",
			   CONSOLE_LINE_MAX);
	else if (ev == LINE_LOST)
		reply_fail(r, PROTO_LINE_LOST,
			   "the serial line dropped bytes of this request (receive overrun); it "
			   "was not run: send it again");
	else
		reply_fail(r, PROTO_BAD_INPUT,
			   "byte 0x%02x is not printable text; the request was dropped",
			   ls->bad_byte);
	cmd_write_status(r, has_tag ? tag : NULL);
}

bool cmd_has_flag(int argc, char **argv, const char *flag)
{
	for (int i = 1; i < argc; i++) {
		if (cmd_streq(argv[i], flag))
			return true;
	}
	return false;
}

int cmd_expect_only_flags(struct reply *r, int argc, char **argv, const char *const *allowed)
{
	for (int i = 1; i < argc; i++) {
		bool ok = false;

		for (size_t k = 0; allowed != NULL && allowed[k] != NULL; k++) {
			if (cmd_streq(argv[i], allowed[k])) {
				ok = true;
				break;
			}
		}
		if (!ok)
			return reply_fail(r, PROTO_BAD_ARGUMENT,
					  "unexpected \"%.40s%s\"; usage: %s", argv[i],
					  cmd_strlen(argv[i]) > 40 ? "..." : "",
					  r->verb != NULL ? r->verb->usage : argv[0]);
	}
	return 0;
}

void cmd_help(const struct cmd_verb *verbs, size_t n, struct reply *r)
{
	size_t width = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len = cmd_strlen(verbs[i].usage);
		if (len > width)
			width = len;
	}
	for (size_t i = 0; i < n; i++)
		reply_line(r, "%-*s - %s", (int)width, verbs[i].usage, verbs[i].summary);
}
