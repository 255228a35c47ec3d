/* Assembles console bytes into request lines (docs/console-protocol.md, "Requests").
 * Freestanding: built into the core and into host tests. */
#ifndef HV_CONSOLE_LINE_H
#define HV_CONSOLE_LINE_H

#include <stdbool.h>
#include <stdint.h>

#define CONSOLE_LINE_MAX  255u  /* bytes before the end of line */
#define CONSOLE_KILL_LINE 0x15u /* Ctrl-U: discard what is buffered */
/* Ctrl-X (CAN): cancel the serial console's reply being made (docs/console-protocol.md,
 * "Cancelling a reply"); never part of a line */
#define CONSOLE_CANCEL 0x18u

enum line_event {
	LINE_NONE,      /* nothing to do yet */
	LINE_READY,     /* ls->buf holds a request */
	LINE_TOO_LONG,  /* a line longer than CONSOLE_LINE_MAX just ended */
	LINE_BAD_INPUT, /* a line holding a non-text byte (ls->bad_byte) just ended */
	LINE_LOST,      /* bytes of the line being received were lost (line_lost) */
};

struct line_state {
	char buf[CONSOLE_LINE_MAX + 1];
	uint32_t len;     /* bytes in buf of the line being received */
	bool overflow;    /* the line being received went past CONSOLE_LINE_MAX */
	bool bad;         /* the line being received holds a non-text byte */
	uint8_t bad_byte; /* the first such byte; still valid when LINE_BAD_INPUT is returned */
	bool last_cr;     /* the previous byte was '\r': a '\n' now is the same end of line */
	bool lost;        /* the line being received lost bytes: dropped up to its end */
};

void line_init(struct line_state *ls);

/* Feeds one byte.
 * LINE_READY: ls->buf holds the NUL-terminated line without its end (never empty nor only
 * blanks); it stays valid until the next line_feed.
 * LINE_TOO_LONG / LINE_BAD_INPUT: reported once, at the end of the offending line; only the
 * first problem of a line is reported. ls->buf then holds the NUL-terminated start of the
 * line (the bytes kept before the problem), until the next line_feed, so that a reply can
 * echo the request's tag.
 * 0x15 (Ctrl-U) clears the buffer and any overflow/bad state. "\r\n" is one end of line. */
enum line_event line_feed(struct line_state *ls, uint8_t byte);

/* The bytes that come next were not received right after the ones fed so far: the UART
 * dropped some in between. The line being received cannot be trusted (a lost byte can
 * turn one request into another: "kill tree2" into "kill tree"), so it is dropped: the
 * rest of it, up to its end of line or a 0x15, is discarded silently. Returns LINE_LOST
 * at once, with ls->buf holding the NUL-terminated start of the line (for its tag), once
 * per line; LINE_NONE if the line was already being dropped for a loss. */
enum line_event line_lost(struct line_state *ls);

#endif
