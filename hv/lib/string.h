/* SPDX-License-Identifier: MIT */
/* The few C library string/memory functions the freestanding code uses. In the core they
 * come from lib/string.c; in host builds from the C library; in the loader memcpy and
 * memset from libefi, the rest from lib/string.c. */
#ifndef HV_LIB_STRING_H
#define HV_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

#endif
