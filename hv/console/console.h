/* SPDX-License-Identifier: MIT */
/*
 * The monitor's console: the UART, a transmit ring drained a FIFO-full at a time from VM
 * exits (so a long reply never stalls the guest), and requests assembled into lines and
 * run from the verb table. See docs/console-protocol.md.
 */
#ifndef HV_CONSOLE_CONSOLE_H
#define HV_CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "console/proto.h"

struct reply;

struct console_stats {
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	uint64_t tx_dropped; /* bytes lost because the ring was full */
	uint64_t requests;
	uint64_t errors;      /* requests answered with an error */
	uint64_t rx_overruns; /* times the UART dropped received bytes (its FIFO was full) */
	uint64_t cancelled;   /* job replies cut by the client's Ctrl-X (CONSOLE_CANCEL) */
	uint64_t log_lost;    /* log lines lost: no room in the ring or the hold */
};

bool console_init(uint16_t port, uint32_t baud);
bool console_present(void);
uint16_t console_port(void);
/* Queue bytes for transmission; never blocks. Raw: the monitor's log goes through
 * console_log. */
void console_write(const char *s, size_t n);
/* Queue whole lines of the monitor's log (log_printf), never inside a line of a reply:
 * they wait while a plain reply's line is open (docs/console-protocol.md, "Log lines"). */
void console_log(const char *s, size_t n);
/* The log lines held, out now even inside a reply's line (ending it): the monitor halts. */
void console_log_now(void);
/* Move received bytes into the line assembler, run complete requests, transmit what the
 * UART can take now. Cheap when idle: two port reads. */
void console_poll(void);
/* True while bytes wait to be sent or input arrived recently: poll more often. */
bool console_busy(void);
/* Drain the ring synchronously, bounded; for boot messages and fatal reports. */
void console_flush_blocking(void);
const struct console_stats *console_stats(void);
/* Finish the reply a verb deferred (CMD_DEFERRED): body(r, ctx) writes its lines, then the
 * status line (error/message; PROTO_OK for ok) goes out with the request's tag. While a
 * reply is deferred, every other request is answered busy. */
void console_finish_deferred(void (*body)(struct reply *r, void *ctx), void *ctx,
			     enum proto_error error, const char *message);
/* A verb whose reply takes more than one VM exit to make (ps of many tasks): it calls this
 * and returns CMD_DEFERRED, writing nothing itself. At later exits of the boot CPU, while
 * less than CONSOLE_JOB_LOW_WATER bytes wait to be sent, step(r, ctx) writes the next part
 * (its own work bounded) and returns true when the reply's body is complete; the status
 * line then follows (r->error, as the steps left it). Other requests are answered busy
 * meanwhile, as with a deferred reply. */
#define CONSOLE_JOB_LOW_WATER (64u * 1024u)
void console_start_job(bool (*step)(struct reply *r, void *ctx), void *ctx);
/* Called by a job's last step that started an operation (its reply then ends the request,
 * through console_finish_deferred): no status line for the job. */
void console_job_hand_over(void);
/* The console UART's interrupt line, raised or lowered for the guest (uart_irq_line); the
 * console lowers it itself before it sends anything. */
void console_irq_line(bool high);
bool console_irq_line_up(void);
/* Nothing queued and the transmitter empty: a line raised now rises at once, not when
 * some output of the console's has drained. */
bool console_tx_idle(void);

#endif
