/* SPDX-License-Identifier: MIT */
#include "platform/wake_port.h"

#include "console/console.h"
#include "console/uart.h"
#include "platform/vuart.h"

/* The legacy PC serial ports (Linux: arch/x86/include/asm/serial.h, SERIAL_PORT_DFNS):
 * ttyS0 0x3F8 IRQ 4, ttyS1 0x2F8 IRQ 3, ttyS2 0x3E8 IRQ 4, ttyS3 0x2E8 IRQ 3. */
#define COM1 0x3F8u
#define COM2 0x2F8u
#define COM3 0x3E8u
#define COM4 0x2E8u

static struct vuart model;
static struct wake_port_stats stats;
static const char *device;
static bool ring_pending;  /* a ring whose raise waits for the console to be idle */
static uint64_t raised_at; /* the caller's clock when the line went up */

void wake_port_init(uint16_t console_port)
{
	vuart_reset(&model);
	ring_pending = false;
	stats = (struct wake_port_stats){0};
	device = 0;
	if (console_port == COM2) {
		stats.base = COM4;
		stats.tty = "ttyS3";
		device = "/dev/ttyS3";
	} else if (console_port == COM1) {
		stats.base = COM3;
		stats.tty = "ttyS2";
		device = "/dev/ttyS2";
	}
}

bool wake_port_is(uint16_t port)
{
	return stats.base != 0 && (uint16_t)(port - stats.base) < VUART_PORTS;
}

/* Only a ring raises the line, and only with the console idle: its timing is the
 * monitor's choice and says nothing of the console. The guest's accesses can only bring
 * it down (its driver took what was pending); what the guest's own use of the port would
 * raise (a THRE for its echo, say) waits for the next ring's interrupt. */
static void lower_when_served(void)
{
	if (console_irq_line_up() && !vuart_irq(&model))
		console_irq_line(false);
}

static void raise_for_ring(uint64_t now)
{
	if (!vuart_irq(&model)) {
		ring_pending =
			false; /* the driver is not listening (OUT2, RDI): rung again later */
		return;
	}
	if (!console_tx_idle())
		return; /* stays pending: wake_port_poll raises it when the console is idle */
	console_irq_line(true);
	stats.line_raises++;
	raised_at = now;
	ring_pending = false;
}

uint8_t wake_port_in(uint16_t port)
{
	stats.guest_reads++;
	uint8_t v = vuart_read(&model, (uint32_t)(port - stats.base));
	lower_when_served();
	return v;
}

void wake_port_out(uint16_t port, uint8_t value)
{
	stats.guest_writes++;
	vuart_write(&model, (uint32_t)(port - stats.base), value);
	stats.guest_tx_bytes = model.tx_bytes;
	lower_when_served();
}

void wake_port_ring(uint64_t now)
{
	if (stats.base == 0)
		return;
	stats.rings++;
	(void)vuart_rx_push(&model, '\n');
	if (console_irq_line_up())
		console_irq_line(false); /* a new edge for the guest's controller to latch */
	ring_pending = true;
	raise_for_ring(now);
}

void wake_port_poll(uint64_t now, uint64_t hold)
{
	if (stats.base == 0)
		return;
	if (console_irq_line_up() && now - raised_at >= hold)
		console_irq_line(false); /* not served in time: down (the ring is repeated) */
	if (ring_pending)
		raise_for_ring(now);
}

const char *wake_port_device(void)
{
	return device;
}

const struct wake_port_stats *wake_port_stats(void)
{
	return &stats;
}
