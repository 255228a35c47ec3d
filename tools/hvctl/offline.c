/* hvctl --dump: the monitor's own verb code (hv/vmi/report.c through hv/console/cmd.c's
 * dispatcher) run on a QEMU memory dump. The reply is produced exactly as the monitor
 * produces it, status line included, then handed out exactly as hvctl hands out a reply
 * received from the console (request.c): body on stdout without CR, an error as
 * "hvctl: error KIND: MESSAGE" on stderr. So the two outputs can be compared byte for
 * byte. */
#include "files.h"
#include "offline.h"
#include "interactive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "console/cmd.h"
#include "console/proto.h"
#include "dump.h"
#include "request.h"
#include "vmi/profile.h"
#include "vmi/report.h"
#include "vmi/vmi.h"

#define OFFLINE_CONTAINERS_MAX 1024u
#define OFFLINE_XVIEW_SLOTS    131072u /* the cross-view keeps up to 3/4 of this many tasks */

/* The session the verbs run on (one per hvctl run). */
static struct vmi *session;
static const char *session_error; /* why there is no session, or NULL */

static int verb_ps(struct reply *r, int argc, char **argv)
{
	if (session == NULL)
		return reply_fail(r, PROTO_FAILED, "%s", session_error);
	return vmi_verb_ps(session, r, argc, argv);
}

static int verb_containers(struct reply *r, int argc, char **argv)
{
	if (session == NULL)
		return reply_fail(r, PROTO_FAILED, "%s", session_error);
	return vmi_verb_containers(session, r, argc, argv);
}

static int verb_inspect(struct reply *r, int argc, char **argv)
{
	if (session == NULL)
		return reply_fail(r, PROTO_FAILED, "%s", session_error);
	return vmi_verb_inspect(session, r, argc, argv);
}

static int verb_help(struct reply *r, int argc, char **argv);

static const struct cmd_verb offline_verbs[] = {
	{"help", "help", "list the verbs", verb_help},
	{"ps", VMI_PS_USAGE, VMI_PS_SUMMARY, verb_ps},
	{"containers", VMI_CONTAINERS_USAGE, VMI_CONTAINERS_SUMMARY, verb_containers},
	{"inspect", VMI_INSPECT_USAGE, VMI_INSPECT_SUMMARY, verb_inspect},
};
static const size_t offline_verb_count = sizeof(offline_verbs) / sizeof(offline_verbs[0]);

static int verb_help(struct reply *r, int argc, char **argv)
{
	static const char *const none[] = {NULL};

	if (cmd_expect_only_flags(r, argc, argv, none) < 0)
		return -1;
	cmd_help(offline_verbs, offline_verb_count, r);
	return 0;
}

/* ------------------------------------------------------------------ the reply */

struct out {
	char *text;
	size_t len, cap;
};

static void out_write(void *ctx, const char *s, size_t n)
{
	struct out *o = ctx;

	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *t = realloc(o->text, cap);

		if (t == NULL) {
			fprintf(stderr, "hvctl: out of memory\n");
			exit(HVCTL_EXIT_USAGE);
		}
		o->text = t;
		o->cap = cap;
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

/* The reply as a console client sees it: body lines (CR removed) up to the status line. */
static int hand_out(const struct out *o)
{
	struct proto_status st = {.error = PROTO_FAILED};
	size_t pos = 0;
	bool have_status = false;

	while (pos < o->len) {
		const char *line = o->text + pos;
		const char *nl = memchr(line, '\n', o->len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : o->len - pos;
		size_t shown = n;

		while (shown > 0 && line[shown - 1] == '\r')
			shown--;
		pos += n + (nl != NULL);
		if (pos >= o->len) {
			char *last = strndup(line, shown);

			have_status = last != NULL && proto_parse_status(last, &st);
			free(last);
			if (have_status)
				break;
		}
		fwrite(line, 1, shown, stdout);
		fputc('\n', stdout);
	}
	fflush(stdout);
	if (!have_status) {
		fprintf(stderr, "hvctl: the verb ended without a status line\n");
		return HVCTL_EXIT_ERROR_REPLY;
	}
	if (st.error == PROTO_OK)
		return HVCTL_EXIT_OK;
	fprintf(stderr, "hvctl: error %s: %s\n", proto_error_name(st.error), st.message);
	return HVCTL_EXIT_ERROR_REPLY;
}

static int run_request(const char *request)
{
	struct out o = {0};
	struct reply r;
	char *line = strdup(request);
	int rc;

	if (line == NULL) {
		fprintf(stderr, "hvctl: out of memory\n");
		return HVCTL_EXIT_USAGE;
	}
	reply_init(&r, out_write, &o);
	cmd_dispatch(offline_verbs, offline_verb_count, line, &r);
	rc = hand_out(&o);
	free(line);
	free(o.text);
	return rc;
}

/* ------------------------------------------------------------------ setup */

static int run_offline_line(void *ctx, char *line, size_t len)
{
	(void)ctx;
	(void)len;
	return run_request(line);
}

int hvctl_offline(const char *dump_path, const char *profile_path, char **words, int n)
{
	static struct vmi v;
	static struct vmi_profile prof;
	static struct dump d;
	static struct vmi_mem mem;
	static char open_error[VMI_ERROR_MAX + PROFILE_ERR_MAX];
	struct profile_error perr;
	char err[512];
	size_t len;
	char *json;
	int rc;

	if (profile_path == NULL) {
		fprintf(stderr,
			"hvctl: --dump needs --profile FILE (guest-profiles/<release>.json, "
			"made by tools/mkprofile)\n");
		return HVCTL_EXIT_USAGE;
	}
	json = file_read(profile_path, SIZE_MAX - 1, &len);
	if (json == NULL) {
		fprintf(stderr, "hvctl: cannot read profile %s: %s\n", profile_path,
			strerror(errno));
		return HVCTL_EXIT_USAGE;
	}
	rc = profile_parse(json, len, &prof, &perr);
	free(json);
	if (rc != 0) {
		fprintf(stderr, "hvctl: profile %s: %s\n", profile_path, perr.message);
		return HVCTL_EXIT_USAGE;
	}
	if (dump_open(dump_path, &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "hvctl: %s\n", err);
		return HVCTL_EXIT_USAGE;
	}

	/* The containers table lives beside the session; the first vCPU whose state leads
	 * to the kernel wins (the verbs report why none did). */
	v.containers = calloc(OFFLINE_CONTAINERS_MAX, sizeof(*v.containers));
	v.containers_cap = v.containers != NULL ? OFFLINE_CONTAINERS_MAX : 0;
	v.xview_slots = calloc(OFFLINE_XVIEW_SLOTS, sizeof(*v.xview_slots));
	v.xview_cap = v.xview_slots != NULL ? OFFLINE_XVIEW_SLOTS : 0;
	v.xview_seed = (uint64_t)time(NULL) * 0x2545f4914f6cdd1dull ^ (uint64_t)getpid() << 20;
	mem.read_phys = dump_read_phys;
	mem.ctx = &d;
	/* The same checks and messages as the live verbs (hv/console/verbs_vmi.c). */
	session_error = open_error;
	for (size_t i = 0; i < d.ncpus; i++) {
		if (vmi_open(&v, &mem, &prof, &d.cpus[i].cpu) == 0) {
			char why[PROFILE_ERR_MAX];

			if (vmi_profile_fits(&v, why, sizeof(why)) == 0)
				session = &v;
			else
				snprintf(open_error, sizeof(open_error), "%s", why);
			break;
		}
		if (i == 0)
			snprintf(open_error, sizeof(open_error), "introspection failed: %s%s",
				 v.error, d.ncpus > 1 ? " (and no other vCPU did better)" : "");
	}

	if (n > 0) {
		size_t total = 1;
		char *req;

		for (int i = 0; i < n; i++)
			total += strlen(words[i]) + 1;
		req = malloc(total);
		if (req == NULL) {
			rc = HVCTL_EXIT_USAGE;
		} else {
			req[0] = '\0';
			for (int i = 0; i < n; i++) {
				if (i > 0)
					strcat(req, " ");
				strcat(req, words[i]);
			}
			rc = run_request(req);
			free(req);
		}
	} else {
		rc = hvctl_interactive(run_offline_line, NULL);
	}
	free(v.containers);
	free(v.xview_slots);
	dump_close(&d);
	return rc;
}
