/* SPDX-License-Identifier: MIT */
#include "core/log.h"

#include <stdarg.h>

#include "console/console.h"
#include "lib/fmt.h"
#include "x86/cpu.h"

void log_printf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	console_write(buf, (unsigned int)n < sizeof(buf) ? (unsigned int)n : sizeof(buf) - 1);
}

void log_halt(const char *why)
{
	log_printf("ctrvisor: halted: %s\r\n", why);
	console_flush_blocking();
	for (;;) {
		cli();
		hlt();
	}
}
