/* SPDX-License-Identifier: MIT */
/*
 * Kernel text against its snapshot (DESIGN §7): every place where the running kernel's text
 * differs from what it was at the lock, and what kind of change each one is. Legitimate
 * run-time patching exists on any normal kernel, and all of it goes through text_poke_bp
 * (an int3 on the first byte, then the tail, then the first byte):
 *  - jump labels (static keys): a __jump_table site is a 2- or 5-byte NOP or a JMP of the
 *    same length to the entry's own target (arch/x86/kernel/jump_label.c);
 *  - static calls: a .static_call_sites site is a CALL or JMP rel32 to kernel or module
 *    code, a 5-byte NOP, or RET; a trampoline in .static_call.text is a JMP rel32 or RET
 *    (arch/x86/kernel/static_call.c __static_call_transform);
 *  - ftrace: a 5-byte NOP at a function's start becomes CALL rel32 (to ftrace_caller or a
 *    trampoline);
 *  - kprobes: an int3 over an instruction's first byte.
 * The tables of sites sit in rodata, read-only in EPT from the lock on: they can be
 * trusted. Which kinds are accepted is the caller's policy (jump labels and static calls
 * always; ftrace and kprobes only with allow_tracing); everything else is restored.
 *
 * Freestanding and pure: buffers in, changes out (tests/unit/test_text_check.c).
 */
#ifndef HV_PROTECT_TEXT_CHECK_H
#define HV_PROTECT_TEXT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum text_change_kind {
	TEXT_JUMP_LABEL,  /* a jump-label site in a legal encoding (or mid-patch) */
	TEXT_STATIC_CALL, /* a static-call site or trampoline in a legal encoding */
	TEXT_FTRACE,      /* NOP5 -> CALL rel32 */
	TEXT_KPROBE,      /* int3 over one byte */
	TEXT_OTHER,       /* anything else, or a site in an encoding its kind never has */
	TEXT_KINDS
};

extern const char *const text_change_names[TEXT_KINDS]; /* "jump-label", ... */

/* One site's jump_entry, decoded (struct jump_entry: s32 code, s32 target, long key; each
 * offset relative to its own field: CONFIG_HAVE_ARCH_JUMP_LABEL_RELATIVE). */
struct text_jump {
	uint64_t code, target;
};

struct text_sites {
	const struct text_jump *jumps; /* sorted by code (text_sites_sort) */
	size_t jump_count;
	const uint64_t *calls; /* static-call sites, sorted */
	size_t call_count;
	uint64_t tramp_start, tramp_end;     /* .static_call.text (8-byte trampolines) */
	uint64_t text_start, text_end;       /* where CALL/JMP targets may go: kernel text, */
	uint64_t modules_start, modules_end; /* and module space */
};

struct text_change {
	uint64_t va;  /* first byte that differs, or the site's start */
	uint32_t len; /* bytes that the change covers (a repair copies them back) */
	enum text_change_kind kind;
};

/* Decodes n jump_entry records (16 bytes each) read from va `table` into out, keeping
 * those whose code and target lie in [text_start, text_end) (sites in init code, freed
 * after boot, are left out); returns how many were kept. */
size_t text_jumps_decode(const uint8_t *raw, size_t n, uint64_t table, uint64_t text_start,
			 uint64_t text_end, struct text_jump *out);
/* Decodes n static_call_site records (8 bytes: s32 addr, s32 key) read from va `table`,
 * keeping the sites in text; returns how many. */
size_t text_calls_decode(const uint8_t *raw, size_t n, uint64_t table, uint64_t text_start,
			 uint64_t text_end, uint64_t *out);
/* In-place heapsorts (bounded: n log n). */
void text_jumps_sort(struct text_jump *j, size_t n);
void text_calls_sort(uint64_t *c, size_t n);

/*
 * The changes between old (the snapshot) and cur, both `size` bytes of text starting at
 * va `base`, whose first differing byte lies in [from, to) (offsets; sites are judged on
 * the whole text and a run of differing bytes is followed past `to`): in address order,
 * at most `max` written to out; returns how many there are in all (more than max: the
 * rest were not listed). *next gets where to go on: after the last listed change when
 * there were more, else after `to` or the last change, whichever is later. A caller that
 * resumes at *next sees every change once, however it slices the text. Work is linear in
 * the bytes looked at plus a binary search per change.
 */
size_t text_diff(const struct text_sites *s, const uint8_t *old, const uint8_t *cur, uint64_t base,
		 size_t size, size_t from, size_t to, struct text_change *out, size_t max,
		 size_t *next);

#endif
