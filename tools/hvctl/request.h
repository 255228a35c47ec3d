/* One console request and its reply, as docs/console-protocol.md describes them. */
#ifndef HVCTL_REQUEST_H
#define HVCTL_REQUEST_H

#include <stddef.h>

#include "conn.h"

/* Exit statuses of hvctl (docs/console-protocol.md, "hvctl"). */
enum hvctl_exit {
	HVCTL_EXIT_OK = 0,
	HVCTL_EXIT_ERROR_REPLY = 1,
	HVCTL_EXIT_USAGE = 2,         /* also a local error */
	HVCTL_EXIT_NO_ANSWER = 3,     /* also: the console could not be opened */
	HVCTL_EXIT_INTERRUPTED = 130, /* Ctrl-C: the reply was cancelled (128 + SIGINT) */
};

/* Received bytes not yet split into lines; kept across the requests of one session. */
struct reader {
	char *line;
	size_t len, cap;
	size_t dropped; /* bytes of the current line past HVCTL_LINE_LIMIT, not kept */
};

#define HVCTL_LINE_LIMIT (1u << 20) /* a reply line longer than this is cut */

void reader_free(struct reader *rd);

/* Sends `request` (the words, without tag) and waits for its status line: prints the body
 * on stdout and an error on stderr. Returns an enum hvctl_exit. */
int hvctl_request(struct conn *c, struct reader *rd, const char *request, double timeout_s);

/* The same, but the body is returned (malloc'd, *len_out bytes, NUL-terminated or NULL
 * when empty; the caller frees it) instead of printed. */
int hvctl_request_body(struct conn *c, struct reader *rd, const char *request, double timeout_s,
		       char **body_out, size_t *len_out);

/* Is the request free of bytes that would end, cancel or corrupt it on the way (NUL, CR,
 * LF, Ctrl-U)? Only those: an overlong or non-text request is sent, and the monitor
 * answers it. */
int hvctl_request_sendable(const char *request, size_t len);

#endif
