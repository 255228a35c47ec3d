/* SPDX-License-Identifier: MIT */
/*
 * Writes to the image's page tables, tracked as writes to text are (track.c): the pages
 * that hold an entry on the way to a recorded leaf (kmap.h) are read-only in EPT from the
 * lock on; the first write to one exits, marks it and opens it; the check before an
 * operation closes them again. Linux does not write them after the lock (the image's
 * mapping is final once mark_rodata_ro has run), so any write is counted: a page of the
 * image remapped and mapped back while an operation ran leaves the mapping as recorded
 * for both checks, and only the write shows (verbs_ops.c refuses the operation's result).
 * The processor's own page walk setting an accessed or dirty bit is a write too (SDM
 * Vol. 3C 28.3.3.2): those are set by the lock already, so at most once.
 */
#include "protect/protect_internal.h"

#include "lib/string.h"
#include "mm/ept_claims.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/paging.h"

bool protect_track_map_claim(char *why, size_t cap)
{
	kp.map_pages = 0;
	kp.map_tracking = false;
	for (size_t i = 0; i < kp.leaf_count; i++) {
		for (uint8_t l = 0; l < kp.leaves[i].levels; l++) {
			uint64_t page = kp.leaves[i].entry_gpa[l] & ~(PAGE_SIZE_4K - 1);
			/* a table page in text, rodata or the IDT page: read-only already */
			bool known = protect_range_held(page, PAGE_SIZE_4K);
			for (size_t k = 0; !known && k < kp.map_pages; k++)
				known = kp.map_page[k] == page;
			if (known)
				continue;
			if (kp.map_pages == MAP_PAGES_MAX)
				return true; /* more than expected: not tracked, only compared */
			kp.map_page[kp.map_pages++] = page;
		}
	}
	memset(kp.map_written, 0, sizeof(kp.map_written));
	for (size_t k = 0; k < kp.map_pages; k++) {
		if (ept_claim_change(EPT_OWNER_PROTECT, kp.map_page[k], PAGE_SIZE_4K,
				     (int64_t)(EPT_READ | EPT_EXEC), EPT_REDIRECT_NONE, 0,
				     MEMTYPE_WB, why, cap) < 0 ||
		    ept_claim_tracking(EPT_OWNER_PROTECT, kp.map_page[k], PAGE_SIZE_4K,
				       &kp.map_written[k], why, cap) < 0)
			return false;
	}
	kp.map_tracking = true;
	return true;
}

bool protect_track_map_ept_violation(uint64_t gpa, uint64_t qualification)
{
	if (!kp.map_tracking || !(qualification & EPT_VIOL_WRITE))
		return false;
	uint64_t page = gpa & ~(PAGE_SIZE_4K - 1);
	for (size_t k = 0; k < kp.map_pages; k++) {
		if (kp.map_page[k] != page)
			continue;
		if (kp.map_written[k])
			return false; /* open already: another owner's claim forbids the write */
		kp.map_written[k] = 1;
		kp.st.map_pages_opened++;
		return ept_claim_page_rewrite(EPT_OWNER_PROTECT, page, page, true) == 0;
	}
	return false;
}

bool protect_track_map_close(void)
{
	bool closed = true;
	for (size_t k = 0; kp.map_tracking && k < kp.map_pages; k++) {
		if (!kp.map_written[k])
			continue;
		kp.map_written[k] = 0;
		if (ept_claim_page_rewrite(EPT_OWNER_PROTECT, kp.map_page[k], kp.map_page[k],
					   false) < 0) {
			kp.map_written[k] = 1; /* still open */
			closed = false;
		}
	}
	return closed;
}

bool protect_map_writes_seen(void)
{
	if (kp.st.state != PROTECT_LOCKED || !kp.map_tracking)
		return false;
	for (size_t k = 0; k < kp.map_pages; k++)
		if (kp.map_written[k])
			return false;
	return true;
}
