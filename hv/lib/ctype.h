/* SPDX-License-Identifier: MIT */
/* Character classes the freestanding parsers share (no locale, ASCII only). */
#ifndef HV_LIB_CTYPE_H
#define HV_LIB_CTYPE_H

/* The value of a hexadecimal digit (either case), or -1. */
static inline int hex_digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
