/* SPDX-License-Identifier: MIT */
/*
 * The guarded ranges (rodata, the IDT page): read-only in EPT from the lock on. A write
 * exits as an EPT violation (SDM Vol. 3C 28.3.3.2). Its instruction's length is not given
 * for such exits (27.2.5 lists the exits that give it), so the monitor cannot skip it;
 * instead it lets the one instruction run with the page writable, stepped with the monitor
 * trap flag (26.5.2: an exit after one instruction):
 *   enforce: the page shows a scratch copy for that instruction, so the write lands there
 *            and is not carried out;
 *   detect:  the page itself, so the write is carried out (and alerted).
 * Then the range is read-only again. One step at a time: another CPU's write meanwhile
 * faults again and waits its turn.
 */
#include "protect/protect_internal.h"

#include "core/monitor.h"
#include "lib/string.h"
#include "mm/ept_claims.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

static int claim(uint64_t gpa, uint64_t size, int64_t perms, enum ept_redirect redirect,
		 uint64_t hpa, char *why, size_t cap)
{
	if (size == 0)
		return 0;
	return ept_claim_change(EPT_OWNER_PROTECT, gpa, size, perms, redirect, hpa, MEMTYPE_WB, why,
				cap);
}

bool protect_guard_claim(char *why, size_t cap)
{
	for (int i = 0; i < GUARDED_COUNT; i++) {
		struct guarded *g = &kp.guarded[i];
		if (claim(g->pa, g->size, (int64_t)(EPT_READ | EPT_EXEC), EPT_REDIRECT_NONE, 0, why,
			  cap) < 0)
			return false;
		g->claimed = true;
	}
	return true;
}

static int region_of(uint64_t gpa)
{
	for (int i = 0; i < GUARDED_COUNT; i++) {
		const struct guarded *g = &kp.guarded[i];
		if (g->claimed && gpa - g->pa < g->size)
			return i;
	}
	return -1;
}

/* The monitor trap flag is a primary processor-based control the CPU may not offer
 * (allowed-1 settings: SDM Vol. 3D A.3.2). */
static bool mtf_offered(void)
{
	return (rdmsr(machine.caps.proc_msr) >> 32) & CPU_BASED_MONITOR_TRAP_FLAG;
}

static void set_mtf(bool on)
{
	uint64_t c = vmread(CPU_BASED_VM_EXEC_CONTROL);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL,
		on ? c | CPU_BASED_MONITOR_TRAP_FLAG : c & ~(uint64_t)CPU_BASED_MONITOR_TRAP_FLAG);
}

/* The region read-only but `page`, which is writable (onto the scratch copy with
 * enforce); or, with page == ~0, read-only as a whole again. */
static bool reclaim(const struct guarded *g, uint64_t page, bool scratch)
{
	char why[160];
	uint64_t ro = EPT_READ | EPT_EXEC;
	if (page == ~0ull) {
		(void)claim(g->pa, kp.step_page - g->pa, -1, EPT_REDIRECT_NONE, 0, why,
			    sizeof(why));
		(void)claim(kp.step_page, PAGE_SIZE_4K, -1, EPT_REDIRECT_NONE, 0, why, sizeof(why));
		(void)claim(kp.step_page + PAGE_SIZE_4K,
			    g->pa + g->size - kp.step_page - PAGE_SIZE_4K, -1, EPT_REDIRECT_NONE, 0,
			    why, sizeof(why));
		return claim(g->pa, g->size, (int64_t)ro, EPT_REDIRECT_NONE, 0, why, sizeof(why)) ==
		       0;
	}
	if (claim(g->pa, g->size, -1, EPT_REDIRECT_NONE, 0, why, sizeof(why)) < 0)
		return false;
	return claim(g->pa, page - g->pa, (int64_t)ro, EPT_REDIRECT_NONE, 0, why, sizeof(why)) ==
		       0 &&
	       claim(page + PAGE_SIZE_4K, g->pa + g->size - page - PAGE_SIZE_4K, (int64_t)ro,
		     EPT_REDIRECT_NONE, 0, why, sizeof(why)) == 0 &&
	       claim(page, PAGE_SIZE_4K, (int64_t)(EPT_READ | EPT_WRITE | EPT_EXEC),
		     scratch ? EPT_REDIRECT_LINEAR : EPT_REDIRECT_NONE,
		     scratch ? (uint64_t)(uintptr_t)kp.scratch : 0, why, sizeof(why)) == 0;
}

bool protect_guard_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	int r = region_of(gpa);
	if (r < 0 || !(qualification & EPT_VIOL_WRITE))
		return false;
	if (kp.step_cpu == (int)v->id) {
		/* its own step faulted again (a write across two guarded pages): end the step
		 * and refuse the write, rather than leave a page writable with no end */
		set_mtf(false);
		(void)reclaim(&kp.guarded[kp.step_region], ~0ull, false);
		kp.step_cpu = -1;
		protect_alert(kp.guarded[kp.step_region].kind, ACTION_BLOCKED, v, 0, gpa,
			      "a write across guarded pages (#GP injected)");
		vmx_inject_gp0(v);
		return true;
	}
	if (kp.step_cpu >= 0)
		return true; /* another CPU's step: retry after it */
	const struct guarded *g = &kp.guarded[r];
	bool enforce = kp.st.mode == PROTECT_ENFORCE;
	uint64_t va = (qualification & EPT_VIOL_GLA_VALID) ? vmread(GUEST_LINEAR_ADDRESS) : 0;
	uint64_t page = gpa & ~(PAGE_SIZE_4K - 1);
	if (!mtf_offered()) {
		/* cannot step: refuse the write the only other way, a fault in the guest */
		protect_alert(g->kind, ACTION_BLOCKED, v, va, gpa,
			      "write to %s (no monitor trap flag: #GP injected)", g->name);
		vmx_inject_gp0(v);
		return true;
	}
	protect_alert(g->kind, enforce ? ACTION_BLOCKED : ACTION_DETECTED, v, va, gpa,
		      "write to %s at +0x%llx%s", g->name, (unsigned long long)(gpa - g->pa),
		      enforce ? " not carried out" : "");
	if (enforce)
		memcpy(kp.scratch, (const void *)(uintptr_t)page, PAGE_SIZE_4K);
	kp.step_cpu = (int)v->id;
	kp.step_region = r;
	kp.step_page = page;
	if (!reclaim(g, page, enforce)) {
		(void)reclaim(g, ~0ull, false);
		kp.step_cpu = -1;
		vmx_inject_gp0(v);
		return true;
	}
	kp.st.writes_stepped++;
	set_mtf(true);
	return true;
}

bool protect_guard_mtf(struct vcpu *v)
{
	if (kp.step_cpu != (int)v->id)
		return false;
	set_mtf(false);
	(void)reclaim(&kp.guarded[kp.step_region], ~0ull, false);
	kp.step_cpu = -1;
	return true;
}
