/* A guest vCPU for tests of exit handlers over the fake VMCS (fake_vmcs.c): the globals the
 * handlers reach (machine, vm, the MSR bitmap), one vCPU with registers the test owns, and
 * RDMSR/WRMSR as a guest does them, through the exit handlers (vmx/exit_msr.c).
 * Test-only. */
#ifndef TESTS_UNIT_GUEST_MSR_H
#define TESTS_UNIT_GUEST_MSR_H

#include <stdint.h>

#include "core/monitor.h"
#include "core/vcpu.h"

extern struct vcpu vcpu;
extern struct guest_regs regs;
extern uint8_t bitmap[4096]; /* what vmx_msr_bitmap() returns */

/* A fresh vCPU, fake VMCS and MSRs, exit-helper counts and MSR bitmap. */
void guest_vcpu_reset(void);

void guest_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* RAX and RDX start as garbage: a handler that leaves them shows it. */
uint64_t guest_msr_read(struct vcpu *v, uint32_t msr);

#endif
