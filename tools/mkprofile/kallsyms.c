/* SPDX-License-Identifier: MIT */
/* kallsyms inside a vmlinux's .rodata (tools/mkprofile/kallsyms.h). */
#include "kallsyms.h"

#include <stdio.h>
#include <string.h>

#define TOKENS       256u
#define SCAN_BACK    (32u << 20) /* num_syms is searched this far before the token table */
#define NUM_SYMS_MIN 1000u
#define NUM_SYMS_MAX (1u << 22)

static size_t align8(size_t x)
{
	return (x + 7u) & ~(size_t)7u;
}

static uint32_t u32_at(const struct kallsyms *k, size_t p)
{
	uint32_t v;
	memcpy(&v, k->ro + p, 4);
	return v;
}

/* The 256 tokens starting at `start`, each NUL-terminated inside the section: where the
 * table ends, or 0. */
static size_t tokens_end(const uint8_t *ro, size_t len, size_t start)
{
	size_t p = start;
	for (unsigned int t = 0; t < TOKENS; t++) {
		const uint8_t *nul = memchr(ro + p, 0, len - p);
		if (nul == NULL)
			return 0;
		p = (size_t)(nul - ro) + 1;
	}
	return p;
}

/* Is there, at `idx`, the token index of the table at `tt`? */
static bool index_matches(const uint8_t *ro, size_t len, size_t tt, size_t idx)
{
	if (idx + 2u * TOKENS > len)
		return false;
	size_t p = tt;
	for (unsigned int t = 0; t < TOKENS; t++) {
		uint16_t off;
		memcpy(&off, ro + idx + 2u * t, 2);
		if (p - tt != off)
			return false;
		p += strlen((const char *)ro + p) + 1;
	}
	return true;
}

/* The token table: walk back from the digits' run over the 0x30 tokens before '0'. */
static bool find_token_table(struct kallsyms *k)
{
	static const char digits[] = "0\0"
				     "1\0"
				     "2\0"
				     "3\0"
				     "4\0"
				     "5\0"
				     "6\0"
				     "7\0"
				     "8\0"
				     "9";
	const size_t dlen = sizeof(digits); /* with the last NUL */
	for (size_t from = 0; from + dlen <= k->len;) {
		const uint8_t *hit = memmem(k->ro + from, k->len - from, digits, dlen);
		if (hit == NULL)
			return false;
		size_t d = (size_t)(hit - k->ro);
		from = d + 1;
		size_t start = d;
		bool ok = true;
		for (unsigned int n = 0; n < '0' && ok; n++) {
			if (start < 2) {
				ok = false;
				break;
			}
			size_t q = start - 2; /* the previous token's last byte */
			while (q > 0 && k->ro[q] != 0)
				q--;
			start = k->ro[q] == 0 ? q + 1 : q;
		}
		size_t end = ok ? tokens_end(k->ro, k->len, start) : 0;
		if (end != 0 && index_matches(k->ro, k->len, start, align8(end))) {
			k->token_table = start;
			k->token_index = align8(end);
			return true;
		}
	}
	return false;
}

/* One entry of kallsyms_names at *p: its token numbers' span; false if malformed. */
static bool name_span(const struct kallsyms *k, size_t *p, size_t limit, size_t *first,
		      size_t *count)
{
	if (*p >= limit)
		return false;
	size_t n = k->ro[(*p)++];
	if (n & 0x80u) {
		if (*p >= limit)
			return false;
		n = (n & 0x7Fu) | ((size_t)k->ro[(*p)++] << 7);
	}
	if (n == 0 || n > limit - *p)
		return false;
	*first = *p;
	*count = n;
	*p += n;
	return true;
}

static bool markers_ok(const struct kallsyms *k, size_t m, uint32_t count, size_t names_len)
{
	if (m + 4u * (size_t)count > k->len || u32_at(k, m) != 0)
		return false;
	for (uint32_t i = 1; i < count; i++) {
		uint32_t a = u32_at(k, m + 4u * (i - 1u)), b = u32_at(k, m + 4u * i);
		if (b <= a || b >= names_len)
			return false;
	}
	return true;
}

/* Does num_syms at `pos` describe tables that end at the token table? */
static bool layout_at(struct kallsyms *k, size_t pos)
{
	uint32_t n = u32_at(k, pos);
	if (n < NUM_SYMS_MIN || n > NUM_SYMS_MAX)
		return false;
	uint32_t m_count = (n + 255u) >> 8;
	size_t names = align8(pos + 4);
	/* Cheap test first: the markers must end where the token table (or the seqs before
	 * it) begins. */
	size_t p = names, first, count;
	for (uint32_t i = 0; i < n; i++)
		if (!name_span(k, &p, k->token_table, &first, &count))
			return false;
	size_t markers = align8(p);
	size_t after = markers + 4u * (size_t)m_count;
	bool seqs;
	if (align8(after) == k->token_table)
		seqs = false;
	else if (align8(align8(after) + 3u * (size_t)n) == k->token_table)
		seqs = true;
	else
		return false;
	if (!markers_ok(k, markers, m_count, p - names) || pos < 8 + align8(4u * (size_t)n))
		return false;
	k->num_syms = n;
	k->names = names;
	k->seqs_of_names = seqs;
	memcpy(&k->relative_base, k->ro + pos - 8, 8);
	k->offsets = pos - 8 - align8(4u * (size_t)n);
	return true;
}

bool kallsyms_find(const uint8_t *ro, size_t len, uint64_t va, struct kallsyms *k, char *why,
		   size_t cap)
{
	memset(k, 0, sizeof(*k));
	k->ro = ro;
	k->len = len;
	k->va = va;
	if (!find_token_table(k)) {
		snprintf(why, cap, "no kallsyms token table (is CONFIG_KALLSYMS set?)");
		return false;
	}
	size_t stop = k->token_table > SCAN_BACK ? k->token_table - SCAN_BACK : 0;
	for (size_t pos = k->token_table & ~(size_t)7u; pos >= stop + 8; pos -= 8)
		if (layout_at(k, pos - 8))
			return true;
	snprintf(why, cap,
		 "kallsyms token table at .rodata+0x%zx, but no num_syms before it whose "
		 "names end at the markers",
		 k->token_table);
	return false;
}

bool kallsyms_next(const struct kallsyms *k, size_t *pos, uint32_t *index, char *name, char *type,
		   uint64_t *addr)
{
	if (*index >= k->num_syms)
		return false;
	size_t p = k->names + *pos, first, count;
	if (!name_span(k, &p, k->token_table, &first, &count))
		return false;
	size_t out = 0;
	bool first_char = true;
	*type = '?';
	for (size_t i = 0; i < count; i++) {
		uint16_t off;
		memcpy(&off, k->ro + k->token_index + 2u * k->ro[first + i], 2);
		for (const uint8_t *t = k->ro + k->token_table + off; *t; t++) {
			if (first_char) {
				*type = (char)*t;
				first_char = false;
			} else if (out + 1 < KALLSYMS_NAME_MAX) {
				name[out++] = (char)*t;
			}
		}
	}
	name[out] = 0;
	int32_t off;
	memcpy(&off, k->ro + k->offsets + 4u * (size_t)*index, 4);
	*addr = off >= 0 ? (uint64_t)off : k->relative_base - 1u - (uint64_t)(int64_t)off;
	*pos = p - k->names;
	(*index)++;
	return true;
}

bool kallsyms_lookup(const struct kallsyms *k, const char *name, uint64_t *addr)
{
	size_t pos = 0;
	uint32_t i = 0;
	char got[KALLSYMS_NAME_MAX], type;
	uint64_t a;
	while (kallsyms_next(k, &pos, &i, got, &type, &a)) {
		if (strcmp(got, name) == 0) {
			*addr = a;
			return true;
		}
	}
	return false;
}
