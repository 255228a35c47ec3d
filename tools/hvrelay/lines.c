/* SPDX-License-Identifier: MIT */
/* Cutting the transport's bytes into lines (lines.h). */
#include "tools/hvrelay/lines.h"

void lines_feed(struct lines *s, const char *bytes, size_t n, lines_fn *fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		char c = bytes[i];

		if (c == '\n') {
			if (!s->dropping) {
				s->line[s->len] = '\0';
				fn(s->line, s->len, ctx);
			}
			s->len = 0;
			s->dropping = 0;
			continue;
		}
		/* A tty set to map NL to CRNL on the way (the other end's, not ours) adds
		 * them; base64 never has one. */
		if (c == '\r' || s->dropping)
			continue;
		if (s->len == LINES_MAX) {
			s->dropping = 1;
			s->dropped++;
			continue;
		}
		s->line[s->len++] = c;
	}
}
