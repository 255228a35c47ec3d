/* SPDX-License-Identifier: MIT */
/* The core's page allocator: hands out zeroed 4 KiB pages from the heap part of the
 * reserved region the loader gave us. Identity mapped, so a page's address is its
 * physical address. Nothing is freed: everything the monitor needs lives as long as it. */
#ifndef HV_MM_PALLOC_H
#define HV_MM_PALLOC_H

#include <stddef.h>
#include <stdint.h>

void palloc_init(uint64_t base, uint64_t size);
/* n contiguous zeroed pages, aligned to 4 KiB; NULL when the heap is exhausted. */
void *palloc_pages(size_t n);
static inline void *palloc_page(void)
{
	return palloc_pages(1);
}
uint64_t palloc_used_bytes(void);
uint64_t palloc_total_bytes(void);

#endif
