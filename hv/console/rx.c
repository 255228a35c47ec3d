/* SPDX-License-Identifier: MIT */
/* Console bytes with the UART's overruns into request lines (console/rx.h). */
#include "console/rx.h"

void rx_init(struct rx *rx)
{
	line_init(&rx->line);
	rx->tainted = rx->drained = false;
}

/* A line ended while an overrun was pending: it is refused; the one that ends after the
 * FIFO was found empty held the gap, and the next ones are clean again. */
static enum line_event after_loss(struct rx *rx, enum line_event ev)
{
	if (!rx->tainted)
		return ev;
	if (rx->drained)
		rx->tainted = rx->drained = false;
	return LINE_LOST;
}

void rx_step(struct rx *rx, int byte, bool overrun, rx_emit_fn emit, void *ctx)
{
	if (overrun) {
		rx->tainted = true;
		rx->drained = false;
	}
	if (byte < 0) {
		rx->drained = rx->tainted;
		return;
	}
	if (byte == CONSOLE_CANCEL)
		return; /* the console's own (console_poll), not a line's */
	if (byte == CONSOLE_KILL_LINE && rx->tainted && rx->line.len > 0 && !rx->line.lost) {
		/* the line being received is cut short by the next request: its end may be what
		 * was lost */
		emit(ctx, line_lost(&rx->line), &rx->line);
		(void)after_loss(rx, LINE_LOST);
	}
	enum line_event ev = line_feed(&rx->line, (uint8_t)byte);
	if (ev != LINE_NONE)
		emit(ctx, after_loss(rx, ev), &rx->line);
}

void rx_idle(struct rx *rx, rx_emit_fn emit, void *ctx)
{
	if (!rx->tainted || rx->line.len == 0 || rx->line.lost)
		return;
	emit(ctx, line_lost(&rx->line), &rx->line);
	rx->tainted = rx->drained = false;
}
