/* SPDX-License-Identifier: MIT */
/*
 * The kernel image's virtual->physical mapping as the guest's own page tables give it
 * (IA-32e 4-level paging, SDM Vol. 3A 4.5, Tables 4-14 to 4-20): for each leaf, the entry
 * of every level on the way, so a remap (a changed entry at any level) is seen and the
 * recorded entries can be written back. The tables are guest memory, read through a
 * callback: a hostile guest can point them anywhere, so every walk is at most four reads.
 * Freestanding (tests/unit/test_kmap.c).
 */
#ifndef HV_PROTECT_KMAP_H
#define HV_PROTECT_KMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KMAP_LEVELS 4u

struct kmap_leaf {
	uint64_t va;    /* the leaf's first address (aligned to its size) */
	uint64_t size;  /* 4 KiB, 2 MiB or 1 GiB */
	uint8_t levels; /* entries on the way, the leaf's last */
	uint64_t entry_gpa[KMAP_LEVELS];
	uint64_t entry[KMAP_LEVELS];
};

/* Reads the 8-byte entry at gpa: false if it is not guest RAM. */
typedef bool (*kmap_read_fn)(void *ctx, uint64_t gpa, uint64_t *entry);

/* The leaf that maps va through the top-level table at table_pa; false if not present. */
bool kmap_walk(kmap_read_fn read, void *ctx, uint64_t table_pa, uint64_t va,
	       struct kmap_leaf *leaf);

/* The physical address va maps to through leaf, and whether the way there allows writes
 * (R/W set at every level) and execution (XD clear at every level). */
uint64_t kmap_pa(const struct kmap_leaf *leaf, uint64_t va);
bool kmap_writable(const struct kmap_leaf *leaf);
bool kmap_executable(const struct kmap_leaf *leaf);

/* Is `now` the same mapping as `then` (same entries at the same places, accessed and dirty
 * bits aside)? */
bool kmap_same(const struct kmap_leaf *then, const struct kmap_leaf *now);

#endif
