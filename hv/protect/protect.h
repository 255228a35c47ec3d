/* SPDX-License-Identifier: MIT */
/*
 * Kernel protection and recovery (DESIGN §7): the guest kernel's integrity is recorded at
 * the lock point and held there, so that operations that run kernel code (injected system
 * calls) and answers that read kernel data can be vouched for.
 *
 *  - Lock point: the first exit of the console CPU after the kernel made its image
 *    read-only (its own page tables show text RO+X and rodata RO+NX: mark_rodata_ro), which
 *    Linux does before it starts its first user process.
 *  - Recorded then: kernel text (a copy), the image's mapping, the IDT page and IDTR,
 *    CR0.WP, CR4.SMEP/SMAP/UMIP as the CPU has them, the system-call entry MSRs; and the
 *    jump-label and static-call sites, which stay trustworthy in read-only rodata.
 *  - With protect = enforce: rodata and the IDT page are read-only in EPT (a write is
 *    stepped over onto a scratch copy: not carried out, alerted); the CR bits and entry
 *    MSRs are pinned (a change is refused, alerted); text and the mapping are checked and
 *    repaired from the record (protect_check). With detect: the same checks alert, nothing
 *    is blocked or repaired. With off: nothing is recorded.
 *
 * Owner: everything here runs under the exit lock, on whichever CPU exits; the lock and the
 * checks run on the console CPU with the other CPUs held (core/cpus.h).
 */
#ifndef HV_PROTECT_PROTECT_H
#define HV_PROTECT_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vcpu.h"

enum protect_mode { PROTECT_ENFORCE, PROTECT_DETECT, PROTECT_OFF };

enum protect_state {
	PROTECT_WAITING, /* for the lock point */
	PROTECT_LOCKED,
	PROTECT_FAILED,   /* the lock could not be taken (why says) */
	PROTECT_DISABLED, /* protect = off, or no profile with symbols */
};

enum alert_kind {
	ALERT_TEXT,         /* kernel text changed outside its legal sites */
	ALERT_RODATA_WRITE, /* a write to rodata */
	ALERT_IDT_WRITE,    /* a write to the IDT page */
	ALERT_CR,           /* CR0.WP / CR4.SMEP/SMAP/UMIP cleared */
	ALERT_MSR,          /* an entry MSR written with another value */
	ALERT_IDTR,         /* IDTR moved */
	ALERT_MAPPING,      /* the image's virtual pages remapped */
	ALERT_GDTR,         /* GDTR moved */
	ALERT_GDT,          /* a descriptor of the GDT that Linux never rewrites changed */
	ALERT_KINDS
};

enum alert_action { ACTION_BLOCKED, ACTION_REPAIRED, ACTION_DETECTED, ACTION_UNREPAIRED };

#define ALERT_WHAT_MAX 96u
#define ALERTS_KEPT    32u

struct protect_alert {
	uint64_t seq; /* 1, 2, ...: alerts raised since start */
	uint64_t ms;  /* monitor uptime */
	uint8_t kind, action;
	uint32_t cpu;
	uint64_t va, gpa, rip;
	char what[ALERT_WHAT_MAX];
};

/* What one check found (protect_check). */
struct protect_report {
	uint32_t repaired;   /* places restored from the record */
	uint32_t unrepaired; /* changes found but not restored (detect, or a failed write) */
	uint32_t accepted;   /* legal run-time patching seen (jump labels, static calls, ...) */
	bool vouched;        /* the kernel is as recorded now (or protection is not locked) */
	uint64_t tsc;        /* TSC ticks the check took */
	uint64_t compared;   /* bytes of text compared (the pages written since the last) */
	/* Taken while the other CPUs were still held (a CPU let go could open a page before
	 * the caller looks): whether every later write to text, and to the image's page
	 * tables, is seen, and the counters they are seen by */
	bool text_writes_seen, map_writes_seen;
	uint64_t text_pages_opened, map_pages_opened;
	char summary[160]; /* "integrity: clean", or what was repaired */
};

struct protect_stats {
	enum protect_mode mode;
	enum protect_state state;
	bool allow_tracing;
	uint64_t period_ms;
	char why[160];
	uint64_t lock_ms;
	int64_t slide;
	uint64_t text_va, text_pa, text_size, rodata_va, rodata_pa, rodata_size;
	uint64_t idt_va, idt_pa;
	uint32_t jump_sites, call_sites, map_leaves;
	uint64_t cr0_pinned, cr4_pinned;
	uint64_t checks, last_check_ms, check_tsc_total;
	uint64_t repaired, unrepaired, accepted, writes_stepped;
	bool text_tracked;          /* text writes tracked in EPT (track.c) */
	uint64_t text_pages_opened; /* text pages made writable at a first write */
	uint64_t text_compared;     /* bytes of text the checks before operations compared */
	uint32_t map_tracked;       /* pages of the image's page tables tracked (track_map.c) */
	uint64_t map_pages_opened;  /* of those, made writable at a first write */
	uint64_t alerts;
	uint64_t alerts_by_kind[ALERT_KINDS];
};

extern const char *const alert_kind_names[ALERT_KINDS];
extern const char *const alert_action_names[4];

/* From hv.cfg, at start. */
void protect_configure(enum protect_mode mode, bool allow_tracing, uint32_t period_s);
/* The exit hooks (tick, EPT violations, MTF, CR and MSR writes); at start. */
bool protect_register_hooks(void);

/* Holds the other CPUs, checks everything recorded, repairs (enforce), releases. */
void protect_check(struct vcpu *self, struct protect_report *out);

/* Can every write to kernel text be seen from now on: text tracked, and every page closed
 * (right after a check with nothing left in place)? Then text_pages_opened counts them:
 * it moves at the first write to each page. */
bool protect_text_writes_seen(void);

/* The same for the image's page tables (map_pages_opened counts). */
bool protect_map_writes_seen(void);

const struct protect_stats *protect_stats(void);
/* The last `cap` alerts at most, oldest first; returns how many. */
size_t protect_alerts(struct protect_alert *out, size_t cap);

/* Does [gpa, gpa + n) touch what protection holds read-only (text, rodata, the IDT page)?
 * The monitor's own writes into guest memory (the injection engine's scratch area, placed
 * through page tables the guest controls) must never land there. */
bool protect_range_protected(uint64_t gpa, uint64_t n);

#endif
