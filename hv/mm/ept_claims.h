/* SPDX-License-Identifier: MIT */
/*
 * Who wants what of a guest page in EPT. Permissions of a guest-physical page are not set
 * by whoever changed it last: each owner (monitor hiding, the syscall-entry trap, kernel
 * protection, ...) states a claim on a range — at most these permissions, and possibly
 * another host page in place of the guest's — and the page's EPT entry is the identity
 * map (RWX, the guest's memory type) narrowed by every claim on it. Changing or dropping
 * one owner's claim never loosens another's: the trap's disarm gives a protected page back
 * read-only, not RWX.
 *
 * Where claims redirect the same page, the owner earlier in enum ept_owner wins (the
 * monitor's own pages are hidden whatever else is claimed there).
 *
 * Freestanding (host unit tests use it with a heap allocator). It changes the tables only;
 * the caller invalidates (vmx/ept_setup.c: ept_claim_change, on every CPU).
 */
#ifndef HV_MM_EPT_CLAIMS_H
#define HV_MM_EPT_CLAIMS_H

#include <stdbool.h>
#include <stdint.h>

#include "mm/ept.h"

enum ept_owner {
	EPT_OWNER_HIDING,  /* the monitor's pages: one sink page for all */
	EPT_OWNER_TRAP,    /* the syscall entry's page: the shadow, or the original unexecutable */
	EPT_OWNER_PROTECT, /* kernel protection: read-only rodata and IDT */
	EPT_OWNERS
};

#define EPT_CLAIMS_MAX      32u
#define EPT_CLAIM_MAX_PAGES (1u << 16) /* a claim covers at most 256 MiB (bounded work) */

enum ept_redirect {
	EPT_REDIRECT_NONE,     /* the guest's own page (identity) */
	EPT_REDIRECT_LINEAR,   /* page gpa + k shows host page hpa + k */
	EPT_REDIRECT_ONE_PAGE, /* every page of the range shows the one host page hpa */
};

struct ept_claim {
	bool used;
	uint8_t owner;
	uint8_t perms; /* at most these (EPT_READ | EPT_WRITE | EPT_EXEC) */
	uint8_t redirect;
	uint8_t memtype; /* of a redirected page */
	uint64_t gpa, size, hpa;
	/* Write tracking (ept_claim_track_writes): a bit per 4 KiB page of the claim; a page
	 * whose bit is set gets EPT_WRITE from this claim after all. NULL: none. The bitmap
	 * is the owner's; the claim only reads it. */
	const uint64_t *write_ok;
};

struct ept_claims {
	struct ept *ept;
	/* The memory type of the guest's own page pa (the guest's MTRRs). */
	uint8_t (*identity_type)(void *ctx, uint64_t pa);
	void *ctx;
	bool execute_only_ok; /* IA32_VMX_EPT_VPID_CAP bit 0 */
	struct ept_claim claim[EPT_CLAIMS_MAX];
};

/* Sets owner's claim on [gpa, gpa + size) (4 KiB multiples), replacing the one it had on
 * exactly that range, and rewrites the range's entries. EPT_BAD_ARGUMENT for a bad range
 * or owner, or when the table is full; EPT_NO_MEMORY if a split found no page: the claim is
 * then recorded but only some entries rewritten (the caller invalidates either way, and
 * the next change of the range rewrites them all). */
int ept_claim(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size,
	      uint64_t perms, enum ept_redirect redirect, uint64_t hpa, uint8_t memtype);
/* Drops owner's claim on exactly [gpa, gpa + size); the range gets what the other claims
 * leave. EPT_BAD_ARGUMENT if there was none. */
int ept_release(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size);
/* Write tracking on owner's claim of exactly [gpa, gpa + size): pages whose bit is set in
 * write_ok (a bit per page, owned by the caller, all clear to start with) are writable
 * despite the claim. The owner makes a page writable at its first write fault and clears
 * the bit when it has looked at the page (ept_claim_page_write). EPT_BAD_ARGUMENT if there
 * is no such claim. */
int ept_claim_track_writes(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size,
			   const uint64_t *write_ok);
/* Rewrites the entry of `page` inside owner's tracked claim at claim_gpa after the owner
 * changed its bit (the caller invalidates: locally when a page became writable, on every
 * CPU when it became read-only). EPT_BAD_ARGUMENT if page is not in such a claim. */
int ept_claim_page_write(struct ept_claims *t, enum ept_owner owner, uint64_t claim_gpa,
			 uint64_t page);
/* Does any claim cover part of [gpa, gpa + size)? (On-demand mapping must not map over a
 * claim whose pages are not present.) */
bool ept_claims_overlap(const struct ept_claims *t, uint64_t gpa, uint64_t size);
/* What the page at gpa gets from the identity map and the claims on it. A combination the
 * processor would call a misconfiguration (SDM Vol. 3C 28.2.3.1: write without read;
 * execute-only without the capability) is narrowed further, never widened: write dropped,
 * execute-only made not present. */
void ept_claims_effective(const struct ept_claims *t, uint64_t gpa, uint64_t *hpa, uint64_t *perms,
			  uint8_t *memtype);

#endif
