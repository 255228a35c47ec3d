/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648 §4, with padding), for files on the text-only console: the monitor
 * and hvctl share it. Freestanding. */
#ifndef HV_LIB_BASE64_H
#define HV_LIB_BASE64_H

#include <stddef.h>
#include <stdint.h>

#define BASE64_LEN(n) ((((n) + 2u) / 3u) * 4u)

/* Writes BASE64_LEN(n) characters (no NUL) to out; returns that length. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* Decodes len characters (a multiple of 4, '=' only at the end) into out (cap bytes);
 * the decoded length, or -1 on a bad character, bad padding or too small cap. */
long base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
