/* SPDX-License-Identifier: MIT */
/* `events [--since SEQ] [--json]` (docs/console-protocol.md, "events"). */
#include "console/verbs_events.h"

#include "core/events.h"
#include "lib/string.h"

#define EVENTS_PER_REPLY 64u /* a client that is further behind asks again */

static struct event batch[EVENTS_PER_REPLY]; /* owner: the console, at one exit at a time */

static bool parse_seq(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static void event_json(struct reply *r, const struct event *e)
{
	reply_printf(r, "{\"seq\":%llu,\"ms\":%llu,\"type\":\"%s\",\"cpu\":%u,\"name\":",
		     (unsigned long long)e->seq, (unsigned long long)e->ms,
		     event_type_names[e->type], e->cpu);
	reply_json_string(r, e->name);
	reply_printf(r, ",\"status\":");
	reply_json_string(r, e->status);
	reply_printf(r, ",\"subject\":");
	reply_json_string(r, e->subject[0] ? e->subject : NULL);
	reply_printf(r, ",\"text\":");
	reply_json_string(r, e->text);
	reply_printf(r, "}");
}

int verb_events(struct reply *r, int argc, char **argv)
{
	bool json = false;
	uint64_t since = 0, lost, last;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			if (!parse_seq(argv[++i], &since))
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "--since takes an event number (0 or more)");
		} else {
			return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_EVENTS_USAGE);
		}
	}
	size_t n = events_since(since, batch, EVENTS_PER_REPLY, &lost, &last);
	uint64_t next = n > 0 ? batch[n - 1].seq : (since < last ? since : last);
	if (json) {
		reply_printf(r, "{\"events\":[");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				reply_printf(r, ",");
			event_json(r, &batch[i]);
		}
		reply_line(r, "],\"lost\":%llu,\"next_since\":%llu,\"last\":%llu,\"more\":%s}",
			   (unsigned long long)lost, (unsigned long long)next,
			   (unsigned long long)last, next < last ? "true" : "false");
		return 0;
	}
	if (lost > 0)
		reply_line(r, "(%llu events lost: the monitor keeps the last %u)",
			   (unsigned long long)lost, EVENTS_KEPT);
	for (size_t i = 0; i < n; i++) {
		const struct event *e = &batch[i];
		reply_line(r, "#%llu %llu.%03llu s %s %s %s%s%s: %s", (unsigned long long)e->seq,
			   (unsigned long long)(e->ms / 1000), (unsigned long long)(e->ms % 1000),
			   event_type_names[e->type], e->name, e->status, e->subject[0] ? " " : "",
			   e->subject, e->text);
	}
	reply_line(r, "next: events --since %llu", (unsigned long long)next);
	return 0;
}
