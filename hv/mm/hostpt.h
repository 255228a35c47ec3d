/* SPDX-License-Identifier: MIT */
/* The monitor's own page tables: an identity map, because the firmware's tables are
 * boot-services memory that Linux reuses (DESIGN §8). */
#ifndef HV_MM_HOSTPT_H
#define HV_MM_HOSTPT_H

#include <stdbool.h>
#include <stdint.h>

/* Identity-map [0, limit) (limit rounded up to 1 GiB) with 1 GiB pages when use_1g, else
 * 2 MiB pages. Returns the physical address of the PML4 for HOST_CR3, or 0 when out of
 * memory. */
uint64_t hostpt_build(uint64_t limit, bool use_1g);

#endif
