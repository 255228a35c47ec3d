/* SPDX-License-Identifier: MIT */
/* Freestanding memory and string functions for the core and the loader. GCC may also emit
 * calls to memcpy/memset/memmove/memcmp on its own, so these exact names are required. The
 * loader takes memcpy and memset from gnu-efi's libefi (its init.o defines them), the rest
 * from here. */
#include "lib/string.h"

#include <stdint.h>

/* The bulk of memcpy and memset is one REP MOVSQ / REP STOSQ and the rest one REP MOVSB /
 * REP STOSB (SDM Vol. 2B MOVS, STOS: RCX times, upward while RFLAGS.DF is clear, as it is
 * in the monitor (SDM Vol. 3C 28.5.3) and in a System V process). Under emulation a string
 * instruction costs a fraction of a loop of byte moves, and these run in every VM exit
 * that reads the guest. */
static void copy_up(void *dst, const void *src, size_t n)
{
	size_t words = n / 8, bytes = n % 8;
	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(bytes) : : "memory");
}

#ifndef HV_LOADER
void *memcpy(void *dst, const void *src, size_t n)
{
	copy_up(dst, src, n);
	return dst;
}
#endif

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d == s || n == 0)
		return dst;
	if (d + n <= s || s + n <= d) {
		copy_up(dst, src, n); /* apart */
	} else if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		d += n;
		s += n;
		while (n--)
			*--d = *--s;
	}
	return dst;
}

#ifndef HV_LOADER
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / 8, bytes = n % 8;
	uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
	return dst;
}
#endif

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	/* a word at a time up to the first word that differs, then bytes */
	for (; n >= 8; n -= 8, x += 8, y += 8) {
		uint64_t p, q;
		__builtin_memcpy(&p, x, 8);
		__builtin_memcpy(&q, y, 8);
		if (p != q)
			break;
	}
	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x < *y ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}
