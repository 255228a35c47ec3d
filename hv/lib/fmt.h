/* Freestanding printf-style formatting for the core, the console and host tools.
 *
 * Conversions: %s %c %d %i %u %x %X %p %%; length modifiers hh h l ll z j t;
 * flags '-' and '0'; width (number or '*'); precision (number or '*') for %s and the
 * integer conversions, with C99 meaning. No floating point: the core is built with
 * -mgeneral-regs-only. Differences from C99, on purpose:
 *   - %s with NULL prints "(null)" (as glibc does) instead of being undefined;
 *   - %p prints "0x" and lowercase hex, also for NULL ("0x0"): physical address 0 is a
 *     real address to a hypervisor, so it is not hidden behind "(nil)";
 *   - an unknown conversion is printed as it was written ("%q"), never skipped.
 */
#ifndef HV_LIB_FMT_H
#define HV_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Receives the formatted text in pieces; n > 0, s is not NUL-terminated. */
typedef void (*fmt_sink)(void *ctx, const char *s, size_t n);

/* Formats to `sink` and returns the number of bytes produced (saturated at INT_MAX). */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* C99 vsnprintf: writes at most cap - 1 bytes plus a NUL when cap > 0 and returns the
 * length the whole output would have had, so `ret >= cap` means it was truncated. */
int fmt_vsnprintf(char *buf, size_t cap, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A failure with its reason: the message into why[cap], and -1 to return. */
int fmt_fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
