/* See guest_msr.h. */
#include "guest_msr.h"

#include "vmx/exit_handlers.h"

void guest_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	v->regs->rcx = msr;
	v->regs->rax = (uint32_t)value;
	v->regs->rdx = value >> 32;
	handle_wrmsr(v);
}

uint64_t guest_msr_read(struct vcpu *v, uint32_t msr)
{
	v->regs->rcx = msr;
	v->regs->rax = v->regs->rdx = 0xDEAD;
	handle_rdmsr(v);
	return (v->regs->rdx << 32) | (uint32_t)v->regs->rax;
}
