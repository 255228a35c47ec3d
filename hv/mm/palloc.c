/* SPDX-License-Identifier: MIT */
#include "mm/palloc.h"

#include "lib/spinlock.h"
#include "lib/string.h"
#include "x86/paging.h"

/* Shared by every CPU: an AP being virtualized allocates while the boot CPU handles exits. */
static struct spinlock heap_lock;
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
	if (n == 0 || bytes / PAGE_SIZE_4K != n)
		return NULL;
	spin_lock(&heap_lock);
	void *p = NULL;
	if (heap_end - heap_next >= bytes) {
		p = (void *)(uintptr_t)heap_next;
		heap_next += bytes;
	}
	spin_unlock(&heap_lock);
	if (p != NULL)
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
