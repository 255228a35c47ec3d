/* Freestanding printf-style formatting (see fmt.h for what it supports and why). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/fmt.h"

/* Padding is emitted from these instead of a filled buffer: a fill loop could be turned
 * into a memset call, and the core should not depend on that for printing. */
static const char fmt_spaces[] = "                ";
static const char fmt_zeros[] = "0000000000000000";

struct fmt_out {
	fmt_sink sink;
	void *ctx;
	uint64_t total;
};

struct fmt_spec {
	bool left;     /* '-' */
	bool zero;     /* '0' */
	bool plus;     /* '+' */
	bool space;    /* ' ' */
	bool alt;      /* '#' */
	bool has_prec; /* a precision was given (a negative '*' precision counts as none) */
	uint32_t width;
	uint32_t prec;
};

static void fmt_emit(struct fmt_out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	o->sink(o->ctx, s, n);
	o->total += n;
}

static void fmt_pad(struct fmt_out *o, const char *block, size_t n)
{
	const size_t step = sizeof(fmt_spaces) - 1;

	while (n > 0) {
		size_t k = n < step ? n : step;
		fmt_emit(o, block, k);
		n -= k;
	}
}

/* Length of s, reading at most max bytes: "%.3s" may point at an unterminated array. */
static size_t fmt_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

/* len bytes of s, padded with spaces to the width. */
static void fmt_chars(struct fmt_out *o, const char *s, size_t len, const struct fmt_spec *sp)
{
	size_t padding = sp->width > len ? sp->width - len : 0;

	if (!sp->left)
		fmt_pad(o, fmt_spaces, padding);
	fmt_emit(o, s, len);
	if (sp->left)
		fmt_pad(o, fmt_spaces, padding);
}

/* One integer conversion. `prefix` is the sign or "0x" (at most 2 bytes). */
static void fmt_integer(struct fmt_out *o, uint64_t v, const char *prefix, uint32_t base,
			bool upper, const struct fmt_spec *sp)
{
	const char *digit_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char digits[24]; /* 2^64 has 20 decimal digits, 16 hex digits */
	size_t nd = 0, np = fmt_strnlen(prefix, 2), nz, body, padding;

	while (v != 0) {
		digits[sizeof(digits) - 1 - nd++] = digit_set[v % base];
		v /= base;
	}
	/* C99 7.19.6.1: the default precision is 1; "%.0d" of zero prints no digits. */
	if (nd == 0 && !(sp->has_prec && sp->prec == 0))
		digits[sizeof(digits) - 1 - nd++] = '0';

	nz = sp->has_prec && sp->prec > nd ? sp->prec - nd : 0;
	body = np + nz + nd;
	padding = sp->width > body ? sp->width - body : 0;

	/* C99: the '0' flag is ignored with '-' or with a precision. */
	if (sp->zero && !sp->left && !sp->has_prec) {
		nz += padding;
		padding = 0;
	}
	if (!sp->left)
		fmt_pad(o, fmt_spaces, padding);
	fmt_emit(o, prefix, np);
	fmt_pad(o, fmt_zeros, nz);
	fmt_emit(o, digits + sizeof(digits) - nd, nd);
	if (sp->left)
		fmt_pad(o, fmt_spaces, padding);
}

enum fmt_length { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_J, LEN_T };

/* Parses a decimal number at *p; saturates instead of overflowing on absurd widths. */
static uint32_t fmt_number(const char **p)
{
	uint32_t n = 0;

	while (**p >= '0' && **p <= '9') {
		uint32_t d = (uint32_t)(**p - '0');
		n = n > (UINT32_MAX - d) / 10u ? UINT32_MAX : n * 10u + d;
		(*p)++;
	}
	return n;
}

int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct fmt_out o = {.sink = sink, .ctx = ctx, .total = 0};
	const char *p = fmt;
	va_list args;

	va_copy(args, ap);
	while (*p != '\0') {
		const char *start = p;
		struct fmt_spec sp = {0};
		enum fmt_length len = LEN_NONE;
		char conv_char;

		while (*p != '\0' && *p != '%')
			p++;
		fmt_emit(&o, start, (size_t)(p - start));
		if (*p == '\0')
			break;
		start = p++; /* the '%' */

		for (;; p++) {
			if (*p == '-')
				sp.left = true;
			else if (*p == '0')
				sp.zero = true;
			else if (*p == '+')
				sp.plus = true;
			else if (*p == ' ')
				sp.space = true;
			else if (*p == '#')
				sp.alt = true;
			else
				break;
		}
		if (*p == '*') {
			int w = va_arg(args, int);
			p++;
			/* C99: a negative '*' width is the '-' flag and a positive width. */
			if (w < 0) {
				sp.left = true;
				sp.width = (uint32_t)0 - (uint32_t)w;
			} else {
				sp.width = (uint32_t)w;
			}
		} else {
			sp.width = fmt_number(&p);
		}
		if (*p == '.') {
			p++;
			sp.has_prec = true;
			if (*p == '*') {
				int pr = va_arg(args, int);
				p++;
				/* C99: a negative '*' precision is taken as if it were omitted. */
				sp.has_prec = pr >= 0;
				sp.prec = pr >= 0 ? (uint32_t)pr : 0;
			} else {
				sp.prec = fmt_number(&p);
			}
		}

		if (p[0] == 'h' && p[1] == 'h') {
			len = LEN_HH;
			p += 2;
		} else if (p[0] == 'l' && p[1] == 'l') {
			len = LEN_LL;
			p += 2;
		} else if (*p == 'h') {
			len = LEN_H;
			p++;
		} else if (*p == 'l') {
			len = LEN_L;
			p++;
		} else if (*p == 'z') {
			len = LEN_Z;
			p++;
		} else if (*p == 'j') {
			len = LEN_J;
			p++;
		} else if (*p == 't') {
			len = LEN_T;
			p++;
		}

		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v;
			uint64_t mag;
			const char *sign = "";

			switch (len) {
			case LEN_HH:
				v = (signed char)va_arg(args, int);
				break;
			case LEN_H:
				v = (short)va_arg(args, int);
				break;
			case LEN_L:
				v = va_arg(args, long);
				break;
			case LEN_LL:
			case LEN_J:
				v = va_arg(args, long long);
				break;
			case LEN_Z:
			case LEN_T:
				v = va_arg(args, ptrdiff_t);
				break;
			default:
				v = va_arg(args, int);
				break;
			}
			/* Negate in unsigned arithmetic: -INT64_MIN does not exist. */
			mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			if (v < 0)
				sign = "-";
			else if (sp.plus)
				sign = "+";
			else if (sp.space)
				sign = " ";
			fmt_integer(&o, mag, sign, 10, false, &sp);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v;
			const char *prefix = "";

			switch (len) {
			case LEN_HH:
				v = (unsigned char)va_arg(args, unsigned int);
				break;
			case LEN_H:
				v = (unsigned short)va_arg(args, unsigned int);
				break;
			case LEN_L:
				v = va_arg(args, unsigned long);
				break;
			case LEN_LL:
			case LEN_J:
				v = va_arg(args, unsigned long long);
				break;
			case LEN_Z:
			case LEN_T:
				v = va_arg(args, size_t);
				break;
			default:
				v = va_arg(args, unsigned int);
				break;
			}
			if (*p == 'u') {
				fmt_integer(&o, v, "", 10, false, &sp);
				break;
			}
			/* C99: '#' adds 0x/0X only to a nonzero value. */
			if (sp.alt && v != 0)
				prefix = *p == 'X' ? "0X" : "0x";
			fmt_integer(&o, v, prefix, 16, *p == 'X', &sp);
			break;
		}
		case 'p':
			fmt_integer(&o, (uint64_t)(uintptr_t)va_arg(args, void *), "0x", 16, false,
				    &sp);
			break;
		case 's': {
			const char *s = va_arg(args, const char *);

			if (s == NULL)
				s = "(null)";
			fmt_chars(&o, s, fmt_strnlen(s, sp.has_prec ? sp.prec : SIZE_MAX), &sp);
			break;
		}
		case 'c':
			conv_char = (char)va_arg(args, int);
			fmt_chars(&o, &conv_char, 1, &sp);
			break;
		case '%':
			fmt_emit(&o, "%", 1);
			break;
		case '\0':
			/* A lone '%' at the end: print it rather than read past the string. */
			fmt_emit(&o, start, (size_t)(p - start));
			continue;
		default:
			/* Unknown conversion: show it verbatim so the mistake is visible. */
			fmt_emit(&o, start, (size_t)(p - start) + 1);
			break;
		}
		p++;
	}
	va_end(args);
	return o.total > (uint64_t)INT32_MAX ? INT32_MAX : (int)o.total;
}

struct fmt_buf {
	char *buf;
	size_t cap; /* room for text, the NUL excluded */
	size_t len;
};

static void fmt_buf_sink(void *ctx, const char *s, size_t n)
{
	struct fmt_buf *b = ctx;
	size_t room = b->cap - b->len;
	size_t k = n < room ? n : room;

	for (size_t i = 0; i < k; i++)
		b->buf[b->len + i] = s[i];
	b->len += k;
}

int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap)
{
	struct fmt_buf b = {.buf = buf, .cap = cap > 0 ? cap - 1 : 0, .len = 0};
	int n = fmt_vformat(fmt_buf_sink, &b, fmt, ap);

	if (cap > 0)
		buf[b.len] = '\0';
	return n;
}

int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	return n;
}

int fmt_fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}
