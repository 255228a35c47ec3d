/* SPDX-License-Identifier: MIT */
/* Messages from the monitor itself on its console (not replies to requests). */
#ifndef HV_CORE_LOG_H
#define HV_CORE_LOG_H

void log_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report, flush, and stop this CPU for good: for states the monitor cannot go on from. */
__attribute__((noreturn)) void log_halt(const char *why);

#endif
