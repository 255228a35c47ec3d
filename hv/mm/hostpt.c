/* SPDX-License-Identifier: MIT */
#include "mm/hostpt.h"

#include "mm/palloc.h"
#include "x86/paging.h"

#define ENTRIES 512u

uint64_t hostpt_build(uint64_t limit, bool use_1g)
{
	uint64_t *pml4 = palloc_page();
	if (pml4 == NULL)
		return 0;
	uint64_t gigs = (limit + PAGE_SIZE_1G - 1) / PAGE_SIZE_1G;
	if (gigs > (uint64_t)ENTRIES * ENTRIES)
		gigs = (uint64_t)ENTRIES * ENTRIES; /* 256 TiB: all a 4-level table can hold */

	/* SDM Vol. 3A 4.5.4, Tables 4-15 (PML4E), 4-16 (1 GiB PDPTE), 4-18 (2 MiB PDE).
	 * Executable and writable: the monitor is small and trusts itself. */
	for (uint64_t g = 0; g < gigs; g++) {
		uint64_t *pml4e = &pml4[g / ENTRIES];
		if (!(*pml4e & PTE_P)) {
			uint64_t *pdpt = palloc_page();
			if (pdpt == NULL)
				return 0;
			*pml4e = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_RW;
		}
		uint64_t *pdpt = (uint64_t *)(uintptr_t)(*pml4e & PTE_ADDR_MASK);
		uint64_t base = g * PAGE_SIZE_1G;
		if (use_1g) {
			pdpt[g % ENTRIES] = base | PTE_P | PTE_RW | PTE_PS;
			continue;
		}
		uint64_t *pd = palloc_page();
		if (pd == NULL)
			return 0;
		for (unsigned int i = 0; i < ENTRIES; i++)
			pd[i] = (base + i * PAGE_SIZE_2M) | PTE_P | PTE_RW | PTE_PS;
		pdpt[g % ENTRIES] = (uint64_t)(uintptr_t)pd | PTE_P | PTE_RW;
	}
	return (uint64_t)(uintptr_t)pml4;
}
