/* SPDX-License-Identifier: MIT */
/* Kernel text against its snapshot: the changes and their kinds (protect/text_check.h). */
#include "protect/text_check.h"

#include "lib/string.h"

const char *const text_change_names[TEXT_KINDS] = {
	[TEXT_JUMP_LABEL] = "jump-label", [TEXT_STATIC_CALL] = "static-call",
	[TEXT_FTRACE] = "ftrace",         [TEXT_KPROBE] = "kprobe",
	[TEXT_OTHER] = "other",
};

/* x86 opcodes (SDM Vol. 2) and the NOPs Linux patches in (arch/x86/include/asm/nops.h:
 * BYTES_NOP2, BYTES_NOP5 for x86-64) */
#define OP_INT3   0xCCu
#define OP_CALL32 0xE8u
#define OP_JMP32  0xE9u
#define OP_JMP8   0xEBu
#define OP_RET    0xC3u
static const uint8_t nop2[2] = {0x66, 0x90};
static const uint8_t nop5[5] = {0x0F, 0x1F, 0x44, 0x00, 0x00};

static int32_t s32_at(const uint8_t *p)
{
	uint32_t v =
		(uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return (int32_t)v;
}

size_t text_jumps_decode(const uint8_t *raw, size_t n, uint64_t table, uint64_t text_start,
			 uint64_t text_end, struct text_jump *out)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = raw + 16 * i;
		uint64_t va = table + 16 * i;
		uint64_t code = va + (uint64_t)(int64_t)s32_at(e);
		uint64_t target = va + 4 + (uint64_t)(int64_t)s32_at(e + 4);
		if (code >= text_start && code < text_end && target >= text_start &&
		    target < text_end)
			out[kept++] = (struct text_jump){code, target};
	}
	return kept;
}

size_t text_calls_decode(const uint8_t *raw, size_t n, uint64_t table, uint64_t text_start,
			 uint64_t text_end, uint64_t *out)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t site = table + 8 * i + (uint64_t)(int64_t)s32_at(raw + 8 * i);
		if (site >= text_start && site < text_end)
			out[kept++] = site;
	}
	return kept;
}

/* Heapsort, by a key read through `key` (bounded: no recursion, n log n). */
#define HEAPSORT(name, type, key)                                                                  \
	static void name##_sift(type *a, size_t root, size_t n)                                    \
	{                                                                                          \
		for (size_t child; (child = 2 * root + 1) < n; root = child) {                     \
			if (child + 1 < n && key(a[child]) < key(a[child + 1]))                    \
				child++;                                                           \
			if (!(key(a[root]) < key(a[child])))                                       \
				return;                                                            \
			type t = a[root];                                                          \
			a[root] = a[child];                                                        \
			a[child] = t;                                                              \
		}                                                                                  \
	}                                                                                          \
	void name(type *a, size_t n)                                                               \
	{                                                                                          \
		for (size_t i = n / 2; i-- > 0;)                                                   \
			name##_sift(a, i, n);                                                      \
		for (size_t end = n; end > 1; end--) {                                             \
			type t = a[0];                                                             \
			a[0] = a[end - 1];                                                         \
			a[end - 1] = t;                                                            \
			name##_sift(a, 0, end - 1);                                                \
		}                                                                                  \
	}
#define JUMP_KEY(j) ((j).code)
#define CALL_KEY(c) (c)
HEAPSORT(text_jumps_sort, struct text_jump, JUMP_KEY)
HEAPSORT(text_calls_sort, uint64_t, CALL_KEY)

/* The last site at or before va (index), or -1. */
static long jump_at_or_before(const struct text_sites *s, uint64_t va)
{
	size_t lo = 0, hi = s->jump_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->jumps[mid].code <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

static long call_at_or_before(const struct text_sites *s, uint64_t va)
{
	size_t lo = 0, hi = s->call_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->calls[mid] <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

/* The text being compared: old and cur from va base, size bytes. */
struct view {
	const struct text_sites *s;
	const uint8_t *old, *cur;
	uint64_t base;
	size_t size;
};

static bool in_view(const struct view *w, uint64_t va, size_t len)
{
	return va >= w->base && va - w->base <= w->size && len <= w->size - (va - w->base);
}

/* Is [p, p + len) of insn equal to the `len` bytes at want? */
static bool same(const uint8_t *p, const uint8_t *want, size_t len)
{
	return memcmp(p, want, len) == 0;
}

/* A rel32 CALL/JMP at va whose target is kernel text or module space. */
static bool branch_ok(const struct text_sites *s, const uint8_t *p, uint64_t va, uint8_t op)
{
	if (p[0] != op)
		return false;
	uint64_t to = va + 5 + (uint64_t)(int64_t)s32_at(p + 1);
	return (to >= s->text_start && to < s->text_end) ||
	       (to >= s->modules_start && to < s->modules_end);
}

/* The encodings a jump-label site of length len may have, written to enc[0..1]. */
static void jump_encodings(uint64_t code, uint64_t target, size_t len, uint8_t enc[2][5])
{
	memcpy(enc[0], len == 2 ? nop2 : nop5, len);
	if (len == 2) {
		enc[1][0] = OP_JMP8;
		enc[1][1] = (uint8_t)(target - (code + 2));
	} else {
		uint32_t rel = (uint32_t)(target - (code + 5));
		enc[1][0] = OP_JMP32;
		for (int i = 0; i < 4; i++)
			enc[1][1 + i] = (uint8_t)(rel >> (8 * i));
	}
}

/* A jump-label site: the snapshot's encoding tells its length (2 or 5). Legal now: the NOP
 * or the JMP to the entry's target of that length, or an int3 followed by either's tail
 * (text_poke_bp between its steps). */
static bool jump_site(const struct view *w, const struct text_jump *j, struct text_change *c)
{
	const uint8_t *o = w->old + (j->code - w->base);
	size_t len = (o[0] == OP_JMP8 || same(o, nop2, 2)) ? 2 : 5;
	if (!in_view(w, j->code, len))
		return false;
	const uint8_t *p = w->cur + (j->code - w->base);
	uint8_t enc[2][5];
	jump_encodings(j->code, j->target, len, enc);
	c->va = j->code;
	c->len = (uint32_t)len;
	c->kind = TEXT_OTHER;
	for (int e = 0; e < 2; e++)
		if (same(p, enc[e], len) || (p[0] == OP_INT3 && same(p + 1, enc[e] + 1, len - 1)))
			c->kind = TEXT_JUMP_LABEL;
	return true;
}

/* 5 bytes at a static-call site or trampoline. A tail site (a trampoline, or a site that
 * was JMP or RET at the lock) is JMP rel32 to code or RET; any other is CALL rel32 to code
 * or a NOP5: a RET there would return from the calling function. */
static bool call_encoding_ok(const struct view *w, const uint8_t *p, uint64_t va, bool tail)
{
	if (tail)
		return branch_ok(w->s, p, va, OP_JMP32) || p[0] == OP_RET;
	return branch_ok(w->s, p, va, OP_CALL32) || same(p, nop5, 5);
}

static bool call_site(const struct view *w, uint64_t va, bool tramp, struct text_change *c)
{
	if (!in_view(w, va, 5))
		return false;
	const uint8_t *p = w->cur + (va - w->base);
	const uint8_t *o = w->old + (va - w->base);
	bool tail = tramp || o[0] == OP_JMP32 || o[0] == OP_RET;
	c->va = va;
	c->len = 5;
	bool ok = call_encoding_ok(w, p, va, tail);
	if (!ok && p[0] == OP_INT3) { /* mid-patch: the old tail, or a new one */
		static const uint8_t firsts[] = {OP_CALL32, OP_JMP32, 0x0F /* nop5 */};
		uint8_t q[5];
		memcpy(q, p, 5);
		ok = same(q + 1, o + 1, 4);
		for (size_t f = 0; f < sizeof(firsts) && !ok; f++) {
			q[0] = firsts[f];
			ok = call_encoding_ok(w, q, va, tail);
		}
	}
	c->kind = ok ? TEXT_STATIC_CALL : TEXT_OTHER;
	return true;
}

/* The change that covers the differing byte at va (site kinds first). */
static struct text_change classify(const struct view *w, uint64_t va, uint64_t run_end)
{
	struct text_change c;
	const struct text_sites *s = w->s;
	long j = jump_at_or_before(s, va);
	if (j >= 0 && va - s->jumps[j].code < 5 && jump_site(w, &s->jumps[j], &c) &&
	    va < c.va + c.len)
		return c;
	long k = call_at_or_before(s, va);
	if (k >= 0 && va - s->calls[k] < 5 && call_site(w, s->calls[k], false, &c))
		return c;
	if (va >= s->tramp_start && va < s->tramp_end) {
		uint64_t slot = s->tramp_start + ((va - s->tramp_start) & ~7ull);
		if (va - slot < 5 && call_site(w, slot, true, &c))
			return c;
	}
	const uint8_t *p = w->cur + (va - w->base), *o = w->old + (va - w->base);
	c.va = va;
	c.len = (uint32_t)(run_end - va);
	c.kind = TEXT_OTHER;
	if (c.len == 1 && p[0] == OP_INT3)
		c.kind = TEXT_KPROBE;
	else if (in_view(w, va, 5) && c.len <= 5 && same(o, nop5, 5) &&
		 (branch_ok(s, p, va, OP_CALL32) || (p[0] == OP_INT3 && c.len <= 5)))
		c = (struct text_change){va, 5, TEXT_FTRACE};
	return c;
}

/* The first offset in [i, to) where old and cur differ, or to. The aligned bulk is one
 * REPE CMPSQ (SDM Vol. 2A CMPS: compares quadwords at RSI and RDI, RCX times, stopping
 * after the first that differs; the monitor runs with RFLAGS.DF clear, SDM Vol. 3C 28.5.3):
 * the text is compared in full before every operation, and under emulation a string
 * instruction costs a fraction of a loop of loads. */
static size_t next_difference(const uint8_t *old, const uint8_t *cur, size_t i, size_t to)
{
	while (i < to && ((uintptr_t)(cur + i) & 7) != 0 && old[i] == cur[i])
		i++;
	size_t words = i < to ? (to - i) / 8 : 0;
	if (words > 0) {
		const uint8_t *a = old + i, *b = cur + i;
		size_t left = words;
		__asm__ volatile("repe cmpsq" : "+S"(a), "+D"(b), "+c"(left) : : "memory", "cc");
		size_t done = words - left; /* compared, the differing one included */
		uint64_t x, y;
		__builtin_memcpy(&x, old + i + (done - 1) * 8, 8);
		__builtin_memcpy(&y, cur + i + (done - 1) * 8, 8);
		i += (x == y ? done : done - 1) * 8;
	}
	while (i < to && old[i] == cur[i])
		i++;
	return i;
}

size_t text_diff(const struct text_sites *s, const uint8_t *old, const uint8_t *cur, uint64_t base,
		 size_t size, size_t from, size_t to, struct text_change *out, size_t max,
		 size_t *next)
{
	const struct view w = {s, old, cur, base, size};
	size_t count = 0, i = from;
	if (to > size)
		to = size;
	*next = to;
	while ((i = next_difference(old, cur, i, to)) < to) {
		size_t end = i;
		while (end < size && old[end] != cur[end])
			end++;
		struct text_change c = classify(&w, base + i, base + end);
		uint64_t after = c.va + c.len;
		i = after > base + i ? (size_t)(after - base) : i + 1;
		if (count < max) {
			out[count] = c;
			if (i > *next || count + 1 == max)
				*next = i;
		}
		count++;
	}
	return count;
}
