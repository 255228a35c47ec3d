/* SPDX-License-Identifier: MIT */
/*
 * The guest's physical memory view (DESIGN §3): guest-physical == host-physical, with the
 * memory types the firmware put in the MTRRs (ignored under EPT, SDM 28.2.6), except the
 * monitor's own pages, which show the guest one shared "sink" page instead.
 */
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/palloc.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

#define EFI_CONVENTIONAL_MEMORY 7u
#define IDENTITY_MIN_LIMIT      (4ull << 30)   /* always cover the 32-bit MMIO hole */
#define IDENTITY_MAX_LIMIT      (512ull << 30) /* more is mapped on first touch */

/* After start-up, EPT table pages come from a pool taken from the heap once (on-demand growth
 * and splits): touching addresses beyond the identity map, the guest can use up the pool,
 * never the monitor's heap, and each change that finds the pool empty fails cleanly. */
#define EPT_GROWTH_PAGES 512u
#define EPT_MONITOR_PAGES                                                                          \
	32u /* of those, never for on-demand growth: the monitor's own                             \
	     * changes (claims' splits) always find pages */
static uint8_t *growth_pool;
static uint32_t growth_used;
static bool growing_for_guest; /* ept_map_on_demand() is allocating */

static void *alloc_page_cb(void *ctx)
{
	(void)ctx;
	if (growth_pool == NULL)
		return palloc_page();
	if (growth_used == EPT_GROWTH_PAGES ||
	    (growing_for_guest && growth_used >= EPT_GROWTH_PAGES - EPT_MONITOR_PAGES))
		return NULL;
	uint8_t *page = growth_pool + (uint64_t)growth_used++ * PAGE_SIZE_4K;
	memset(page, 0, PAGE_SIZE_4K);
	return page;
}

bool ept_growth_exhausted(void)
{
	return growth_pool != NULL && growth_used >= EPT_GROWTH_PAGES - EPT_MONITOR_PAGES;
}

static uint64_t virt_to_phys_cb(void *ctx, const void *va)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)va; /* the core runs identity mapped */
}

static void *phys_to_virt_cb(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (void *)(uintptr_t)pa;
}

static const struct ept_alloc core_ept_alloc = {
	.alloc_page = alloc_page_cb,
	.virt_to_phys = virt_to_phys_cb,
	.phys_to_virt = phys_to_virt_cb,
};

/* Map the naturally aligned [pa, pa + size) 1:1 with its MTRR type, in smaller pieces
 * where the type is not uniform. Depth is bounded by the three page sizes. */
static int map_identity_chunk(uint64_t pa, uint64_t size)
{
	uint8_t type;
	if (size == PAGE_SIZE_4K || mtrr_range_type(&vm.guest_mtrr, pa, size, &type)) {
		if (size == PAGE_SIZE_4K)
			mtrr_range_type(&vm.guest_mtrr, pa, size, &type);
		return ept_map(&vm.ept, pa, pa, size, EPT_RWX, type);
	}
	uint64_t sub = size / 512;
	for (uint64_t off = 0; off < size; off += sub) {
		int rc = map_identity_chunk(pa + off, sub);
		if (rc != EPT_OK)
			return rc;
	}
	return EPT_OK;
}

static uint8_t identity_type(void *ctx, uint64_t pa)
{
	(void)ctx;
	uint8_t type;
	return mtrr_range_type(&vm.guest_mtrr, pa, PAGE_SIZE_4K, &type) ? type : MEMTYPE_UC;
}

int ept_setup(void)
{
	/* The guest starts with the firmware's MTRRs; its writes change only this copy. */
	vm.guest_mtrr = machine.mtrr;
	bool allow_1g = (machine.caps.ept_vpid & VMX_EPT_1GB_PAGE_BIT) != 0;
	if (ept_init(&vm.ept, &core_ept_alloc, allow_1g) != EPT_OK)
		return start_fail(HV_START_NO_MEMORY, "no memory for the EPT root");
	vm.ept_claims.ept = &vm.ept;
	vm.ept_claims.identity_type = identity_type;
	vm.ept_claims.execute_only_ok = (machine.caps.ept_vpid & VMX_EPT_EXECUTE_ONLY_BIT) != 0;

	uint64_t limit = IDENTITY_MIN_LIMIT;
	for (uint32_t i = 0; i < machine.mem_count; i++) {
		uint64_t end = machine.mem[i].base + machine.mem[i].pages * PAGE_SIZE_4K;
		if (end > limit)
			limit = end;
	}
	limit = (limit + PAGE_SIZE_1G - 1) & ~(PAGE_SIZE_1G - 1);
	if (limit > IDENTITY_MAX_LIMIT)
		limit = IDENTITY_MAX_LIMIT;
	for (uint64_t pa = 0; pa < limit; pa += PAGE_SIZE_1G) {
		if (map_identity_chunk(pa, PAGE_SIZE_1G) != EPT_OK)
			return start_fail(HV_START_NO_MEMORY,
					  "out of memory building the EPT identity map at 0x%llx",
					  (unsigned long long)pa);
	}
	vm.ept_mapped_limit = limit;

	/* Split the monitor's range down to 4 KiB entries now, so that hiding it later (at
	 * a VM exit) only rewrites entries and cannot run out of memory there. */
	for (uint64_t off = 0; off < machine.core_size; off += PAGE_SIZE_4K) {
		uint64_t pa = machine.core_base + off;
		uint8_t type;
		if (!mtrr_range_type(&vm.guest_mtrr, pa, PAGE_SIZE_4K, &type) ||
		    ept_map(&vm.ept, pa, pa, PAGE_SIZE_4K, EPT_RWX, type) != EPT_OK)
			return start_fail(HV_START_NO_MEMORY,
					  "out of memory preparing to hide the monitor");
	}

	void *sink = palloc_page();
	if (sink == NULL)
		return start_fail(HV_START_NO_MEMORY, "no memory for the sink page");
	vm.sink_page_pa = (uint64_t)(uintptr_t)sink;

	growth_pool = palloc_pages(EPT_GROWTH_PAGES);
	if (growth_pool == NULL)
		return start_fail(HV_START_NO_MEMORY, "no memory for the EPT growth pool");
	return HV_START_OK;
}

/*
 * Called after every exit until done: the guest starts inside the core (it returns from
 * hv_start() through the core's code), so the core's pages can only disappear from its
 * view once its RIP has left them. Remapping before that would make the guest execute
 * the sink page.
 */
void ept_hide_monitor(void)
{
	uint64_t rip = vmread(GUEST_RIP);
	if (rip >= machine.core_base && rip < machine.core_base + machine.core_size)
		return;
	char why[160];
	/* Before the loader starts the APs, so no other CPU runs yet; if one did and did not
	 * answer, the guest must not go on seeing the monitor. */
	if (ept_claim_change(EPT_OWNER_HIDING, machine.core_base, machine.core_size, EPT_RWX,
			     EPT_REDIRECT_ONE_PAGE, vm.sink_page_pa, MEMTYPE_WB, why,
			     sizeof(why)) < 0)
		log_halt(why);
	vm.hidden = true;
	log_printf("ctrvisor: monitor memory 0x%llx-0x%llx hidden from the guest\r\n",
		   (unsigned long long)machine.core_base,
		   (unsigned long long)(machine.core_base + machine.core_size));
}

bool ept_monitor_hidden(void)
{
	return vm.hidden;
}

void ept_invalidate_local(void)
{
	/* SDM 28.3.3.1 "Operations that Invalidate Cached Mappings": after changing EPT
	 * entries, INVEPT (single context when offered, else all contexts). */
	uint64_t type = (machine.caps.ept_vpid & VMX_EPT_EXTENT_CONTEXT_BIT)
				? VMX_EPT_EXTENT_CONTEXT
				: VMX_EPT_EXTENT_GLOBAL;
	invept(type, ept_pointer(&vm.ept));
}

int ept_claim_change(enum ept_owner owner, uint64_t gpa, uint64_t size, int64_t perms,
		     enum ept_redirect redirect, uint64_t hpa, uint8_t memtype, char *why,
		     size_t cap)
{
	int rc = perms < 0 ? ept_release(&vm.ept_claims, owner, gpa, size)
			   : ept_claim(&vm.ept_claims, owner, gpa, size, (uint64_t)perms, redirect,
				       hpa, memtype);
	if (rc != EPT_OK) {
		fmt_snprintf(why, cap, "cannot change the EPT at 0x%llx: %s",
			     (unsigned long long)gpa,
			     rc == EPT_NO_MEMORY ? "out of memory"
						 : "bad claim (range, or the claim table is full)");
		/* A split may have happened before the failure: flush what changed. */
		char ignored[8];
		(void)cpus_invept_all(this_vcpu(), ignored, sizeof(ignored));
		return -1;
	}
	return cpus_invept_all(this_vcpu(), why, cap) ? 0 : -1;
}

int ept_claim_tracking(enum ept_owner owner, uint64_t gpa, uint64_t size, const uint64_t *write_ok,
		       char *why, size_t cap)
{
	if (ept_claim_track_writes(&vm.ept_claims, owner, gpa, size, write_ok) != EPT_OK) {
		fmt_snprintf(why, cap, "no claim at 0x%llx to track writes on",
			     (unsigned long long)gpa);
		return -1;
	}
	return cpus_invept_all(this_vcpu(), why, cap) ? 0 : -1;
}

int ept_claim_page_rewrite(enum ept_owner owner, uint64_t claim_gpa, uint64_t page, bool widened)
{
	if (ept_claim_page_write(&vm.ept_claims, owner, claim_gpa, page) != EPT_OK)
		return -1;
	if (widened)
		ept_invalidate_local();
	return 0;
}

bool ept_map_on_demand(uint64_t gpa, uint64_t qualification)
{
	uint64_t hpa, leaf, size;
	if (ept_translate(&vm.ept, gpa, &hpa, &leaf, &size)) {
		/* The entry allows the access now: it changed since this CPU's access faulted
		 * (another CPU's on-demand mapping or claim change, handled first: exits run one
		 * at a time). Retry. Else a permission no owner took up: not ours. */
		uint64_t need = ((qualification & EPT_VIOL_READ) ? EPT_READ : 0) |
				((qualification & EPT_VIOL_WRITE) ? EPT_WRITE : 0) |
				((qualification & EPT_VIOL_FETCH) ? EPT_EXEC : 0);
		if ((leaf & need) != need)
			return false;
		ept_invalidate_local();
		return true;
	}
	if (gpa >= (1ull << machine.maxphyaddr))
		return false;
	uint64_t chunk = gpa & ~(PAGE_SIZE_2M - 1);
	if (chunk < machine.core_base + machine.core_size &&
	    chunk + PAGE_SIZE_2M > machine.core_base)
		return false; /* never map the monitor 1:1 */
	if (ept_claims_overlap(&vm.ept_claims, chunk, PAGE_SIZE_2M))
		return false; /* an owner made those pages not present on purpose */
	growing_for_guest = true;
	int rc = map_identity_chunk(chunk, PAGE_SIZE_2M);
	growing_for_guest = false;
	if (rc != EPT_OK)
		return false;
	/* Not present became present: nothing stale to drop on other CPUs (28.3.3.1: an EPT
	 * violation caches nothing). */
	ept_invalidate_local();
	return true;
}
