/* SPDX-License-Identifier: MIT */
/* The events ring (events.h). */
#include "core/events.h"

#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/string.h"

const char *const event_type_names[2] = {"alert", "op"};

static struct event ring[EVENTS_KEPT];
static uint64_t recorded; /* seq of the newest event */

static void printable_copy(char *dst, size_t cap, const char *src)
{
	size_t i;

	for (i = 0; src != NULL && src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (unsigned char)src[i] >= 0x20u && (unsigned char)src[i] < 0x7fu ? src[i]
											 : '?';
	dst[i] = '\0';
}

void events_record(enum event_type type, uint64_t ms, uint32_t cpu, const char *name,
		   const char *status, const char *subject, const char *fmt, ...)
{
	struct event *e = &ring[recorded % EVENTS_KEPT];
	char text[EVENT_TEXT_MAX];
	va_list ap;

	recorded++;
	e->seq = recorded;
	e->ms = ms;
	e->type = (uint8_t)type;
	e->cpu = cpu;
	printable_copy(e->name, sizeof(e->name), name);
	printable_copy(e->status, sizeof(e->status), status);
	printable_copy(e->subject, sizeof(e->subject), subject);
	va_start(ap, fmt);
	fmt_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	printable_copy(e->text, sizeof(e->text), text);
}

size_t events_since(uint64_t since, struct event *out, size_t cap, uint64_t *lost, uint64_t *last)
{
	uint64_t oldest = recorded > EVENTS_KEPT ? recorded - EVENTS_KEPT + 1 : 1;
	uint64_t from = since + 1;
	size_t n = 0;

	*last = recorded;
	*lost = 0;
	if (since >= recorded)
		return 0;
	if (from < oldest) {
		*lost = oldest - from;
		from = oldest;
	}
	for (uint64_t s = from; s <= recorded && n < cap; s++)
		out[n++] = ring[(s - 1) % EVENTS_KEPT];
	return n;
}
