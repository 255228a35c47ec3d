/* SPDX-License-Identifier: MIT */
/*
 * Compressed reply bodies (docs/console-protocol.md, "Compressed replies"). A request that
 * starts with `+deflate` gets its body through deflate in the zlib format (RFC 1950/1951:
 * its Adler-32 checks the whole body; zlib's compressor built for the core by
 * tools/build-zlib.sh), written as body lines "~" followed by the base64 of up to
 * ZBODY_LINE_BYTES bytes of the stream; the status line stays plain text. An empty body
 * sends nothing.
 *
 * One stream at a time (the console answers one request at a time; a request that comes
 * while a reply is made is answered busy, with no body): owned by the console, that is by
 * the boot CPU's exits. Its memory is a fixed arena; work per call is bounded by the bytes
 * passed in.
 */
#ifndef HV_CONSOLE_ZBODY_H
#define HV_CONSOLE_ZBODY_H

#include <stdbool.h>
#include <stddef.h>

#define ZBODY_LINE_BYTES 768u /* stream bytes per body line: 1024 base64 characters */
/* deflate's settings: a window of 2^13 bytes (8 KiB), memLevel 7, level 6 */
#define ZBODY_WINDOW_BITS 13
#define ZBODY_MEM_LEVEL   7
#define ZBODY_LEVEL       6

typedef void (*zbody_out_fn)(void *ctx, const char *s, size_t n);

/* Starts a stream; false (the body then goes plain) when one is already open or deflate
 * cannot start. */
bool zbody_begin(void);
/* Body bytes into the stream; whole lines of the stream go to out. */
void zbody_write(const char *s, size_t n, zbody_out_fn out, void *ctx);
/* Everything taken so far out (a sync flush: the client can inflate it now). */
void zbody_flush(zbody_out_fn out, void *ctx);
/* The stream's end, out; the stream is closed. */
void zbody_end(zbody_out_fn out, void *ctx);
/* The stream is closed with nothing more written (a cancelled or cut reply). */
void zbody_abort(void);

/* Counters for status: streams, bytes in, bytes out (the stream's, before base64). */
struct zbody_stats {
	unsigned long long streams, bytes_in, bytes_out;
};
const struct zbody_stats *zbody_stats(void);

#endif
