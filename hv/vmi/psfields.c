/* SPDX-License-Identifier: MIT */
/* The fields of ps --fields and the compact format (vmi/psfields.h). */
#include "vmi/psfields.h"

#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/report.h"

enum field {
	F_PID,
	F_PPID,
	F_UID,
	F_STATE,
	F_THREADS,
	F_START,
	F_CONTAINER,
	F_COMM,
	F_CMDLINE,
	F_NSPID,
	F_HOSTNAME,
	F_CGROUP,
	F_FROZEN,
	F_CONTAINER_ID,
	F_TASK,
	F_COUNT
};

static const struct {
	const char *name;   /* in --fields and the compact header */
	const char *json;   /* its JSON member, as in ps --json */
	const char *header; /* its text column */
	int width;          /* text: > 0 right-aligned, < 0 left-aligned, 0 as it is */
	uint32_t reads;     /* VMI_READ_* it needs */
} fields[F_COUNT] = {
	[F_PID] = {"pid", "pid", "PID", 7, 0},
	[F_PPID] = {"ppid", "ppid", "PPID", 7, 0},
	[F_UID] = {"uid", "uid", "UID", 5, 0},
	[F_STATE] = {"state", "state", "S", 1, 0},
	[F_THREADS] = {"threads", "threads", "THR", 4, 0},
	[F_START] = {"start", "start_ns", "START", 10, 0},
	[F_CONTAINER] = {"container", "container_name", "CONTAINER", -12,
			 VMI_READ_NS | VMI_READ_CGROUP},
	[F_COMM] = {"comm", "comm", "COMM", -15, 0},
	[F_CMDLINE] = {"cmdline", "cmdline", "CMDLINE", 0, VMI_READ_CMDLINE},
	[F_NSPID] = {"nspid", "nspid", "NSPID", 7, VMI_READ_NS},
	[F_HOSTNAME] = {"hostname", "hostname", "HOSTNAME", -16, VMI_READ_HOSTNAME},
	[F_CGROUP] = {"cgroup", "cgroup", "CGROUP", 0, VMI_READ_CGROUP},
	[F_FROZEN] = {"frozen", "frozen", "FROZEN", -6, VMI_READ_CGROUP},
	[F_CONTAINER_ID] = {"container_id", "container", "CONTAINER_ID", -12,
			    VMI_READ_NS | VMI_READ_CGROUP},
	[F_TASK] = {"task", "task", "TASK", -18, 0},
};

const char vmi_ps_field_names[] = "pid,ppid,uid,state,threads,start,container,comm,cmdline,"
				  "nspid,hostname,cgroup,frozen,container_id,task";

int vmi_ps_fields_parse(const char *list, struct vmi_ps_fields *f, char *why, size_t cap)
{
	f->n = 0;
	const char *p = list;
	for (;;) {
		const char *end = p;
		while (*end != '\0' && *end != ',')
			end++;
		size_t len = (size_t)(end - p);
		unsigned id = F_COUNT;
		for (unsigned i = 0; i < F_COUNT; i++)
			if (strlen(fields[i].name) == len && memcmp(fields[i].name, p, len) == 0)
				id = i;
		if (id == F_COUNT) {
			fmt_snprintf(why, cap, "unknown field \"%.*s\" (fields: %s)",
				     (int)(len < 24 ? len : 24), p, vmi_ps_field_names);
			return -1;
		}
		for (unsigned k = 0; k < f->n; k++)
			if (f->id[k] == id) {
				fmt_snprintf(why, cap, "field \"%s\" given twice", fields[id].name);
				return -1;
			}
		if (f->n == VMI_PS_FIELDS_MAX) {
			fmt_snprintf(why, cap, "at most %u fields", VMI_PS_FIELDS_MAX);
			return -1;
		}
		f->id[f->n++] = (uint8_t)id;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

void vmi_ps_fields_default(struct vmi_ps_fields *f)
{
	static const uint8_t def[] = {F_PID,   F_PPID,      F_UID,  F_STATE,  F_THREADS,
				      F_START, F_CONTAINER, F_COMM, F_CMDLINE};
	f->n = sizeof(def);
	memcpy(f->id, def, sizeof(def));
}

uint32_t vmi_ps_fields_reads(const struct vmi_ps_fields *f)
{
	uint32_t reads = 0;
	for (unsigned k = 0; k < f->n; k++)
		reads |= fields[f->id[k]].reads;
	return reads;
}

void vmi_ps_fields_header(struct reply *r, const struct vmi_ps_fields *f, enum vmi_format fmt)
{
	if (fmt == VMI_FORMAT_JSON)
		return;
	for (unsigned k = 0; k < f->n; k++) {
		const char *sep = k == 0 ? (fmt == VMI_FORMAT_COMPACT ? "#" : "")
					 : (fmt == VMI_FORMAT_COMPACT ? "\t" : " ");
		int w = fmt == VMI_FORMAT_TEXT && k + 1 < f->n ? fields[f->id[k]].width : 0;
		reply_printf(r, "%s%*s", sep, w,
			     fmt == VMI_FORMAT_TEXT ? fields[f->id[k]].header
						    : fields[f->id[k]].name);
	}
	reply_line(r, "%s", "");
}

void vmi_compact_string(struct reply *r, const char *s)
{
	char buf[64];
	size_t n = 0;
	if (s == NULL) {
		reply_printf(r, "\\N");
		return;
	}
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (n + 5 > sizeof(buf)) {
			reply_printf(r, "%.*s", (int)n, buf);
			n = 0;
		}
		if (c == '\\' || c == '\t' || c == '\n' || c == '\r') {
			buf[n++] = '\\';
			buf[n++] = c == '\\' ? '\\' : c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		} else if (c < 0x20u || c >= 0x7fu || c == '#') {
			/* '#' too: a row never starts like a comment line */
			n += (size_t)fmt_snprintf(buf + n, sizeof(buf) - n, "\\x%02x", c);
		} else {
			buf[n++] = (char)c;
		}
	}
	reply_printf(r, "%.*s", (int)n, buf);
}

/* One value: a number (is_num), a string (NULL: unknown) or true/false (is_bool). */
struct value {
	char num[24];
	const char *str;
	bool is_num, is_bool, is_null;
};

static void value_of(const struct vmi_process *p, const struct vmi_container *c, unsigned id,
		     enum vmi_format fmt, struct value *v)
{
	*v = (struct value){.is_num = true};
	switch (id) {
	case F_PID:
		fmt_snprintf(v->num, sizeof(v->num), "%d", p->tgid);
		break;
	case F_PPID:
		v->is_null = (p->missing & VMI_MISSING_PPID) != 0;
		fmt_snprintf(v->num, sizeof(v->num), "%d", p->ppid);
		break;
	case F_UID:
		v->is_null = (p->missing & VMI_MISSING_UID) != 0;
		fmt_snprintf(v->num, sizeof(v->num), "%u", p->uid);
		break;
	case F_THREADS:
		v->is_null = (p->missing & VMI_MISSING_THREADS) != 0;
		fmt_snprintf(v->num, sizeof(v->num), "%d", p->threads);
		break;
	case F_NSPID:
		v->is_null = p->nspid < 0;
		fmt_snprintf(v->num, sizeof(v->num), "%d", p->nspid);
		break;
	case F_START:
		if (fmt == VMI_FORMAT_JSON)
			fmt_snprintf(v->num, sizeof(v->num), "%llu",
				     (unsigned long long)p->start_ns);
		else
			fmt_snprintf(v->num, sizeof(v->num), "%llu.%03llu",
				     (unsigned long long)(p->start_ns / 1000000000u),
				     (unsigned long long)(p->start_ns / 1000000u % 1000u));
		break;
	case F_STATE:
		v->is_num = false;
		v->num[0] = p->state;
		v->num[1] = '\0';
		v->str = v->num;
		break;
	case F_FROZEN:
		v->is_num = false;
		v->is_bool = true;
		v->is_null = (p->missing & VMI_MISSING_CGROUP) != 0;
		v->str = p->frozen ? "true" : "false";
		break;
	case F_TASK:
		v->is_num = false;
		fmt_snprintf(v->num, sizeof(v->num), "0x%llx", (unsigned long long)p->task);
		v->str = v->num;
		break;
	default:
		v->is_num = false;
		switch (id) {
		case F_CONTAINER:
			v->str = c != NULL ? c->name : NULL;
			break;
		case F_CONTAINER_ID:
			v->str = c != NULL ? c->id : NULL;
			break;
		case F_COMM:
			v->str = p->comm;
			break;
		case F_CMDLINE:
			v->str = (p->missing & VMI_MISSING_CMDLINE) ? NULL : p->cmdline;
			break;
		case F_HOSTNAME:
			v->str = (p->missing & VMI_MISSING_HOSTNAME) ? NULL : p->hostname;
			break;
		default: /* F_CGROUP */
			v->str = (p->missing & VMI_MISSING_CGROUP) ? NULL : p->cgroup;
			break;
		}
		v->is_null = v->str == NULL;
	}
}

/* A text column: what ps shows (unknown "?", no container "-", a kernel thread's or an
 * argument-less process's command line "[comm]"), printable only. */
static void text_value(struct reply *r, const struct vmi_process *p, unsigned id,
		       const struct value *v, int width)
{
	char buf[VMI_CMDLINE_MAX], name[VMI_NAME_MAX + 2];
	const char *s;
	if (v->is_null && id != F_CONTAINER && id != F_CONTAINER_ID)
		s = "?";
	else if (v->is_null)
		s = "-";
	else if (v->is_num)
		s = v->num;
	else if (id == F_CMDLINE && (p->kthread || p->cmdline[0] == '\0'))
		s = fmt_snprintf(name, sizeof(name), "[%s]", p->comm) >= 0 ? name : "?";
	else
		s = v->str;
	reply_printf(r, "%*s", width, vmi_printable(s, buf, sizeof(buf)));
}

void vmi_ps_fields_row(struct reply *r, const struct vmi_process *p, const struct vmi_container *c,
		       const struct vmi_ps_fields *f, enum vmi_format fmt)
{
	struct value v;
	if (fmt == VMI_FORMAT_JSON)
		reply_printf(r, "{");
	for (unsigned k = 0; k < f->n; k++) {
		unsigned id = f->id[k];
		value_of(p, c, id, fmt, &v);
		switch (fmt) {
		case VMI_FORMAT_TEXT:
			if (k > 0)
				reply_printf(r, " ");
			text_value(r, p, id, &v, k + 1 < f->n ? fields[id].width : 0);
			break;
		case VMI_FORMAT_COMPACT:
			if (k > 0)
				reply_printf(r, "\t");
			if (v.is_num && !v.is_null)
				reply_printf(r, "%s", v.num);
			else
				vmi_compact_string(r, v.is_null ? NULL : v.str);
			break;
		case VMI_FORMAT_JSON:
			reply_printf(r, "%s\"%s\":", k > 0 ? "," : "", fields[id].json);
			if (v.is_null)
				reply_printf(r, "null");
			else if (v.is_num || v.is_bool)
				reply_printf(r, "%s", v.is_num ? v.num : v.str);
			else
				reply_json_string(r, v.str);
			break;
		}
	}
	if (fmt == VMI_FORMAT_JSON)
		reply_printf(r, "}");
	else
		reply_line(r, "%s", "");
}
