/* See heap_ept.h. */
#include "heap_ept.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *pages[HEAP_EPT_PAGES];
static unsigned int used;

static void *alloc_page(void *ctx)
{
	(void)ctx;
	if (used >= HEAP_EPT_PAGES)
		return NULL;
	void *p = aligned_alloc(4096, 4096);
	if (p == NULL)
		return NULL;
	memset(p, 0, 4096);
	pages[used++] = p;
	return p;
}

static uint64_t v2p(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va;
}

static void *p2v(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

const struct ept_alloc heap_ept_alloc = {alloc_page, v2p, p2v, NULL};

void heap_ept_free_all(void)
{
	while (used > 0)
		free(pages[--used]);
}
