/* libFuzzer: bytes arriving on the monitor console. Whatever arrives, every request gets
 * exactly one well-formed status line, and nothing reads or writes out of bounds. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "console/cmd.h"
#include "console/line.h"
#include "console/proto.h"

struct capture {
	char buf[8192];
	size_t len;
};

static void sink(void *ctx, const char *s, size_t n)
{
	struct capture *c = ctx;
	size_t room = sizeof(c->buf) - 1 - c->len;
	if (n > room)
		n = room;
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = 0;
}

static int verb_echo(struct reply *r, int argc, char **argv)
{
	static const char *const allowed[] = {"--json", 0};
	if (cmd_expect_only_flags(r, argc, argv, allowed) < 0)
		return -1;
	reply_printf(r, "{\"argc\":%d,\"first\":", argc);
	reply_json_string(r, argv[0]);
	reply_line(r, "}");
	return 0;
}

static int verb_fail(struct reply *r, int argc, char **argv)
{
	(void)argc;
	return reply_fail(r, PROTO_FAILED, "failed on %s", argv[0]);
}

static const struct cmd_verb verbs[] = {
	{"echo", "echo [--json]", "echo", verb_echo},
	{"fail", "fail", "always fails", verb_fail},
};

/* Exactly one status line, and it is the last line. */
static void check_reply(const struct capture *c)
{
	int status_lines = 0;
	const char *line = c->buf;
	while (*line) {
		const char *end = strstr(line, "\r\n");
		assert(end != NULL); /* every line is terminated */
		char one[512] = {0};
		size_t n = (size_t)(end - line) < sizeof(one) - 1 ? (size_t)(end - line)
								  : sizeof(one) - 1;
		memcpy(one, line, n);
		struct proto_status st;
		if (proto_parse_status(one, &st)) {
			status_lines++;
			assert(end[2] == 0);
		}
		line = end + 2;
	}
	assert(status_lines == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct line_state ls;
	line_init(&ls);
	for (size_t i = 0; i < size; i++) {
		enum line_event ev = line_feed(&ls, data[i]);
		if (ev == LINE_NONE)
			continue;
		struct capture c = {.len = 0};
		struct reply r;
		reply_init(&r, sink, &c);
		if (ev == LINE_READY)
			cmd_dispatch(verbs, 2, ls.buf, &r);
		else
			cmd_report_line_event(ev, &ls, &r);
		check_reply(&c);
	}
	return 0;
}
