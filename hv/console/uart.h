/* SPDX-License-Identifier: MIT */
/* A polled 16550 UART (PC16550D data sheet; the registers every PC serial port has). The
 * monitor polls it from VM exits; its interrupt serves only as a line raised for the guest
 * (uart_irq_line). Shared by the core and the loader. */
#ifndef HV_CONSOLE_UART_H
#define HV_CONSOLE_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_PORT_COUNT 8u /* a 16550 decodes 8 consecutive I/O ports */
#define UART_FIFO_SIZE  16u

struct uart {
	uint16_t port;
	bool present;
	bool overrun; /* a read of the line status saw a receive overrun not yet taken */
};

/* Program 8N1 at `baud`, FIFOs on, interrupts off. Returns false (present = false) if
 * nothing that behaves like a 16550 answers at the port (scratch-register test). */
bool uart_init(struct uart *u, uint16_t port, uint32_t baud);
/* Transmit-holding register empty: up to UART_FIFO_SIZE bytes may be written now. */
bool uart_tx_ready(struct uart *u);
void uart_tx_byte(const struct uart *u, uint8_t b);
/* Returns -1 when no byte is waiting. */
int uart_rx_byte(struct uart *u);
/* Did the UART drop received bytes (its FIFO was full: PC16550D LSR bit 1, Overrun Error)
 * since the last call? Every read of the line status clears the bit in the UART; the
 * functions above keep it here until it is taken. */
bool uart_take_overrun(struct uart *u);
/* Blocking write with a bounded wait per byte, for early messages and fatal reports. */
void uart_write_blocking(const struct uart *u, const char *s, uint32_t n);
/* The UART's interrupt output, used as a line the monitor raises for the guest
 * (platform/wake_port.h): high = OUT2 (which gates it onto the bus on a PC) and the
 * transmitter-empty interrupt enabled, which a 16550 raises while its holding register is
 * empty (PC16550D 8.4, 8.7); low = both off again. The monitor's own polling is
 * unaffected. */
void uart_irq_line(const struct uart *u, bool high);

#endif
