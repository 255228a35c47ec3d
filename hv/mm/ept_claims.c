/* SPDX-License-Identifier: MIT */
/* EPT permissions combined from their owners' claims (mm/ept_claims.h). */
#include "mm/ept_claims.h"

#include "x86/ept.h"
#include "x86/paging.h"

static bool covers(const struct ept_claim *c, uint64_t gpa)
{
	return c->used && gpa >= c->gpa && gpa - c->gpa < c->size;
}

void ept_claims_effective(const struct ept_claims *t, uint64_t gpa, uint64_t *hpa, uint64_t *perms,
			  uint8_t *memtype)
{
	uint64_t p = EPT_RWX;
	const struct ept_claim *by = 0; /* the redirect that wins */
	for (unsigned int i = 0; i < EPT_CLAIMS_MAX; i++) {
		const struct ept_claim *c = &t->claim[i];
		if (!covers(c, gpa))
			continue;
		uint64_t k = (gpa - c->gpa) / PAGE_SIZE_4K;
		p &= c->perms |
		     (c->write_ok != 0 && (c->write_ok[k / 64] >> (k % 64)) & 1 ? EPT_WRITE : 0);
		if (c->redirect != EPT_REDIRECT_NONE && (by == 0 || c->owner < by->owner))
			by = c;
	}
	if ((p & EPT_WRITE) && !(p & EPT_READ))
		p &= ~EPT_WRITE;
	if (p == EPT_EXEC && !t->execute_only_ok)
		p = 0;
	*perms = p;
	if (by == 0) {
		*hpa = gpa;
		*memtype = t->identity_type(t->ctx, gpa);
	} else {
		*hpa = by->redirect == EPT_REDIRECT_ONE_PAGE ? by->hpa : by->hpa + (gpa - by->gpa);
		*memtype = by->memtype;
	}
}

bool ept_claims_overlap(const struct ept_claims *t, uint64_t gpa, uint64_t size)
{
	for (unsigned int i = 0; i < EPT_CLAIMS_MAX; i++) {
		const struct ept_claim *c = &t->claim[i];
		if (c->used && c->gpa < gpa + size && gpa < c->gpa + c->size)
			return true;
	}
	return false;
}

static int rewrite(struct ept_claims *t, uint64_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE_4K) {
		uint64_t hpa, perms;
		uint8_t type;
		ept_claims_effective(t, gpa + off, &hpa, &perms, &type);
		int rc = ept_map(t->ept, gpa + off, hpa, PAGE_SIZE_4K, perms, type);
		if (rc != EPT_OK)
			return rc;
	}
	return EPT_OK;
}

static bool range_ok(uint64_t gpa, uint64_t size)
{
	return size != 0 && ((gpa | size) & (PAGE_SIZE_4K - 1)) == 0 &&
	       size / PAGE_SIZE_4K <= EPT_CLAIM_MAX_PAGES && gpa + size > gpa &&
	       gpa + size <= (1ull << 48);
}

static struct ept_claim *find(struct ept_claims *t, enum ept_owner owner, uint64_t gpa,
			      uint64_t size)
{
	for (unsigned int i = 0; i < EPT_CLAIMS_MAX; i++) {
		struct ept_claim *c = &t->claim[i];
		if (c->used && c->owner == owner && c->gpa == gpa && c->size == size)
			return c;
	}
	return 0;
}

int ept_claim(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size,
	      uint64_t perms, enum ept_redirect redirect, uint64_t hpa, uint8_t memtype)
{
	if ((unsigned int)owner >= EPT_OWNERS || !range_ok(gpa, size) || (perms & ~EPT_RWX) ||
	    (unsigned int)redirect > EPT_REDIRECT_ONE_PAGE ||
	    (redirect != EPT_REDIRECT_NONE && (hpa & (PAGE_SIZE_4K - 1))))
		return EPT_BAD_ARGUMENT;
	struct ept_claim *c = find(t, owner, gpa, size);
	for (unsigned int i = 0; c == 0 && i < EPT_CLAIMS_MAX; i++)
		if (!t->claim[i].used)
			c = &t->claim[i];
	if (c == 0)
		return EPT_BAD_ARGUMENT; /* full */
	*c = (struct ept_claim){
		.used = true,
		.owner = (uint8_t)owner,
		.perms = (uint8_t)perms,
		.redirect = (uint8_t)redirect,
		.memtype = memtype,
		.gpa = gpa,
		.size = size,
		.hpa = hpa,
	};
	return rewrite(t, gpa, size);
}

int ept_release(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size)
{
	struct ept_claim *c = find(t, owner, gpa, size);
	if (c == 0)
		return EPT_BAD_ARGUMENT;
	c->used = false;
	return rewrite(t, gpa, size);
}

int ept_claim_track_writes(struct ept_claims *t, enum ept_owner owner, uint64_t gpa, uint64_t size,
			   const uint64_t *write_ok)
{
	struct ept_claim *c = find(t, owner, gpa, size);
	if (c == 0)
		return EPT_BAD_ARGUMENT;
	c->write_ok = write_ok;
	return rewrite(t, gpa, size);
}

int ept_claim_page_write(struct ept_claims *t, enum ept_owner owner, uint64_t claim_gpa,
			 uint64_t page)
{
	for (unsigned int i = 0; i < EPT_CLAIMS_MAX; i++) {
		const struct ept_claim *c = &t->claim[i];
		if (c->used && c->owner == owner && c->gpa == claim_gpa && c->write_ok != 0 &&
		    covers(c, page))
			return rewrite(t, page & ~(PAGE_SIZE_4K - 1), PAGE_SIZE_4K);
	}
	return EPT_BAD_ARGUMENT;
}
