/* SPDX-License-Identifier: MIT */
/* The kernel image's mapping, walked level by level (protect/kmap.h). */
#include "protect/kmap.h"

#include "x86/paging.h"

/* Bits 47:39, 38:30, 29:21, 20:12 index the four levels (SDM 4.5). */
static unsigned index_of(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (39 - 9 * level)) & 0x1FFu;
}

bool kmap_walk(kmap_read_fn read, void *ctx, uint64_t table_pa, uint64_t va, struct kmap_leaf *leaf)
{
	uint64_t table = table_pa & PTE_ADDR_MASK;
	for (unsigned level = 0; level < KMAP_LEVELS; level++) {
		uint64_t gpa = table + 8u * index_of(va, level), e;
		if (!read(ctx, gpa, &e) || !(e & PTE_P))
			return false;
		leaf->entry_gpa[level] = gpa;
		leaf->entry[level] = e;
		/* PS in a PDPTE (level 1) maps 1 GiB, in a PDE (level 2) 2 MiB (Tables 4-16,
		 * 4-18); level 3 is a PTE (4 KiB) */
		uint64_t size = level == 1   ? PAGE_SIZE_1G
				: level == 2 ? PAGE_SIZE_2M
					     : PAGE_SIZE_4K;
		if (level == 3 || (level >= 1 && (e & PTE_PS))) {
			leaf->levels = (uint8_t)(level + 1);
			leaf->size = size;
			leaf->va = va & ~(size - 1);
			return true;
		}
		table = e & PTE_ADDR_MASK;
	}
	return false;
}

uint64_t kmap_pa(const struct kmap_leaf *leaf, uint64_t va)
{
	uint64_t e = leaf->entry[leaf->levels - 1];
	return (e & PTE_ADDR_MASK & ~(leaf->size - 1)) + (va & (leaf->size - 1));
}

bool kmap_writable(const struct kmap_leaf *leaf)
{
	for (unsigned i = 0; i < leaf->levels; i++)
		if (!(leaf->entry[i] & PTE_RW))
			return false;
	return true;
}

bool kmap_executable(const struct kmap_leaf *leaf)
{
	for (unsigned i = 0; i < leaf->levels; i++)
		if (leaf->entry[i] & PTE_NX)
			return false;
	return true;
}

bool kmap_same(const struct kmap_leaf *then, const struct kmap_leaf *now)
{
	if (then->levels != now->levels || then->va != now->va)
		return false;
	for (unsigned i = 0; i < then->levels; i++)
		if (then->entry_gpa[i] != now->entry_gpa[i] ||
		    ((then->entry[i] ^ now->entry[i]) & ~(PTE_A | PTE_D)) != 0)
			return false;
	return true;
}
