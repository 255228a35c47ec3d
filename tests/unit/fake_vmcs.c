/* See fake_vmcs.h. */
#include "fake_vmcs.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "x86/cpu.h"

uint64_t fake_vmcs[FAKE_VMCS_FIELDS];
uint64_t fake_tsc;

static struct {
	uint32_t msr;
	uint64_t value;
	unsigned int writes;
	bool used;
} msrs[FAKE_MSRS];

void fake_vmcs_reset(void)
{
	memset(fake_vmcs, 0, sizeof(fake_vmcs));
	memset(msrs, 0, sizeof(msrs));
	fake_tsc = 0;
}

bool vmwrite_checked(uint64_t field, uint64_t value)
{
	if (field >= FAKE_VMCS_FIELDS)
		abort(); /* no such field: a bug in the code under test */
	fake_vmcs[field] = value;
	return true;
}

uint64_t vmread(uint64_t field)
{
	if (field >= FAKE_VMCS_FIELDS)
		abort();
	return fake_vmcs[field];
}

static unsigned int slot(uint32_t msr)
{
	for (unsigned int i = 0; i < FAKE_MSRS; i++)
		if (msrs[i].used && msrs[i].msr == msr)
			return i;
	for (unsigned int i = 0; i < FAKE_MSRS; i++)
		if (!msrs[i].used) {
			msrs[i].used = true;
			msrs[i].msr = msr;
			return i;
		}
	abort(); /* more MSRs than a test should touch */
}

uint64_t rdmsr(uint32_t msr)
{
	return msrs[slot(msr)].value;
}

void wrmsr(uint32_t msr, uint64_t value)
{
	unsigned int i = slot(msr);
	msrs[i].value = value;
	msrs[i].writes++;
}

uint64_t fake_msr(uint32_t msr)
{
	return rdmsr(msr);
}

unsigned int fake_msr_writes(uint32_t msr)
{
	return msrs[slot(msr)].writes;
}

void fake_msr_set(uint32_t msr, uint64_t value)
{
	msrs[slot(msr)].value = value;
}

uint64_t rdtsc(void)
{
	return fake_tsc;
}
