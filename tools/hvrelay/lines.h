/* SPDX-License-Identifier: MIT */
/*
 * The transport's text lines (hv/chan/vmcall.h), cut from whatever bytes arrive: a tty
 * hands them over in any pieces. The input is the guest's or anyone's on the wire, so the
 * buffer is fixed and a line that does not fit is dropped whole, up to its newline, rather
 * than cut into pieces that might look like lines of their own.
 */
#ifndef HVRELAY_LINES_H
#define HVRELAY_LINES_H

#include <stddef.h>

#include "chan/frame.h"
#include "lib/base64.h"

/* The longest line kept: a frame of CHAN_FRAME_MAX bytes, its "F " and some slack for
 * another tool's trailing words. */
#define LINES_MAX (BASE64_LEN(CHAN_FRAME_MAX) + 16u)

struct lines {
	char line[LINES_MAX + 1]; /* + NUL */
	size_t len;
	int dropping;          /* the current line outgrew LINES_MAX: skip to its newline */
	unsigned long dropped; /* lines dropped so far */
};

typedef void lines_fn(const char *line, size_t len, void *ctx);

/* Takes n more bytes; calls fn once per whole line (no newline, every CR removed,
 * NUL-terminated) in order. */
void lines_feed(struct lines *s, const char *bytes, size_t n, lines_fn *fn, void *ctx);

#endif
