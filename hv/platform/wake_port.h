/* SPDX-License-Identifier: MIT */
/*
 * The wake port: an emulated 16550A (platform/vuart.h) the guest finds at the legacy
 * address that shares the console UART's interrupt line (COM4 at 0x2E8 beside COM2 at
 * 0x2F8, both IRQ 3; COM3 at 0x3E8 beside COM1, IRQ 4), so Linux makes it ttyS3 (ttyS2) on
 * that IRQ. The resident helper blocks in a read of it; to wake the helper the monitor
 * puts a newline in the port's receiver and raises the console UART's real interrupt
 * line, which the guest's own interrupt controller delivers to its 8250 driver; the
 * driver reads the emulated registers, the tty hands the byte to the read, and the read
 * returns at the helper's sled. Only a ring raises the line, never while the console sends
 * (the console drops it first: console/console.h), and for a few milliseconds at most;
 * the guest's driver taking what was pending brings it down. So the line's edges come at
 * the monitor's rings alone and tell the guest nothing of the console's traffic.
 *
 * What the guest writes there is dropped; it learns nothing from the port but what the
 * monitor puts in it (a newline per wake). A guest that reads the port itself, masks the
 * IRQ or unbinds the driver only keeps the helper asleep: the operation then waits for a
 * host task instead (inject/engine_helper.c). Shared state, owned by the exit that holds
 * the exit lock (every access comes from an I/O exit or from the engine).
 */
#ifndef HV_PLATFORM_WAKE_PORT_H
#define HV_PLATFORM_WAKE_PORT_H

#include <stdbool.h>
#include <stdint.h>

struct wake_port_stats {
	uint16_t base; /* 0: no wake port (the console is not COM1 or COM2) */
	const char *tty;
	uint64_t guest_reads, guest_writes, rings, line_raises;
	uint64_t guest_tx_bytes; /* sent by the guest (an echo of the wake), dropped */
};

/* At start, from the console's port: sets the wake port's address (or none). */
void wake_port_init(uint16_t console_port);
bool wake_port_is(uint16_t port);
uint8_t wake_port_in(uint16_t port);
void wake_port_out(uint16_t port, uint8_t value);
/* A newline into the receiver and the line raised (lowered first when up: a new edge), at
 * once or, when the console is sending, at the first poll that finds it idle. `now` and
 * `hold` on any one clock (the TSC in the core). */
void wake_port_ring(uint64_t now);
/* From the console's poll: a ring that waits goes out; a line up for `hold` comes down. */
void wake_port_poll(uint64_t now, uint64_t hold);
/* The guest's device for the port ("/dev/ttyS3"), or NULL without one. */
const char *wake_port_device(void);
const struct wake_port_stats *wake_port_stats(void);

#endif
