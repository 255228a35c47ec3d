/* SPDX-License-Identifier: MIT */
#include "console/uart.h"

#include "x86/cpu.h"

/* Register offsets and bits (PC16550D data sheet, Table 2). */
#define UART_RBR              0 /* receive buffer (read, DLAB=0) */
#define UART_THR              0 /* transmit holding (write, DLAB=0) */
#define UART_DLL              0 /* divisor latch low (DLAB=1) */
#define UART_IER              1
#define UART_DLM              1
#define UART_FCR              2
#define UART_LCR              3
#define UART_MCR              4
#define UART_LSR              5
#define UART_SCR              7
#define UART_LCR_8N1          0x03u
#define UART_LCR_DLAB         0x80u
#define UART_FCR_ENABLE_CLEAR 0x07u /* enable FIFOs, clear RX and TX */
#define UART_MCR_DTR_RTS      0x03u /* OUT2 clear: the UART raises no interrupt */
#define UART_MCR_OUT2         0x08u
#define UART_IER_THRI         0x02u
#define UART_LSR_DR           0x01u
#define UART_LSR_OE           0x02u
#define UART_LSR_THRE         0x20u
#define UART_CLOCK_HZ         1843200u /* the PC's 1.8432 MHz crystal: divisor = 115200 / baud */
#define UART_TX_SPIN_LIMIT    1000000u

bool uart_init(struct uart *u, uint16_t port, uint32_t baud)
{
	u->port = port;
	u->present = false;
	outb(port + UART_SCR, 0x5A);
	if (inb(port + UART_SCR) != 0x5A)
		return false;
	outb(port + UART_SCR, 0xA5);
	if (inb(port + UART_SCR) != 0xA5)
		return false;
	uint32_t divisor = baud ? UART_CLOCK_HZ / 16u / baud : 1u;
	if (divisor == 0 || divisor > 0xFFFF)
		divisor = 1;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, (uint8_t)divisor);
	outb(port + UART_DLM, (uint8_t)(divisor >> 8));
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(port + UART_MCR, UART_MCR_DTR_RTS);
	u->present = true;
	return true;
}

/* The line status, noting an overrun (reading LSR clears OE in the UART). */
static uint8_t read_lsr(struct uart *u)
{
	uint8_t lsr = inb(u->port + UART_LSR);
	if (lsr & UART_LSR_OE)
		u->overrun = true;
	return lsr;
}

bool uart_tx_ready(struct uart *u)
{
	return u->present && (read_lsr(u) & UART_LSR_THRE);
}

void uart_tx_byte(const struct uart *u, uint8_t b)
{
	outb(u->port + UART_THR, b);
}

int uart_rx_byte(struct uart *u)
{
	if (!u->present || !(read_lsr(u) & UART_LSR_DR))
		return -1;
	return inb(u->port + UART_RBR);
}

bool uart_take_overrun(struct uart *u)
{
	bool seen = u->overrun;
	u->overrun = false;
	return seen;
}

void uart_write_blocking(const struct uart *u, const char *s, uint32_t n)
{
	if (!u->present)
		return;
	for (uint32_t i = 0; i < n; i++) {
		/* Bounded: a wedged or absent UART must not hang the caller. */
		for (uint32_t spin = 0; spin < UART_TX_SPIN_LIMIT; spin++) {
			if (inb(u->port + UART_LSR) & UART_LSR_THRE)
				break;
			cpu_relax();
		}
		outb(u->port + UART_THR, (uint8_t)s[i]);
	}
}

void uart_irq_line(const struct uart *u, bool high)
{
	if (!u->present)
		return;
	if (high) {
		outb(u->port + UART_MCR, UART_MCR_DTR_RTS | UART_MCR_OUT2);
		outb(u->port + UART_IER, UART_IER_THRI);
	} else {
		outb(u->port + UART_IER, 0);
		outb(u->port + UART_MCR, UART_MCR_DTR_RTS);
	}
}
