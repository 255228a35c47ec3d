/* SPDX-License-Identifier: MIT */
/*
 * What happened, as it happened (issue 9, item 6): the kernel-protection alerts and a
 * record of every management operation, in one ring that `events` reads from any point
 * (docs/console-protocol.md, "events"). Like `docker events`, a client follows it by
 * asking again for what came after the last event it saw, so the console's request/reply
 * framing never changes.
 *
 * Owner: the ring is written and read only at VM exits, under the exit lock
 * (core/cpus.h), so at most one CPU touches it at a time. Freestanding (the host tests
 * run it as it is).
 */
#ifndef HV_CORE_EVENTS_H
#define HV_CORE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#define EVENTS_KEPT       256u /* the ring: older events are counted as lost to a late reader */
#define EVENT_NAME_MAX    24u
#define EVENT_TEXT_MAX    200u
#define EVENT_SUBJECT_MAX 65u

enum event_type {
	EVENT_ALERT, /* kernel protection (protect/protect.h): name = the alert's kind */
	EVENT_OP,    /* a management operation ended: name = the verb */
};

struct event {
	uint64_t seq;                    /* 1, 2, ...: events recorded since start */
	uint64_t ms;                     /* monitor uptime when recorded */
	uint8_t type;                    /* enum event_type */
	uint32_t cpu;                    /* where it was recorded */
	char name[EVENT_NAME_MAX];       /* "text", "pause", ... */
	char status[EVENT_NAME_MAX];     /* alert: blocked/repaired/...; op: ok/failed/refused */
	char subject[EVENT_SUBJECT_MAX]; /* a container's name, or "" */
	char text[EVENT_TEXT_MAX];       /* what, in a line of printable text */
};

extern const char *const event_type_names[2];

/* Records one event at monitor uptime `ms` (text is made printable: other bytes become
 * '?'). */
void events_record(enum event_type type, uint64_t ms, uint32_t cpu, const char *name,
		   const char *status, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* The events with seq > since, oldest first, at most cap: returns how many were copied;
 * *lost: how many after `since` the ring no longer holds; *last: the newest seq (0: none
 * yet). */
size_t events_since(uint64_t since, struct event *out, size_t cap, uint64_t *lost, uint64_t *last);

#endif
