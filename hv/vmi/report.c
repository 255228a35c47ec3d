/* SPDX-License-Identifier: MIT */
/*
 * ps, containers and inspect: what the introspection library finds, as text for people
 * and as one-line JSON for programs (docs/console-protocol.md, "Verbs (issue 3)"). Shared
 * by the monitor's console and hvctl --dump.
 *
 * Guest strings are untrusted bytes: in text, anything outside printable ASCII becomes
 * '?' (a name must not be able to end a console line or forge a status line); in JSON,
 * reply_json_string escapes it. A value that could not be read prints as "?" / null.
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/psfields.h"
#include "vmi/report.h"

/* ------------------------------------------------------------------ helpers */

const char *vmi_printable(const char *s, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		buf[i] = c >= 0x20u && c < 0x7fu ? (char)c : '?';
	}
	buf[i] = '\0';
	return buf;
}

static bool parse_pid(const char *s, int32_t *pid)
{
	uint32_t val = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || val > (uint32_t)VMI_TASKS_MAX * 64u)
			return false;
		val = val * 10u + (uint32_t)(*s - '0');
	}
	*pid = (int32_t)val;
	return true;
}

static void json_ns(struct reply *r, const uint32_t ns[VMI_NS_COUNT])
{
	reply_printf(r, "{");
	for (unsigned int i = 0; i < VMI_NS_COUNT; i++) {
		if (ns[i] != 0)
			reply_printf(r, "%s\"%s\":%u", i ? "," : "", vmi_ns_name(i), ns[i]);
		else
			reply_printf(r, "%s\"%s\":null", i ? "," : "", vmi_ns_name(i));
	}
	reply_printf(r, "}");
}

static void text_ns(struct reply *r, const uint32_t ns[VMI_NS_COUNT])
{
	for (unsigned int i = 0; i < VMI_NS_COUNT; i++) {
		if (ns[i] != 0)
			reply_printf(r, "%s%s:%u", i ? " " : "", vmi_ns_name(i), ns[i]);
		else
			reply_printf(r, "%s%s:?", i ? " " : "", vmi_ns_name(i));
	}
}

static void json_walk_status(struct reply *r, const struct vmi_walk *w, bool containers_cut)
{
	reply_printf(r, ",\"truncated\":%s,\"reason\":",
		     w->truncated || containers_cut ? "true" : "false");
	if (w->truncated)
		reply_json_string(r, w->reason);
	else if (containers_cut)
		reply_json_string(r, "more containers than this build keeps track of");
	else
		reply_json_string(r, NULL);
}

/* hash: "#" in the compact format (its comment lines), else "" */
static void text_walk_status(struct reply *r, const struct vmi_walk *w, bool containers_cut,
			     size_t cap, const char *hash)
{
	char buf[VMI_ERROR_MAX];

	if (w->truncated)
		reply_line(r, "%swarning: task list incomplete: %s", hash,
			   vmi_printable(w->reason, buf, sizeof(buf)));
	if (containers_cut)
		reply_line(r, "%swarning: more than %zu containers: the others are not shown", hash,
			   cap);
}

static const struct vmi_container *container_of(struct vmi *v, size_t n,
						const struct vmi_process *p)
{
	int i = vmi_container_find(v->containers, n, p, v);

	return i < 0 ? NULL : &v->containers[i];
}

/* ------------------------------------------------------------------ one process */

#define PS_HEADER "    PID    PPID   UID S  THR      START CONTAINER    COMM            CMDLINE"

static void ps_text_line(struct reply *r, const struct vmi_process *p,
			 const struct vmi_container *c)
{
	char ppid[12], uid[12], thr[12], comm[VMI_COMM_LEN], name[13], cmd[VMI_CMDLINE_MAX];
	char full[VMI_NAME_MAX];

	if (p->missing & VMI_MISSING_PPID)
		fmt_snprintf(ppid, sizeof(ppid), "?");
	else
		fmt_snprintf(ppid, sizeof(ppid), "%d", p->ppid);
	if (p->missing & VMI_MISSING_UID)
		fmt_snprintf(uid, sizeof(uid), "?");
	else
		fmt_snprintf(uid, sizeof(uid), "%u", p->uid);
	if (p->missing & VMI_MISSING_THREADS)
		fmt_snprintf(thr, sizeof(thr), "?");
	else
		fmt_snprintf(thr, sizeof(thr), "%d", p->threads);
	vmi_printable(c != NULL ? c->name : "-", name, sizeof(name));
	vmi_printable(p->comm, comm, sizeof(comm));
	reply_printf(r, "%7d %7s %5s %c %4s %6llu.%03llu %-12s %-15s ", p->tgid, ppid, uid,
		     p->state, thr, (unsigned long long)(p->start_ns / 1000000000u),
		     (unsigned long long)(p->start_ns / 1000000u % 1000u), name, comm);
	if (p->kthread || p->cmdline[0] == '\0') /* as ps shows one without arguments */
		reply_line(r, "[%s]", vmi_printable(p->comm, full, sizeof(full)));
	else
		reply_line(r, "%s", vmi_printable(p->cmdline, cmd, sizeof(cmd)));
}

/* With the views of a hidden task: it is missing only from a tasks list that was cut. */
#define SEEN_UNCONFIRMED (1u << 31)

/* The views of xview.c by name, in bit order. */
static const char *const view_names[] = {"tasks", "pids", "cpus"};

static void json_views(struct reply *r, uint32_t views)
{
	const char *sep = "";

	reply_printf(r, "[");
	for (uint32_t i = 0; i < sizeof(view_names) / sizeof(view_names[0]); i++) {
		if (views & (1u << i)) {
			reply_printf(r, "%s\"%s\"", sep, view_names[i]);
			sep = ",";
		}
	}
	reply_printf(r, "]");
}

/* seen_by: the views that see a hidden task (0 for the others: no member written). */
static void ps_json_object(struct reply *r, const struct vmi *v, const struct vmi_process *p,
			   const struct vmi_container *c, uint32_t seen_by)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} partial[] = {
		{VMI_MISSING_CMDLINE, "cmdline unreadable"},
		{VMI_TRUNCATED_CMDLINE, "cmdline truncated"},
		{VMI_MISSING_NS, "namespaces incomplete"},
		{VMI_MISSING_CGROUP, "cgroup unreadable"},
		{VMI_TRUNCATED_CGROUP, "cgroup truncated"},
		{VMI_MISSING_HOSTNAME, "hostname unreadable"},
	};
	const char *sep = "";

	reply_printf(r, "{\"pid\":%d,\"tgid\":%d,\"thread_id\":%d,", p->tgid, p->tgid, p->pid);
	if (p->missing & VMI_MISSING_PPID)
		reply_printf(r, "\"ppid\":null,");
	else
		reply_printf(r, "\"ppid\":%d,", p->ppid);
	if (p->nspid < 0)
		reply_printf(r, "\"nspid\":null,");
	else
		reply_printf(r, "\"nspid\":%d,", p->nspid);
	if (p->missing & VMI_MISSING_UID)
		reply_printf(r, "\"uid\":null,");
	else
		reply_printf(r, "\"uid\":%u,", p->uid);
	reply_printf(r, "\"comm\":");
	reply_json_string(r, p->comm);
	reply_printf(r, ",\"cmdline\":");
	reply_json_string(r, (p->missing & VMI_MISSING_CMDLINE) ? NULL : p->cmdline);
	reply_printf(r, ",\"state\":\"%c\",", p->state);
	if (p->missing & VMI_MISSING_THREADS)
		reply_printf(r, "\"threads\":null,");
	else
		reply_printf(r, "\"threads\":%d,", p->threads);
	reply_printf(r, "\"start_ns\":%llu,\"kthread\":%s,\"ns\":", (unsigned long long)p->start_ns,
		     p->kthread ? "true" : "false");
	json_ns(r, p->ns);
	reply_printf(r, ",\"hostname\":");
	reply_json_string(r, (p->missing & VMI_MISSING_HOSTNAME) ? NULL : p->hostname);
	reply_printf(r, ",\"cgroup\":");
	reply_json_string(r, (p->missing & VMI_MISSING_CGROUP) ? NULL : p->cgroup);
	reply_printf(r, ",\"frozen\":%s,\"container\":", p->frozen ? "true" : "false");
	reply_json_string(r, c != NULL ? c->id : NULL);
	if (v->oncpu != NULL) {
		/* The CPUs where one of its threads is current. */
		reply_printf(r, ",\"on_cpu\":[");
		for (size_t k = 0, shown = 0; k < v->oncpu_count; k++) {
			const struct vmi_oncpu *o = &v->oncpu[k];
			if (o->state == VMI_CPU_RUNNING && o->tgid == p->tgid && o->tgid != 0)
				reply_printf(r, "%s%u", shown++ ? "," : "", o->cpu);
		}
		reply_printf(r, "]");
	}
	reply_printf(r, ",\"task\":\"0x%llx\",\"partial\":[", (unsigned long long)p->task);
	for (size_t i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		if (p->missing & partial[i].bit) {
			reply_printf(r, "%s\"%s\"", sep, partial[i].name);
			sep = ",";
		}
	}
	reply_printf(r, "]");
	if (seen_by != 0) {
		reply_printf(r, ",\"seen_by\":");
		json_views(r, seen_by & ~SEEN_UNCONFIRMED);
		reply_printf(r, ",\"unconfirmed\":%s",
			     (seen_by & SEEN_UNCONFIRMED) != 0 ? "true" : "false");
	}
	reply_printf(r, "}");
}

/* ------------------------------------------------------------------ ps */

static const char *const oncpu_state_name[] = {
	[VMI_CPU_UNKNOWN] = "unknown",
	[VMI_CPU_RUNNING] = "running",
	[VMI_CPU_STOPPED] = "stopped",
};

/* What each CPU runs, when the caller knows (v->oncpu). */
static void json_oncpu(struct reply *r, const struct vmi *v)
{
	if (v->oncpu == NULL)
		return;
	reply_printf(r, ",\"cpus\":[");
	for (size_t k = 0; k < v->oncpu_count; k++) {
		const struct vmi_oncpu *o = &v->oncpu[k];
		reply_printf(r, "%s{\"cpu\":%u,\"state\":\"%s\"", k ? "," : "", o->cpu,
			     oncpu_state_name[o->state]);
		if (o->state == VMI_CPU_RUNNING) {
			reply_printf(r, ",\"pid\":%d,\"tgid\":%d,\"comm\":", o->pid, o->tgid);
			reply_json_string(r, o->comm);
			reply_printf(r, ",\"task\":\"0x%llx\",\"exiting\":%s",
				     (unsigned long long)o->task, o->exiting ? "true" : "false");
		} else if (o->state == VMI_CPU_UNKNOWN && o->why != NULL) {
			reply_printf(r, ",\"why\":");
			reply_json_string(r, o->why);
		}
		reply_printf(r, "}");
	}
	reply_printf(r, "]");
}

static void text_oncpu(struct reply *r, const struct vmi *v)
{
	char comm[VMI_COMM_LEN];

	for (size_t k = 0; v->oncpu != NULL && k < v->oncpu_count; k++) {
		const struct vmi_oncpu *o = &v->oncpu[k];
		if (o->state == VMI_CPU_STOPPED)
			reply_line(r, "cpu %u: stopped (waits for a SIPI)", o->cpu);
		else if (o->state != VMI_CPU_RUNNING)
			reply_line(r, "cpu %u: current task unknown%s%s", o->cpu,
				   o->why != NULL ? ": " : "", o->why != NULL ? o->why : "");
		else if (o->tgid == 0)
			reply_line(r, "cpu %u: idle", o->cpu);
		else
			reply_line(r, "cpu %u: pid %d (thread %d) %s%s", o->cpu, o->tgid, o->pid,
				   vmi_printable(o->comm, comm, sizeof(comm)),
				   o->exiting ? " (exiting)" : "");
	}
}

static void text_views(char *buf, size_t cap, uint32_t views)
{
	size_t at = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < sizeof(view_names) / sizeof(view_names[0]); i++)
		if (views & (1u << i))
			at += (size_t)fmt_snprintf(buf + at, cap - at, "%s%s", at ? "," : "",
						   view_names[i]);
	if (at == 0)
		fmt_snprintf(buf, cap, "none");
}

/* Tasks missing from a view that sees every task (xview.c), after the list: each with the
 * views that do see it. Nothing when the caller keeps no storage for it. */
static bool ps_wanted(const struct vmi_ps_job *j, const struct vmi_process *p,
		      const struct vmi_container *c);
static void ps_write(struct vmi *v, struct vmi_ps_job *j, struct reply *r,
		     const struct vmi_process *p, const struct vmi_container *c, uint32_t seen_by,
		     bool first);

static void ps_hidden(struct vmi *v, struct reply *r, struct vmi_ps_job *j)
{
	bool json = j->format == VMI_FORMAT_JSON;
	const char *hash = j->format == VMI_FORMAT_COMPACT ? "#" : ""; /* its comment lines */
	size_t n = j->n;
	struct vmi_xview x;
	struct vmi_process p;
	uint32_t hidden = 0;
	char buf[2 * VMI_ERROR_MAX], seen[32];
	const struct vmi_xview *xv;
	const char *why;

	if (v->xview_slots == NULL)
		return; /* the caller asked for no cross-view */
	xv = vmi_xview_get(v, &why);
	int rc = xv != NULL ? 0 : -1;
	if (xv != NULL)
		x = *xv;
	else
		fmt_snprintf(x.reason, sizeof(x.reason), "%s", why);
	if (json)
		reply_printf(r, ",\"hidden\":[");
	for (size_t i = 0; rc == 0 && i < x.cap; i++) {
		const struct vmi_xview_entry *e = &x.slots[i];
		if (e->task == 0 || !vmi_xview_hidden(v, &x, e))
			continue;
		bool unconfirmed = vmi_xview_unconfirmed(&x, e);
		if (vmi_process_read(v, e->task, VMI_READ_ALL, &p) != 0) {
			memset(&p, 0, sizeof(p));
			p.task = e->task;
			p.pid = p.tgid = e->pid;
			p.state = '?';
			p.missing = VMI_MISSING_PPID | VMI_MISSING_UID | VMI_MISSING_THREADS |
				    VMI_MISSING_CMDLINE | VMI_MISSING_NS | VMI_MISSING_CGROUP |
				    VMI_MISSING_HOSTNAME;
			fmt_snprintf(p.comm, sizeof(p.comm), "?");
		}
		const struct vmi_container *c = container_of(v, n, &p);
		if (!ps_wanted(j, &p, c))
			continue;
		if (!json) {
			if (hidden == 0)
				reply_line(r,
					   "%shidden: missing from a view of the tasks (seen by):",
					   hash);
			text_views(seen, sizeof(seen), e->views);
			reply_printf(r, "%s[seen by %s%s] thread %d:%s", hash, seen,
				     unconfirmed ? "; unconfirmed: the tasks list was cut" : "",
				     p.pid, j->format == VMI_FORMAT_COMPACT ? "\r\n" : " ");
		}
		ps_write(v, j, r, &p, c, e->views | (unconfirmed ? SEEN_UNCONFIRMED : 0),
			 hidden == 0);
		hidden++;
	}
	if (json) {
		reply_printf(r,
			     "],\"views\":{\"done\":%s,\"complete\":", rc == 0 ? "true" : "false");
		json_views(r, x.complete);
		reply_printf(r, ",\"tasks_seen\":%zu,\"reason\":", rc == 0 ? x.used : (size_t)0);
		reply_json_string(r, x.reason[0] != '\0' ? x.reason : NULL);
		reply_printf(r, "}");
		return;
	}
	if (rc != 0)
		reply_line(r, "%swarning: no cross-view of the tasks: %s", hash,
			   vmi_printable(x.reason, buf, sizeof(buf)));
	else if (x.reason[0] != '\0')
		reply_line(r, "%swarning: cross-view of the tasks incomplete: %s", hash,
			   vmi_printable(x.reason, buf, sizeof(buf)));
}

int vmi_ps_start(struct vmi_ps_job *j, struct reply *r, int argc, char **argv)
{
	char why[PROTO_MESSAGE_MAX];
	memset(j, 0, sizeof(*j));
	j->format = VMI_FORMAT_TEXT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--json") == 0 || strcmp(a, "--compact") == 0) {
			if (j->format != VMI_FORMAT_TEXT)
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "--json and --compact: one format; usage: %s",
						  VMI_PS_USAGE);
			j->format = a[2] == 'j' ? VMI_FORMAT_JSON : VMI_FORMAT_COMPACT;
			continue;
		}
		if (val == NULL || (strcmp(a, "--pid") != 0 && strcmp(a, "--container") != 0 &&
				    strcmp(a, "--fields") != 0))
			return reply_fail(r, PROTO_BAD_ARGUMENT, "unexpected \"%.32s\"; usage: %s",
					  a, VMI_PS_USAGE);
		i++;
		if (strcmp(a, "--pid") == 0) {
			if (j->by_pid || !parse_pid(val, &j->pid))
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "--pid wants one process id, not \"%.32s\"", val);
			j->by_pid = true;
		} else if (strcmp(a, "--container") == 0) {
			size_t len = strnlen(val, sizeof(j->container));
			if (j->container[0] != '\0' || len == sizeof(j->container))
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "--container wants one name, id or id prefix");
			memcpy(j->container, val, len + 1);
		} else {
			if (j->fields.n != 0)
				return reply_fail(r, PROTO_BAD_ARGUMENT, "--fields given twice");
			if (vmi_ps_fields_parse(val, &j->fields, why, sizeof(why)) != 0)
				return reply_fail(r, PROTO_BAD_ARGUMENT, "--fields: %s", why);
		}
	}
	if (j->format == VMI_FORMAT_COMPACT && j->fields.n == 0)
		vmi_ps_fields_default(&j->fields);
	j->reads = j->fields.n == 0 ? VMI_READ_ALL : vmi_ps_fields_reads(&j->fields);
	if (j->container[0] != '\0' || j->fields.n == 0)
		j->reads |= VMI_READ_NS | VMI_READ_CGROUP; /* which container it is in */
	return 0;
}

/* Does the listing take p (its filters: --pid, --container)? */
static bool ps_wanted(const struct vmi_ps_job *j, const struct vmi_process *p,
		      const struct vmi_container *c)
{
	if (j->by_pid && p->tgid != j->pid)
		return false;
	if (j->container[0] != '\0' && (c == NULL || strcmp(c->id, j->container_id) != 0))
		return false;
	return true;
}

/* One process in the listing's format; first: the first of its list (JSON's commas). */
static void ps_write(struct vmi *v, struct vmi_ps_job *j, struct reply *r,
		     const struct vmi_process *p, const struct vmi_container *c, uint32_t seen_by,
		     bool first)
{
	if (j->format == VMI_FORMAT_JSON && !first)
		reply_printf(r, ",");
	if (j->fields.n != 0)
		vmi_ps_fields_row(r, p, c, &j->fields, j->format);
	else if (j->format == VMI_FORMAT_JSON)
		ps_json_object(r, v, p, c, seen_by);
	else
		ps_text_line(r, p, c);
}

/* One process of the list. */
static void ps_one(struct vmi *v, struct vmi_ps_job *j, struct reply *r, uint64_t task)
{
	struct vmi_process p;
	/* --pid: its id first, the rest only for that process */
	if (j->by_pid && (vmi_process_read(v, task, 0, &p) != 0 || p.tgid != j->pid))
		return;
	if (vmi_process_read(v, task, j->reads, &p) != 0)
		return; /* vanished under us, or garbage: the walk goes on */
	const uint32_t both = VMI_READ_NS | VMI_READ_CGROUP;
	const struct vmi_container *c =
		(j->reads & both) == both ? container_of(v, j->n, &p) : NULL;
	if (!ps_wanted(j, &p, c))
		return;
	ps_write(v, j, r, &p, c, 0, j->count == 0);
	j->count++;
}

/* The containers are known: --container's, then the list's head. false: the reply ends. */
static bool ps_begin_list(struct vmi *v, struct vmi_ps_job *j, struct reply *r)
{
	if (j->container[0] != '\0') {
		size_t at;
		char why[PROTO_MESSAGE_MAX];
		if (v->containers == NULL || j->n == 0 ||
		    vmi_container_resolve(v->containers, j->n, j->container, &at, why,
					  sizeof(why)) != 0) {
			reply_fail(r, PROTO_FAILED, "%s",
				   j->n == 0 ? "no container is running" : why);
			return false;
		}
		memcpy(j->container_id, v->containers[at].id, sizeof(j->container_id));
	}
	if (j->format == VMI_FORMAT_JSON)
		reply_printf(r, "{\"processes\":[");
	else if (j->fields.n != 0)
		vmi_ps_fields_header(r, &j->fields, j->format);
	else
		reply_line(r, "%s", PS_HEADER);
	return true;
}

bool vmi_ps_step(struct vmi *v, struct vmi_ps_job *j, struct reply *r, uint32_t budget)
{
	uint64_t task;
	bool json = j->format == VMI_FORMAT_JSON;

	vmi_containers_keep_xview(v, &j->ct);

	switch (j->phase) {
	case VMI_PS_CONTAINERS:
		if (v->containers == NULL || v->containers_cap == 0) {
			j->all_containers = true; /* no table kept: no container column */
		} else {
			if (j->ct.out == NULL)
				vmi_containers_begin(&j->ct, v->containers, v->containers_cap);
			if (!vmi_containers_step(v, &j->ct, budget))
				return false;
			j->n = j->ct.n;
			j->all_containers = j->ct.rc == 0;
		}
		j->phase = VMI_PS_LIST;
		return !ps_begin_list(v, j, r);
	case VMI_PS_LIST:
		if (!vmi_walk_continue(v, &j->w, &j->mark)) {
			j->phase = VMI_PS_END;
			return false;
		}
		for (uint32_t i = 0; i < budget; i++) {
			if (!vmi_walk_next(v, &j->w, &task)) {
				j->phase = VMI_PS_END;
				return false;
			}
			ps_one(v, j, r, task);
		}
		if (!vmi_walk_pause(v, &j->w, &j->mark))
			j->phase = VMI_PS_END;
		return false;
	case VMI_PS_END:
	default:
		if (json)
			reply_printf(r, "]");
		ps_hidden(v, r, j);
		if (json) {
			reply_printf(r, ",\"count\":%u", j->count);
			json_oncpu(r, v);
			json_walk_status(r, &j->w, !j->all_containers);
			reply_line(r, "}");
		} else if (j->format == VMI_FORMAT_COMPACT) {
			reply_line(r, "#count\t%u", j->count);
			text_walk_status(r, &j->w, !j->all_containers, v->containers_cap, "#");
		} else {
			text_oncpu(r, v);
			text_walk_status(r, &j->w, !j->all_containers, v->containers_cap, "");
		}
		return true;
	}
}

int vmi_verb_ps(struct vmi *v, struct reply *r, int argc, char **argv)
{
	struct vmi_ps_job j;

	if (vmi_ps_start(&j, r, argc, argv) < 0)
		return -1;
	vmi_refresh(v);
	while (!vmi_ps_step(v, &j, r, UINT32_MAX))
		;
	return r->error == PROTO_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ containers */

#define CT_HEADER                                                                                  \
	"ID           NAME         STATE    RUNTIME        PID  NSPID PROCS HOSTNAME         "     \
	"CGROUP OWNER"

/* Who owns c, as the listings show it: "root", the uid of a sandbox's user, or "?". */
static const char *owner_text(const struct vmi_container *c, char *buf, size_t cap)
{
	if (!c->owner_known)
		return "?";
	if (c->owner_uid == 0)
		return "root";
	fmt_snprintf(buf, cap, "%u", (unsigned)c->owner_uid);
	return buf;
}

static void ct_text_line(struct reply *r, const struct vmi_container *c)
{
	char id[13], name[13], host[VMI_HOSTNAME_MAX], cg[VMI_PATH_MAX], owner[12], ref[24];

	/* a sandbox's id as it must be named: OWNER/ID */
	if (c->rootless && c->owner_known)
		fmt_snprintf(ref, sizeof(ref), "%u/%s", (unsigned)c->owner_uid,
			     vmi_printable(c->id, id, sizeof(id)));
	else
		vmi_printable(c->id, ref, 13);
	reply_line(r, "%-12s %-12s %-8s %-10s %7d %6d %5u %-16s %s %s", ref,
		   vmi_printable(c->name, name, sizeof(name)), vmi_container_state_name(c->state),
		   vmi_runtime_name(c->key.runtime), c->init_pid, c->init_nspid, c->processes,
		   vmi_printable(c->hostname, host, sizeof(host)),
		   vmi_printable(c->cgroup, cg, sizeof(cg)), owner_text(c, owner, sizeof(owner)));
}

/* The compact format's containers: the text columns, tab-separated, whole (the id uncut). */
#define CT_COMPACT_HEADER "#id\tname\tstate\truntime\tpid\tnspid\tprocs\thostname\tcgroup\towner"

static void ct_compact_line(struct reply *r, const struct vmi_container *c)
{
	char owner[12];
	vmi_compact_string(r, c->id);
	reply_printf(r, "\t");
	vmi_compact_string(r, c->name);
	reply_printf(r, "\t%s\t%s\t%d\t%d\t%u\t", vmi_container_state_name(c->state),
		     vmi_runtime_name(c->key.runtime), c->init_pid, c->init_nspid, c->processes);
	vmi_compact_string(r, c->hostname);
	reply_printf(r, "\t");
	vmi_compact_string(r, c->cgroup);
	reply_line(r, "\t%s", owner_text(c, owner, sizeof(owner)));
}

/* The members of c, one pass over the task list: pids (JSON) or whole objects/lines. */
enum members_as { MEMBERS_PIDS, MEMBERS_JSON, MEMBERS_TEXT };

struct members {
	struct vmi *v;
	struct reply *r;
	const struct vmi_container *c;
	enum members_as as;
	uint32_t count;
};

/* One member of the container, if task is one. */
static void ct_member(void *ctx, uint64_t task)
{
	struct members *m = ctx;
	struct vmi_container_key key;
	struct vmi_process p;
	unsigned int what = m->as == MEMBERS_PIDS ? VMI_READ_NS | VMI_READ_CGROUP : VMI_READ_ALL;

	if (vmi_process_read(m->v, task, what, &p) != 0)
		return;
	vmi_container_key_of(m->v, &p, &key);
	if (!vmi_container_key_equal(&key, &m->c->key))
		return;
	if (m->as == MEMBERS_TEXT) {
		ps_text_line(m->r, &p, m->c);
		return;
	}
	if (m->count++ > 0)
		reply_printf(m->r, ",");
	if (m->as == MEMBERS_PIDS)
		reply_printf(m->r, "%d", p.tgid);
	else
		ps_json_object(m->r, m->v, &p, m->c, 0);
}

/* Its processes: those on the tasks list, then those a rootkit took off it (xview.c). */
static void ct_members(struct vmi *v, struct reply *r, const struct vmi_container *c,
		       enum members_as as)
{
	struct members m = {v, r, c, as, 0};
	struct vmi_walk w;
	uint64_t task;

	vmi_walk_begin(v, &w);
	while (vmi_walk_next(v, &w, &task))
		ct_member(&m, task);
	vmi_xview_hidden_leaders(v, ct_member, &m);
}

/* The pids of every container, noted while the containers are collected (the tasks list,
 * then the hidden leaders) and grouped by container (a counting sort): `containers --json`
 * costs one walk whatever the number of containers. Shared state of the console's verbs,
 * owned by the one verb running (verbs run one at a time). */
#define CT_PIDS_MAX            32768u
#define VMI_CONTAINERS_CAP_MAX 1024u /* more containers: per-container walks */
static struct {
	uint32_t n;    /* pids kept */
	bool overflow; /* more than CT_PIDS_MAX: per-container walks instead */
	uint32_t ct[CT_PIDS_MAX];
	int32_t pid[CT_PIDS_MAX];
	int32_t sorted[CT_PIDS_MAX];
	uint32_t start[VMI_CONTAINERS_CAP_MAX + 1]; /* container i: sorted[start[i]..start[i+1]) */
	uint32_t next[VMI_CONTAINERS_CAP_MAX];
} ct_pids;

/* The collect's member hook: container `index` has process p. */
static void pids_one(void *ctx, size_t index, const struct vmi_process *p)
{
	(void)ctx;
	if (index >= VMI_CONTAINERS_CAP_MAX || ct_pids.n == CT_PIDS_MAX) {
		ct_pids.overflow = true;
		return;
	}
	ct_pids.ct[ct_pids.n] = (uint32_t)index;
	ct_pids.pid[ct_pids.n++] = p->tgid;
}

/* Grouped by container, in the order seen: sorted[start[i]..start[i + 1]) */
static void pids_sort(size_t n)
{
	if (ct_pids.overflow || n > VMI_CONTAINERS_CAP_MAX) {
		ct_pids.overflow = true;
		return;
	}
	for (size_t i = 0; i <= n; i++)
		ct_pids.start[i] = 0;
	for (uint32_t k = 0; k < ct_pids.n; k++)
		ct_pids.start[ct_pids.ct[k] + 1]++;
	for (size_t i = 0; i < n; i++)
		ct_pids.start[i + 1] += ct_pids.start[i];
	for (size_t i = 0; i < n; i++)
		ct_pids.next[i] = ct_pids.start[i];
	for (uint32_t k = 0; k < ct_pids.n; k++)
		ct_pids.sorted[ct_pids.next[ct_pids.ct[k]]++] = ct_pids.pid[k];
}

/* c as a JSON object, its pids included, left open (no closing brace). */
static void ct_json_fields(struct vmi *v, struct reply *r, const struct vmi_container *c)
{
	reply_printf(r, "{\"id\":");
	reply_json_string(r, c->id);
	reply_printf(r, ",\"name\":");
	reply_json_string(r, c->name);
	reply_printf(r, ",\"runtime\":\"%s\",\"state\":\"%s\",\"init_pid\":%d,\"init_nspid\":",
		     vmi_runtime_name(c->key.runtime), vmi_container_state_name(c->state),
		     c->init_pid);
	if (c->init_nspid < 0)
		reply_printf(r, "null");
	else
		reply_printf(r, "%d", c->init_nspid);
	reply_printf(r, ",\"hostname\":");
	reply_json_string(r, c->hostname);
	reply_printf(r, ",\"cgroup\":");
	reply_json_string(r, c->cgroup);
	reply_printf(r, ",\"frozen\":%s,\"freeze_set\":%s,\"owner_uid\":",
		     c->frozen ? "true" : "false", c->freeze_set ? "true" : "false");
	if (c->owner_known)
		reply_printf(r, "%u", (unsigned)c->owner_uid);
	else
		reply_printf(r, "null");
	reply_printf(r, ",\"rootless\":%s,\"ref\":", c->rootless ? "true" : "false");
	if (c->rootless && c->owner_known) {
		char ref[VMI_ID_MAX + 12];
		fmt_snprintf(ref, sizeof(ref), "%u/%s", (unsigned)c->owner_uid, c->id);
		reply_json_string(r, ref);
	} else if (c->rootless) {
		reply_printf(r, "null");
	} else {
		reply_json_string(r, c->id);
	}
	reply_printf(r, ",\"ns\":");
	json_ns(r, c->ns);
	reply_printf(r, ",\"process_count\":%u,\"pids\":[", c->processes);
	size_t i = (size_t)(c - v->containers);
	if (!ct_pids.overflow && i < VMI_CONTAINERS_CAP_MAX) {
		for (uint32_t k = ct_pids.start[i]; k < ct_pids.start[i + 1]; k++)
			reply_printf(r, "%s%d", k > ct_pids.start[i] ? "," : "", ct_pids.sorted[k]);
	} else {
		ct_members(v, r, c, MEMBERS_PIDS);
	}
	reply_printf(r, "]");
}

static const char *const json_or_compact[] = {"--json", "--compact", NULL};

int vmi_ct_list_start(struct vmi_ct_list_job *j, struct reply *r, int argc, char **argv)
{
	memset(j, 0, sizeof(*j));
	if (cmd_expect_only_flags(r, argc, argv, json_or_compact) < 0)
		return -1;
	j->json = cmd_has_flag(argc, argv, "--json");
	j->compact = cmd_has_flag(argc, argv, "--compact");
	if (j->json && j->compact)
		return reply_fail(r, PROTO_BAD_ARGUMENT,
				  "--json and --compact: one format; usage: %s",
				  VMI_CONTAINERS_USAGE);
	return 0;
}

bool vmi_ct_list_step(struct vmi *v, struct vmi_ct_list_job *j, struct reply *r, uint32_t budget)
{
	if (v->containers == NULL || v->containers_cap == 0) {
		reply_fail(r, PROTO_FAILED, "no room for a containers table in this build");
		return true;
	}
	if (!j->started) {
		vmi_containers_begin(&j->ct, v->containers, v->containers_cap);
		if (j->json) {
			ct_pids.n = 0;
			ct_pids.overflow = false;
			j->ct.member = pids_one;
		}
		j->started = true;
	}
	if (!vmi_containers_step(v, &j->ct, budget))
		return false;
	size_t n = j->ct.n;
	bool all = j->ct.rc == 0;
	if (j->json) {
		pids_sort(n);
		reply_printf(r, "{\"containers\":[");
		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				reply_printf(r, ",");
			ct_json_fields(v, r, &v->containers[i]);
			reply_printf(r, "}");
		}
		reply_printf(r, "],\"count\":%zu", n);
		json_walk_status(r, &j->ct.w, !all);
		reply_line(r, "}");
		return true;
	}
	reply_line(r, "%s", j->compact ? CT_COMPACT_HEADER : CT_HEADER);
	for (size_t i = 0; i < n; i++) {
		if (j->compact)
			ct_compact_line(r, &v->containers[i]);
		else
			ct_text_line(r, &v->containers[i]);
	}
	text_walk_status(r, &j->ct.w, !all, v->containers_cap, j->compact ? "#" : "");
	return true;
}

int vmi_verb_containers(struct vmi *v, struct reply *r, int argc, char **argv)
{
	struct vmi_ct_list_job j;

	if (vmi_ct_list_start(&j, r, argc, argv) < 0)
		return -1;
	vmi_refresh(v);
	while (!vmi_ct_list_step(v, &j, r, UINT32_MAX))
		;
	return r->error == PROTO_OK ? 0 : -1;
}

/* ------------------------------------------------------------------ inspect */

/* The container's lines, up to its processes' header (the processes follow). */
static void inspect_container_head(struct reply *r, const struct vmi_container *c)
{
	char buf[VMI_PATH_MAX];

	reply_line(r, "container:   %s", vmi_printable(c->id, buf, sizeof(buf)));
	reply_line(r, "name:        %s", vmi_printable(c->name, buf, sizeof(buf)));
	reply_line(r, "runtime:     %s", vmi_runtime_name(c->key.runtime));
	reply_line(r, "state:       %s%s", vmi_container_state_name(c->state),
		   c->frozen && c->state != VMI_CT_PAUSED ? " (cgroup frozen)" : "");
	reply_line(r, "init pid:    %d (%d inside)", c->init_pid, c->init_nspid);
	reply_line(r, "hostname:    %s", vmi_printable(c->hostname, buf, sizeof(buf)));
	reply_line(r, "cgroup:      %s", vmi_printable(c->cgroup, buf, sizeof(buf)));
	char owner[12];
	reply_line(r, "owner:       %s%s", owner_text(c, owner, sizeof(owner)),
		   c->rootless ? " (a rootless sandbox: named OWNER/ID)" : "");
	reply_printf(r, "namespaces:  ");
	text_ns(r, c->ns);
	reply_line(r, "%s", "");
	reply_line(r, "processes:   %u (%u live)", c->processes, c->live);
	reply_line(r, "%s", PS_HEADER);
}

static void inspect_process_text(struct reply *r, const struct vmi_process *p,
				 const struct vmi_container *c)
{
	char buf[VMI_PATH_MAX];

	reply_line(r, "process:     %d", p->tgid);
	if (p->missing & VMI_MISSING_PPID)
		reply_line(r, "ppid:        ?");
	else
		reply_line(r, "ppid:        %d", p->ppid);
	reply_line(r, "pid inside:  %d", p->nspid);
	reply_line(r, "comm:        %s", vmi_printable(p->comm, buf, sizeof(buf)));
	if (p->missing & VMI_MISSING_CMDLINE)
		reply_line(r, "cmdline:     ? (unreadable)");
	else
		reply_line(r, "cmdline:     %s%s", vmi_printable(p->cmdline, buf, sizeof(buf)),
			   (p->missing & VMI_TRUNCATED_CMDLINE) ? " ..." : "");
	if (p->missing & VMI_MISSING_UID)
		reply_line(r, "uid:         ?");
	else
		reply_line(r, "uid:         %u", p->uid);
	reply_line(r, "state:       %c", p->state);
	reply_line(r, "threads:     %d", p->threads);
	reply_line(r, "started:     %llu.%03llu s after boot",
		   (unsigned long long)(p->start_ns / 1000000000u),
		   (unsigned long long)(p->start_ns / 1000000u % 1000u));
	reply_line(r, "kernel thread: %s", p->kthread ? "yes" : "no");
	reply_line(r, "container:   %s", c != NULL ? vmi_printable(c->id, buf, sizeof(buf)) : "-");
	reply_line(r, "hostname:    %s", vmi_printable(p->hostname, buf, sizeof(buf)));
	reply_line(r, "cgroup:      %s%s%s", vmi_printable(p->cgroup, buf, sizeof(buf)),
		   (p->missing & VMI_TRUNCATED_CGROUP) ? " ..." : "", p->frozen ? " (frozen)" : "");
	reply_printf(r, "namespaces:  ");
	text_ns(r, p->ns);
	reply_line(r, "%s", "");
	reply_line(r, "task_struct: 0x%llx", (unsigned long long)p->task);
}

int vmi_inspect_start(struct vmi_inspect_job *j, struct reply *r, int argc, char **argv)
{
	const char *what = NULL;

	memset(j, 0, sizeof(*j));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			j->json = true;
			continue;
		}
		if (what != NULL || argv[i][0] == '-')
			return reply_fail(r, PROTO_BAD_ARGUMENT, "unexpected \"%.40s\"; usage: %s",
					  argv[i], VMI_INSPECT_USAGE);
		what = argv[i];
	}
	if (what == NULL)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "which one? usage: %s", VMI_INSPECT_USAGE);
	if (strlen(what) >= sizeof(j->what))
		return reply_fail(r, PROTO_BAD_ARGUMENT,
				  "no container or process is named that long");
	memcpy(j->what, what, strlen(what) + 1);
	return 0;
}

/* Container j->at: its head, then its processes in the next steps. */
static void inspect_show_container(struct vmi *v, struct vmi_inspect_job *j, struct reply *r)
{
	const struct vmi_container *c = &v->containers[j->at];
	memset(&j->w, 0, sizeof(j->w)); /* a walk of its own (not the search for a pid's) */
	j->count = 0;
	if (j->json) {
		reply_printf(r, "{\"container\":");
		ct_json_fields(v, r, c);
		reply_printf(r, ",\"processes\":[");
	} else {
		inspect_container_head(r, c);
	}
	j->phase = VMI_IN_MEMBERS;
}

/* No process of that pid: the container resolve found, or why none. true: done. */
static bool inspect_no_process(struct vmi *v, struct vmi_inspect_job *j, struct reply *r)
{
	char shown[48];
	if (j->resolved == 0) {
		inspect_show_container(v, j, r);
		return false;
	}
	if (j->resolved == -2) {
		reply_fail(r, PROTO_FAILED, "%s", j->why);
		return true;
	}
	const char *hint = j->why; /* what resolve added after its own words, if anything */
	while (*hint != '\0' && !(hint[0] == ' ' && hint[1] == '('))
		hint++;
	reply_fail(r, PROTO_FAILED, "no container or process matches '%s'%s",
		   vmi_printable(j->what, shown, sizeof(shown)), hint);
	return true;
}

bool vmi_inspect_step(struct vmi *v, struct vmi_inspect_job *j, struct reply *r, uint32_t budget)
{
	uint64_t task;
	uint32_t tgid;

	vmi_containers_keep_xview(v, &j->ct);
	switch (j->phase) {
	case VMI_IN_COLLECT: {
		if (v->containers == NULL || v->containers_cap == 0) {
			reply_fail(r, PROTO_FAILED, "no room for a containers table in this build");
			return true;
		}
		if (j->ct.out == NULL) {
			vmi_containers_begin(&j->ct, v->containers, v->containers_cap);
			ct_pids.n = 0;
			ct_pids.overflow = false;
			j->ct.member = pids_one;
		}
		if (!vmi_containers_step(v, &j->ct, budget))
			return false;
		size_t n = j->ct.n;
		pids_sort(n);
		/* A container named exactly (its id or name, OWNER/ID for a sandbox) first, then
		 * a pid, then a unique prefix of an id (vmi_container_resolve). */
		j->resolved = vmi_container_resolve(v->containers, n, j->what, &j->at, j->why,
						    sizeof(j->why));
		bool is_pid = parse_pid(j->what, &j->pid);
		if (j->resolved == 0 &&
		    (strcmp(v->containers[j->at].id, j->what) == 0 ||
		     strcmp(v->containers[j->at].name, j->what) == 0 || !is_pid)) {
			inspect_show_container(v, j, r);
			return false;
		}
		if (!is_pid)
			return inspect_no_process(v, j, r);
		j->phase = VMI_IN_FIND;
		return false;
	}
	case VMI_IN_FIND:
		if (!vmi_walk_continue(v, &j->w, &j->mark))
			return inspect_no_process(v, j, r);
		for (uint32_t i = 0; i < budget; i++) {
			if (!vmi_walk_next(v, &j->w, &task))
				return inspect_no_process(v, j, r);
			struct vmi_process p;
			if (vmi_read_u32(v, task + v->prof->task_tgid, &tgid) != 0 ||
			    (int32_t)tgid != j->pid)
				continue;
			if (vmi_process_read(v, task, VMI_READ_ALL, &p) != 0)
				return inspect_no_process(v, j, r);
			const struct vmi_container *c = container_of(v, j->ct.n, &p);
			if (j->json) {
				reply_printf(r, "{\"process\":");
				ps_json_object(r, v, &p, c, 0);
				reply_line(r, "}");
			} else {
				inspect_process_text(r, &p, c);
			}
			return true;
		}
		if (!vmi_walk_pause(v, &j->w, &j->mark))
			return inspect_no_process(v, j, r);
		return false;
	case VMI_IN_MEMBERS: {
		struct members m = {v, r, &v->containers[j->at],
				    j->json ? MEMBERS_JSON : MEMBERS_TEXT, j->count};
		bool end = false;
		if (!vmi_walk_continue(v, &j->w, &j->mark))
			end = true;
		for (uint32_t i = 0; !end && i < budget; i++) {
			if (!vmi_walk_next(v, &j->w, &task))
				end = true;
			else
				ct_member(&m, task);
		}
		if (!end && !vmi_walk_pause(v, &j->w, &j->mark))
			end = true;
		if (end) {
			vmi_xview_hidden_leaders(v, ct_member, &m);
			if (j->json)
				reply_line(r, "]}}");
		}
		j->count = m.count;
		return end;
	}
	default:
		return true;
	}
}

int vmi_verb_inspect(struct vmi *v, struct reply *r, int argc, char **argv)
{
	struct vmi_inspect_job j;

	if (vmi_inspect_start(&j, r, argc, argv) < 0)
		return -1;
	vmi_refresh(v);
	while (!vmi_inspect_step(v, &j, r, UINT32_MAX))
		;
	return r->error == PROTO_OK ? 0 : -1;
}
