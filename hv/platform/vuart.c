/* SPDX-License-Identifier: MIT */
#include "platform/vuart.h"

#include "lib/string.h"

void vuart_reset(struct vuart *u)
{
	memset(u, 0, sizeof(*u));
	u->dll = 12; /* 9600 baud, as after a master reset */
}

static bool rx_ready(const struct vuart *u)
{
	return u->rx_count != 0;
}

static uint8_t rx_pop(struct vuart *u)
{
	if (u->rx_count == 0)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1u) % VUART_RX_SIZE;
	u->rx_count--;
	return b;
}

bool vuart_rx_push(struct vuart *u, uint8_t byte)
{
	if (u->rx_count == VUART_RX_SIZE) {
		u->overrun = true;
		u->rx_dropped++;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % VUART_RX_SIZE] = byte;
	u->rx_count++;
	return true;
}

/* The highest-priority pending interrupt (PC16550D Table 4: line status, received data,
 * transmitter empty, modem status; only the two this model raises). */
static uint8_t interrupt_id(const struct vuart *u)
{
	if ((u->ier & VUART_IER_RDI) && rx_ready(u))
		return VUART_IIR_RDA;
	if ((u->ier & VUART_IER_THRI) && u->thre_pending)
		return VUART_IIR_THRE;
	return VUART_IIR_NONE;
}

bool vuart_irq(const struct vuart *u)
{
	return (u->mcr & VUART_MCR_OUT2) && interrupt_id(u) != VUART_IIR_NONE;
}

/* The modem status: in loopback the outputs come back (PC16550D 8.6: CTS=RTS, DSR=DTR,
 * RI=OUT1, DCD=OUT2); otherwise a line with its peer present (CTS, DSR, DCD). */
static uint8_t modem_status(const struct vuart *u)
{
	if (u->mcr & VUART_MCR_LOOP)
		return (uint8_t)(((u->mcr & 0x02u) << 3) | ((u->mcr & 0x01u) << 5) |
				 ((u->mcr & 0x04u) << 4) | ((u->mcr & 0x08u) << 4));
	return 0xB0u;
}

uint8_t vuart_read(struct vuart *u, uint32_t offset)
{
	bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
	switch (offset) {
	case VUART_RBR_THR:
		return dlab ? u->dll : rx_pop(u);
	case VUART_IER:
		return dlab ? u->dlm : u->ier;
	case VUART_IIR_FCR: {
		uint8_t id = interrupt_id(u);
		if (id == VUART_IIR_THRE)
			u->thre_pending = false; /* reading IIR with it as the source clears it */
		return (uint8_t)(id | (u->fifo ? VUART_IIR_FIFO : 0u));
	}
	case VUART_LCR:
		return u->lcr;
	case VUART_MCR:
		return u->mcr;
	case VUART_LSR: {
		uint8_t lsr = (uint8_t)(VUART_LSR_IDLE | (rx_ready(u) ? VUART_LSR_DR : 0u) |
					(u->overrun ? VUART_LSR_OE : 0u));
		u->overrun = false; /* reading LSR clears the error bits */
		return lsr;
	}
	case VUART_MSR:
		return modem_status(u);
	case VUART_SCR:
		return u->scr;
	default:
		return 0xFF;
	}
}

void vuart_write(struct vuart *u, uint32_t offset, uint8_t value)
{
	bool dlab = (u->lcr & VUART_LCR_DLAB) != 0;
	switch (offset) {
	case VUART_RBR_THR:
		if (dlab) {
			u->dll = value;
			return;
		}
		/* sent at once: the holding register is empty again (in loopback the byte
		 * comes back to the receiver, PC16550D 8.6) */
		u->tx_bytes++;
		if (u->mcr & VUART_MCR_LOOP)
			(void)vuart_rx_push(u, value);
		u->thre_pending = true;
		return;
	case VUART_IER:
		if (dlab) {
			u->dlm = value;
			return;
		}
		/* enabling THRI with the holding register empty raises the interrupt */
		if ((value & VUART_IER_THRI) && !(u->ier & VUART_IER_THRI))
			u->thre_pending = true;
		u->ier = value & 0x0Fu;
		return;
	case VUART_IIR_FCR:
		u->fifo = (value & VUART_FCR_FIFO) != 0;
		if (value & VUART_FCR_CLR_RX)
			u->rx_count = 0;
		return;
	case VUART_LCR:
		u->lcr = value;
		return;
	case VUART_MCR:
		u->mcr = value & 0x1Fu;
		return;
	case VUART_SCR:
		u->scr = value;
		return;
	default:
		return; /* LSR and MSR: writes are for factory tests */
	}
}
