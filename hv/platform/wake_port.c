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
static bool line_high;

void wake_port_init(uint16_t console_port)
{
	vuart_reset(&model);
	line_high = false;
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

/* The console UART's line follows the model's interrupt output. */
static void sync_line(void)
{
	bool want = vuart_irq(&model);
	if (want == line_high)
		return;
	console_irq_line(want);
	line_high = want;
	stats.line_raises += want;
}

uint8_t wake_port_in(uint16_t port)
{
	stats.guest_reads++;
	uint8_t v = vuart_read(&model, (uint32_t)(port - stats.base));
	sync_line();
	return v;
}

void wake_port_out(uint16_t port, uint8_t value)
{
	stats.guest_writes++;
	vuart_write(&model, (uint32_t)(port - stats.base), value);
	stats.guest_tx_bytes = model.tx_bytes;
	sync_line();
}

void wake_port_ring(void)
{
	if (stats.base == 0)
		return;
	stats.rings++;
	(void)vuart_rx_push(&model, '\n');
	if (line_high) {
		/* an edge the guest's controller latches (an edge-triggered ISA interrupt) */
		console_irq_line(false);
		line_high = false;
	}
	sync_line();
}

const char *wake_port_device(void)
{
	return device;
}

const struct wake_port_stats *wake_port_stats(void)
{
	return &stats;
}
