/* SPDX-License-Identifier: MIT */
/*
 * Kernel profiles: reading the struct member offsets and per-CPU offsets introspection
 * needs out of an ISF JSON file (Volatility 3's Intermediate Symbol Format), ours from
 * tools/mkprofile or a dwarf2json one. guest-profiles/README.md documents the subset.
 *
 * The document is read in one streaming pass (hv/lib/json.c) with a fixed amount of state:
 * only the paths below are looked at, everything else is validated and skipped.
 *
 *   user_types.<struct>.size                         sizes (task_struct, upid)
 *   user_types.<struct>.fields.<member>.offset       member offsets
 *   user_types.<struct>.fields.<member>.type         kind/name: the type of __state, and
 *   user_types.<struct>.fields.<member>.anonymous    whether it is an unnamed struct/union
 *   base_types.<name>.size                           the size of __state's type
 *   symbols.current_task.address                     per-CPU offset (6.1)
 *   symbols.pcpu_hot.address                         per-CPU offset (>= 6.2)
 *   symbols.linux_banner.constant_data               base64 "Linux version <release> ..."
 *   symbols.<name>.address                           kernel symbols (enum ksym), counted
 *
 * Members of unnamed structs and unions: our profiles list them under the outer struct at
 * their absolute offsets (mkprofile flattens them). dwarf2json keeps them nested: the outer
 * struct has a field "unnamed_field_<hex>" with "anonymous": true whose type is a user
 * type "unnamed_<hash>" holding the members (mm_struct's fields all sit in one in 6.1).
 * Such a type may come before or after its parent in the file, so when members are still
 * missing after a pass and new unnamed types were met, the text is read again (at most
 * PROFILE_MAX_PASSES times: one more level of nesting each time).
 *
 * How the live side checks that a profile fits the running kernel (done in the monitor,
 * not here): the release parsed from linux_banner must equal the running kernel's
 * uname -r, which it reaches without symbols as current task -> nsproxy -> uts_ns ->
 * name.release (uts_namespace_name + new_utsname_release; init_uts_ns for host tasks); and the
 * walk is plausible only if the task found through GS holds a canonical kernel address in
 * tasks.next whose tasks.prev points back, a NUL-terminated printable comm, pid/tgid in
 * [0, 4194304], and real_parent/group_leader pointers that lead to tasks of their own.
 * A profile for another build fails those checks at once and is refused.
 */
#include "vmi/profile.h"

#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/json.h"
#include "lib/string.h"

#define SLOT(f) ((uint16_t)offsetof(struct vmi_profile, f))

/* In the order of enum ksym. */
const char *const ksym_names[KSYM_COUNT] = {
	"_text",
	"_stext",
	"_etext",
	"__start_rodata",
	"__end_rodata",
	"__start_ro_after_init",
	"__end_ro_after_init",
	"__start___jump_table",
	"__stop___jump_table",
	"__start_static_call_sites",
	"__stop_static_call_sites",
	"__static_call_text_start",
	"__static_call_text_end",
	"entry_SYSCALL_64",
	"sys_call_table",
	"idt_table",
	"init_task",
	"init_pid_ns",
	"init_top_pgt",
};

#define XVIEW    (PROFILE_NEED_OPTIONAL | PROFILE_NEED_XVIEW)
#define RESTRICT (PROFILE_NEED_OPTIONAL | PROFILE_NEED_RESTRICT)
#define OWNER    (PROFILE_NEED_OPTIONAL | PROFILE_NEED_OWNER)
#define FREEZE   (PROFILE_NEED_OPTIONAL | PROFILE_NEED_FREEZE)

/* In the order of struct vmi_profile. */
const struct profile_need profile_needs[] = {
	{"task_struct", NULL, NULL, SLOT(task_struct_size), 0},
	{"task_struct", "tasks", NULL, SLOT(task_tasks), 0},
	{"task_struct", "pid", NULL, SLOT(task_pid), 0},
	{"task_struct", "tgid", NULL, SLOT(task_tgid), 0},
	{"task_struct", "real_parent", NULL, SLOT(task_real_parent), 0},
	{"task_struct", "group_leader", NULL, SLOT(task_group_leader), 0},
	{"task_struct", "comm", NULL, SLOT(task_comm), 0},
	{"task_struct", "mm", NULL, SLOT(task_mm), 0},
	{"task_struct", "real_cred", NULL, SLOT(task_real_cred), 0},
	{"task_struct", "flags", NULL, SLOT(task_flags), 0},
	{"task_struct", "__state", "state", SLOT(task_state), PROFILE_NEED_SIZEOF},
	/* real_start_time (< 5.5) is the same clock under its old name */
	{"task_struct", "start_boottime", "real_start_time", SLOT(task_start_boottime), 0},
	{"task_struct", "nsproxy", NULL, SLOT(task_nsproxy), 0},
	{"task_struct", "cgroups", NULL, SLOT(task_cgroups), 0},
	{"task_struct", "signal", NULL, SLOT(task_signal), 0},
	{"task_struct", "thread_pid", NULL, SLOT(task_thread_pid), 0},
	{"signal_struct", "nr_threads", NULL, SLOT(signal_nr_threads), 0},
	{"mm_struct", "pgd", NULL, SLOT(mm_pgd), 0},
	{"mm_struct", "arg_start", NULL, SLOT(mm_arg_start), 0},
	{"mm_struct", "arg_end", NULL, SLOT(mm_arg_end), 0},
	{"cred", "uid", NULL, SLOT(cred_uid), 0},
	{"nsproxy", "uts_ns", NULL, SLOT(nsproxy_uts_ns), 0},
	{"nsproxy", "ipc_ns", NULL, SLOT(nsproxy_ipc_ns), 0},
	{"nsproxy", "mnt_ns", NULL, SLOT(nsproxy_mnt_ns), 0},
	{"nsproxy", "pid_ns_for_children", NULL, SLOT(nsproxy_pid_ns_for_children), 0},
	{"nsproxy", "net_ns", NULL, SLOT(nsproxy_net_ns), 0},
	{"nsproxy", "cgroup_ns", NULL, SLOT(nsproxy_cgroup_ns), 0},
	{"uts_namespace", "ns", NULL, SLOT(uts_namespace_ns), 0},
	{"ipc_namespace", "ns", NULL, SLOT(ipc_namespace_ns), 0},
	{"mnt_namespace", "ns", NULL, SLOT(mnt_namespace_ns), 0},
	{"pid_namespace", "ns", NULL, SLOT(pid_namespace_ns), 0},
	{"net", "ns", NULL, SLOT(net_ns), 0},
	{"cgroup_namespace", "ns", NULL, SLOT(cgroup_namespace_ns), 0},
	{"ns_common", "inum", NULL, SLOT(ns_common_inum), 0},
	{"uts_namespace", "name", NULL, SLOT(uts_namespace_name), 0},
	{"new_utsname", "nodename", NULL, SLOT(new_utsname_nodename), 0},
	{"new_utsname", "release", NULL, SLOT(new_utsname_release), 0},
	{"pid", "level", NULL, SLOT(pid_level), 0},
	{"pid", "numbers", NULL, SLOT(pid_numbers), 0},
	{"upid", NULL, NULL, SLOT(upid_size), 0},
	{"upid", "nr", NULL, SLOT(upid_nr), 0},
	{"upid", "ns", NULL, SLOT(upid_ns), 0},
	{"css_set", "dfl_cgrp", NULL, SLOT(css_set_dfl_cgrp), 0},
	{"cgroup", "kn", NULL, SLOT(cgroup_kn), 0},
	{"cgroup", "flags", NULL, SLOT(cgroup_flags), 0},
	{"kernfs_node", "name", NULL, SLOT(kernfs_node_name), 0},
	/* __parent from 6.15 (RCU-protected since then; the same pointer) */
	{"kernfs_node", "parent", "__parent", SLOT(kernfs_node_parent), 0},
	/* 6.2 to 6.14: the current task pointer sits in struct pcpu_hot (per-CPU symbol
	 * pcpu_hot); needed only when there is no current_task symbol */
	{"pcpu_hot", "current_task", NULL, PROFILE_NO_SLOT, PROFILE_NEED_PCPU_HOT},
	/* optional: 0 when absent (see profile.h) */
	{"task_struct", "exit_state", NULL, SLOT(task_exit_state), PROFILE_NEED_OPTIONAL},
	{"cred", "user_ns", NULL, SLOT(cred_user_ns), PROFILE_NEED_OPTIONAL},
	{"user_namespace", "ns", NULL, SLOT(user_namespace_ns), PROFILE_NEED_OPTIONAL},
	{"nsproxy", "time_ns", NULL, SLOT(nsproxy_time_ns), PROFILE_NEED_OPTIONAL},
	{"nsproxy", "time_ns_for_children", NULL, SLOT(nsproxy_time_ns_for_children),
	 PROFILE_NEED_OPTIONAL},
	{"time_namespace", "ns", NULL, SLOT(time_namespace_ns), PROFILE_NEED_OPTIONAL},
	{"task_struct", "worker_private", NULL, SLOT(task_worker_private), PROFILE_NEED_OPTIONAL},
	{"kthread", "data", NULL, SLOT(kthread_data), PROFILE_NEED_OPTIONAL},
	{"kthread", "full_name", NULL, SLOT(kthread_full_name), PROFILE_NEED_OPTIONAL},
	{"worker", "current_work", NULL, SLOT(worker_current_work), PROFILE_NEED_OPTIONAL},
	{"worker", "pool", NULL, SLOT(worker_pool), PROFILE_NEED_OPTIONAL},
	{"worker", "desc", NULL, SLOT(worker_desc), PROFILE_NEED_OPTIONAL},
	/* the pid-IDR and thread-list views of `ps` (xview.c); optional as a group */
	{"task_struct", "pid_links", NULL, SLOT(task_pid_links), XVIEW},
	{"task_struct", "thread_node", NULL, SLOT(task_thread_node), XVIEW},
	{"signal_struct", "thread_head", NULL, SLOT(signal_thread_head), XVIEW},
	{"pid", "tasks", NULL, SLOT(pid_tasks), XVIEW},
	{"pid_namespace", "idr", NULL, SLOT(pid_namespace_idr), XVIEW},
	{"idr", "idr_rt", NULL, SLOT(idr_idr_rt), XVIEW},
	{"xarray", "xa_head", NULL, SLOT(xarray_xa_head), XVIEW},
	{"xa_node", "shift", NULL, SLOT(xa_node_shift), XVIEW},
	{"xa_node", "slots", NULL, SLOT(xa_node_slots), XVIEW},
	/* what exec and cp give a container's process (restrict.c); optional as a group */
	{"cred", "cap_inheritable", NULL, SLOT(cred_cap_inheritable), RESTRICT},
	{"cred", "cap_bset", NULL, SLOT(cred_cap_bset), RESTRICT},
	{"cred", "cap_ambient", NULL, SLOT(cred_cap_ambient), RESTRICT},
	{"cred", "cap_permitted", NULL, SLOT(cred_cap_permitted), RESTRICT},
	{"cred", "cap_effective", NULL, SLOT(cred_cap_effective), RESTRICT},
	{"task_struct", "atomic_flags", NULL, SLOT(task_atomic_flags), RESTRICT},
	{"task_struct", "seccomp", NULL, SLOT(task_seccomp), RESTRICT},
	{"seccomp", "mode", NULL, SLOT(seccomp_mode), RESTRICT},
	{"seccomp", "filter", NULL, SLOT(seccomp_filter), RESTRICT},
	{"seccomp_filter", "log", NULL, SLOT(seccomp_filter_log), RESTRICT},
	{"seccomp_filter", "prev", NULL, SLOT(seccomp_filter_prev), RESTRICT},
	{"seccomp_filter", "prog", NULL, SLOT(seccomp_filter_prog), RESTRICT},
	{"seccomp_filter", "notif", NULL, SLOT(seccomp_filter_notif), RESTRICT},
	{"bpf_prog", "orig_prog", NULL, SLOT(bpf_prog_orig_prog), RESTRICT},
	{"sock_fprog_kern", "len", NULL, SLOT(sock_fprog_kern_len), RESTRICT},
	{"sock_fprog_kern", "filter", NULL, SLOT(sock_fprog_kern_filter), RESTRICT},
	/* who owns a container (owner.c); optional as a group */
	{"user_namespace", "parent", NULL, SLOT(user_namespace_parent), OWNER},
	{"user_namespace", "owner", NULL, SLOT(user_namespace_owner), OWNER},
	{"kernfs_node", "iattr", NULL, SLOT(kernfs_node_iattr), OWNER},
	{"kernfs_iattrs", "ia_uid", NULL, SLOT(kernfs_iattrs_ia_uid), OWNER},
	/* a freeze every task of a cgroup will take before it runs again (freezer.c);
	 * optional as a group */
	{"cgroup", "cset_links", NULL, SLOT(cgroup_cset_links), FREEZE},
	{"cgroup", "nr_descendants", NULL, SLOT(cgroup_nr_descendants), FREEZE},
	{"cgrp_cset_link", "cset", NULL, SLOT(cgrp_cset_link_cset), FREEZE},
	{"cgrp_cset_link", "cset_link", NULL, SLOT(cgrp_cset_link_cset_link), FREEZE},
	{"css_set", "tasks", NULL, SLOT(css_set_tasks), FREEZE},
	{"css_set", "mg_tasks", NULL, SLOT(css_set_mg_tasks), FREEZE},
	{"task_struct", "cg_list", NULL, SLOT(task_cg_list), FREEZE},
	{"task_struct", "jobctl", NULL, SLOT(task_jobctl), FREEZE},
	{"task_struct", "on_cpu", NULL, SLOT(task_on_cpu), FREEZE},
	{"task_struct", "thread_info", NULL, SLOT(task_thread_info), FREEZE},
	{"thread_info", "flags", NULL, SLOT(thread_info_flags), FREEZE},
};
const size_t profile_needs_count = sizeof(profile_needs) / sizeof(profile_needs[0]);

#define NEED_COUNT (sizeof(profile_needs) / sizeof(profile_needs[0]))
_Static_assert(NEED_COUNT <= 128, "found/needed sets are 128-bit masks");

typedef unsigned __int128 need_mask;

#define PROFILE_MAX_PASSES 4u  /* unnamed struct/union nesting depth read from dwarf2json */
#define PATH_DEPTH         6u  /* user_types.S.fields.M.type.name is the deepest path used */
#define KEY_MAX            64u /* longer keys cannot name anything we look for */
#define ANON_MAX           24u /* unnamed members of the needed structs (6.1 has 4) */
#define ANON_NAME_MAX      40u /* dwarf2json names them "unnamed_" + 16 hex digits */
#define BASE_MAX           24u /* base types remembered (dwarf2json writes about 20) */
#define BASE_NAME_MAX      32u
#define TYPE_NAME_MAX      40u
#define BANNER_B64_MAX     120u /* enough base64 for "Linux version " + a 64-byte release */

/* An unnamed struct/union type met as a member of a needed struct: its members are that
 * struct's members at base + their offset. */
struct anon_ref {
	char name[ANON_NAME_MAX];
	uint64_t base;
	need_mask needs; /* the needs of the named struct it belongs to */
};

struct base_type {
	char name[BASE_NAME_MAX];
	uint32_t size;
};

/* The field object being read: user_types.<type>.fields.<member> */
struct field {
	bool active;
	bool has_offset;
	bool bad_offset; /* present but not an unsigned integer that fits */
	bool anonymous;
	uint64_t offset;
	char type_kind[12];
	char type_name[TYPE_NAME_MAX];
};

struct ctx {
	struct profile_error *err;
	unsigned pass;

	char path[PATH_DEPTH][KEY_MAX];
	bool path_ok[PATH_DEPTH]; /* false: no key at that level yet, an array, or too long */

	/* the user type being read */
	need_mask type_needs; /* needs it supplies directly (it is their struct) */
	uint64_t type_anons;  /* anon_ref entries it is (bit i: anon[i]) */
	struct field field;

	need_mask found;
	uint64_t value[NEED_COUNT];
	char state_kind[12]; /* the type of task_struct.__state (or .state) */
	char state_type[TYPE_NAME_MAX];
	bool bad_number; /* a needed value is not an unsigned integer */
	char bad_what[80];

	struct anon_ref anon[ANON_MAX];
	unsigned anon_count;
	bool anon_full;

	struct base_type base[BASE_MAX];
	unsigned base_count;

	bool has_current_task, has_pcpu_hot;
	uint64_t current_task, pcpu_hot;
	char release[PROFILE_RELEASE_MAX];

	uint64_t ksym[KSYM_COUNT];
	uint32_t symbols; /* symbols.*.address seen in the first pass */
};

static void set_error(struct profile_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct profile_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	fmt_vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

static bool key_is(const struct ctx *c, unsigned level, const char *s)
{
	return level < PATH_DEPTH && c->path_ok[level] && strcmp(c->path[level], s) == 0;
}

static bool member_matches(const struct profile_need *n, const char *member)
{
	return n->member != NULL &&
	       (strcmp(n->member, member) == 0 || (n->alt != NULL && strcmp(n->alt, member) == 0));
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Entering user_types.<name>: which needs does it supply? */
static void begin_user_type(struct ctx *c, const char *name)
{
	c->type_needs = 0;
	c->type_anons = 0;
	for (size_t i = 0; i < NEED_COUNT; i++)
		if (strcmp(profile_needs[i].type, name) == 0)
			c->type_needs |= (need_mask)1 << i;
	for (unsigned i = 0; i < c->anon_count; i++)
		if (strcmp(c->anon[i].name, name) == 0)
			c->type_anons |= (uint64_t)1 << i;
}

static bool has(need_mask m, size_t i)
{
	return (m & ((need_mask)1 << i)) != 0;
}

static void found(struct ctx *c, size_t i, uint64_t v, const struct field *f)
{
	if (has(c->found, i))
		return; /* the first definition wins */
	c->found |= (need_mask)1 << i;
	c->value[i] = v;
	if (profile_needs[i].flags & PROFILE_NEED_SIZEOF) {
		copy_str(c->state_kind, sizeof(c->state_kind), f->type_kind);
		copy_str(c->state_type, sizeof(c->state_type), f->type_name);
	}
}

/* Remembers the unnamed member type `f` of a needed struct, at `base`. */
static void add_anon(struct ctx *c, const struct field *f, uint64_t base, need_mask needs)
{
	if (needs == 0 || f->type_name[0] == '\0')
		return;
	if (strcmp(f->type_kind, "struct") != 0 && strcmp(f->type_kind, "union") != 0)
		return;
	if (strnlen(f->type_name, sizeof(f->type_name)) >= ANON_NAME_MAX)
		return;
	for (unsigned i = 0; i < c->anon_count; i++)
		if (c->anon[i].base == base && c->anon[i].needs == needs &&
		    strcmp(c->anon[i].name, f->type_name) == 0)
			return;
	if (c->anon_count >= ANON_MAX) {
		c->anon_full = true;
		return;
	}
	struct anon_ref *a = &c->anon[c->anon_count++];
	copy_str(a->name, sizeof(a->name), f->type_name);
	a->base = base;
	a->needs = needs;
}

static void bad_value(struct ctx *c, const char *type, const char *member, const char *what)
{
	if (c->bad_number)
		return;
	c->bad_number = true;
	fmt_snprintf(c->bad_what, sizeof(c->bad_what), "%s.%s%s", type, member, what);
}

/* The field object user_types.<type>.fields.<member> is complete. */
static void end_field(struct ctx *c, const char *member)
{
	struct field *f = &c->field;
	need_mask direct = 0;

	for (size_t i = 0; i < NEED_COUNT; i++) {
		if (!has(c->type_needs, i) || !member_matches(&profile_needs[i], member))
			continue;
		if (!f->has_offset || f->bad_offset)
			bad_value(c, profile_needs[i].type, member,
				  f->has_offset ? " offset is not an unsigned integer"
						: " has no offset");
		else
			found(c, i, f->offset, f);
	}
	for (unsigned a = 0; a < c->anon_count; a++) {
		if (!(c->type_anons & ((uint64_t)1 << a)))
			continue;
		const struct anon_ref *r = &c->anon[a];
		for (size_t i = 0; i < NEED_COUNT; i++)
			if (has(r->needs, i) && member_matches(&profile_needs[i], member) &&
			    f->has_offset && !f->bad_offset)
				found(c, i, r->base + f->offset, f);
	}
	if (!f->anonymous || !f->has_offset || f->bad_offset)
		return;
	/* an unnamed struct/union: its members may be the ones we need */
	for (size_t i = 0; i < NEED_COUNT; i++)
		if (has(c->type_needs, i) && profile_needs[i].member != NULL)
			direct |= (need_mask)1 << i;
	add_anon(c, f, f->offset, direct);
	unsigned count = c->anon_count; /* add_anon may append: read only the old ones */
	for (unsigned a = 0; a < count && a < 64; a++)
		if (c->type_anons & ((uint64_t)1 << a))
			add_anon(c, f, c->anon[a].base + f->offset, c->anon[a].needs);
}

static bool number(const struct json_token *t, const char *text, uint64_t *v)
{
	return json_number_u64(text + t->start, t->len, v) == 0;
}

/* symbols.<name>.address: counted, and kept when enum ksym names it. */
static void kernel_symbol(struct ctx *c, const struct json_token *t, const char *text)
{
	uint64_t v;
	if (c->pass == 0 && c->symbols < UINT32_MAX)
		c->symbols++;
	for (unsigned i = 0; i < KSYM_COUNT; i++) {
		if (strcmp(c->path[1], ksym_names[i]) != 0)
			continue;
		if (t->type != JSON_NUMBER || !number(t, text, &v) || v == 0) {
			if (!c->bad_number) {
				c->bad_number = true;
				fmt_snprintf(c->bad_what, sizeof(c->bad_what),
					     "symbols.%s.address is not a kernel address",
					     ksym_names[i]);
			}
			return;
		}
		c->ksym[i] = v;
		return;
	}
}

/* base64 (RFC 4648 §4) of the banner's beginning -> "Linux version <release> ..." */
static void banner_release(struct ctx *c, const char *raw, size_t raw_len)
{
	char b64[BANNER_B64_MAX + 1];
	unsigned char text[BANNER_B64_MAX];
	size_t n = json_string_decode(raw, raw_len, b64, sizeof(b64));
	size_t len = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	if (n > BANNER_B64_MAX)
		n = BANNER_B64_MAX;
	for (size_t i = 0; i < n; i++) {
		char ch = b64[i];
		int v;
		if (ch >= 'A' && ch <= 'Z')
			v = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			v = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			v = ch - '0' + 52;
		else if (ch == '+')
			v = 62;
		else if (ch == '/')
			v = 63;
		else
			break; /* '=' padding or not base64: what came before is the text */
		acc = (acc << 6 | (uint32_t)v) & 0xffffffu;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			text[len++] = (unsigned char)(acc >> bits);
		}
	}

	static const char prefix[] = "Linux version ";
	const size_t plen = sizeof(prefix) - 1;
	if (len <= plen || memcmp(text, prefix, plen) != 0)
		return;
	size_t r = 0;
	while (plen + r < len && r < PROFILE_RELEASE_MAX - 1 && text[plen + r] > ' ' &&
	       text[plen + r] < 0x7f)
		r++;
	/* the release must end inside what was decoded (at a space, newline, NUL or the end) */
	if (r == 0 || r >= PROFILE_RELEASE_MAX - 1 ||
	    (plen + r < len && text[plen + r] != ' ' && text[plen + r] != '\n' &&
	     text[plen + r] != '\0'))
		return;
	if (plen + r == len && n == BANNER_B64_MAX)
		return; /* cut by our own limit: we cannot tell where it ends */
	memcpy(c->release, text + plen, r);
	c->release[r] = '\0';
}

static void add_base_type(struct ctx *c, const char *name, uint64_t size)
{
	if (size > 64 || strnlen(name, BASE_NAME_MAX) >= BASE_NAME_MAX)
		return;
	for (unsigned i = 0; i < c->base_count; i++)
		if (strcmp(c->base[i].name, name) == 0)
			return;
	if (c->base_count >= BASE_MAX)
		return;
	copy_str(c->base[c->base_count].name, BASE_NAME_MAX, name);
	c->base[c->base_count++].size = (uint32_t)size;
}

static void scalar(struct ctx *c, const char *text, const struct json_token *t)
{
	unsigned d = t->depth;
	uint64_t v;

	if (key_is(c, 0, "user_types") && (c->type_needs != 0 || c->type_anons != 0)) {
		if (d == 3 && key_is(c, 2, "size") && t->type == JSON_NUMBER) {
			for (size_t i = 0; i < NEED_COUNT; i++) {
				if (!has(c->type_needs, i) || profile_needs[i].member)
					continue;
				if (number(t, text, &v))
					found(c, i, v, &c->field);
				else
					bad_value(c, profile_needs[i].type, "size",
						  " is not an unsigned integer");
			}
			return;
		}
		if (!c->field.active)
			return;
		if (d == 5 && key_is(c, 4, "offset") && t->type == JSON_NUMBER) {
			c->field.has_offset = true;
			c->field.bad_offset = !number(t, text, &c->field.offset);
		} else if (d == 5 && key_is(c, 4, "offset")) {
			c->field.has_offset = true;
			c->field.bad_offset = true;
		} else if (d == 5 && key_is(c, 4, "anonymous")) {
			c->field.anonymous = t->type == JSON_TRUE;
		} else if (d == 6 && key_is(c, 4, "type") && t->type == JSON_STRING) {
			if (key_is(c, 5, "kind"))
				json_string_decode(text + t->start, t->len, c->field.type_kind,
						   sizeof(c->field.type_kind));
			else if (key_is(c, 5, "name"))
				json_string_decode(text + t->start, t->len, c->field.type_name,
						   sizeof(c->field.type_name));
		}
		return;
	}
	if (d != 3)
		return;
	if (key_is(c, 0, "base_types") && key_is(c, 2, "size") && t->type == JSON_NUMBER &&
	    c->path_ok[1]) {
		if (number(t, text, &v))
			add_base_type(c, c->path[1], v);
		return;
	}
	if (!key_is(c, 0, "symbols"))
		return;
	if (key_is(c, 2, "address") && c->path_ok[1])
		kernel_symbol(c, t, text);
	if (key_is(c, 2, "address") && (key_is(c, 1, "current_task") || key_is(c, 1, "pcpu_hot"))) {
		bool ct = key_is(c, 1, "current_task");
		if (t->type != JSON_NUMBER || !number(t, text, &v)) {
			if (!c->bad_number) {
				c->bad_number = true;
				fmt_snprintf(c->bad_what, sizeof(c->bad_what),
					     "symbols.%s.address is not an unsigned integer",
					     ct ? "current_task" : "pcpu_hot");
			}
			return;
		}
		if (ct) {
			c->has_current_task = true;
			c->current_task = v;
		} else {
			c->has_pcpu_hot = true;
			c->pcpu_hot = v;
		}
	} else if (key_is(c, 1, "linux_banner") && key_is(c, 2, "constant_data") &&
		   t->type == JSON_STRING) {
		banner_release(c, text + t->start, t->len);
	}
}

/* One pass over the document. Returns false (with the error set) if it is malformed. */
static bool read_pass(struct ctx *c, const char *text, size_t len)
{
	struct json_lexer lx;
	struct json_token t;

	json_lexer_init(&lx, text, len);
	c->type_needs = 0;
	c->type_anons = 0;
	c->field.active = false;
	for (unsigned i = 0; i < PATH_DEPTH; i++)
		c->path_ok[i] = false;

	/* Bounded: every json_next() consumes at least one byte or ends the document. */
	for (size_t tokens = 0; tokens <= len; tokens++) {
		enum json_token_type type = json_next(&lx, &t);
		unsigned d = t.depth;

		if (tokens == 0 && type != JSON_OBJECT_BEGIN && type != JSON_ERROR) {
			set_error(c->err, "profile: not a JSON object (byte 0)");
			return false;
		}
		switch (type) {
		case JSON_ERROR:
			set_error(c->err, "profile: malformed JSON at byte %zu: %s", lx.error_at,
				  lx.error);
			return false;
		case JSON_END:
			return true;
		case JSON_KEY:
			if (d - 1 < PATH_DEPTH) {
				char *k = c->path[d - 1];
				size_t n = json_string_decode(text + t.start, t.len, k, KEY_MAX);
				c->path_ok[d - 1] = n < KEY_MAX;
				if (d == 2 && key_is(c, 0, "user_types")) {
					c->type_needs = 0;
					c->type_anons = 0;
					if (c->path_ok[1])
						begin_user_type(c, k);
				}
			}
			break;
		case JSON_OBJECT_BEGIN:
		case JSON_ARRAY_BEGIN:
			if (d - 1 < PATH_DEPTH)
				c->path_ok[d - 1] = false; /* no key at the new level yet */
			if (type == JSON_OBJECT_BEGIN && d == 5 && key_is(c, 0, "user_types") &&
			    key_is(c, 2, "fields") && c->path_ok[3] &&
			    (c->type_needs != 0 || c->type_anons != 0)) {
				memset(&c->field, 0, sizeof(c->field));
				c->field.active = true;
			}
			break;
		case JSON_OBJECT_END:
			if (d == 4 && c->field.active) {
				end_field(c, c->path[3]);
				c->field.active = false;
			}
			if (d <= 1) {
				c->type_needs = 0;
				c->type_anons = 0;
			}
			break;
		case JSON_ARRAY_END:
			break;
		default:
			scalar(c, text, &t);
			break;
		}
	}
	set_error(c->err, "profile: tokenizer did not advance"); /* cannot happen */
	return false;
}

/* Size in bytes of the base type `name` (x86-64), or 0 if unknown. */
static uint32_t base_size(const struct ctx *c, const char *name)
{
	static const struct {
		const char *name;
		uint32_t size;
	} lp64[] = {
		{"int", 4},      {"unsigned int", 4},  {"long", 8},
		{"long int", 8}, {"unsigned long", 8}, {"long unsigned int", 8},
	};

	for (unsigned i = 0; i < c->base_count; i++)
		if (strcmp(c->base[i].name, name) == 0)
			return c->base[i].size;
	for (size_t i = 0; i < sizeof(lp64) / sizeof(lp64[0]); i++)
		if (strcmp(lp64[i].name, name) == 0)
			return lp64[i].size;
	return 0;
}

/* Appends to the error message; returns false once it is full. */
static bool append(struct profile_error *err, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool append(struct profile_error *err, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || *used >= sizeof(err->message) - 1)
		return false;
	va_start(ap, fmt);
	n = fmt_vsnprintf(err->message + *used, sizeof(err->message) - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(err->message) - *used) {
		*used = sizeof(err->message) - 1;
		return false;
	}
	*used += (size_t)n;
	return true;
}

static bool needs_pcpu_hot(const struct ctx *c)
{
	return !c->has_current_task;
}

/* Whether a profile lacking `n` is refused. pcpu_hot.current_task is named only when
 * the pcpu_hot symbol is there (without either symbol, "current_task" says it all). */
static bool required(const struct ctx *c, const struct profile_need *n)
{
	if (n->flags & PROFILE_NEED_OPTIONAL)
		return false;
	if (n->flags & PROFILE_NEED_PCPU_HOT)
		return needs_pcpu_hot(c) && c->has_pcpu_hot;
	return true;
}

/* Names every missing value (as many as fit, then how many more). */
static bool report_missing(struct ctx *c)
{
	unsigned missing = 0, named = 0;
	size_t used = 0;
	const size_t room = PROFILE_ERR_MAX - 48; /* keep space for "(and N more)" */

	for (size_t i = 0; i < NEED_COUNT; i++) {
		const struct profile_need *n = &profile_needs[i];
		if (has(c->found, i) || !required(c, n))
			continue;
		missing++;
	}
	bool no_percpu = !c->has_current_task && !c->has_pcpu_hot;
	if (no_percpu)
		missing++;
	if (missing == 0)
		return false;
	if (c->err == NULL)
		return true;

	append(c->err, &used, "profile lacks ");
	if (no_percpu) {
		append(c->err, &used, "current_task (per-CPU symbol; or pcpu_hot)");
		named++;
	}
	for (size_t i = 0; i < NEED_COUNT; i++) {
		const struct profile_need *n = &profile_needs[i];
		if (has(c->found, i) || !required(c, n))
			continue;
		if (used >= room)
			break;
		size_t before = used;
		if (!append(c->err, &used, "%s%s%s%s", named ? ", " : "", n->type,
			    n->member ? "." : " (size)", n->member ? n->member : "")) {
			used = before;
			c->err->message[used] = '\0';
			break;
		}
		named++;
	}
	if (named < missing)
		append(c->err, &used, " (and %u more)", missing - named);
	if (c->anon_full)
		append(c->err, &used, "; too many unnamed members to follow");
	return true;
}

/* The values must describe a plausible layout: members inside their struct. */
static bool check_layout(const struct vmi_profile *p, struct profile_error *err)
{
	static const struct {
		const char *name;
		uint16_t slot;
		uint16_t bytes; /* at least this much of the member must fit */
	} task_members[] = {
		{"tasks", SLOT(task_tasks), 16},
		{"pid", SLOT(task_pid), 4},
		{"tgid", SLOT(task_tgid), 4},
		{"real_parent", SLOT(task_real_parent), 8},
		{"group_leader", SLOT(task_group_leader), 8},
		{"comm", SLOT(task_comm), 16},
		{"mm", SLOT(task_mm), 8},
		{"real_cred", SLOT(task_real_cred), 8},
		{"flags", SLOT(task_flags), 4},
		{"__state", SLOT(task_state), 4},
		{"start_boottime", SLOT(task_start_boottime), 8},
		{"nsproxy", SLOT(task_nsproxy), 8},
		{"cgroups", SLOT(task_cgroups), 8},
		{"signal", SLOT(task_signal), 8},
		{"thread_pid", SLOT(task_thread_pid), 8},
		{"exit_state", SLOT(task_exit_state), 4},         /* optional: 0 if absent */
		{"worker_private", SLOT(task_worker_private), 8}, /* optional: 0 if absent */
		{"atomic_flags", SLOT(task_atomic_flags), 8},     /* optional: 0 if absent */
		{"seccomp", SLOT(task_seccomp), 16},              /* optional: 0 if absent */
	};
	const uint8_t *base = (const uint8_t *)p;

	for (size_t i = 0; i < sizeof(task_members) / sizeof(task_members[0]); i++) {
		uint32_t off;
		memcpy(&off, base + task_members[i].slot, sizeof(off));
		if (off != 0 && (uint64_t)off + task_members[i].bytes > p->task_struct_size) {
			set_error(err,
				  "profile: task_struct.%s at offset %u lies outside task_struct "
				  "(size %u)",
				  task_members[i].name, off, p->task_struct_size);
			return false;
		}
	}
	if ((uint64_t)p->upid_nr + 4 > p->upid_size || (uint64_t)p->upid_ns + 8 > p->upid_size) {
		set_error(err, "profile: upid.nr (%u) or upid.ns (%u) lies outside upid (size %u)",
			  p->upid_nr, p->upid_ns, p->upid_size);
		return false;
	}
	return true;
}

int profile_parse(const char *json, size_t len, struct vmi_profile *p, struct profile_error *err)
{
	struct ctx c;

	memset(p, 0, sizeof(*p));
	memset(&c, 0, sizeof(c));
	c.err = err;
	if (err != NULL)
		err->message[0] = '\0';
	if (json == NULL || len == 0) {
		set_error(err, "profile: empty");
		return -1;
	}

	/* Bounded: at most PROFILE_MAX_PASSES passes of O(len) each. */
	for (c.pass = 0; c.pass < PROFILE_MAX_PASSES; c.pass++) {
		unsigned anon_before = c.anon_count;
		if (!read_pass(&c, json, len))
			return -1;
		if (c.bad_number) {
			set_error(err, "profile: %s", c.bad_what);
			return -1;
		}
		need_mask all = 0;
		for (size_t i = 0; i < NEED_COUNT; i++)
			if (!(profile_needs[i].flags & PROFILE_NEED_PCPU_HOT) || needs_pcpu_hot(&c))
				all |= (need_mask)1 << i;
		/* done when nothing is missing (optional members included: they may sit in
		 * unnamed types too), or when this pass met no new unnamed type (another pass
		 * would find nothing more) */
		if ((c.found & all) == all || c.anon_count == anon_before)
			break;
	}
	if (report_missing(&c))
		return -1;

	for (size_t i = 0; i < NEED_COUNT; i++) {
		const struct profile_need *n = &profile_needs[i];
		if (n->slot == PROFILE_NO_SLOT || !has(c.found, i))
			continue;
		if (c.value[i] > UINT32_MAX) {
			set_error(err, "profile: %s.%s is too large (%llu)", n->type,
				  n->member ? n->member : "size", (unsigned long long)c.value[i]);
			return -1;
		}
		uint32_t v = (uint32_t)c.value[i];
		memcpy((uint8_t *)p + n->slot, &v, sizeof(v));
		if (n->flags & PROFILE_NEED_SIZEOF) {
			uint32_t size = 0;
			if (strcmp(c.state_kind, "base") == 0)
				size = base_size(&c, c.state_type);
			if (size != 4 && size != 8) {
				set_error(err,
					  "profile: cannot tell the size of %s.%s (type %s '%s'): "
					  "expected a 4- or 8-byte base type",
					  n->type, n->member, c.state_kind, c.state_type);
				return -1;
			}
			p->task_state_size = size;
		}
	}

	if (c.has_current_task) {
		p->percpu_current_task = c.current_task;
	} else {
		/* 6.2 to 6.14: &pcpu_hot.current_task */
		for (size_t i = 0; i < NEED_COUNT; i++)
			if (profile_needs[i].flags & PROFILE_NEED_PCPU_HOT)
				p->percpu_current_task = c.pcpu_hot + c.value[i];
	}
	if (!check_layout(p, err))
		return -1;
	p->xview_known = true;
	for (size_t i = 0; i < NEED_COUNT; i++)
		if ((profile_needs[i].flags & PROFILE_NEED_XVIEW) && !has(c.found, i))
			p->xview_known = false;
	p->restrict_known = p->owner_known = p->freeze_known = true;
	for (size_t i = 0; i < NEED_COUNT; i++) {
		if ((profile_needs[i].flags & PROFILE_NEED_FREEZE) && !has(c.found, i))
			p->freeze_known = false;
		if ((profile_needs[i].flags & PROFILE_NEED_RESTRICT) && !has(c.found, i))
			p->restrict_known = false;
		if ((profile_needs[i].flags & PROFILE_NEED_OWNER) && !has(c.found, i))
			p->owner_known = false;
	}
	copy_str(p->release, sizeof(p->release), c.release);
	memcpy(p->ksym, c.ksym, sizeof(p->ksym));
	p->symbols = c.symbols;
	return 0;
}
