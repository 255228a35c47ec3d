/* SPDX-License-Identifier: MIT */
/* Bytes as lower-case hex and back, and the wiping of secrets: the channel's keys in the
 * core, the loader and hvctl (header only: each side compiles it in). Freestanding. */
#ifndef HV_LIB_HEX_H
#define HV_LIB_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "lib/ctype.h"

/* n bytes into 2n hex digits and a NUL (out: 2n + 1 bytes). */
static inline void hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Exactly 2n hex digits (either case) of len into n bytes. 0, or -1 (the index of the bad
 * digit in *bad_at when bad_at is not NULL; len != 2n: -1 with *bad_at = len). */
static inline int hex_decode(const char *in, size_t len, uint8_t *out, size_t n, size_t *bad_at)
{
	if (len != 2 * n) {
		if (bad_at != NULL)
			*bad_at = len;
		return -1;
	}
	for (size_t i = 0; i < 2 * n; i += 2) {
		int hi = hex_digit_value(in[i]), lo = hex_digit_value(in[i + 1]);
		if (hi < 0 || lo < 0) {
			if (bad_at != NULL)
				*bad_at = hi < 0 ? i : i + 1;
			return -1;
		}
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Clears a secret so the compiler cannot drop the stores as dead. */
static inline void mem_wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = 0;
}

#endif
