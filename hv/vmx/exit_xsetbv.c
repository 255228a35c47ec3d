/* SPDX-License-Identifier: MIT */
/*
 * XSETBV exits unconditionally (SDM 25.1.2). CPL and CR4.OSXSAVE are checked by the
 * processor before the exit; the value is ours to check, because an invalid XCR0 written
 * here would fault in the monitor (SDM Vol. 2C XSETBV: #GP if ECX != 0, bit 0 clear, YMM
 * without SSE, or a bit the processor does not support).
 */
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"
#include "x86/cr.h"

void handle_xsetbv(struct vcpu *v)
{
	struct guest_regs *r = v->regs;
	uint32_t index = (uint32_t)r->rcx;
	uint64_t value = ((r->rdx & 0xFFFFFFFFull) << 32) | (r->rax & 0xFFFFFFFFull);
	struct cpuid_regs supported = cpuid_count(0xD, 0);
	uint64_t supported_mask = ((uint64_t)supported.edx << 32) | supported.eax;

	if (index != 0 || !(value & XFEATURE_MASK_FP) ||
	    ((value & XFEATURE_MASK_YMM) && !(value & XFEATURE_MASK_SSE)) ||
	    (value & ~supported_mask)) {
		vmx_inject_gp0(v);
		return;
	}
	xsetbv(0, value);
	vmx_advance_rip(v);
}
