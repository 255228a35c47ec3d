/* SPDX-License-Identifier: MIT */
#include "core/log.h"

#include <stdarg.h>

#include "console/console.h"
#include "console/proto.h"
#include "lib/fmt.h"
#include "x86/cpu.h"

void log_printf(const char *fmt, ...)
{
	char text[512], line[768];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = proto_format_log(line, sizeof(line), text,
				      (unsigned int)n < sizeof(text) ? (unsigned int)n
								     : sizeof(text) - 1);
	console_log(line, len);
}

void log_halt(const char *why)
{
	log_printf("ctrvisor: halted: %s\r\n", why);
	console_log_now();
	console_flush_blocking();
	for (;;) {
		cli();
		hlt();
	}
}
