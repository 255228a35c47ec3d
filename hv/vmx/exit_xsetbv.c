/* SPDX-License-Identifier: MIT */
/*
 * XSETBV exits unconditionally (SDM 25.1.2). CPL and CR4.OSXSAVE are checked by the
 * processor before the exit; the value is ours to check, because an invalid XCR0 written
 * here would fault in the monitor (SDM Vol. 2C XSETBV: #GP if ECX != 0, bit 0 clear, YMM
 * without SSE, or a bit the processor does not support).
 */
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"
#include "x86/cr.h"

void handle_xsetbv(struct vcpu *v)
{
	struct guest_regs *r = v->regs;
	uint32_t index = (uint32_t)r->rcx;
	uint64_t value = ((r->rdx & 0xFFFFFFFFull) << 32) | (r->rax & 0xFFFFFFFFull);
	uint64_t supported_mask = machine.xcr0_supported; /* read once at start */

	/* SDM Vol. 1 13.3: MPX bits 3 and 4 together; AVX-512 bits 7:5 all or none, and
	 * only with YMM; AMX bits 17 and 18 together. */
	bool bad_mpx = ((value >> 3) ^ (value >> 4)) & 1;
	bool bad_avx512 =
		(value & 0xE0) && ((value & 0xE0) != 0xE0 || !(value & XFEATURE_MASK_YMM));
	bool bad_amx = ((value >> 17) ^ (value >> 18)) & 1;
	if (index != 0 || !(value & XFEATURE_MASK_FP) ||
	    ((value & XFEATURE_MASK_YMM) && !(value & XFEATURE_MASK_SSE)) ||
	    (value & ~supported_mask) || bad_mpx || bad_avx512 || bad_amx) {
		vmx_inject_gp0(v);
		return;
	}
	xsetbv(0, value);
	vmx_advance_rip(v);
}
