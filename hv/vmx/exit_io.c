/* SPDX-License-Identifier: MIT */
/*
 * I/O exits: only the console UART's ports are in the I/O bitmap. The guest must neither
 * reach the console nor learn anything from it: writes are dropped, and reads return a
 * fixed view that never depends on the console: all ones, as from an empty ISA bus, so
 * Linux's 8250 probe finds no UART there (its IER test fails) — except the line status
 * register, which reads "transmitter empty, no data". Firmware that found the UART before
 * the monitor started (OVMF puts its terminal on every serial port) then neither spins on
 * "data ready" reading 0xFF bytes nor waits for room to send: it costs one exit per access.
 * Exit qualification: SDM 27.2.1 Table 27-5.
 */
#include "console/uart.h"
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

#define IO_QUAL_SIZE(q) (((q)&7u) + 1u) /* 1, 2 or 4 bytes */
#define IO_QUAL_IN      (1u << 3)
#define IO_QUAL_STRING  (1u << 4)

#define UART_LSR_OFFSET 5u
#define UART_LSR_IDLE   0x60u /* THRE | TEMT: nothing received, nothing to send */

uint64_t io_blocked_reads, io_blocked_writes, io_blocked_string;

/* What the guest reads from one of the console's ports (see above). */
uint8_t console_port_guest_view(uint16_t port)
{
	return (uint16_t)(port - machine.console_port) == UART_LSR_OFFSET ? UART_LSR_IDLE : 0xFFu;
}

void handle_io(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	if (q & IO_QUAL_STRING) {
		/* INS/OUTS to the console ports: nothing legitimate does that to a UART we
		 * hide; refuse it the way a protection check would (#GP) rather than
		 * emulate string I/O through guest memory. */
		io_blocked_string++;
		vmx_inject_gp0(v);
		return;
	}
	if (q & IO_QUAL_IN) {
		unsigned int size = IO_QUAL_SIZE(q);
		uint16_t port = (uint16_t)(q >> 16);
		uint64_t mask = size == 1 ? 0xFFull : size == 2 ? 0xFFFFull : 0xFFFFFFFFull;
		uint64_t value = 0;
		for (unsigned int i = 0; i < size; i++) {
			uint16_t p = (uint16_t)(port + i);
			bool ours = (uint16_t)(p - machine.console_port) < UART_PORT_COUNT;
			value |= (uint64_t)(ours ? console_port_guest_view(p) : 0xFFu) << (8 * i);
		}
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends (SDM Vol. 1 3.4.1.1). */
		if (size == 4)
			v->regs->rax = value;
		else
			v->regs->rax = (v->regs->rax & ~mask) | value;
		io_blocked_reads++;
	} else {
		io_blocked_writes++;
	}
	vmx_advance_rip(v);
}
