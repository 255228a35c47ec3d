/* A fake processor for host tests of exit handlers: the current VMCS, MSRs and the TSC
 * that x86/cpu.h's vmread/vmwrite_checked/rdmsr/wrmsr/rdtsc reach under HV_HOST. Reading
 * an MSR nobody wrote gives 0. Test-only. */
#ifndef TESTS_UNIT_FAKE_VMCS_H
#define TESTS_UNIT_FAKE_VMCS_H

#include <stdint.h>

#define FAKE_VMCS_FIELDS 0x8000u /* encodings are 16 bits, all below 0x7000 */
#define FAKE_MSRS        16u

extern uint64_t fake_vmcs[FAKE_VMCS_FIELDS];
extern uint64_t fake_tsc; /* what rdtsc() returns */

void fake_vmcs_reset(void);
/* The value last written to msr (0 if none), and how many writes it had. */
uint64_t fake_msr(uint32_t msr);
unsigned int fake_msr_writes(uint32_t msr);
void fake_msr_set(uint32_t msr, uint64_t value);

#endif
