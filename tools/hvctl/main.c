/* hvctl: talks to the ctrvisor monitor over its out-of-band console
 * (docs/console-protocol.md, "hvctl"). */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "bootsign.h"
#include "cp.h"
#include "events.h"
#include "lib/ctype.h"
#include "offline.h"
#include "interactive.h"
#include "keys.h"
#include "pair.h"
#include "relay.h"
#include "sign.h"
#include "request.h"

static const char usage_text[] =
	"usage: hvctl [OPTIONS] [VERB [ARGS...]]\n"
	"       hvctl --dump FILE --profile FILE [VERB [ARGS...]]\n"
	"Sends VERB ARGS to the ctrvisor monitor console and prints the reply;\n"
	"without VERB, reads one request per line from stdin (quit or EOF ends).\n"
	"With --dump, runs the introspection verbs (ps, containers, inspect) on a QEMU\n"
	"memory dump instead, with the same output.\n"
	"\n"
	"  --console ADDR   tty device path, tcp:HOST:PORT, unix:PATH, or exec:COMMAND\n"
	"                   (COMMAND's stdin and stdout: a console server's client)\n"
	"                   (default: $HVCTL_CONSOLE)\n"
	"  --relay ADDR     send requests through the relay in the guest instead (hvrelay;\n"
	"                   docs/channel.md): ADDR as for --console; signed by --key, replies\n"
	"                   checked against --pin (default: $HVCTL_RELAY)\n"
	"  --key FILE       the operator's private key, for --relay (hvctl keygen;\n"
	"                   default: $HVCTL_KEY)\n"
	"  --pin FILE       the monitor's key pinned by hvctl pair, for --relay\n"
	"                   (default: $HVCTL_PIN)\n"
	"  --timeout SEC    give up after SEC seconds without a byte of the reply (default 30)\n"
	"  --compress yes|no  ask for compressed reply bodies (default yes; docs/console-\n"
	"                   protocol.md): fewer bytes on a slow line, the same output\n"
	"  --log FILE       append every byte received to FILE (default: $HVCTL_LOG)\n"
	"  --pace-bytes N   write N bytes at a time (default 8)\n"
	"  --pace-us N      pause N microseconds between writes (default 2000; 0: none)\n"
	"  --raw-send STR   first write STR as is (escapes \\xNN \\n \\r \\t \\\\ \\0),\n"
	"                   untagged, without waiting for an answer\n"
	"  --dump FILE      a QEMU dump-guest-memory ELF file instead of a console\n"
	"  --profile FILE   the guest kernel's profile (guest-profiles/RELEASE.json)\n"
	"  -h, --help       this text\n"
	"\n"
	"hvctl cp CONTAINER:/PATH LOCAL and hvctl cp LOCAL CONTAINER:/PATH copy a file\n"
	"(LOCAL - is stdout/stdin) through the monitor's cp and upload verbs.\n"
	"hvctl keygen FILE makes the operator's key pair for the channel (docs/channel.md):\n"
	"FILE the private key (0600), FILE.pub the operator_key line for hv.cfg.\n"
	"hvctl pair FILE pins the monitor's channel key of this boot (read over the console).\n"
	"hvctl --key FILE sign-requests DIR COUNT REQUEST... writes COUNT signed request\n"
	"frames for the next numbers, not sent (for tests that play a hostile relay).\n"
	"hvctl --key FILE embed-key HVBOOT.EFI builds the operator's key into the loader;\n"
	"hvctl --key FILE sign-boot HV.CFG CORE PROFILE|none OUT.SIG signs what it starts\n"
	"(docs/boot-signature.md: the loader then refuses a changed file).\n"
	"\n"
	"Ctrl-C cancels the rest of a reply being sent (the monitor stops making it).\n"
	"Exit status: 0 ok, 1 error reply, 2 usage or local error, 3 no answer or the\n"
	"console could not be opened, 130 interrupted.\n";

struct options {
	const char *console;
	const char *log;
	double timeout_s;
	bool no_compress;
	size_t pace_bytes;
	uint32_t pace_us;
	const char *raw_send;
	const char *dump;
	const char *profile;
	const char *relay, *key, *pin;
	bool pace_given;    /* --pace-bytes or --pace-us */
	bool console_given; /* --console on the command line (not from the environment) */
	int first_word;     /* index in argv of the verb; argc when none */
};

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "hvctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(hvctl --help tells the options)\n");
	return HVCTL_EXIT_USAGE;
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* 0 on success, else an exit status (-1: --help was printed, exit 0). */
static int parse_options(int argc, char **argv, struct options *o)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		const char *eq;
		char name[32];
		unsigned long n;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return -1;
		}
		if (strncmp(a, "--", 2) != 0)
			break; /* the verb: everything from here on is the request */

		eq = strchr(a, '=');
		if (eq != NULL) {
			snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
			val = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", a);
		}
		if (strcmp(name, "--console") != 0 && strcmp(name, "--timeout") != 0 &&
		    strcmp(name, "--log") != 0 && strcmp(name, "--pace-bytes") != 0 &&
		    strcmp(name, "--pace-us") != 0 && strcmp(name, "--raw-send") != 0 &&
		    strcmp(name, "--dump") != 0 && strcmp(name, "--profile") != 0 &&
		    strcmp(name, "--relay") != 0 && strcmp(name, "--key") != 0 &&
		    strcmp(name, "--pin") != 0 && strcmp(name, "--compress") != 0)
			return usage_error("unknown option %s", a);
		if (val == NULL) {
			if (i + 1 >= argc)
				return usage_error("%s needs a value", name);
			val = argv[++i];
		}

		if (strcmp(name, "--console") == 0) {
			o->console = val;
			o->console_given = true;
		} else if (strcmp(name, "--relay") == 0) {
			o->relay = val;
		} else if (strcmp(name, "--key") == 0) {
			o->key = val;
		} else if (strcmp(name, "--pin") == 0) {
			o->pin = val;
		} else if (strcmp(name, "--compress") == 0) {
			if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
				return usage_error("--compress wants yes or no, not \"%s\"", val);
			o->no_compress = strcmp(val, "no") == 0;
		} else if (strcmp(name, "--dump") == 0) {
			o->dump = val;
		} else if (strcmp(name, "--profile") == 0) {
			o->profile = val;
		} else if (strcmp(name, "--log") == 0) {
			o->log = val;
		} else if (strcmp(name, "--raw-send") == 0) {
			o->raw_send = val;
		} else if (strcmp(name, "--timeout") == 0) {
			char *end;
			double t;

			errno = 0;
			t = strtod(val, &end);
			if (errno != 0 || end == val || *end != '\0' || !isfinite(t) || t <= 0 ||
			    t > 86400.0)
				return usage_error(
					"--timeout wants seconds (0 < SEC <= 86400), not "
					"\"%s\"",
					val);
			o->timeout_s = t;
		} else if (strcmp(name, "--pace-bytes") == 0) {
			if (!parse_ulong(val, 1, 4096, &n))
				return usage_error("--pace-bytes wants 1..4096, not \"%s\"", val);
			o->pace_bytes = n;
			o->pace_given = true;
		} else {
			if (!parse_ulong(val, 0, 1000000, &n))
				return usage_error("--pace-us wants 0..1000000, not \"%s\"", val);
			o->pace_us = (uint32_t)n;
			o->pace_given = true;
		}
	}
	o->first_word = i;
	return 0;
}

/* C escapes of --raw-send into bytes; -1 on a bad escape. */
static ssize_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s != '\0') {
		char c = *s++;

		if (c != '\\') {
			out[n++] = c;
			continue;
		}
		c = *s++;
		switch (c) {
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case '\\':
			out[n++] = '\\';
			break;
		case 'x': {
			int hi = hex_digit_value(s[0]), lo;

			if (hi < 0)
				return -1;
			lo = hex_digit_value(s[1]);
			if (lo < 0) {
				out[n++] = (char)hi;
				s += 1;
			} else {
				out[n++] = (char)(hi * 16 + lo);
				s += 2;
			}
			break;
		}
		default:
			return -1;
		}
	}
	return (ssize_t)n;
}

/* The words after the options, joined by spaces: the protocol has no quoting. */
static char *join_words(int argc, char **argv, int first)
{
	size_t len = 1;
	char *s;

	for (int i = first; i < argc; i++)
		len += strlen(argv[i]) + 1;
	s = malloc(len);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (int i = first; i < argc; i++) {
		if (i > first)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static int one_request(struct conn *c, struct reader *rd, const char *req, size_t len,
		       double timeout_s)
{
	if (!hvctl_request_sendable(req, len)) {
		fprintf(stderr,
			"hvctl: a request cannot hold NUL, CR, LF or Ctrl-U (they would end "
			"or cancel it on the way); not sent\n");
		return HVCTL_EXIT_USAGE;
	}
	return hvctl_request(c, rd, req, timeout_s);
}

struct live_ctx {
	struct conn *c;
	struct reader *rd;
	double timeout_s;
};

static int run_live_line(void *ctx, char *line, size_t len)
{
	struct live_ctx *l = ctx;
	return one_request(l->c, l->rd, line, len, l->timeout_s);
}

static void on_interrupt(int sig)
{
	(void)sig;
	conn_interrupted = 1;
}

int main(int argc, char **argv)
{
	struct options o = {.timeout_s = 30.0, .pace_bytes = 8, .pace_us = 2000};
	struct conn c = {.fd = -1, .log_fd = -1};
	struct reader rd = {0};
	char err[512];
	int rc;

	o.console = getenv("HVCTL_CONSOLE");
	o.log = getenv("HVCTL_LOG");
	o.relay = getenv("HVCTL_RELAY");
	o.key = getenv("HVCTL_KEY");
	o.pin = getenv("HVCTL_PIN");
	rc = parse_options(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? HVCTL_EXIT_OK : rc;
	if (o.dump != NULL) {
		if (o.console_given || o.raw_send != NULL)
			return usage_error("%s", "--dump works on a file: --console and --raw-send "
						 "do not go with it");
		return hvctl_offline(o.dump, o.profile, argv + o.first_word, argc - o.first_word);
	}
	if (o.profile != NULL)
		return usage_error("%s", "--profile goes with --dump (the monitor has its own)");
	/* local: needs no console */
	if (o.first_word < argc && strcmp(argv[o.first_word], "keygen") == 0)
		return hvctl_keygen(argc - o.first_word, argv + o.first_word);
	if (o.first_word < argc && strcmp(argv[o.first_word], "embed-key") == 0)
		return hvctl_embed_key(o.key, argc - o.first_word, argv + o.first_word);
	if (o.first_word < argc && strcmp(argv[o.first_word], "sign-boot") == 0)
		return hvctl_sign_boot(o.key, argc - o.first_word, argv + o.first_word);
	struct relay relay;
	if (o.relay != NULL && o.relay[0] != '\0') {
		if (relay_init(&relay, o.key, o.pin, err, sizeof(err)) != 0) {
			fprintf(stderr, "hvctl: %s\n", err);
			return HVCTL_EXIT_USAGE;
		}
		if (o.first_word < argc && (strcmp(argv[o.first_word], "pair") == 0 ||
					    strcmp(argv[o.first_word], "cp") == 0)) {
			relay_free(&relay);
			return usage_error("%s", "pair and cp go over the console, not --relay");
		}
		c.relay = &relay;
		o.console = o.relay; /* the transport to the relay */
		if (!o.pace_given)
			o.pace_us = 0; /* the guest's tty driver buffers what comes */
	}
	if (o.console == NULL || o.console[0] == '\0') {
		fprintf(stderr, "hvctl: no console given: use --console ADDR or set HVCTL_CONSOLE "
				"(a tty path, tcp:HOST:PORT, unix:PATH or exec:COMMAND)\n");
		return HVCTL_EXIT_USAGE;
	}
	if (o.log != NULL && o.log[0] != '\0') {
		c.log_fd = open(o.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (c.log_fd < 0) {
			fprintf(stderr, "hvctl: cannot open log %s: %s\n", o.log, strerror(errno));
			return HVCTL_EXIT_USAGE;
		}
	}
	c.pace_bytes = o.pace_bytes;
	c.pace_us = o.pace_us;
	c.deflate = !o.no_compress;
	/* Ctrl-C: the request in progress cancels its reply (request.c) */
	struct sigaction sa = {.sa_handler = on_interrupt};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);

	if (conn_open(&c, o.console, conn_now_ms() + (uint64_t)(o.timeout_s * 1000.0), err,
		      sizeof(err)) != 0) {
		fprintf(stderr, "hvctl: %s\n", err);
		return HVCTL_EXIT_NO_ANSWER;
	}

	rc = HVCTL_EXIT_OK;
	if (o.raw_send != NULL) {
		char *raw = malloc(strlen(o.raw_send) + 1);
		ssize_t n = raw != NULL ? unescape(o.raw_send, raw) : -1;

		if (n < 0) {
			free(raw);
			conn_close(&c);
			return usage_error("bad escape in --raw-send \"%s\"", o.raw_send);
		}
		if (conn_write(&c, raw, (size_t)n,
			       conn_now_ms() + (uint64_t)(o.timeout_s * 1000.0)) != 0) {
			fprintf(stderr, "hvctl: cannot write to %s: %s\n", o.console,
				strerror(errno));
			rc = HVCTL_EXIT_NO_ANSWER;
		}
		free(raw);
		if (rc != HVCTL_EXIT_OK || o.first_word >= argc)
			goto out;
	}

	if (o.first_word < argc && strcmp(argv[o.first_word], "pair") == 0) {
		if (o.first_word + 2 != argc) {
			fprintf(stderr, "usage: hvctl pair FILE   (pins the monitor's channel key "
					"of this boot, read over the console)\n");
			rc = HVCTL_EXIT_USAGE;
		} else {
			rc = hvctl_pair(&c, &rd, argv[o.first_word + 1], o.timeout_s);
		}
	} else if (o.first_word < argc && strcmp(argv[o.first_word], "sign-requests") == 0) {
		rc = hvctl_sign_requests(&c, &rd, o.key, argc - o.first_word, argv + o.first_word,
					 o.timeout_s);
	} else if (o.first_word + 3 == argc && strcmp(argv[o.first_word], "cp") == 0 &&
		   strcmp(argv[o.first_word + 1], "-") != 0 &&
		   strcmp(argv[o.first_word + 2], "-") != 0) {
		rc = hvctl_cp(&c, &rd, argv[o.first_word + 1], argv[o.first_word + 2], o.timeout_s);
	} else if (hvctl_events_is_follow(argc, argv, o.first_word)) {
		rc = hvctl_events_follow(&c, &rd, argc, argv, o.first_word, o.timeout_s);
	} else if (o.first_word < argc) {
		char *req = join_words(argc, argv, o.first_word);

		if (req == NULL) {
			fprintf(stderr, "hvctl: out of memory\n");
			rc = HVCTL_EXIT_USAGE;
			goto out;
		}
		rc = one_request(&c, &rd, req, strlen(req), o.timeout_s);
		free(req);
	} else {
		struct live_ctx live = {&c, &rd, o.timeout_s};
		rc = hvctl_interactive(run_live_line, &live);
	}
out:
	reader_free(&rd);
	conn_close(&c);
	if (c.relay != NULL)
		relay_free(c.relay);
	if (c.log_fd >= 0)
		close(c.log_fd);
	return rc;
}
