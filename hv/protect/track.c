/* SPDX-License-Identifier: MIT */
/*
 * Writes to kernel text, tracked (DESIGN §7, "Before every operation"): from the lock on,
 * the text's pages are read-only in EPT. The first write to a page exits as an EPT
 * violation (SDM Vol. 3C 28.3.3.2); the page is marked written and made writable, and the
 * write is retried: legal run-time patching (jump labels, static calls, ftrace when
 * allowed) goes on at one exit per page. The check before an operation, with every CPU
 * held, takes the written pages: read-only again (every CPU's cached translations
 * invalidated before anything is compared), then compared with the snapshot, accepted or
 * repaired. So it compares the few pages written since the last check instead of 14 MB;
 * a write after that faults again. What EPT does not see — a device writing by DMA — the
 * periodic check of the whole text still finds.
 */
#include "protect/protect_internal.h"

#include "core/cpus.h"
#include "lib/string.h"
#include "mm/ept_claims.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/paging.h"

bool protect_track_claim(char *why, size_t cap)
{
	uint64_t size = (kp.st.text_size + PAGE_SIZE_4K - 1) & ~(PAGE_SIZE_4K - 1);
	if (size / PAGE_SIZE_4K > TRACKED_PAGES_MAX) {
		kp.tracking = false; /* too large to track: every check compares it all */
		return true;
	}
	memset(kp.written, 0, sizeof(kp.written));
	if (ept_claim_change(EPT_OWNER_PROTECT, kp.st.text_pa, size, (int64_t)(EPT_READ | EPT_EXEC),
			     EPT_REDIRECT_NONE, 0, MEMTYPE_WB, why, cap) < 0)
		return false;
	if (ept_claim_tracking(EPT_OWNER_PROTECT, kp.st.text_pa, size, kp.written, why, cap) < 0)
		return false;
	kp.tracked_size = size;
	kp.tracking = true;
	return true;
}

bool protect_track_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	(void)v;
	if (!kp.tracking || gpa - kp.st.text_pa >= kp.tracked_size ||
	    !(qualification & EPT_VIOL_WRITE))
		return false;
	uint64_t k = (gpa - kp.st.text_pa) / PAGE_SIZE_4K;
	if ((kp.written[k / 64] >> (k % 64)) & 1)
		return false; /* open already: another owner's claim forbids the write (the
			       * syscall-entry trap's view), not ours */
	kp.written[k / 64] |= 1ull << (k % 64);
	kp.st.text_pages_opened++;
	if (ept_claim_page_rewrite(EPT_OWNER_PROTECT, kp.st.text_pa, gpa, true) < 0)
		return false; /* not ours after all: the exit's default handling */
	return true;
}

size_t protect_track_take(struct text_run *runs, size_t cap, bool *all)
{
	size_t n = 0;
	char why[160];
	*all = false;
	if (!kp.tracking) {
		*all = true;
		return 0;
	}
	uint64_t pages = kp.tracked_size / PAGE_SIZE_4K;
	for (uint64_t k = 0; k < pages; k++) {
		if (!((kp.written[k / 64] >> (k % 64)) & 1))
			continue;
		kp.written[k / 64] &= ~(1ull << (k % 64));
		if (ept_claim_page_rewrite(EPT_OWNER_PROTECT, kp.st.text_pa,
					   kp.st.text_pa + k * PAGE_SIZE_4K, false) < 0) {
			/* could not close it: still open, so still marked; look at everything */
			kp.written[k / 64] |= 1ull << (k % 64);
			*all = true;
		}
		if (n > 0 && runs[n - 1].to == k * PAGE_SIZE_4K) {
			runs[n - 1].to += PAGE_SIZE_4K;
		} else if (n < cap) {
			runs[n++] = (struct text_run){k * PAGE_SIZE_4K, (k + 1) * PAGE_SIZE_4K};
		} else {
			*all = true; /* more runs than room: look at everything */
		}
	}
	if (!cpus_invept_all(this_vcpu(), why, sizeof(why)))
		*all = true; /* a CPU may still write through an old translation */
	return n;
}

bool protect_text_writes_seen(void)
{
	if (kp.st.state != PROTECT_LOCKED || !kp.tracking)
		return false;
	for (size_t i = 0; i < (kp.tracked_size / PAGE_SIZE_4K + 63) / 64; i++)
		if (kp.written[i])
			return false;
	return true;
}

void protect_track_keep(uint64_t off)
{
	uint64_t k = off / PAGE_SIZE_4K;
	if (!kp.tracking || off >= kp.tracked_size || ((kp.written[k / 64] >> (k % 64)) & 1))
		return;
	kp.written[k / 64] |= 1ull << (k % 64);
	/* marked means open: a write must not fault on a marked page (track_ept_violation
	 * leaves those to the other owners) */
	if (ept_claim_page_rewrite(EPT_OWNER_PROTECT, kp.st.text_pa, kp.st.text_pa + off, true) < 0)
		kp.written[k / 64] &= ~(1ull << (k % 64));
}

bool protect_range_protected(uint64_t gpa, uint64_t n)
{
	return kp.st.state == PROTECT_LOCKED && protect_range_held(gpa, n);
}

bool protect_range_held(uint64_t gpa, uint64_t n)
{
	const struct {
		uint64_t pa, size;
	} r[] = {{kp.st.text_pa, kp.tracked_size ? kp.tracked_size : kp.st.text_size},
		 {kp.guarded[GUARDED_RODATA].pa, kp.guarded[GUARDED_RODATA].size},
		 {kp.guarded[GUARDED_IDT].pa, kp.guarded[GUARDED_IDT].size}};
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (r[i].size != 0 && gpa < r[i].pa + r[i].size && r[i].pa < gpa + n)
			return true;
	return false;
}
