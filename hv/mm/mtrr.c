/* SPDX-License-Identifier: MIT */
#include "mm/mtrr.h"

#include "x86/ept.h"

#define MTRR_DEF_TYPE_E     (1ull << 11)
#define MTRR_DEF_TYPE_FE    (1ull << 10)
#define MTRR_CAP_FIX        (1ull << 8)
#define MTRR_PHYSMASK_VALID (1ull << 11)
#define FIXED_RANGE_END     0x100000ull

#ifdef HV_CORE
#include "x86/cpu.h"
#include "x86/msr.h"

void mtrr_read(struct mtrr_state *st, unsigned int maxphyaddr)
{
	uint64_t cap = rdmsr(MSR_IA32_MTRRCAP);
	uint64_t def = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
	static const uint32_t fixed_msrs[11] = {
		MSR_IA32_MTRR_FIX64K_00000,    MSR_IA32_MTRR_FIX16K_80000,
		MSR_IA32_MTRR_FIX16K_A0000,    MSR_IA32_MTRR_FIX4K_C0000,
		MSR_IA32_MTRR_FIX4K_C0000 + 1, MSR_IA32_MTRR_FIX4K_C0000 + 2,
		MSR_IA32_MTRR_FIX4K_C0000 + 3, MSR_IA32_MTRR_FIX4K_C0000 + 4,
		MSR_IA32_MTRR_FIX4K_C0000 + 5, MSR_IA32_MTRR_FIX4K_C0000 + 6,
		MSR_IA32_MTRR_FIX4K_C0000 + 7,
	};

	st->enabled = (def & MTRR_DEF_TYPE_E) != 0;
	st->fixed_enabled = (def & MTRR_DEF_TYPE_FE) && (cap & MTRR_CAP_FIX);
	st->default_type = (uint8_t)(def & 0xff);
	st->phys_addr_mask = (maxphyaddr >= 64) ? ~0ull : ((1ull << maxphyaddr) - 1);
	if (st->fixed_enabled) {
		for (unsigned int i = 0; i < 11; i++) {
			uint64_t v = rdmsr(fixed_msrs[i]);
			for (unsigned int b = 0; b < 8; b++)
				st->fixed[i * 8 + b] = (uint8_t)(v >> (8 * b));
		}
	}
	st->variable_count = (uint32_t)(cap & 0xff);
	if (st->variable_count > MTRR_MAX_VARIABLE)
		st->variable_count = MTRR_MAX_VARIABLE;
	for (uint32_t i = 0; i < st->variable_count; i++) {
		st->phys_base[i] = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
		st->phys_mask[i] = rdmsr(MSR_IA32_MTRR_PHYSMASK0 + 2 * i);
	}
}
#endif

/* SDM 11.11.2.2 "Fixed Range MTRRs": 8 x 64 KiB from 0, 16 x 16 KiB from 0x80000,
 * 64 x 4 KiB from 0xC0000. */
static uint8_t fixed_type(const struct mtrr_state *st, uint64_t pa)
{
	if (pa < 0x80000)
		return st->fixed[pa >> 16];
	if (pa < 0xC0000)
		return st->fixed[8 + ((pa - 0x80000) >> 14)];
	return st->fixed[24 + ((pa - 0xC0000) >> 12)];
}

/* SDM 11.11.4.1 "MTRR Precedences" for the variable ranges that match. */
static uint8_t combine(uint8_t a, uint8_t b)
{
	if (a == b)
		return a;
	if (a == MEMTYPE_UC || b == MEMTYPE_UC)
		return MEMTYPE_UC;
	if ((a == MEMTYPE_WT && b == MEMTYPE_WB) || (a == MEMTYPE_WB && b == MEMTYPE_WT))
		return MEMTYPE_WT;
	return MEMTYPE_UC; /* undefined combination: the safe choice */
}

bool mtrr_range_type(const struct mtrr_state *st, uint64_t pa, uint64_t size, uint8_t *type)
{
	if (!st->enabled) {
		*type = MEMTYPE_UC; /* 11.11.2.1: MTRRs disabled => all UC */
		return true;
	}
	if (st->fixed_enabled && pa < FIXED_RANGE_END) {
		if (pa + size > FIXED_RANGE_END)
			return false;
		uint8_t t = fixed_type(st, pa);
		for (uint64_t a = pa + 0x1000; a < pa + size; a += 0x1000) {
			if (fixed_type(st, a) != t)
				return false;
		}
		*type = t;
		return true;
	}

	bool matched = false;
	uint8_t t = st->default_type;
	for (uint32_t i = 0; i < st->variable_count; i++) {
		uint64_t mask = st->phys_mask[i];
		if (!(mask & MTRR_PHYSMASK_VALID))
			continue;
		mask &= st->phys_addr_mask & ~0xfffull;
		uint64_t base = st->phys_base[i] & st->phys_addr_mask & ~0xfffull;
		/* Mask bits inside the range make part of it match and part not: mixed. */
		if (mask & (size - 1)) {
			if ((pa & mask & ~(size - 1)) == (base & mask & ~(size - 1)))
				return false;
			continue; /* the high bits already differ: no address in range matches */
		}
		if ((pa & mask) != (base & mask))
			continue;
		uint8_t vt = (uint8_t)(st->phys_base[i] & 0xff);
		t = matched ? combine(t, vt) : vt;
		matched = true;
	}
	*type = t;
	return true;
}
