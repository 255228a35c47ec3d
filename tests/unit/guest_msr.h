/* RDMSR/WRMSR as a guest does them: through the exit handlers (vmx/exit_msr.c) of a vCPU
 * whose registers the test owns. Test-only. */
#ifndef TESTS_UNIT_GUEST_MSR_H
#define TESTS_UNIT_GUEST_MSR_H

#include <stdint.h>

#include "core/vcpu.h"

void guest_msr_write(struct vcpu *v, uint32_t msr, uint64_t value);
/* RAX and RDX start as garbage: a handler that leaves them shows it. */
uint64_t guest_msr_read(struct vcpu *v, uint32_t msr);

#endif
