/* SPDX-License-Identifier: MIT */
/*
 * Memory types from the MTRRs, SDM Vol. 3A 11.11 "Memory Type Range Registers".
 * With EPT the processor ignores the MTRRs for guest accesses and uses the EPT memory
 * type instead (SDM 28.2.6.2), so the EPT identity map must carry the types the
 * firmware programmed into the MTRRs, or device memory would be cached.
 * Pure functions over a snapshot, so the host unit tests can drive them.
 */
#ifndef HV_MM_MTRR_H
#define HV_MM_MTRR_H

#include <stdbool.h>
#include <stdint.h>

#define MTRR_MAX_VARIABLE 32u

struct mtrr_state {
	uint64_t cap;       /* IA32_MTRRCAP */
	bool enabled;       /* IA32_MTRR_DEF_TYPE.E */
	bool fixed_enabled; /* IA32_MTRR_DEF_TYPE.FE (and fixed MTRRs supported) */
	uint8_t default_type;
	uint8_t fixed[88]; /* 11 fixed MSRs x 8 ranges, in address order (11.11.2.2) */
	uint32_t variable_count;
	uint64_t phys_base[MTRR_MAX_VARIABLE];
	uint64_t phys_mask[MTRR_MAX_VARIABLE]; /* with the valid bit (11) */
	uint64_t phys_addr_mask; /* bits of a physical address: (1 << MAXPHYADDR) - 1 */
};

/* Read the MTRR MSRs of this CPU (core only). */
void mtrr_read(struct mtrr_state *st, unsigned int maxphyaddr);

/*
 * The guest's view of the MTRRs (vmx/exit_mtrr.c): with EPT the guest's accesses take their
 * type from EPT, not from the MTRRs (SDM 28.2.6.2), so the guest's MTRR writes go to this
 * copy and from it into the EPT memory types; the processor's MTRRs, which type the
 * monitor's own accesses, keep the firmware's values.
 *
 * mtrr_msr_read: the copy's value of an MTRR MSR; false if msr is not one this processor has.
 * mtrr_msr_write: the value checked as the processor checks it (SDM 11.11.2: types 0, 1, 4,
 * 5, 6; reserved bits 0) and stored. Returns MTRR_WRITE_BAD (the guest gets #GP) or
 * MTRR_WRITE_OK with [*lo, *hi) the physical range whose type may have changed (empty when
 * the value is the same).
 */
enum mtrr_write_result { MTRR_WRITE_OK, MTRR_WRITE_BAD };
bool mtrr_msr_read(const struct mtrr_state *st, uint32_t msr, uint64_t *value);
enum mtrr_write_result mtrr_msr_write(struct mtrr_state *st, uint32_t msr, uint64_t value,
				      uint64_t *lo, uint64_t *hi);
bool mtrr_is_msr(uint32_t msr);

/*
 * The memory type of the naturally aligned range [pa, pa + size) (size a power of two,
 * >= 4 KiB). Returns false when the range does not have one single type (the caller
 * then maps it with smaller pages), true with *type set otherwise.
 */
bool mtrr_range_type(const struct mtrr_state *st, uint64_t pa, uint64_t size, uint8_t *type);

#endif
