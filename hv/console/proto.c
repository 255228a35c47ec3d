/* The reply status line (docs/console-protocol.md, "Replies"). The monitor writes it after
 * every request and hvctl waits for it, so both sides use this one file: what one writes,
 * the other reads. No other project file is needed (hvctl links this alone). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/proto.h"

/* Switches rather than tables of pointers: a pointer table needs load-time relocations in
 * the position-independent core, a switch over string literals needs none. */
const char *proto_error_name(enum proto_error e)
{
	switch (e) {
	case PROTO_OK:
		return "ok";
	case PROTO_UNKNOWN_VERB:
		return "unknown-verb";
	case PROTO_BAD_ARGUMENT:
		return "bad-argument";
	case PROTO_LINE_TOO_LONG:
		return "line-too-long";
	case PROTO_BAD_INPUT:
		return "bad-input";
	case PROTO_LINE_LOST:
		return "line-lost";
	case PROTO_BUSY:
		return "busy";
	case PROTO_FAILED:
		break;
	}
	return "failed";
}

/* What an error says when its verb gave no message. */
static const char *proto_default_message(enum proto_error e)
{
	switch (e) {
	case PROTO_OK:
		return "";
	case PROTO_UNKNOWN_VERB:
		return "unknown verb";
	case PROTO_BAD_ARGUMENT:
		return "bad argument";
	case PROTO_LINE_TOO_LONG:
		return "request too long";
	case PROTO_BAD_INPUT:
		return "request is not text";
	case PROTO_LINE_LOST:
		return "bytes of the request were lost on the line";
	case PROTO_BUSY:
		return "busy, try again";
	case PROTO_FAILED:
		break;
	}
	return "failed";
}

static size_t proto_strlen(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0')
		n++;
	return n;
}

static bool proto_tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool proto_tag_valid_n(const char *tag, size_t n)
{
	if (n == 0 || n > PROTO_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!proto_tag_char(tag[i]))
			return false;
	}
	return true;
}

bool proto_tag_valid(const char *tag)
{
	size_t n = 0;

	if (tag == NULL)
		return false;
	/* Bounded: a tag longer than PROTO_TAG_MAX is invalid whatever follows. */
	while (n <= PROTO_TAG_MAX && tag[n] != '\0')
		n++;
	return proto_tag_valid_n(tag, n);
}

/* A message byte as it goes on the line: the status line must stay one line of text. */
static char proto_message_byte(char c)
{
	if (c == '\t')
		return ' ';
	if ((unsigned char)c < 0x20u || (unsigned char)c > 0x7eu)
		return '?';
	return c;
}

/* Would the first n bytes of msg, as written, end with " @TAG" (or be "@TAG")? A parser
 * would then read the end of the message as the tag. */
static bool proto_ends_like_tag(const char *msg, size_t n)
{
	size_t start = n;

	while (start > 0 && proto_message_byte(msg[start - 1]) != ' ')
		start--;
	if (start == n || msg[start] != '@')
		return false;
	for (size_t i = start + 1; i < n; i++) {
		if (!proto_tag_char(msg[i]))
			return false;
	}
	return n - start - 1 >= 1 && n - start - 1 <= PROTO_TAG_MAX;
}

struct proto_buf {
	char *buf;
	size_t room; /* bytes of text that fit, the NUL excluded */
	size_t len;
};

static void proto_put(struct proto_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n && b->len < b->room; i++)
		b->buf[b->len++] = s[i];
}

static void proto_puts(struct proto_buf *b, const char *s)
{
	proto_put(b, s, proto_strlen(s));
}

size_t proto_format_status(char *buf, size_t cap, enum proto_error e, const char *msg,
			   const char *tag)
{
	struct proto_buf b = {.buf = buf, .room = cap > 0 ? cap - 1 : 0, .len = 0};
	const char *name = proto_error_name(e);
	bool has_tag = proto_tag_valid(tag);
	size_t suffix = has_tag ? 2 + proto_strlen(tag) : 0;

	if (cap == 0)
		return 0;
	if (e == PROTO_OK) {
		proto_puts(&b, "= ok");
	} else {
		size_t prefix = 8 + proto_strlen(name) + 2; /* "= error " NAME ": " */
		size_t avail = b.room > prefix + suffix ? b.room - prefix - suffix : 0;
		size_t n;
		bool dot = false;

		if (msg == NULL || msg[0] == '\0')
			msg = proto_default_message(e);
		n = proto_strlen(msg);
		if (n > avail)
			n = avail;
		if (proto_ends_like_tag(msg, n)) {
			/* Room for the '.' is made by dropping one byte; the shorter end cannot
			 * be a tag that needs another. */
			if (n + 1 > avail)
				n--;
			dot = proto_ends_like_tag(msg, n);
		}

		proto_puts(&b, "= error ");
		proto_puts(&b, name);
		proto_puts(&b, ": ");
		for (size_t i = 0; i < n; i++) {
			char c = proto_message_byte(msg[i]);
			proto_put(&b, &c, 1);
		}
		if (dot)
			proto_put(&b, ".", 1);
	}
	if (has_tag) {
		proto_put(&b, " @", 2);
		proto_puts(&b, tag);
	}
	buf[b.len] = '\0';
	return b.len;
}

static bool proto_starts_with(const char *s, size_t n, const char *prefix)
{
	size_t k = proto_strlen(prefix);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		if (s[i] != prefix[i])
			return false;
	}
	return true;
}

/* Copies n bytes of s into dst (room bytes, NUL included), truncating. */
static void proto_copy(char *dst, size_t room, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < room; i++)
		dst[i] = s[i];
	dst[i] = '\0';
}

int proto_parse_status(const char *line, struct proto_status *st)
{
	size_t n = proto_strlen(line);
	const char *rest;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
		n--;
	if (!proto_starts_with(line, n, "= "))
		return 0;
	rest = line + 2;
	n -= 2;

	st->error = PROTO_OK;
	st->message[0] = '\0';
	st->tag[0] = '\0';

	/* The tag is the last word when it is "@" and a valid tag. */
	for (size_t sp = n; sp > 0; sp--) {
		if (rest[sp - 1] != ' ')
			continue;
		if (rest[sp] == '@' && proto_tag_valid_n(rest + sp + 1, n - sp - 1)) {
			proto_copy(st->tag, sizeof(st->tag), rest + sp + 1, n - sp - 1);
			n = sp - 1;
		}
		break;
	}

	if (n == 2 && proto_starts_with(rest, n, "ok"))
		return 1;
	if (!proto_starts_with(rest, n, "error "))
		return 0;
	rest += 6;
	n -= 6;

	size_t kind = 0;
	while (kind < n && ((rest[kind] >= 'a' && rest[kind] <= 'z') || rest[kind] == '-'))
		kind++;
	if (kind == 0 || kind >= n || rest[kind] != ':')
		return 0;

	size_t msg = kind + 1;
	if (msg < n && rest[msg] == ' ')
		msg++;

	st->error = PROTO_FAILED;
	for (enum proto_error e = PROTO_UNKNOWN_VERB; e <= PROTO_FAILED; e++) {
		const char *name = proto_error_name(e);

		if (proto_strlen(name) == kind && proto_starts_with(rest, n, name)) {
			st->error = e;
			break;
		}
	}
	if (st->error == PROTO_FAILED && !proto_starts_with(rest, n, "failed:"))
		msg = 0; /* unknown kind: keep "KIND: MSG" as the message */
	proto_copy(st->message, sizeof(st->message), rest + msg, n - msg);
	return 1;
}

bool proto_is_log_line(const char *line, size_t n)
{
	return proto_starts_with(line, n, PROTO_LOG_PREFIX);
}

size_t proto_format_log(char *buf, size_t cap, const char *text, size_t n)
{
	size_t len = 0, end = n, at = 0;

	if (cap == 0)
		return 0;
	while (at < end && (text[at] == '\r' || text[at] == '\n'))
		at++;
	while (end > at && (text[end - 1] == '\r' || text[end - 1] == '\n'))
		end--;
	if (at == end || cap < PROTO_LOG_PREFIX_LEN + 3) {
		buf[0] = '\0';
		return 0;
	}
	if (!proto_is_log_line(text + at, end - at)) {
		for (size_t i = 0; i < PROTO_LOG_PREFIX_LEN; i++)
			buf[len++] = PROTO_LOG_PREFIX[i];
	}
	for (size_t i = at; i < end && len + 4 <= cap; i++)
		buf[len++] = proto_message_byte(text[i]);
	buf[len++] = '\r';
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}
