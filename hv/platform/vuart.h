/* SPDX-License-Identifier: MIT */
/*
 * A 16550A UART as the guest sees it, emulated (no device behind it): the registers of the
 * PC16550D data sheet (Table 2, "Register Addresses"; section 8, "Registers"), enough for
 * Linux's 8250 driver to find a 16550A at its probe and to run a tty on it. What the guest
 * sends is dropped; what the monitor puts in (vuart_rx_push) is what the guest receives.
 * The interrupt output is a level (vuart_irq): whoever owns the model drives a real line
 * from it (platform/wake_port.h). Freestanding, unit-tested on the host; one owner at a
 * time (the caller serializes).
 */
#ifndef HV_PLATFORM_VUART_H
#define HV_PLATFORM_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_PORTS   8u
#define VUART_RX_SIZE 16u /* the 16550A's receive FIFO */

/* Register offsets (PC16550D Table 2) */
#define VUART_RBR_THR 0u /* DLAB=0; divisor latch low with DLAB=1 */
#define VUART_IER     1u /* DLAB=0; divisor latch high with DLAB=1 */
#define VUART_IIR_FCR 2u
#define VUART_LCR     3u
#define VUART_MCR     4u
#define VUART_LSR     5u
#define VUART_MSR     6u
#define VUART_SCR     7u

#define VUART_IER_RDI    0x01u /* received data available */
#define VUART_IER_THRI   0x02u /* transmitter holding register empty */
#define VUART_LCR_DLAB   0x80u
#define VUART_MCR_LOOP   0x10u
#define VUART_MCR_OUT2   0x08u /* on a PC, gates the UART's interrupt onto the bus */
#define VUART_FCR_FIFO   0x01u
#define VUART_FCR_CLR_RX 0x02u
#define VUART_IIR_NONE   0x01u
#define VUART_IIR_THRE   0x02u
#define VUART_IIR_RDA    0x04u
#define VUART_IIR_FIFO   0xC0u /* FIFOs enabled (16550A) */
#define VUART_LSR_DR     0x01u
#define VUART_LSR_OE     0x02u
#define VUART_LSR_IDLE   0x60u /* THRE | TEMT: the transmitter is always empty */

struct vuart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo;
	bool thre_pending; /* the THRE interrupt is up until IIR reports it or THR is written */
	bool overrun;
	uint8_t rx[VUART_RX_SIZE];
	uint32_t rx_head, rx_count;
	uint64_t tx_bytes, rx_dropped;
};

void vuart_reset(struct vuart *u);
uint8_t vuart_read(struct vuart *u, uint32_t offset);
void vuart_write(struct vuart *u, uint32_t offset, uint8_t value);
/* A byte for the guest to receive; false (counted) when the FIFO is full. */
bool vuart_rx_push(struct vuart *u, uint8_t byte);
/* The interrupt output: an enabled condition, and OUT2 set. */
bool vuart_irq(const struct vuart *u);

#endif
