/* SPDX-License-Identifier: MIT */
/*
 * The integrity check (protect/protect.h, DESIGN §7 "Before every operation"): with the
 * other CPUs held, kernel text against its snapshot (legal run-time patching accepted,
 * the rest restored), the image's mapping against the record (entries written back), the
 * pinned registers, IDTR, GDTR and GDT of every vCPU, and the EPT guard of rodata and the IDT.
 * Bounded: one pass over the text (14 MB in Debian's 6.1) and one walk per recorded leaf.
 */
#include "protect/protect_internal.h"

#include "core/cpus.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/cr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

#define CHANGES_MAX   64u
#define TEXT_RUNS_MAX 256u /* runs of written pages compared one by one; more: all of it */
#define RUN_MARGIN                                                                                 \
	64u /* bytes before and after a run: a patched instruction may begin                       \
	     * before the written page (the longest x86 instruction is 15) */

static bool accepted(enum text_change_kind k)
{
	switch (k) {
	case TEXT_JUMP_LABEL:
	case TEXT_STATIC_CALL:
		return true;
	case TEXT_FTRACE:
	case TEXT_KPROBE:
		return kp.st.allow_tracing;
	default:
		return false;
	}
}

/* One change: accepted, or restored from the snapshot (enforce) and alerted. */
static void text_change(struct vcpu *self, struct protect_report *r, const struct text_change *c)
{
	if (accepted(c->kind)) {
		r->accepted++;
		return;
	}
	uint8_t *text = (uint8_t *)(uintptr_t)kp.st.text_pa;
	bool enforce = kp.st.mode == PROTECT_ENFORCE;
	uint64_t off = c->va - kp.st.text_va;
	uint8_t was[5] = {0}, now[5] = {0};
	size_t show = c->len < 5 ? c->len : 5;
	memcpy(was, kp.snapshot + off, show);
	memcpy(now, text + off, show);
	if (enforce) {
		memcpy(text + off, kp.snapshot + off, c->len);
		r->repaired++;
	} else {
		r->unrepaired++;
		protect_track_keep(off);
	}
	protect_alert(ALERT_TEXT, enforce ? ACTION_REPAIRED : ACTION_DETECTED, self, c->va,
		      kp.st.text_pa + off,
		      "%s change of %u bytes: %02x %02x %02x %02x %02x -> %02x %02x %02x %02x %02x",
		      text_change_names[c->kind], c->len, was[0], was[1], was[2], was[3], was[4],
		      now[0], now[1], now[2], now[3], now[4]);
}

/* The changes that begin in [from, to), CHANGES_MAX at a time, each round resuming where
 * the last one stopped (text_diff's next), so every change is seen once. With judge
 * false, only whether any would be alerted (nothing changed, nothing counted). Returns
 * that, and in *end where the text was looked at up to. */
static bool check_text(struct vcpu *self, struct protect_report *r, size_t from, size_t to,
		       bool judge, size_t *end)
{
	static struct text_change c[CHANGES_MAX];
	const uint8_t *text = (const uint8_t *)(uintptr_t)kp.st.text_pa;
	bool bad = false;
	*end = from;
	while (*end < to) {
		size_t next;
		size_t n = text_diff(&kp.sites, kp.snapshot, text, kp.st.text_va, kp.st.text_size,
				     *end, to, c, CHANGES_MAX, &next);
		size_t listed = n < CHANGES_MAX ? n : CHANGES_MAX;
		for (size_t i = 0; i < listed; i++) {
			if (judge)
				text_change(self, r, &c[i]);
			else if (!accepted(c[i].kind))
				return true;
		}
		*end = next;
		if (n <= CHANGES_MAX && next >= to)
			break;
	}
	return bad;
}

/* The recorded leaf that mapped va at the lock (few: the image is mapped with 2 MiB pages
 * where it can), or NULL. */
static const struct kmap_leaf *recorded_leaf(uint64_t va)
{
	for (size_t i = 0; i < kp.leaf_count; i++)
		if (va - kp.leaves[i].va < kp.leaves[i].size)
			return &kp.leaves[i];
	return 0;
}

bool protect_rights_ok(const struct kmap_leaf *l, bool rodata)
{
	return !kmap_writable(l) && !(rodata && kmap_executable(l));
}

/* [va, va + size) must still map to pa + offset with the rights of the lock. The
 * structure may change: Linux splits the image's large pages when it frees the gaps next
 * to rodata (mark_rodata_ro -> free_kernel_image_pages), which is not a remap. One walk
 * per current leaf. */
static bool check_range(struct vcpu *self, struct protect_report *r, uint64_t va, uint64_t size,
			uint64_t pa, bool rodata, bool judge)
{
	bool enforce = kp.st.mode == PROTECT_ENFORCE;
	uint64_t end = va + size;
	while (va < end) {
		const struct kmap_leaf *then = recorded_leaf(va);
		struct kmap_leaf now;
		bool present = kmap_walk(protect_read_entry, 0, kp.table_pa, va, &now);
		uint64_t next = present ? now.va + now.size : (va | (PAGE_SIZE_4K - 1)) + 1;
		if (next > end)
			next = end;
		bool ok = present && then && kmap_pa(&now, va) == pa + (va - (end - size)) &&
			  protect_rights_ok(&now, rodata);
		if (!ok && !judge)
			return true;
		if (!ok) {
			if (enforce && then) {
				/* every level of the lock's walk, from the top */
				for (unsigned l = 0; l < then->levels; l++)
					*(volatile uint64_t *)(uintptr_t)then->entry_gpa[l] =
						then->entry[l];
				r->repaired++;
				next = then->va + then->size < end ? then->va + then->size : end;
			} else {
				r->unrepaired++;
			}
			protect_alert(ALERT_MAPPING,
				      enforce && then ? ACTION_REPAIRED : ACTION_DETECTED, self, va,
				      present ? kmap_pa(&now, va) : 0,
				      "image page 0x%llx %s (locked: pa 0x%llx, %s)",
				      (unsigned long long)va,
				      !present ? "no longer mapped"
				      : kmap_pa(&now, va) != pa + (va - (end - size))
					      ? "mapped to another page"
					      : "mapped with other rights",
				      (unsigned long long)(pa + (va - (end - size))),
				      rodata ? "read-only, not executable" : "read-only");
		}
		va = next;
	}
	return false;
}

/* With judge false: only whether anything is wrong (nothing alerted, nothing repaired). */
static bool check_mapping(struct vcpu *self, struct protect_report *r, bool judge)
{
	uint32_t repaired = r->repaired;
	bool bad =
		check_range(self, r, kp.st.text_va, kp.st.text_size, kp.st.text_pa, false, judge);
	bad |= check_range(self, r, kp.st.rodata_va, kp.st.rodata_size, kp.st.rodata_pa, true,
			   judge);
	/* The CPUs may still hold the rootkit's translations: INVEPT drops the combined
	 * (linear) mappings derived through this EPT too, for every VPID (SDM Vol. 3C
	 * 28.3.3.1, 30.3 INVEPT). */
	char why[160];
	if (r->repaired != repaired && !cpus_invept_all(self, why, sizeof(why)))
		r->unrepaired++;
	return bad;
}

/* A vCPU's IDTR or GDTR other than recorded: with enforce, loaded again from the record
 * before the vCPU runs guest code again (Linux never reloads them on a running CPU). */
/* A vCPU's IDTR and GDTR as it runs with them, against the record. */
struct dtr_look {
	uint64_t idtr, gdtr, gdtr_locked;
	uint16_t idtr_limit, gdtr_limit, gdtr_limit_locked;
	bool idtr_moved, gdtr_moved;
};

static struct dtr_look look_dtr(const struct vcpu *o, uint64_t idtr, uint16_t idtr_limit,
				uint64_t gdtr, uint16_t gdtr_limit)
{
	struct dtr_look d = {
		.idtr = idtr, .gdtr = gdtr, .idtr_limit = idtr_limit, .gdtr_limit = gdtr_limit};
	d.gdtr_moved =
		protect_gdtr_moved(o, gdtr, gdtr_limit, &d.gdtr_locked, &d.gdtr_limit_locked);
	d.idtr_moved = idtr != kp.idtr_base || idtr_limit != kp.idtr_limit;
	return d;
}

/* A vCPU's IDTR or GDTR other than recorded: with enforce, loaded again from the record
 * before the vCPU runs guest code again (Linux never reloads them on a running CPU). */
static void repair_dtr(struct vcpu *self, struct vcpu *o, struct protect_report *r,
		       const struct dtr_look *d)
{
	bool enforce = kp.st.mode == PROTECT_ENFORCE;
	enum alert_action action = enforce ? ACTION_REPAIRED : ACTION_DETECTED;
	if (d->idtr_moved)
		protect_alert(ALERT_IDTR, action, o, d->idtr, 0,
			      "vCPU %u's IDTR is 0x%llx limit %u (locked 0x%llx limit %u)", o->id,
			      (unsigned long long)d->idtr, d->idtr_limit,
			      (unsigned long long)kp.idtr_base, (unsigned)kp.idtr_limit);
	if (d->gdtr_moved)
		protect_alert(ALERT_GDTR, action, o, d->gdtr, 0,
			      "vCPU %u's GDTR is 0x%llx limit %u (locked 0x%llx limit %u)", o->id,
			      (unsigned long long)d->gdtr, d->gdtr_limit,
			      (unsigned long long)d->gdtr_locked, d->gdtr_limit_locked);
	uint32_t n = (uint32_t)d->idtr_moved + (uint32_t)d->gdtr_moved;
	if (!enforce) {
		r->unrepaired += n;
		return;
	}
	vcpu_load_dtr(self, o, d->gdtr_moved ? d->gdtr_locked : d->gdtr,
		      d->gdtr_moved ? d->gdtr_limit_locked : d->gdtr_limit, kp.idtr_base,
		      (uint32_t)kp.idtr_limit);
	r->repaired += n;
}

/* CR0.WP, CR4.SMEP/SMAP/UMIP, IDTR, GDTR and GDT of every vCPU (the others are held:
 * their last-exit registers are their registers). With enforce the pins keep the CR bits;
 * this catches detect mode's changes and anything the pins missed. */
static bool check_registers(struct vcpu *self, struct protect_report *r, bool judge)
{
	for (uint32_t k = 0; k < vm.nr_vcpus; k++) {
		struct vcpu *o = vm.vcpu[k];
		uint64_t cr0, cr4, idtr, idtr_limit, gdtr, gdtr_limit;
		if (o == self) {
			cr0 = vmread(GUEST_CR0);
			cr4 = vmread(GUEST_CR4);
			idtr = vmread(GUEST_IDTR_BASE);
			idtr_limit = vmread(GUEST_IDTR_LIMIT);
			gdtr = vmread(GUEST_GDTR_BASE);
			gdtr_limit = vmread(GUEST_GDTR_LIMIT);
		} else if (o->guest_snapshot.valid) {
			cr0 = o->guest_snapshot.cr0;
			cr4 = o->guest_snapshot.cr4;
			idtr = o->guest_snapshot.idtr_base;
			idtr_limit = o->guest_snapshot.idtr_limit;
			gdtr = o->guest_snapshot.gdtr_base;
			gdtr_limit = o->guest_snapshot.gdtr_limit;
		} else {
			continue;
		}
		if (!(cr0 & X86_CR0_PG) || __atomic_load_n(&o->wait_for_sipi, __ATOMIC_RELAXED))
			continue; /* a CPU offline or on its way up */
		bool pins = (cr0 & kp.st.cr0_pinned) == kp.st.cr0_pinned &&
			    (cr4 & kp.st.cr4_pinned) == kp.st.cr4_pinned;
		bool gdt_bad = protect_gdt_check(o, gdtr, (uint16_t)gdtr_limit, r, judge);
		struct dtr_look d =
			look_dtr(o, idtr, (uint16_t)idtr_limit, gdtr, (uint16_t)gdtr_limit);
		bool moved = d.idtr_moved || d.gdtr_moved;
		if (!judge && (!pins || moved || gdt_bad))
			return true;
		if (!pins) {
			r->unrepaired++;
			protect_alert(
				ALERT_CR, ACTION_DETECTED, o, 0, 0,
				"vCPU %u runs with CR0 0x%llx CR4 0x%llx (locked bits CR0 0x%llx "
				"CR4 0x%llx)",
				o->id, (unsigned long long)cr0, (unsigned long long)cr4,
				(unsigned long long)kp.st.cr0_pinned,
				(unsigned long long)kp.st.cr4_pinned);
		}
		if (moved)
			repair_dtr(self, o, r, &d);
	}
	return false;
}

/* The counters and the summary line of a finished check. */
static void finish(struct protect_report *out, uint64_t tsc)
{
	out->tsc = tsc;
	kp.st.check_tsc_total += tsc;
	kp.st.checks++;
	kp.st.last_check_ms = monitor_uptime_ms();
	kp.st.repaired += out->repaired;
	kp.st.unrepaired += out->unrepaired;
	kp.st.accepted += out->accepted;
	out->vouched = out->unrepaired == 0;
	if (out->repaired == 0 && out->unrepaired == 0)
		fmt_snprintf(out->summary, sizeof(out->summary), "integrity: clean");
	else if (out->unrepaired == 0)
		fmt_snprintf(out->summary, sizeof(out->summary),
			     "integrity: repaired %u change%s (see `integrity`)", out->repaired,
			     out->repaired == 1 ? "" : "s");
	else
		fmt_snprintf(out->summary, sizeof(out->summary),
			     "integrity: %u change%s not repaired, %u repaired (see `integrity`)",
			     out->unrepaired, out->unrepaired == 1 ? "" : "s", out->repaired);
}

void protect_check(struct vcpu *self, struct protect_report *out)
{
	*out = (struct protect_report){0};
	if (kp.st.state != PROTECT_LOCKED) {
		/* nothing to vouch with: only an operator who turned protection off accepts that */
		out->vouched = kp.st.mode == PROTECT_OFF;
		fmt_snprintf(out->summary, sizeof(out->summary), "integrity: not checked (%s)",
			     kp.st.why);
		return;
	}
	char why[160];
	if (!cpus_hold_others(self, why, sizeof(why))) {
		fmt_snprintf(out->summary, sizeof(out->summary), "integrity: not checked: %s", why);
		return;
	}
	uint64_t t0 = rdtsc();
	(void)check_mapping(self, out, true); /* first: the text is read through it */
	size_t end;
	/* the pages written since the last check (track.c), with a margin for a patch that
	 * began on the page before; or all of it */
	static struct text_run runs[TEXT_RUNS_MAX];
	bool all;
	(void)protect_track_map_close(); /* invalidated with the text's, next */
	size_t n = protect_track_take(runs, TEXT_RUNS_MAX, &all);
	if (all) {
		(void)check_text(self, out, 0, kp.st.text_size, true, &end);
		out->compared = kp.st.text_size;
	}
	for (size_t i = 0; !all && i < n; i++) {
		uint64_t from = runs[i].from > RUN_MARGIN ? runs[i].from - RUN_MARGIN : 0;
		uint64_t to = runs[i].to + RUN_MARGIN < kp.st.text_size ? runs[i].to + RUN_MARGIN
									: kp.st.text_size;
		if (from >= to)
			continue;
		(void)check_text(self, out, from, to, true, &end);
		out->compared += to - from;
	}
	kp.st.text_compared += out->compared;
	(void)check_registers(self, out, true);
	out->text_writes_seen = protect_text_writes_seen();
	out->map_writes_seen = protect_map_writes_seen();
	out->text_pages_opened = kp.st.text_pages_opened;
	out->map_pages_opened = kp.st.map_pages_opened;
	cpus_release_others(self);
	finish(out, rdtsc() - t0);
}

/* The periodic check, a slice of text per exit of the console CPU (the work one exit does
 * stays bounded: 16 KiB of compare, well under the 1.4 ms the console UART's 16-byte FIFO
 * lasts at 115200 baud, even under emulation: a longer exit lets it overflow), the other
 * CPUs running; a slice with something to alert is judged again with them held. The
 * mapping and the registers at the end of a round, the same way. */
#define SLICE_BYTES (16u * 1024u)

void protect_periodic(struct vcpu *self)
{
	static struct protect_report round;
	static size_t off;
	static bool active;
	static uint64_t tsc;
	char why[160];
	if (!active) {
		if (monitor_uptime_ms() < kp.next_check_ms)
			return;
		active = true;
		off = 0;
		tsc = 0;
		round = (struct protect_report){0};
	}
	uint64_t t0 = rdtsc();
	size_t to = off + SLICE_BYTES < kp.st.text_size ? off + SLICE_BYTES : kp.st.text_size;
	size_t end;
	if (check_text(self, &round, off, to, false, &end)) {
		if (!cpus_hold_others(self, why, sizeof(why))) {
			tsc += rdtsc() - t0;
			return; /* the same slice at the next exit */
		}
		(void)check_text(self, &round, off, to, true, &end);
		cpus_release_others(self);
	}
	off = end;
	if (off >= kp.st.text_size) {
		/* the mapping and the registers: looked at as they are, and judged with the
		 * others held only when something is wrong (a hold kicks every CPU out) */
		if (check_mapping(self, &round, false) || check_registers(self, &round, false)) {
			if (!cpus_hold_others(self, why, sizeof(why))) {
				tsc += rdtsc() - t0;
				return;
			}
			(void)check_mapping(self, &round, true);
			(void)check_registers(self, &round, true);
			cpus_release_others(self);
		}
		active = false;
		finish(&round, tsc + rdtsc() - t0);
		kp.next_check_ms = monitor_uptime_ms() + kp.st.period_ms;
		return;
	}
	tsc += rdtsc() - t0;
}
