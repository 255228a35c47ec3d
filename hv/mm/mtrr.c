/* SPDX-License-Identifier: MIT */
#include "mm/mtrr.h"

#include "x86/ept.h"
#include "x86/msr.h"

#define MTRR_DEF_TYPE_E     (1ull << 11)
#define MTRR_DEF_TYPE_FE    (1ull << 10)
#define MTRR_CAP_FIX        (1ull << 8)
#define MTRR_PHYSMASK_VALID (1ull << 11)
#define FIXED_RANGE_END     0x100000ull

/* SDM 11.11.2.2 "Fixed Range MTRRs": the 11 MSRs in address order. */
static const uint32_t fixed_msr[11] = {
	MSR_IA32_MTRR_FIX64K_00000,    MSR_IA32_MTRR_FIX16K_80000,    MSR_IA32_MTRR_FIX16K_A0000,
	MSR_IA32_MTRR_FIX4K_C0000,     MSR_IA32_MTRR_FIX4K_C0000 + 1, MSR_IA32_MTRR_FIX4K_C0000 + 2,
	MSR_IA32_MTRR_FIX4K_C0000 + 3, MSR_IA32_MTRR_FIX4K_C0000 + 4, MSR_IA32_MTRR_FIX4K_C0000 + 5,
	MSR_IA32_MTRR_FIX4K_C0000 + 6, MSR_IA32_MTRR_FIX4K_C0000 + 7,
};

#ifdef HV_CORE
#include "x86/cpu.h"

void mtrr_read(struct mtrr_state *st, unsigned int maxphyaddr)
{
	uint64_t cap = rdmsr(MSR_IA32_MTRRCAP);
	uint64_t def = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
	st->cap = cap;
	st->enabled = (def & MTRR_DEF_TYPE_E) != 0;
	st->fixed_enabled = (def & MTRR_DEF_TYPE_FE) && (cap & MTRR_CAP_FIX);
	st->default_type = (uint8_t)(def & 0xff);
	st->phys_addr_mask = (maxphyaddr >= 64) ? ~0ull : ((1ull << maxphyaddr) - 1);
	if (cap & MTRR_CAP_FIX) { /* also when FE is off: the guest may read and turn them on */
		for (unsigned int i = 0; i < 11; i++) {
			uint64_t v = rdmsr(fixed_msr[i]);
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

/* ------------------------------------------------------------ the guest's MTRR MSRs */

#define MTRR_CAP_VCNT_MASK 0xffull
#define MTRR_DEF_TYPE_RSVD (~0xcffull) /* bits 9:8 and 63:12 (SDM 11.11.2.1) */
#define MTRR_PHYSBASE_RSVD 0xf00ull    /* bits 11:8, and those above MAXPHYADDR */
#define MTRR_PHYSMASK_RSVD 0x7ffull    /* bits 10:0, and those above MAXPHYADDR */
#define ALL_MEMORY         (~0ull)

static int fixed_index(uint32_t msr)
{
	for (int i = 0; i < 11; i++)
		if (fixed_msr[i] == msr)
			return i;
	return -1;
}

/* SDM 11.11.1 Table 11-8: UC, WC, WT, WP, WB (2, 3 and 7 are reserved in MTRRs). */
static bool valid_type(uint64_t t)
{
	return t == MEMTYPE_UC || t == MEMTYPE_WC || t == MEMTYPE_WT || t == MEMTYPE_WP ||
	       t == MEMTYPE_WB;
}

bool mtrr_is_msr(uint32_t msr)
{
	return msr == MSR_IA32_MTRR_DEF_TYPE || fixed_index(msr) >= 0 ||
	       (msr >= MSR_IA32_MTRR_PHYSBASE0 &&
		msr < MSR_IA32_MTRR_PHYSBASE0 + 2 * MTRR_MAX_VARIABLE);
}

static uint32_t variable_of(const struct mtrr_state *st, uint32_t msr, bool *is_mask)
{
	uint32_t n = msr - MSR_IA32_MTRR_PHYSBASE0;
	*is_mask = (n & 1u) != 0;
	n /= 2u;
	return n < st->variable_count ? n : MTRR_MAX_VARIABLE;
}

bool mtrr_msr_read(const struct mtrr_state *st, uint32_t msr, uint64_t *value)
{
	if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		*value = st->default_type | (st->fixed_enabled ? MTRR_DEF_TYPE_FE : 0) |
			 (st->enabled ? MTRR_DEF_TYPE_E : 0);
		return true;
	}
	int f = fixed_index(msr);
	if (f >= 0) {
		if (!(st->cap & MTRR_CAP_FIX))
			return false;
		*value = 0;
		for (unsigned int b = 0; b < 8; b++)
			*value |= (uint64_t)st->fixed[f * 8 + b] << (8 * b);
		return true;
	}
	if (msr < MSR_IA32_MTRR_PHYSBASE0)
		return false;
	bool is_mask;
	uint32_t n = variable_of(st, msr, &is_mask);
	if (n == MTRR_MAX_VARIABLE)
		return false;
	*value = is_mask ? st->phys_mask[n] : st->phys_base[n];
	return true;
}

/* The addresses a variable range covers, as one interval when its mask is contiguous
 * (the only kind SDM 11.11.3 recommends); else all of memory. */
static void variable_span(const struct mtrr_state *st, uint32_t n, uint64_t *lo, uint64_t *hi)
{
	uint64_t mask = st->phys_mask[n] & st->phys_addr_mask & ~0xfffull;
	uint64_t size = (~mask & st->phys_addr_mask) + 1;
	if (!(st->phys_mask[n] & MTRR_PHYSMASK_VALID)) {
		*lo = *hi = 0;
		return;
	}
	if ((size & (size - 1)) != 0 || mask != (st->phys_addr_mask & ~(size - 1))) {
		*lo = 0;
		*hi = ALL_MEMORY;
		return;
	}
	*lo = st->phys_base[n] & mask;
	*hi = *lo + size;
}

static void widen(uint64_t *lo, uint64_t *hi, uint64_t a, uint64_t b)
{
	if (a >= b)
		return;
	if (*lo >= *hi) {
		*lo = a;
		*hi = b;
		return;
	}
	if (a < *lo)
		*lo = a;
	if (b > *hi)
		*hi = b;
}

enum mtrr_write_result mtrr_msr_write(struct mtrr_state *st, uint32_t msr, uint64_t value,
				      uint64_t *lo, uint64_t *hi)
{
	uint64_t old;
	*lo = *hi = 0;
	if (!mtrr_msr_read(st, msr, &old))
		return MTRR_WRITE_BAD;
	if (msr == MSR_IA32_MTRR_DEF_TYPE) {
		if ((value & MTRR_DEF_TYPE_RSVD) || !valid_type(value & 0xff))
			return MTRR_WRITE_BAD;
		st->default_type = (uint8_t)(value & 0xff);
		st->fixed_enabled = (value & MTRR_DEF_TYPE_FE) && (st->cap & MTRR_CAP_FIX);
		st->enabled = (value & MTRR_DEF_TYPE_E) != 0;
		if (value != old)
			widen(lo, hi, 0, ALL_MEMORY);
		return MTRR_WRITE_OK;
	}
	int f = fixed_index(msr);
	if (f >= 0) {
		for (unsigned int b = 0; b < 8; b++)
			if (!valid_type((value >> (8 * b)) & 0xff))
				return MTRR_WRITE_BAD;
		for (unsigned int b = 0; b < 8; b++)
			st->fixed[f * 8 + b] = (uint8_t)(value >> (8 * b));
		if (value != old)
			widen(lo, hi, 0, FIXED_RANGE_END);
		return MTRR_WRITE_OK;
	}
	bool is_mask;
	uint32_t n = variable_of(st, msr, &is_mask);
	uint64_t above = ~st->phys_addr_mask;
	if (is_mask ? (value & (MTRR_PHYSMASK_RSVD & ~MTRR_PHYSMASK_VALID)) || (value & above)
		    : (value & MTRR_PHYSBASE_RSVD) || (value & above) || !valid_type(value & 0xff))
		return MTRR_WRITE_BAD;
	if (value == old)
		return MTRR_WRITE_OK;
	uint64_t a, b;
	variable_span(st, n, &a, &b);
	widen(lo, hi, a, b);
	if (is_mask)
		st->phys_mask[n] = value;
	else
		st->phys_base[n] = value;
	variable_span(st, n, &a, &b);
	widen(lo, hi, a, b);
	return MTRR_WRITE_OK;
}
