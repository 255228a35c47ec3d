/* The reply status line of docs/console-protocol.md ("Replies"), shared by the monitor
 * (which writes it) and hvctl (which reads it). Freestanding and self-contained: hvctl
 * links this file alone. */
#ifndef HV_CONSOLE_PROTO_H
#define HV_CONSOLE_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_TAG_MAX     16u  /* characters in a tag, without the '@' */
#define PROTO_MESSAGE_MAX 159u /* characters of an error message kept by a parser */
/* The longest status line proto_format_status writes for a PROTO_MESSAGE_MAX message,
 * without line end: "= error line-too-long: " MESSAGE " @" TAG. */
#define PROTO_STATUS_MAX (23u + PROTO_MESSAGE_MAX + 1u + 2u + PROTO_TAG_MAX)

enum proto_error {
	PROTO_OK = 0,
	PROTO_UNKNOWN_VERB,
	PROTO_BAD_ARGUMENT,
	PROTO_LINE_TOO_LONG,
	PROTO_BAD_INPUT,
	PROTO_LINE_LOST,
	PROTO_BUSY,
	PROTO_FAILED,
};

/* "ok", "unknown-verb", "bad-argument", ...; "failed" for a value outside the enum. */
const char *proto_error_name(enum proto_error e);

/* Writes "= ok[ @tag]" or "= error KIND: MSG[ @tag]", without line end, NUL-terminated
 * when cap > 0, and returns its length (at most cap - 1).
 * - msg is ignored for PROTO_OK; NULL or "" becomes a short description of KIND;
 * - bytes of msg that would break the line (control bytes, non-ASCII) become '?', and a
 *   msg whose last word looks like a tag gets a '.' appended, so that no message can be
 *   mistaken for the tag;
 * - tag is written only when proto_tag_valid(tag) (NULL: no tag);
 * - when cap is too small the message is shortened first, so the tag survives. */
size_t proto_format_status(char *buf, size_t cap, enum proto_error e, const char *msg,
			   const char *tag);

struct proto_status {
	enum proto_error error;
	char message[PROTO_MESSAGE_MAX + 1]; /* "" for ok; truncated when longer */
	char tag[PROTO_TAG_MAX + 1];         /* "" when the line has no tag */
};

/* 1 if line (a trailing "\r" and/or "\n" is ignored) is a status line, filling st;
 * 0 otherwise (st is then left unspecified). An error KIND this version does not know
 * (lowercase letters and '-') is still a status line, read as PROTO_FAILED with the
 * message "KIND: MSG", so an older client still ends its request on it. */
int proto_parse_status(const char *line, struct proto_status *st);

/* 1-PROTO_TAG_MAX characters of [A-Za-z0-9_-], without the '@'. */
bool proto_tag_valid(const char *tag);

/* Every line of the monitor's log starts with this (docs/console-protocol.md, "Log
 * lines"): a client tells the log from a reply by it, even between the pieces of a
 * compressed body. */
#define PROTO_LOG_PREFIX     "ctrvisor: "
#define PROTO_LOG_PREFIX_LEN 10u

/* Is this line (n bytes, without its end) one of the monitor's log? */
bool proto_is_log_line(const char *line, size_t n);

/* Writes text (one log_printf's output) into buf as one line of the log, as it goes to
 * the console, NUL-terminated, and returns its length (at most cap - 1; 0 for a text
 * with nothing but line ends, which writes nothing):
 * - the line ends around it are dropped and "\r\n" put at its end;
 * - it gets PROTO_LOG_PREFIX unless it starts with it;
 * - line ends inside it (a guest string printed in it can hold them), other control bytes
 *   and non-ASCII become '?', so that no part of it can start a line of its own and read
 *   as a reply's line, a compressed piece, a status or another log line;
 * - cut to fit buf, its line end kept. */
size_t proto_format_log(char *buf, size_t cap, const char *text, size_t n);

#endif
