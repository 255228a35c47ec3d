/* See guest_msr.h. */
#include "guest_msr.h"

#include <string.h>

#include "fake_vmcs.h"
#include "fake_vmx.h"
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

struct machine machine;
struct vm vm;
struct vcpu vcpu;
struct guest_regs regs;
uint8_t bitmap[4096];

uint8_t *vmx_msr_bitmap(void)
{
	return bitmap;
}

void guest_vcpu_reset(void)
{
	fake_vmcs_reset();
	fake_vmx_reset();
	memset(bitmap, 0, sizeof(bitmap));
	memset(&vcpu, 0, sizeof(vcpu));
	memset(&regs, 0, sizeof(regs));
	vcpu.regs = &regs;
}

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
