/* SPDX-License-Identifier: MIT */
/*
 * Console bytes as the UART gives them, with its overruns, into request lines
 * (docs/console-protocol.md, "Lost bytes"). Freestanding: built into the core and into host
 * tests.
 *
 * Where the gap is. The UART's receive FIFO holds 16 bytes; a byte that arrives while it is
 * full is dropped and the line status says so (OE, 16550: LSR bit 1) at the next read. So
 * when a poll sees an overrun, every byte still in the FIFO came before the gap, and every
 * byte that arrives after the poll has found it empty came after it: the damaged line is
 * the one being received when the FIFO is found empty, ending after that (or, if the FIFO
 * ended on a line's end, the next line). That line is refused as lost, never run: a lost
 * byte can turn `kill tree2` into `kill tree`. Lines that end while the FIFO is drained
 * are refused too (nothing says how full it was when the bytes went), and so is a line cut
 * short by the next request's Ctrl-U (its end may be what went).
 */
#ifndef HV_CONSOLE_RX_H
#define HV_CONSOLE_RX_H

#include <stdbool.h>

#include "console/line.h"

struct rx {
	struct line_state line;
	bool tainted; /* an overrun was seen and its line has not ended yet */
	bool drained; /* since then, a poll found the FIFO empty */
};

/* What rx_step reports: a line event (never LINE_NONE), with the line (for its tag). */
typedef void (*rx_emit_fn)(void *ctx, enum line_event ev, struct line_state *ls);

void rx_init(struct rx *rx);

/* One read of the UART: byte (or -1: the FIFO was empty), and whether the line status
 * reported an overrun before it. Calls emit for each line that ends (at most two). */
void rx_step(struct rx *rx, int byte, bool overrun, rx_emit_fn emit, void *ctx);
/* No byte has come for a while: a line being received since an overrun will not end (its
 * end was what the overrun dropped), so it is reported lost now, with its tag, instead of
 * when the next request's Ctrl-U comes (the client would wait for an answer until then). */
void rx_idle(struct rx *rx, rx_emit_fn emit, void *ctx);

#endif
