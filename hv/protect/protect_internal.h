/* SPDX-License-Identifier: MIT */
/* Kernel protection's shared state (protect/protect.h): owned by the exit lock. */
#ifndef HV_PROTECT_INTERNAL_H
#define HV_PROTECT_INTERNAL_H

#include "protect/kmap.h"
#include "protect/protect.h"
#include "protect/text_check.h"
#include "core/monitor.h"
#include "vmi/kimage.h"

/* A range read-only in EPT: rodata, the IDT page. */
struct guarded {
	const char *name;
	uint64_t va, pa, size;
	enum alert_kind kind;
	bool claimed;
};

#define GUARDED_RODATA 0
#define GUARDED_IDT    1
#define GUARDED_COUNT  2

/* A vCPU's GDTR and its GDT's slots as recorded (gdt.c) */
struct gdt_record {
	bool known;
	uint16_t limit;
	uint64_t base, pa; /* pa 0: not Linux's GDT, only GDTR is checked */
	uint64_t slot[16];
};

/* Written pages of text (track.c): up to 64 MiB of text is tracked */
#define TRACKED_PAGES_MAX (16u * 1024u)

/* Pages of the image's page tables tracked (track_map.c) */
#define MAP_PAGES_MAX 12u

/* A byte range of text, offsets from its start */
struct text_run {
	uint64_t from, to;
};

struct kprotect {
	struct protect_stats st;
	struct kimage img;
	uint64_t table_pa; /* the kernel's top-level page table at the lock */
	bool la57;
	uint8_t *snapshot; /* kernel text as at the lock */
	struct text_jump *jumps;
	uint64_t *calls;
	struct text_sites sites;
	struct kmap_leaf *leaves; /* the image's mapping as at the lock */
	size_t leaf_count;
	struct guarded guarded[GUARDED_COUNT];
	uint64_t idtr_base, idtr_limit;
	struct gdt_record gdt[HV_CPUS_MAX];

	/* One write being stepped over (guard.c): by this vCPU, on this page */
	int step_cpu; /* -1: none */
	int step_region;
	uint64_t step_page;
	uint8_t *scratch;

	/* Writes to text (track.c): a bit per page written since the last check before an
	 * operation, which is also the EPT claim's write permission */
	bool tracking;
	uint64_t tracked_size;
	uint64_t written[TRACKED_PAGES_MAX / 64];

	/* Writes to the image's page tables (track_map.c): the pages holding its entries, and
	 * each one's write bit (its EPT claim's write permission) */
	bool map_tracking;
	size_t map_pages;
	uint64_t map_page[MAP_PAGES_MAX];
	uint64_t map_written[MAP_PAGES_MAX];

	uint64_t next_check_ms;
	struct protect_alert alert[ALERTS_KEPT];
};

extern struct kprotect kp;

/* protect.c */
void protect_alert(enum alert_kind kind, enum alert_action action, const struct vcpu *v,
		   uint64_t va, uint64_t gpa, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
bool protect_read_entry(void *ctx, uint64_t gpa, uint64_t *entry);

/* The rights the image's pages must have from the lock on: text read-only, rodata
 * read-only and not executable (check.c). */
bool protect_rights_ok(const struct kmap_leaf *l, bool rodata);

/* check.c: the periodic check, a bounded slice at each exit of the console CPU */
void protect_periodic(struct vcpu *self);

/* gdt.c: record a vCPU's GDTR and GDT; check the GDT's fixed slots (judge: alert and
 * repair; else only say whether any differs; a vCPU not recorded yet is, when judging);
 * is GDTR other than recorded (and what was)? */
void protect_gdt_record(const struct vcpu *o, uint64_t base, uint16_t limit);
bool protect_gdt_check(struct vcpu *o, uint64_t base, uint16_t limit, struct protect_report *r,
		       bool judge);
bool protect_gdtr_moved(const struct vcpu *o, uint64_t base, uint16_t limit, uint64_t *locked_base,
			uint16_t *locked_limit);

/* track.c: does [gpa, gpa + n) touch text, rodata or the IDT page (locked or not)? */
bool protect_range_held(uint64_t gpa, uint64_t n);

/* track_map.c: claim the image's table pages at the lock; a write to one; close them all
 * (false if one stays open) */
bool protect_track_map_claim(char *why, size_t cap);
bool protect_track_map_ept_violation(uint64_t gpa, uint64_t qualification);
bool protect_track_map_close(void);

/* lock.c: the lock point reached? Then lock (false while waiting). */
void protect_try_lock(struct vcpu *v);

/* guard.c: EPT claims of the guarded ranges, and writes to them */
bool protect_guard_claim(char *why, size_t cap);
bool protect_guard_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification);
bool protect_guard_mtf(struct vcpu *v);

/* track.c: text read-only in EPT, each page writable from its first write until the next
 * check before an operation */
bool protect_track_claim(char *why, size_t cap);
bool protect_track_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* The pages written since the last call, as runs (at most cap), made read-only again on
 * every CPU; *all when they cannot be trusted to be all (no tracking, too many runs, a CPU
 * that did not invalidate): then the whole text must be compared. */
size_t protect_track_take(struct text_run *runs, size_t cap, bool *all);
/* A change at text offset `off` was found and left as it is (detect): its page stays in the
 * set, so the next check before an operation looks at it again instead of calling the
 * kernel clean. */
void protect_track_keep(uint64_t off);

#endif
