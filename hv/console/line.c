/* Request line assembly: the byte-level half of docs/console-protocol.md.
 * The UART is polled from VM exits, so this sees bytes one at a time, possibly a burst of
 * line noise; it keeps a fixed buffer and never needs more than one line of state. */
#include <stdbool.h>
#include <stdint.h>

#include "console/line.h"

static void line_reset(struct line_state *ls)
{
	ls->len = 0;
	ls->overflow = false;
	ls->bad = false;
	ls->lost = false;
}

void line_init(struct line_state *ls)
{
	line_reset(ls);
	ls->buf[0] = '\0';
	ls->bad_byte = 0;
	ls->last_cr = false;
}

/* Printable ASCII and tab; everything else (other control bytes, DEL, 8-bit bytes) makes
 * the line invalid: the protocol is text, and binary noise must not become a verb. */
static bool line_byte_is_text(uint8_t byte)
{
	return (byte >= 0x20u && byte <= 0x7eu) || byte == '\t';
}

static bool line_is_blank(const struct line_state *ls)
{
	for (uint32_t i = 0; i < ls->len; i++) {
		if (ls->buf[i] != ' ' && ls->buf[i] != '\t')
			return false;
	}
	return true;
}

/* The line being received just ended: say what it was and start the next one. */
static enum line_event line_end(struct line_state *ls)
{
	enum line_event ev = LINE_READY;

	if (ls->lost) {
		line_reset(ls); /* reported when the loss was seen */
		return LINE_NONE;
	}
	/* bad and overflow are never both set: whichever came first stops the collection. */
	if (ls->bad)
		ev = LINE_BAD_INPUT;
	else if (ls->overflow)
		ev = LINE_TOO_LONG;
	else if (line_is_blank(ls))
		ev = LINE_NONE;

	/* len <= CONSOLE_LINE_MAX, so the NUL fits. buf stays as it is until the next byte. */
	ls->buf[ls->len] = '\0';
	line_reset(ls);
	return ev;
}

enum line_event line_feed(struct line_state *ls, uint8_t byte)
{
	bool after_cr = ls->last_cr;

	ls->last_cr = byte == '\r';
	if (byte == '\n' && after_cr)
		return LINE_NONE; /* the second half of "\r\n" */
	if (byte == '\r' || byte == '\n')
		return line_end(ls);
	if (byte == CONSOLE_KILL_LINE) {
		line_reset(ls);
		ls->buf[0] = '\0';
		return LINE_NONE;
	}
	if (ls->bad || ls->overflow || ls->lost)
		return LINE_NONE; /* discarded up to the end of line */
	if (!line_byte_is_text(byte)) {
		ls->bad = true;
		ls->bad_byte = byte;
		return LINE_NONE;
	}
	if (ls->len >= CONSOLE_LINE_MAX) {
		ls->overflow = true;
		return LINE_NONE;
	}
	ls->buf[ls->len++] = (char)byte;
	return LINE_NONE;
}

enum line_event line_lost(struct line_state *ls)
{
	if (ls->lost)
		return LINE_NONE;
	/* len <= CONSOLE_LINE_MAX, so the NUL fits; a bad or too long line is reported as
	 * lost instead (its end, which would have reported it, may be what was lost). */
	ls->buf[ls->len] = '\0';
	line_reset(ls);
	ls->lost = true;
	return LINE_LOST;
}
