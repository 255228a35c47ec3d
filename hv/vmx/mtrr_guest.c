/* SPDX-License-Identifier: MIT */
/*
 * The guest's MTRRs (mm/mtrr.h): reads and writes go to vm.guest_mtrr; a change retypes the
 * EPT identity map where the guest's types changed, then every CPU drops its cached
 * translations (SDM Vol. 3C 28.3.3.4: memory types are cached with them). The processor's
 * MTRRs, which give the monitor's own accesses their types, are never written: the
 * monitor's memory keeps its types whatever the guest writes.
 */
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"
#include "x86/ept.h"

enum msr_result mtrr_guest_read(struct vcpu *v, uint32_t msr, uint64_t *value)
{
	(void)v;
	return mtrr_msr_read(&vm.guest_mtrr, msr, value) ? MSR_DONE : MSR_GP;
}

/* A leaf's type: the guest's MTRR type when its whole range has one, else UC (always
 * correct; a large leaf is not split here, so the guest's writes cannot grow the EPT). */
static uint8_t guest_type(void *ctx, uint64_t pa, uint64_t span)
{
	(void)ctx;
	uint8_t t;
	return mtrr_range_type(&vm.guest_mtrr, pa, span, &t) ? t : MEMTYPE_UC;
}

enum msr_result mtrr_guest_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	uint64_t lo, hi;
	if (mtrr_msr_write(&vm.guest_mtrr, msr, value, &lo, &hi) != MTRR_WRITE_OK)
		return MSR_GP;
	if (lo >= hi)
		return MSR_DONE;
	if (ept_retype_identity(&vm.ept, lo, hi - lo, guest_type, 0) == 0)
		return MSR_DONE;
	char why[160];
	if (!cpus_invept_all(v, why, sizeof(why)))
		log_printf("ctrvisor: MTRR write: %s\r\n", why);
	return MSR_DONE;
}
