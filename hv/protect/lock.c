/* SPDX-License-Identifier: MIT */
/*
 * The lock point (protect/protect.h): waiting for it at the console CPU's exits, and what
 * is recorded then. Until the lock the kernel is trusted (it has run nothing but its own
 * boot code); from the lock on, the record is what it is held to.
 */
#include "protect/protect_internal.h"

#include "console/verbs_vmi.h"
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/palloc.h"
#include "vmx/cr_policy.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

/* Module space, where static calls and ftrace may also lead (Documentation/x86/x86_64/
 * mm.rst: MODULES_VADDR is __START_KERNEL_map + KERNEL_IMAGE_SIZE, MODULES_END fixed). */
#define MODULES_START 0xffffffffc0000000ull
#define MODULES_END   0xffffffffff000000ull

static void fail_lock(const char *fmt, const char *detail)
{
	kp.st.state = PROTECT_FAILED;
	fmt_snprintf(kp.st.why, sizeof(kp.st.why), fmt, detail);
	log_printf("ctrvisor: kernel protection not locked: %s\r\n", kp.st.why);
}

static void *alloc_bytes(uint64_t bytes)
{
	return palloc_pages((size_t)((bytes + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K));
}

/* Every leaf that maps [va, va + size), each checked to map va to pa + (va - start)
 * (the image is physically contiguous: the kernel is loaded as one block). */
static bool record_mapping(uint64_t va, uint64_t size, uint64_t pa, size_t cap)
{
	uint64_t end = va + size;
	while (va < end) {
		if (kp.leaf_count >= cap)
			return false;
		struct kmap_leaf *l = &kp.leaves[kp.leaf_count];
		if (!kmap_walk(protect_read_entry, 0, kp.table_pa, va, l) ||
		    kmap_pa(l, va) != pa + (va - (end - size)))
			return false;
		kp.leaf_count++;
		va = l->va + l->size;
	}
	return true;
}

/* The tables of patchable sites, decoded from rodata (read-only from now on). */
static bool record_sites(void)
{
	const struct vmi_profile *p = &vm.profile;
	uint64_t jt = kimage_symbol(p, &kp.img, KSYM_START_JUMP_TABLE);
	uint64_t je = kimage_symbol(p, &kp.img, KSYM_STOP_JUMP_TABLE);
	uint64_t ct = kimage_symbol(p, &kp.img, KSYM_START_STATIC_CALL_SITES);
	uint64_t ce = kimage_symbol(p, &kp.img, KSYM_STOP_STATIC_CALL_SITES);
	const struct guarded *ro = &kp.guarded[GUARDED_RODATA];
	if (!jt || !ct || je < jt || ce < ct || jt < ro->va || je > ro->va + ro->size ||
	    ct < ro->va || ce > ro->va + ro->size)
		return false;
	size_t jn = (size_t)((je - jt) / 16), cn = (size_t)((ce - ct) / 8);
	kp.jumps = alloc_bytes((jn ? jn : 1) * sizeof(struct text_jump));
	kp.calls = alloc_bytes((cn ? cn : 1) * sizeof(uint64_t));
	if (!kp.jumps || !kp.calls)
		return false;
	const uint8_t *jraw = (const uint8_t *)(uintptr_t)(ro->pa + (jt - ro->va));
	const uint8_t *craw = (const uint8_t *)(uintptr_t)(ro->pa + (ct - ro->va));
	size_t jtotal = jn, ctotal = cn;
	jn = text_jumps_decode(jraw, jn, jt, kp.img.text_start, kp.img.text_end, kp.jumps);
	cn = text_calls_decode(craw, cn, ct, kp.img.text_start, kp.img.text_end, kp.calls);
	/* most sites are in text; a table of which few are is not the one the profile means */
	if (jn < jtotal / 2 || cn < ctotal / 2)
		return false;
	text_jumps_sort(kp.jumps, jn);
	text_calls_sort(kp.calls, cn);
	kp.sites = (struct text_sites){
		.jumps = kp.jumps,
		.jump_count = jn,
		.calls = kp.calls,
		.call_count = cn,
		.tramp_start = kimage_symbol(p, &kp.img, KSYM_STATIC_CALL_TEXT_START),
		.tramp_end = kimage_symbol(p, &kp.img, KSYM_STATIC_CALL_TEXT_END),
		.text_start = kp.img.text_start,
		.text_end = kp.img.text_end,
		.modules_start = MODULES_START,
		.modules_end = MODULES_END,
	};
	kp.st.jump_sites = (uint32_t)jn;
	kp.st.call_sites = (uint32_t)cn;
	return true;
}

/* Everything DESIGN §7 lists, with the other CPUs held. */
static void lock(struct vcpu *v)
{
	const struct kimage *ki = &kp.img;
	struct kmap_leaf l;
	char why[160];

	/* text and rodata: where they are, physically */
	struct guarded *ro = &kp.guarded[GUARDED_RODATA];
	uint64_t text_size = ki->text_end - ki->text_start;
	*ro = (struct guarded){"rodata",
			       ki->rodata_start,
			       0,
			       (ki->rodata_end - ki->rodata_start + PAGE_SIZE_4K - 1) &
				       ~(PAGE_SIZE_4K - 1),
			       ALERT_RODATA_WRITE,
			       false};
	if (!kmap_walk(protect_read_entry, 0, kp.table_pa, ki->text_start, &l))
		return fail_lock("%s", "kernel text is not mapped");
	uint64_t text_pa = kmap_pa(&l, ki->text_start);
	if (!kmap_walk(protect_read_entry, 0, kp.table_pa, ro->va, &l))
		return fail_lock("%s", "rodata is not mapped");
	ro->pa = kmap_pa(&l, ro->va);
	if ((ki->text_start | ro->va | ro->pa | text_pa) & (PAGE_SIZE_4K - 1) ||
	    !live_guest_ram(text_pa, text_size) || !live_guest_ram(ro->pa, ro->size))
		return fail_lock("%s", "text or rodata is not page-aligned guest RAM");
	size_t cap = (size_t)((text_size + ro->size) / PAGE_SIZE_4K + 4);
	if (!kp.leaves) { /* once: a lock that waits is tried again */
		kp.leaves = alloc_bytes(cap * sizeof(struct kmap_leaf));
		kp.snapshot = alloc_bytes(text_size);
		kp.scratch = alloc_bytes(PAGE_SIZE_4K);
	}
	if (!kp.leaves || !kp.snapshot || !kp.scratch)
		return fail_lock("%s", "out of monitor memory for the snapshot (memory_mb)");
	kp.leaf_count = 0;
	if (!record_mapping(ki->text_start, text_size, text_pa, cap) ||
	    !record_mapping(ro->va, ro->size, ro->pa, cap))
		return fail_lock("%s", "the image is not mapped contiguously");
	/* mark_rodata_ro() sets text read-only, then rodata non-executable, range by range:
	 * an exit may come in between. Lock only once every page has its final rights. */
	for (size_t i = 0; i < kp.leaf_count; i++)
		if (!protect_rights_ok(&kp.leaves[i], kp.leaves[i].va >= ro->va))
			return;
	memcpy(kp.snapshot, (const void *)(uintptr_t)text_pa, text_size);
	if (!record_sites())
		return fail_lock("%s", "the jump-label or static-call tables are unreadable");

	/* the IDT: IDTR (the read-only alias in the CPU entry area) and its page */
	struct guarded *idt = &kp.guarded[GUARDED_IDT];
	kp.idtr_base = vmread(GUEST_IDTR_BASE);
	kp.idtr_limit = vmread(GUEST_IDTR_LIMIT);
	if (!kmap_walk(protect_read_entry, 0, kp.table_pa, kp.idtr_base, &l))
		return fail_lock("%s", "the IDT is not mapped");
	*idt = (struct guarded){"IDT",
				kp.idtr_base & ~(PAGE_SIZE_4K - 1),
				kmap_pa(&l, kp.idtr_base) & ~(PAGE_SIZE_4K - 1),
				PAGE_SIZE_4K,
				ALERT_IDT_WRITE,
				false};
	if (!live_guest_ram(idt->pa, PAGE_SIZE_4K))
		return fail_lock("%s", "the IDT is not in guest RAM");

	/* GDTR and the GDT of every CPU up (the others are held: their last exit's values are
	 * theirs); a CPU brought up later is recorded at the first check that sees it */
	for (uint32_t k = 0; k < vm.nr_vcpus; k++) {
		struct vcpu *o = vm.vcpu[k];
		kp.gdt[k].known = false;
		if (o == v)
			protect_gdt_record(o, vmread(GUEST_GDTR_BASE),
					   (uint16_t)vmread(GUEST_GDTR_LIMIT));
		else if (o->guest_snapshot.valid && (o->guest_snapshot.cr0 & X86_CR0_PG) &&
			 !__atomic_load_n(&o->wait_for_sipi, __ATOMIC_RELAXED))
			protect_gdt_record(o, o->guest_snapshot.gdtr_base,
					   (uint16_t)o->guest_snapshot.gdtr_limit);
	}

	/* registers: pins with enforce; with detect the checks compare */
	kp.st.cr0_pinned = vmread(GUEST_CR0) & X86_CR0_WP;
	kp.st.cr4_pinned = vmread(GUEST_CR4) & (X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_UMIP);
	if (kp.st.mode == PROTECT_ENFORCE &&
	    ((kp.st.cr0_pinned && !cr_policy_pin(0, kp.st.cr0_pinned)) ||
	     (kp.st.cr4_pinned && !cr_policy_pin(4, kp.st.cr4_pinned))))
		return fail_lock("%s", "the CR table refused the pins");
	entry_msr_pin_all();
	entry_msr_pin_if_requested(v);

	if (!protect_guard_claim(why, sizeof(why)))
		return fail_lock("%s", why);

	kp.st.text_va = ki->text_start;
	kp.st.text_pa = text_pa;
	kp.st.text_size = text_size;
	if (!protect_track_claim(why, sizeof(why)))
		return fail_lock("%s", why);
	kp.st.text_tracked = kp.tracking;
	if (!protect_track_map_claim(why, sizeof(why)))
		return fail_lock("%s", why);
	kp.st.map_tracked = kp.map_tracking ? (uint32_t)kp.map_pages : 0;
	kp.st.rodata_va = ro->va;
	kp.st.rodata_pa = ro->pa;
	kp.st.rodata_size = ro->size;
	kp.st.idt_va = idt->va;
	kp.st.idt_pa = idt->pa;
	kp.st.map_leaves = (uint32_t)kp.leaf_count;
	kp.st.slide = ki->slide;
	kp.st.lock_ms = monitor_uptime_ms();
	kp.next_check_ms = kp.st.lock_ms + kp.st.period_ms;
	kp.st.state = PROTECT_LOCKED;
	fmt_snprintf(kp.st.why, sizeof(kp.st.why), "locked");
	log_printf("ctrvisor: kernel protection (%s) locked: text 0x%llx+%llu, rodata 0x%llx+%llu, "
		   "IDT 0x%llx, %u jump-label and %u static-call sites, %u mappings, CR0 0x%llx "
		   "CR4 0x%llx pinned\r\n",
		   kp.st.mode == PROTECT_ENFORCE ? "enforce" : "detect",
		   (unsigned long long)text_pa, (unsigned long long)text_size,
		   (unsigned long long)ro->pa, (unsigned long long)ro->size,
		   (unsigned long long)idt->pa, kp.st.jump_sites, kp.st.call_sites,
		   kp.st.map_leaves, (unsigned long long)kp.st.cr0_pinned,
		   (unsigned long long)kp.st.cr4_pinned);
}

void protect_try_lock(struct vcpu *v)
{
	if (!vm.profile_loaded) {
		kp.st.state = PROTECT_DISABLED;
		fmt_snprintf(kp.st.why, sizeof(kp.st.why), "%s", vm.profile_status);
		return;
	}
	if (vm.profile.ksym[KSYM_ENTRY_SYSCALL_64] == 0 ||
	    vm.profile.ksym[KSYM_START_JUMP_TABLE] == 0 ||
	    vm.profile.ksym[KSYM_INIT_TOP_PGT] == 0) {
		kp.st.state = PROTECT_DISABLED;
		fmt_snprintf(kp.st.why, sizeof(kp.st.why),
			     "the profile has no kernel symbols: remake it with tools/mkprofile");
		return;
	}
	/* Only in kernel mode (CPL is SS.DPL, SDM Vol. 3A 5.5): CR3 is then the kernel's own
	 * tables; and only once Linux has set LSTAR (syscall_init). */
	if (((vmread(GUEST_SS_AR_BYTES) >> 5) & 3) != 0 || !(vmread(GUEST_CR0) & X86_CR0_PG))
		return;
	char why[160];
	if (!kimage_locate(&vm.profile, rdmsr(MSR_LSTAR), &kp.img, why, sizeof(why)))
		return;
	if (vmread(GUEST_CR4) & X86_CR4_LA57)
		return fail_lock("%s", "5-level paging is not supported by kernel protection yet");
	/* The kernel's own table (init_mm's, which every process's kernel half copies), found
	 * through the table live now; not the live one itself, which may belong to a process
	 * (the initramfs's) whose tables are later freed and refilled by anyone. */
	struct kmap_leaf t, r;
	uint64_t top = kimage_symbol(&vm.profile, &kp.img, KSYM_INIT_TOP_PGT);
	if (top == 0 ||
	    !kmap_walk(protect_read_entry, 0, vmread(GUEST_CR3) & PTE_ADDR_MASK, top, &t))
		return;
	kp.table_pa = kmap_pa(&t, top);
	if (!kmap_walk(protect_read_entry, 0, kp.table_pa, kp.img.text_start, &t) ||
	    !kmap_walk(protect_read_entry, 0, kp.table_pa, kp.img.rodata_start, &r))
		return;
	/* mark_rodata_ro() done: text RO+X, rodata RO+NX */
	if (kmap_writable(&t) || !kmap_executable(&t) || kmap_writable(&r) || kmap_executable(&r))
		return;
	if (!cpus_hold_others(v, why, sizeof(why)))
		return; /* next exit */
	lock(v);
	cpus_release_others(v);
}
