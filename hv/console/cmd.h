/* Running a console request: tokenizing it, finding its verb in a table, and writing the
 * reply (body lines, then the status line of docs/console-protocol.md). Freestanding. */
#ifndef HV_CONSOLE_CMD_H
#define HV_CONSOLE_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "console/line.h"
#include "console/proto.h"

#define CMD_MAX_ARGS 16u /* words in a request, the verb included, the tag excluded */
/* A verb's return value meaning "the reply comes later" (an operation in the guest): the
 * status line is not written; the console finishes the reply (console_finish_deferred). */
#define CMD_DEFERRED 1

struct cmd_verb;

/* Where a verb's output goes. Set up with reply_init; one may serve many requests. */
struct reply {
	void (*write)(void *ctx, const char *s, size_t n);
	/* The status line's writer when it is not `write` (NULL: `write`): a compressed body
	 * ends there (console/zbody.h). Set after reply_init. */
	void (*write_status)(void *ctx, const char *s, size_t n);
	void *ctx;
	enum proto_error error; /* set by reply_fail; PROTO_OK while the verb succeeds */
	char message[PROTO_MESSAGE_MAX + 1];
	/* Kept by cmd.c: */
	const struct cmd_verb *verb; /* the verb being run (NULL outside cmd_dispatch) */
	bool mid_line;               /* the body written so far does not end with '\n' */
	unsigned char held;          /* bytes of PROTO_LOG_PREFIX held at a line's start */
	char tag[PROTO_TAG_MAX + 1]; /* the request's tag ("" if none), for a deferred reply */
};

void reply_init(struct reply *r, void (*write)(void *ctx, const char *s, size_t n), void *ctx);

/* Body text. A body line that would start with '=' or PROTO_LOG_PREFIX gets a space in
 * front, so it can never be read as a status line or the monitor's log. */
void reply_printf(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A body line: reply_printf + "\r\n". */
void reply_line(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string, quotes included; control bytes, '"', '\\', DEL and non-ASCII bytes
 * (taken as Latin-1) are escaped, so the output is ASCII text. NULL writes null. */
void reply_json_string(struct reply *r, const char *s);
/* Records the error for the status line and returns -1, so a verb can
 * `return reply_fail(...)`. The first failure of a request wins: it is the cause. */
int reply_fail(struct reply *r, enum proto_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct cmd_verb {
	const char *name;    /* the first word of a request */
	const char *usage;   /* "status [--json]" */
	const char *summary; /* one line for help */
	/* argv[0] is the verb, argv[argc] is NULL. Returns 0, or reply_fail(...). */
	int (*run)(struct reply *r, int argc, char **argv);
};

/* Parses `line` (a LINE_READY buffer) in place: an optional "@TAG" first word, then the
 * verb and its arguments, separated by spaces or tabs. Finds the verb in the table, runs it
 * and writes the status line ("\r\n"-ended, tagged when the request was). A bad tag and too
 * many words are bad-argument; an unknown verb is unknown-verb, naming the verb and pointing
 * at help. A verb returning nonzero without reply_fail gets "failed". */
bool cmd_dispatch(const struct cmd_verb *verbs, size_t n, char *line, struct reply *r);
/* cmd_dispatch returns true when the verb deferred its reply (CMD_DEFERRED, no failure):
 * no status line was written; r->tag holds the request's tag. */
/* Ends a reply: the status line from r->error / r->message, with `tag` (NULL: none). */
void cmd_write_status(struct reply *r, const char *tag);
/* Ends the body written through r: the bytes held at its last line's start, and that
 * line's end if it has none. cmd_write_status does it first; the console does it before it
 * closes a compressed body, so that they go into the stream, and where the rest of a
 * request's body comes through another reply (a job, an operation). */
void reply_end_body(struct reply *r);

/* For the events of line_feed: writes the status line of LINE_TOO_LONG and LINE_BAD_INPUT
 * (the latter naming the byte in hex), with the request's tag when the kept start of the
 * line holds a complete one; nothing for other events. */
void cmd_report_line_event(enum line_event ev, const struct line_state *ls, struct reply *r);

/* The request word asking for a compressed body (docs/console-protocol.md, "Compressed
 * replies"): first, or right after the tag. cmd_dispatch skips it. */
#define CMD_DEFLATE_WORD "+deflate"
/* Does this request line (not yet split) ask for it? */
bool cmd_request_deflate(const char *line);
/* The tag cmd_dispatch would echo for this request line (not yet split), into tag; "" and
 * false when it has none or a bad one. For a reply made without dispatching it (busy). */
bool cmd_request_tag(const char *line, char tag[PROTO_TAG_MAX + 1]);

/* Helpers for verbs. */
/* Is `flag` (e.g. "--json") one of argv[1..argc-1]? */
bool cmd_has_flag(int argc, char **argv, const char *flag);
/* 0 when every argument is in `allowed` (NULL-terminated; NULL allows none); otherwise
 * reply_fail(bad-argument) naming the first unexpected word and the verb's usage. */
int cmd_expect_only_flags(struct reply *r, int argc, char **argv, const char *const *allowed);
/* One body line per verb: "USAGE - SUMMARY", usages aligned. */
void cmd_help(const struct cmd_verb *verbs, size_t n, struct reply *r);

#endif
