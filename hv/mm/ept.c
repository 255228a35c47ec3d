/* SPDX-License-Identifier: MIT */
#include "mm/ept.h"

#include <stddef.h>

#include "x86/ept.h"

#define EPT_ENTRIES   512u
#define EPT_LEVELS    4u /* PML4 (3), PDPT (2), PD (1), PT (0) */
#define EPT_GPA_LIMIT (1ull << 48)
/* A non-leaf entry grants everything; the leaf decides (SDM 28.2.2: access rights are the
 * AND over all levels). */
#define EPT_TABLE_PERMS EPT_RWX
#define EPT_LEAF_ATTRS  (EPT_RWX | EPT_MT_MASK | EPT_IGNORE_PAT)

static inline uint64_t level_span(unsigned int level)
{
	return 1ull << (12 + 9 * level);
}

static inline bool present(uint64_t entry)
{
	return (entry & EPT_RWX) != 0; /* 28.2.2: an entry is present if any of bits 2:0 is 1 */
}

static uint64_t *alloc_table(struct ept *e, uint64_t *pa)
{
	if (e->table_pages_max != 0 && e->table_pages >= e->table_pages_max)
		return NULL;
	uint64_t *t = e->alloc->alloc_page(e->alloc->ctx);
	if (t == NULL)
		return NULL;
	*pa = e->alloc->virt_to_phys(e->alloc->ctx, t);
	e->table_pages++;
	return t;
}

static uint64_t *table_of(const struct ept *e, uint64_t entry)
{
	return e->alloc->phys_to_virt(e->alloc->ctx, entry & EPT_ADDR_MASK);
}

int ept_init(struct ept *e, const struct ept_alloc *alloc, bool allow_1g)
{
	e->alloc = alloc;
	e->allow_1g = allow_1g;
	e->table_pages = 0;
	e->table_pages_max = 0;
	e->pml4 = alloc_table(e, &e->pml4_pa);
	return e->pml4 ? EPT_OK : EPT_NO_MEMORY;
}

/* Replace the large leaf *slot (at `level`) with a table of the next level mapping the same
 * memory with the same attributes, so part of it can change. */
static int split_large(struct ept *e, uint64_t *slot, unsigned int level)
{
	uint64_t pa;
	uint64_t *t = alloc_table(e, &pa);
	if (t == NULL)
		return EPT_NO_MEMORY;
	uint64_t base = *slot & EPT_ADDR_MASK & ~(level_span(level) - 1);
	uint64_t attrs = *slot & EPT_LEAF_ATTRS;
	uint64_t child_span = level_span(level - 1);
	for (unsigned int i = 0; i < EPT_ENTRIES; i++) {
		t[i] = (base + i * child_span) | attrs;
		if (level - 1 > 0)
			t[i] |= EPT_LARGE_PAGE;
	}
	*slot = pa | EPT_TABLE_PERMS;
	return EPT_OK;
}

static int map_level(struct ept *e, uint64_t *table, unsigned int level, uint64_t gpa, uint64_t hpa,
		     uint64_t size, uint64_t leaf_bits)
{
	uint64_t span = level_span(level);
	/* At most 512 entries per call: the range never crosses this table's coverage. */
	for (unsigned int n = 0; size != 0 && n < EPT_ENTRIES; n++) {
		unsigned int idx = (unsigned int)((gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1));
		uint64_t entry_end = (gpa & ~(span - 1)) + span;
		uint64_t chunk = (gpa + size < entry_end) ? size : entry_end - gpa;
		bool leaf_allowed = level == 0 || level == 1 || (level == 2 && e->allow_1g);
		uint64_t *slot = &table[idx];

		if (leaf_allowed && chunk == span && (hpa & (span - 1)) == 0) {
			/* Note: a table previously under this slot is abandoned, not freed
			 * (the core's allocator never frees). */
			*slot = hpa | leaf_bits | (level > 0 ? EPT_LARGE_PAGE : 0);
		} else {
			if (level == 0)
				return EPT_BAD_ARGUMENT; /* unreachable with 4 KiB-aligned input */
			if (!present(*slot)) {
				uint64_t pa;
				if (alloc_table(e, &pa) == NULL)
					return EPT_NO_MEMORY;
				*slot = pa | EPT_TABLE_PERMS;
			} else if (*slot & EPT_LARGE_PAGE) {
				int rc = split_large(e, slot, level);
				if (rc != EPT_OK)
					return rc;
			}
			int rc = map_level(e, table_of(e, *slot), level - 1, gpa, hpa, chunk,
					   leaf_bits);
			if (rc != EPT_OK)
				return rc;
		}
		gpa += chunk;
		hpa += chunk;
		size -= chunk;
	}
	return EPT_OK;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
	    uint8_t memtype)
{
	if ((gpa | hpa | size) & 0xfffull || size == 0 || gpa >= EPT_GPA_LIMIT ||
	    size > EPT_GPA_LIMIT - gpa || (perms & ~EPT_RWX) || memtype > 7)
		return EPT_BAD_ARGUMENT;
	uint64_t leaf_bits = perms ? (perms | ((uint64_t)memtype << EPT_MT_SHIFT)) : 0;
	return map_level(e, e->pml4, EPT_LEVELS - 1, gpa, hpa, size, leaf_bits);
}

static uint64_t retype_level(struct ept *e, uint64_t *table, unsigned int level, uint64_t lo,
			     uint64_t hi, uint8_t (*type_of)(void *, uint64_t, uint64_t), void *ctx,
			     uint64_t table_base)
{
	uint64_t span = level_span(level);
	uint64_t changed = 0;
	for (unsigned int i = 0; i < EPT_ENTRIES; i++) {
		uint64_t base = table_base + (uint64_t)i * span;
		if (base >= hi || base + span <= lo || !present(table[i]))
			continue;
		if (level == 0 || (table[i] & EPT_LARGE_PAGE)) {
			if ((table[i] & EPT_ADDR_MASK & ~(span - 1)) != base)
				continue; /* not identity: the sink, a shadow */
			uint64_t mt = (uint64_t)(type_of(ctx, base, span) & 7u) << EPT_MT_SHIFT;
			if ((table[i] & EPT_MT_MASK) != mt) {
				table[i] = (table[i] & ~EPT_MT_MASK) | mt;
				changed++;
			}
			continue;
		}
		changed += retype_level(e, table_of(e, table[i]), level - 1, lo, hi, type_of, ctx,
					base);
	}
	return changed;
}

uint64_t ept_retype_identity(struct ept *e, uint64_t gpa, uint64_t size,
			     uint8_t (*type_of)(void *ctx, uint64_t pa, uint64_t span), void *ctx)
{
	if (size == 0 || gpa >= EPT_GPA_LIMIT)
		return 0;
	uint64_t hi = size > EPT_GPA_LIMIT - gpa ? EPT_GPA_LIMIT : gpa + size;
	return retype_level(e, e->pml4, EPT_LEVELS - 1, gpa, hi, type_of, ctx, 0);
}

bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *leaf,
		   uint64_t *page_size)
{
	if (gpa >= EPT_GPA_LIMIT)
		return false;
	const uint64_t *table = e->pml4;
	for (int level = EPT_LEVELS - 1; level >= 0; level--) {
		uint64_t entry = table[(gpa >> (12 + 9 * level)) & (EPT_ENTRIES - 1)];
		if (!present(entry))
			return false;
		if (level == 0 || (entry & EPT_LARGE_PAGE)) {
			uint64_t span = level_span((unsigned int)level);
			*hpa = (entry & EPT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
			*leaf = entry;
			*page_size = span;
			return true;
		}
		table = table_of(e, entry);
	}
	return false;
}

uint64_t ept_pointer(const struct ept *e)
{
	return e->pml4_pa | EPTP_WALK_4 | EPTP_MT_WB;
}
