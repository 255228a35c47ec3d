/* SPDX-License-Identifier: MIT */
/*
 * hvctl through the guest (docs/channel.md): requests go as signed frames to the relay in
 * the guest (hvrelay), which passes them to the monitor with VMCALL; the reply comes back in
 * signed pieces, each checked (chan_client.h) before its text is taken. The transport is a
 * conn (conn.h) carrying the text lines of chan/vmcall.h. The relay and the transport are
 * not trusted: they can delay or drop frames, never make hvctl take a byte the monitor did
 * not sign for this request.
 */
#ifndef HVCTL_RELAY_H
#define HVCTL_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan_client.h"
#include "conn.h"

struct relay {
	struct chan_client cl;
	char in[4096]; /* read from the transport, not yet looked at */
	size_t in_pos, in_len;
	char *line; /* received bytes not yet a whole line */
	size_t len, cap;
	bool dropping;        /* the line being received is too long: dropped to its end */
	char note[64];        /* the relay's last "E" word (unsigned: only for messages) */
	unsigned refused;     /* frames received that failed the checks */
	unsigned resent;      /* requests sent again after the relay said nothing (RESEND_MS) */
	char refused_why[32]; /* the reason of the last such frame */
};

/* Loads the operator's private key (hvctl keygen) and the pinned monitor key (hvctl pair).
 * 0, or -1 with why. */
int relay_init(struct relay *rl, const char *key_path, const char *pin_path, char *why, size_t cap);
void relay_free(struct relay *rl);

/* Sends `line` (a console request, tag included) as one request and passes each reply
 * piece's text, once it passed every check and in order, to take(ctx, text, n). A hello
 * goes first when there is no session, or the monitor says the number was used. Returns 0
 * once the last piece came; -1 at the deadline (errno ETIMEDOUT) or on another failure
 * (why says what, with errno set). */
int relay_exchange(struct conn *c, struct relay *rl, const char *line, uint64_t deadline_ms,
		   void (*take)(void *ctx, const char *text, size_t n), void *ctx, char *why,
		   size_t cap);

#endif
