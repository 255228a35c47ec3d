/* SPDX-License-Identifier: MIT */
#include "mm/palloc.h"

#include "lib/string.h"
#include "x86/paging.h"

static uint64_t heap_base, heap_end, heap_next;

void palloc_init(uint64_t base, uint64_t size)
{
	heap_base = (base + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
	heap_end = (base + size) & ~(PAGE_SIZE_4K - 1);
	heap_next = heap_base;
}

void *palloc_pages(size_t n)
{
	uint64_t bytes = (uint64_t)n * PAGE_SIZE_4K;
	if (n == 0 || bytes / PAGE_SIZE_4K != n || heap_end - heap_next < bytes)
		return NULL;
	void *p = (void *)(uintptr_t)heap_next;
	heap_next += bytes;
	memset(p, 0, bytes);
	return p;
}

uint64_t palloc_used_bytes(void)
{
	return heap_next - heap_base;
}

uint64_t palloc_total_bytes(void)
{
	return heap_end - heap_base;
}
