/* hvctl events --follow: the monitor's events as they happen (docs/console-protocol.md,
 * "events"), by asking for what came after the last one seen, once a second. */
#ifndef HVCTL_EVENTS_H
#define HVCTL_EVENTS_H

#include <stdbool.h>

#include "conn.h"
#include "request.h"

/* Is argv[first..argc) an `events` request with --follow? */
bool hvctl_events_is_follow(int argc, char **argv, int first);

/* Follows until the console fails (an enum hvctl_exit), --count N events were shown, or
 * the process is interrupted.
 * Without --since it starts at the newest event (as `docker events`); with --json each
 * event is one line holding its JSON object. */
int hvctl_events_follow(struct conn *c, struct reader *rd, int argc, char **argv, int first,
			double timeout_s);

/* The events of a JSON reply body, one object per line, into out (for tests too);
 * *next_since: the reply's "next_since". Returns 0, or -1 when the body is not such a
 * reply. */
int hvctl_events_split(const char *body, void (*emit)(void *ctx, const char *obj, size_t len),
		       void *ctx, unsigned long long *next_since);

#endif
