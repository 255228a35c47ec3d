/* SPDX-License-Identifier: MIT */
/* A polled 16550 UART (PC16550D data sheet; the registers every PC serial port has). No
 * interrupts: the monitor polls it from VM exits. Shared by the core and the loader. */
#ifndef HV_CONSOLE_UART_H
#define HV_CONSOLE_UART_H

#include <stdbool.h>
#include <stdint.h>

#define UART_PORT_COUNT 8u /* a 16550 decodes 8 consecutive I/O ports */
#define UART_FIFO_SIZE  16u

struct uart {
	uint16_t port;
	bool present;
};

/* Program 8N1 at `baud`, FIFOs on, interrupts off. Returns false (present = false) if
 * nothing that behaves like a 16550 answers at the port (scratch-register test). */
bool uart_init(struct uart *u, uint16_t port, uint32_t baud);
/* Transmit-holding register empty: up to UART_FIFO_SIZE bytes may be written now. */
bool uart_tx_ready(const struct uart *u);
void uart_tx_byte(const struct uart *u, uint8_t b);
/* Returns -1 when no byte is waiting. */
int uart_rx_byte(const struct uart *u);
/* Blocking write with a bounded wait per byte, for early messages and fatal reports. */
void uart_write_blocking(const struct uart *u, const char *s, uint32_t n);

#endif
