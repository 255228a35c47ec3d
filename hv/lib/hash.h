/* SPDX-License-Identifier: MIT */
#ifndef HV_LIB_HASH_H
#define HV_LIB_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV1A64_PRIME        0x100000001b3ull

/* FNV-1a, 64 bit: cheap, freestanding, and reproducible by the guest-side probe. Not a
 * cryptographic hash: used to show *which* bytes were seen, not to authenticate. */
static inline uint64_t fnv1a64(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = FNV1A64_OFFSET_BASIS;
	while (n--) {
		h ^= *p++;
		h *= FNV1A64_PRIME;
	}
	return h;
}

#endif
