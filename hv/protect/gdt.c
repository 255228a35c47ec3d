/* SPDX-License-Identifier: MIT */
/*
 * Each vCPU's GDTR and the descriptors of its GDT that Linux never rewrites after boot
 * (protect/protect_internal.h, DESIGN §7 "Lock point"). GDTR is recorded at the lock for
 * every CPU up then, or the first time a check sees a CPU brought up later; a GDTR moved
 * since is put back by check.c (the kernel never reloads it on a running CPU: only at CPU
 * bring-up and resume, load_fixmap_gdt, with the same value). A fixed descriptor changed
 * (a call gate in place of a code segment is a way into ring 0) is restored.
 */
#include "protect/protect_internal.h"

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "lib/string.h"
#include "x86/paging.h"

/*
 * Linux's x86-64 GDT (arch/x86/include/asm/segment.h, 6.1): 16 slots of 8 bytes; the TSS
 * (slots 8-9) and LDT (10-11) descriptors are 16 bytes; the LDT descriptor is written at
 * every switch to a process with an LDT (load_mm_ldt) and slots 12-14 at every task
 * switch (load_TLS). The rest is fixed once the CPU is up.
 */
#define LINUX_GDT_SLOTS 16u
#define LINUX_GDT_LIMIT (LINUX_GDT_SLOTS * 8u - 1u)
#define LINUX_GDT_TSS   8u
#define LINUX_GDT_LDT   10u
#define LINUX_GDT_TLS   12u
#define LINUX_GDT_TLS_N 3u

/* The busy bit of a TSS descriptor's type (1001b available, 1011b busy; SDM Vol. 3A
 * 8.2.2 "TSS Descriptor"): LTR sets it, so the kernel's copy may hold either. */
#define TSS_TYPE_BUSY (1ull << 41)

static bool fixed_slot(unsigned s)
{
	return s < LINUX_GDT_LDT || s >= LINUX_GDT_TLS + LINUX_GDT_TLS_N;
}

static uint64_t slot_value(unsigned s, uint64_t v)
{
	return s == LINUX_GDT_TSS ? v & ~TSS_TYPE_BUSY : v;
}

/* The GDT's physical address through the kernel's table: 0 if it is not mapped, or not
 * one guest RAM page of Linux's layout. */
static uint64_t gdt_pa(uint64_t base, uint16_t limit)
{
	struct kmap_leaf l;
	if (limit != LINUX_GDT_LIMIT ||
	    (base & (PAGE_SIZE_4K - 1)) + LINUX_GDT_LIMIT >= PAGE_SIZE_4K ||
	    !kmap_walk(protect_read_entry, 0, kp.table_pa, base, &l))
		return 0;
	uint64_t pa = kmap_pa(&l, base);
	return live_guest_ram(pa, LINUX_GDT_LIMIT + 1u) ? pa : 0;
}

void protect_gdt_record(const struct vcpu *o, uint64_t base, uint16_t limit)
{
	struct gdt_record *g = &kp.gdt[o->id];
	*g = (struct gdt_record){.known = true, .base = base, .limit = limit};
	g->pa = gdt_pa(base, limit);
	if (g->pa)
		memcpy(g->slot, (const void *)(uintptr_t)g->pa, sizeof(g->slot));
	else
		log_printf("ctrvisor: vCPU %u's GDT (0x%llx limit %u) is not Linux's: only GDTR "
			   "is checked\r\n",
			   o->id, (unsigned long long)base, limit);
}

bool protect_gdtr_moved(const struct vcpu *o, uint64_t base, uint16_t limit, uint64_t *locked_base,
			uint16_t *locked_limit)
{
	const struct gdt_record *g = &kp.gdt[o->id];
	*locked_base = g->base;
	*locked_limit = g->limit;
	return g->known && (base != g->base || limit != g->limit);
}

bool protect_gdt_check(struct vcpu *o, uint64_t base, uint16_t limit, struct protect_report *r,
		       bool judge)
{
	struct gdt_record *g = &kp.gdt[o->id];
	if (!g->known) {
		if (judge) /* a CPU brought up since the lock, seen for the first time */
			protect_gdt_record(o, base, limit);
		return false;
	}
	if (!g->pa)
		return false;
	/* the recorded GDT, where GDTR points or will again once repaired */
	uint64_t *now = (uint64_t *)(uintptr_t)g->pa;
	bool bad = false;
	for (unsigned s = 0; s < LINUX_GDT_SLOTS; s++) {
		if (!fixed_slot(s) || slot_value(s, now[s]) == slot_value(s, g->slot[s]))
			continue;
		bad = true;
		if (!judge)
			return true;
		uint64_t was = now[s];
		if (kp.st.mode == PROTECT_ENFORCE) {
			/* the busy bit stays as the CPU has it */
			now[s] = s == LINUX_GDT_TSS
					 ? slot_value(s, g->slot[s]) | (was & TSS_TYPE_BUSY)
					 : g->slot[s];
			r->repaired++;
		} else {
			r->unrepaired++;
		}
		protect_alert(ALERT_GDT,
			      kp.st.mode == PROTECT_ENFORCE ? ACTION_REPAIRED : ACTION_DETECTED, o,
			      g->base + s * 8u, g->pa + s * 8u,
			      "vCPU %u's GDT slot %u was 0x%016llx, is 0x%016llx", o->id, s,
			      (unsigned long long)g->slot[s], (unsigned long long)was);
	}
	return bad;
}
