/* hvctl events --follow (events.h). */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FOLLOW_INTERVAL_US 1000000u
#define EVENTS_PER_REPLY   64u                  /* the monitor's (hv/console/verbs_events.c) */
#define SINCE_NEWEST       99999999999999999ull /* past any event: the reply says the newest */

bool hvctl_events_is_follow(int argc, char **argv, int first)
{
	if (first >= argc || strcmp(argv[first], "events") != 0)
		return false;
	for (int i = first + 1; i < argc; i++)
		if (strcmp(argv[i], "--follow") == 0 || strcmp(argv[i], "-f") == 0)
			return true;
	return false;
}

int hvctl_events_split(const char *body, void (*emit)(void *ctx, const char *obj, size_t len),
		       void *ctx, unsigned long long *next_since)
{
	const char *p = strstr(body, "{\"events\":["), *ns;
	char *end;

	if (p == NULL || (ns = strstr(body, "\"next_since\":")) == NULL)
		return -1;
	*next_since = strtoull(ns + strlen("\"next_since\":"), &end, 10);
	p += strlen("{\"events\":[");
	/* each element is an object: split at depth 0, minding strings and escapes */
	while (*p == '{') {
		const char *start = p;
		int depth = 0;
		bool in_str = false;
		for (; *p != '\0'; p++) {
			if (in_str) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					in_str = false;
			} else if (*p == '"') {
				in_str = true;
			} else if (*p == '{') {
				depth++;
			} else if (*p == '}' && --depth == 0) {
				p++;
				break;
			}
		}
		if (depth != 0)
			return -1;
		emit(ctx, start, (size_t)(p - start));
		if (*p == ',')
			p++;
	}
	return *p == ']' ? 0 : -1;
}

/* Prints one event's line unless --count is reached (ctx: struct shown). */
struct shown {
	unsigned long long n, limit; /* limit 0: none */
};

static bool room(const struct shown *s)
{
	return s->limit == 0 || s->n < s->limit;
}

static void print_line(void *ctx, const char *obj, size_t len)
{
	struct shown *s = ctx;

	if (!room(s))
		return;
	fwrite(obj, 1, len, stdout);
	fputc('\n', stdout);
	s->n++;
}

/* The text reply ends with "next: events --since N". */
static int text_next(const char *body, unsigned long long *next_since)
{
	const char *k = "next: events --since ", *p = body, *last = NULL;

	while ((p = strstr(p, k)) != NULL)
		last = p++;
	if (last == NULL)
		return -1;
	*next_since = strtoull(last + strlen(k), NULL, 10);
	return 0;
}

int hvctl_events_follow(struct conn *c, struct reader *rd, int argc, char **argv, int first,
			double timeout_s)
{
	bool json = false;
	unsigned long long since = SINCE_NEWEST;
	struct shown shown = {0, 0};
	char req[96];

	for (int i = first + 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			char *end;
			since = strtoull(argv[++i], &end, 10);
			if (*end != '\0' || argv[i][0] == '\0' || argv[i][0] == '-') {
				fprintf(stderr, "hvctl: --since takes an event number\n");
				return HVCTL_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
			char *end;
			shown.limit = strtoull(argv[++i], &end, 10);
			if (*end != '\0' || shown.limit == 0 || argv[i][0] == '-') {
				fprintf(stderr,
					"hvctl: --count takes a number of events (1 or more)\n");
				return HVCTL_EXIT_USAGE;
			}
		} else if (strcmp(argv[i], "--follow") != 0 && strcmp(argv[i], "-f") != 0) {
			fprintf(stderr, "hvctl: usage: events --follow [--since SEQ] [--count N] "
					"[--json]\n");
			return HVCTL_EXIT_USAGE;
		}
	}
	for (;;) {
		char *body = NULL;
		size_t len = 0;
		unsigned long long next = since;

		snprintf(req, sizeof(req), "events --since %llu%s", since, json ? " --json" : "");
		int rc = hvctl_request_body(c, rd, req, timeout_s, &body, &len);
		if (rc != HVCTL_EXIT_OK) {
			free(body);
			return rc;
		}
		const char *b = body != NULL ? body : "";
		int parsed;
		if (json) {
			parsed = hvctl_events_split(b, print_line, &shown, &next);
		} else {
			parsed = text_next(b, &next);
			/* every line but the trailer ("next: ...") */
			for (const char *l = b; parsed == 0 && *l != '\0' && room(&shown);) {
				const char *nl = strchr(l, '\n');
				size_t n = nl != NULL ? (size_t)(nl - l + 1) : strlen(l);
				if (strncmp(l, "next: ", 6) != 0) {
					fwrite(l, 1, n, stdout);
					shown.n += l[0] ==
						   '#'; /* an event; "(N events lost)" is not */
				}
				l += n;
			}
		}
		free(body);
		if (parsed != 0) {
			fprintf(stderr, "hvctl: the monitor's events reply is not understood\n");
			return HVCTL_EXIT_ERROR_REPLY;
		}
		fflush(stdout);
		if (!room(&shown))
			return HVCTL_EXIT_OK;
		/* a full batch: there may be more at once */
		bool more = since != SINCE_NEWEST && next >= since + EVENTS_PER_REPLY;
		since = next;
		if (!more)
			usleep(FOLLOW_INTERVAL_US);
		if (conn_interrupted) /* Ctrl-C between two requests (in one: request.c) */
			return HVCTL_EXIT_INTERRUPTED;
	}
}
