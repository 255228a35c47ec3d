/* SPDX-License-Identifier: MIT */
/*
 * I/O exits: only the console UART's ports are in the I/O bitmap. The guest must neither
 * reach the console nor learn anything from it: writes are dropped, reads return all
 * ones, as from an empty ISA bus (the guest's 8250 probe then finds no UART there).
 * Exit qualification: SDM 27.2.1 Table 27-5.
 */
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

#define IO_QUAL_SIZE(q)   (((q) & 7u) + 1u) /* 1, 2 or 4 bytes */
#define IO_QUAL_IN        (1u << 3)
#define IO_QUAL_STRING    (1u << 4)

uint64_t io_blocked_reads, io_blocked_writes, io_blocked_string;

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
		uint64_t ones = size == 1 ? 0xFFull : size == 2 ? 0xFFFFull : 0xFFFFFFFFull;
		/* IN AL/AX keeps the rest of RAX; IN EAX zero-extends (SDM Vol. 1 3.4.1.1). */
		if (size == 4)
			v->regs->rax = ones;
		else
			v->regs->rax = (v->regs->rax & ~ones) | ones;
		io_blocked_reads++;
	} else {
		io_blocked_writes++;
	}
	vmx_advance_rip(v);
}
