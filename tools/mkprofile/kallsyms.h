/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own symbol table, kallsyms, found inside a stripped vmlinux's .rodata
 * (DESIGN §7): no System.map, no debug package. Linux's scripts/kallsyms.c writes, each
 * table 8-byte aligned: kallsyms_offsets (s32 per symbol), kallsyms_relative_base (u64),
 * kallsyms_num_syms (u32), kallsyms_names (per symbol: a length of 1 or 2 bytes, then that
 * many token numbers; the first character is the symbol's type), kallsyms_markers (u32:
 * the names offset of every 256th symbol), kallsyms_seqs_of_names (3 bytes per symbol;
 * from Linux 6.2, and in Debian's 6.1 as a backport; absent before), kallsyms_token_table
 * (256 NUL-terminated strings) and kallsyms_token_index (256 u16 offsets into the table).
 *
 * The token table is found by the run "0\0" ... "9\0" of its one-character tokens and
 * confirmed by the index that follows it; num_syms by walking back from there until the
 * names it counts end where the markers begin and the tables after them end at the token
 * table (the method of marin-m/vmlinux-to-elf, written here from the layout above).
 * Addresses (CONFIG_KALLSYMS_BASE_RELATIVE with ABSOLUTE_PERCPU, as x86-64 SMP kernels
 * have): an offset >= 0 is the address itself (per-CPU symbols), else relative_base - 1 -
 * offset. Host code (mkprofile); every read is bounded by the section.
 */
#ifndef TOOLS_MKPROFILE_KALLSYMS_H
#define TOOLS_MKPROFILE_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KALLSYMS_NAME_MAX 512

struct kallsyms {
	const uint8_t *ro; /* .rodata's bytes */
	size_t len;
	uint64_t va; /* .rodata's link-time address */
	uint32_t num_syms;
	uint64_t relative_base;
	size_t offsets, names, token_table, token_index; /* positions in ro */
	bool seqs_of_names;
};

/* Finds the tables; false with the reason in `why`. */
bool kallsyms_find(const uint8_t *ro, size_t len, uint64_t va, struct kallsyms *k, char *why,
		   size_t cap);

/* Symbols in table order: *pos starts at 0 (a position in kallsyms_names), *index at 0.
 * False at the end or on a malformed entry. name gets the NUL-terminated name (cut at
 * KALLSYMS_NAME_MAX - 1), *type its type letter. */
bool kallsyms_next(const struct kallsyms *k, size_t *pos, uint32_t *index, char *name, char *type,
		   uint64_t *addr);

/* The address of the first symbol called `name`. */
bool kallsyms_lookup(const struct kallsyms *k, const char *name, uint64_t *addr);

#endif
