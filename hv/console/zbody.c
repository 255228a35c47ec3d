/* SPDX-License-Identifier: MIT */
/* Compressed reply bodies through zlib's deflate, in the zlib format (console/zbody.h). */
#include "console/zbody.h"

#include <stdint.h>

#ifdef HV_CORE
#define Z_SOLO /* zlib as tools/build-zlib.sh builds it: no libc */
#endif
#include <zlib.h>

#include "lib/base64.h"

/* deflate's memory for these settings, in a fixed arena (zlib's zalloc below): the state,
 * a window of 2 * 2^13, prev 2 * 2^13, head 2 * 2^14, the pending buffer 4 * 2^13. */
#define ZBODY_ARENA (144u * 1024u)

static struct {
	bool open;
	z_stream z;
	uint8_t out[ZBODY_LINE_BYTES]; /* the stream's bytes of the line being filled */
	size_t arena_used;
	struct zbody_stats stats;
} zb;
static uint8_t arena[ZBODY_ARENA] __attribute__((aligned(16)));

static voidpf arena_alloc(voidpf opaque, uInt items, uInt size)
{
	(void)opaque;
	uint64_t n = ((uint64_t)items * size + 15u) & ~(uint64_t)15u;
	if (n > ZBODY_ARENA - zb.arena_used)
		return Z_NULL; /* deflateInit2 then fails: the body goes plain */
	void *p = arena + zb.arena_used;
	zb.arena_used += (size_t)n;
	return p;
}

static void arena_free(voidpf opaque, voidpf address)
{
	(void)opaque;
	(void)address; /* the whole arena is taken back at the next zbody_begin */
}

bool zbody_begin(void)
{
	if (zb.open)
		return false;
	zb.arena_used = 0;
	zb.z = (z_stream){.zalloc = arena_alloc, .zfree = arena_free, .opaque = Z_NULL};
	/* the zlib format (RFC 1950): its Adler-32 of the whole body lets the client tell a
	 * stream with a piece missing from a whole one (a sync flush ends every step, so the
	 * pieces decode on their own) */
	if (deflateInit2(&zb.z, ZBODY_LEVEL, Z_DEFLATED, ZBODY_WINDOW_BITS, ZBODY_MEM_LEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	zb.z.next_out = zb.out;
	zb.z.avail_out = sizeof(zb.out);
	zb.open = true;
	zb.stats.streams++;
	return true;
}

/* The stream bytes of the line being filled, as one body line. */
static void emit_line(zbody_out_fn out, void *ctx)
{
	size_t n = sizeof(zb.out) - zb.z.avail_out;
	char line[1 + (ZBODY_LINE_BYTES + 2) / 3 * 4 + 2];
	if (n == 0)
		return;
	line[0] = '~';
	size_t len = 1 + base64_encode(zb.out, n, line + 1);
	line[len++] = '\r';
	line[len++] = '\n';
	out(ctx, line, len);
	zb.stats.bytes_out += n;
	zb.z.next_out = zb.out;
	zb.z.avail_out = sizeof(zb.out);
}

/* deflate with `flush` until it has taken all input (and, for a flush, given all out):
 * each full line out as it fills. */
static void run(int flush, zbody_out_fn out, void *ctx)
{
	/* Each round that goes on has filled a line: the rounds are bounded by the lines
	 * the input (and what deflate held) makes. */
	for (;;) {
		int rc = deflate(&zb.z, flush);
		if (zb.z.avail_out == 0) {
			emit_line(out, ctx);
			continue;
		}
		if (rc == Z_STREAM_ERROR || zb.z.avail_in == 0 || rc == Z_STREAM_END)
			break;
	}
}

void zbody_write(const char *s, size_t n, zbody_out_fn out, void *ctx)
{
	if (!zb.open || n == 0)
		return;
	zb.z.next_in = (Bytef *)(uintptr_t)s;
	zb.z.avail_in = (uInt)n;
	zb.stats.bytes_in += n;
	run(Z_NO_FLUSH, out, ctx);
	zb.z.next_in = Z_NULL;
}

void zbody_flush(zbody_out_fn out, void *ctx)
{
	if (!zb.open || zb.z.total_in == 0)
		return;
	run(Z_SYNC_FLUSH, out, ctx);
	emit_line(out, ctx);
}

void zbody_end(zbody_out_fn out, void *ctx)
{
	if (!zb.open)
		return;
	if (zb.z.total_in == 0) { /* no body: nothing at all, as a plain reply */
		zbody_abort();
		return;
	}
	run(Z_FINISH, out, ctx);
	emit_line(out, ctx);
	zbody_abort();
}

void zbody_abort(void)
{
	if (!zb.open)
		return;
	deflateEnd(&zb.z);
	zb.open = false;
}

const struct zbody_stats *zbody_stats(void)
{
	return &zb.stats;
}
