/* SPDX-License-Identifier: MIT */
/*
 * Building and changing EPT paging structures (SDM 28.2 "The Extended Page Table
 * Mechanism"), 4-level only. Memory for the tables comes from an allocator passed in, so
 * the same code runs in the core (identity-mapped heap) and in host unit tests.
 */
#ifndef HV_MM_EPT_H
#define HV_MM_EPT_H

#include <stdbool.h>
#include <stdint.h>

struct ept_alloc {
	void *(*alloc_page)(void *ctx); /* a zeroed, 4 KiB-aligned page, or NULL */
	uint64_t (*virt_to_phys)(void *ctx, const void *va);
	void *(*phys_to_virt)(void *ctx, uint64_t pa);
	void *ctx;
};

struct ept {
	uint64_t *pml4;
	uint64_t pml4_pa;
	const struct ept_alloc *alloc;
	bool allow_1g;            /* IA32_VMX_EPT_VPID_CAP bit 17 */
	uint32_t table_pages;     /* paging-structure pages allocated so far */
	uint32_t table_pages_max; /* 0: no bound; else ept_map fails (EPT_NO_MEMORY) past it */
};

enum ept_result {
	EPT_OK = 0,
	EPT_NO_MEMORY = -1,
	EPT_BAD_ARGUMENT = -2,
};

int ept_init(struct ept *e, const struct ept_alloc *alloc, bool allow_1g);

/*
 * Map [gpa, gpa + size) to [hpa, hpa + size) with permissions `perms` (EPT_READ |
 * EPT_WRITE | EPT_EXEC; 0 makes the range not present) and memory type `memtype`, using the
 * largest pages alignment allows, splitting larger pages already there. All three
 * arguments must be multiples of 4 KiB and the range must lie below 2^48.
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
	    uint8_t memtype);

/*
 * Sets the memory type of every present identity leaf (host address == guest address) that
 * [gpa, gpa + size) touches, to type_of(ctx, leaf start, leaf size); other leaves (the
 * monitor's sink, a shadow page) and absent entries stay as they are. Splits nothing and
 * allocates nothing: a large leaf whose range has no single type is given the type_of's
 * answer for all of it (the caller makes that UC). Returns the leaves changed.
 */
uint64_t ept_retype_identity(struct ept *e, uint64_t gpa, uint64_t size,
			     uint8_t (*type_of)(void *ctx, uint64_t pa, uint64_t span), void *ctx);

/* Walk to the leaf for gpa. Returns false if not present; else the host-physical address,
 * the leaf entry and the page size it maps. */
bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa, uint64_t *leaf,
		   uint64_t *page_size);

/* The EPTP value for the VMCS (SDM 24.6.11): WB paging structures, 4-level walk. */
uint64_t ept_pointer(const struct ept *e);

#endif
