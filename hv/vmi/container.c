/* SPDX-License-Identifier: MIT */
/*
 * Grouping processes into containers (DESIGN §5). The kernel has no notion of a
 * container; runtimes leave two kinds of traces:
 *
 *  - a cgroup named after the container's id: systemd-driven runtimes create
 *    docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, libpod-<id>.scope;
 *    cgroupfs-driven docker and podman /docker/<id>, /libpod_parent/libpod-<id>
 *    (ids are 64 hex digits). The deepest such component of a process's cgroup path wins;
 *  - namespaces of its own: a process whose pid AND mount namespaces both differ from
 *    pid 1's (or, for a zombie, which has lost its mount namespace, whose pid namespace
 *    does) is in a container even when no pattern fits (crun or runc with a plain
 *    cgroupfs path such as /lab/web, or an `unshare --pid --mount --fork`). Such
 *    processes are grouped by pid namespace; the container is named after the last
 *    component of its init's cgroup path, or "pidns-<inode>" when that is the root.
 *
 * A service that only has a mount namespace of its own (systemd's PrivateTmp=) is not a
 * container; neither is a process in the host's namespaces in a plain cgroup.
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

#define ID_HEX_LEN 64u

static bool is_hex_id(const char *s, size_t n)
{
	if (n != ID_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *prefix, size_t *plen)
{
	size_t k = strlen(prefix);

	if (n < k || memcmp(s, prefix, k) != 0)
		return false;
	*plen = k;
	return true;
}

/* Does one path component (s, n bytes; parent the one before it, pn bytes) name a
 * container? On a match the id is at *id (ID_HEX_LEN bytes). */
static bool match_component(const char *s, size_t n, const char *parent, size_t pn,
			    enum vmi_runtime *rt, const char **id)
{
	static const struct {
		const char *prefix;
		enum vmi_runtime rt;
		bool scope_only; /* only as "<prefix><id>.scope" */
	} patterns[] = {
		{"docker-", VMI_RT_DOCKER, true},
		{"cri-containerd-", VMI_RT_CONTAINERD, true},
		{"crio-", VMI_RT_CRIO, false},
		{"libpod-", VMI_RT_PODMAN, false},
	};
	static const char scope[] = ".scope";
	const size_t scope_len = sizeof(scope) - 1;

	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		size_t k, rest;

		if (!has_prefix(s, n, patterns[i].prefix, &k))
			continue;
		rest = n - k;
		if (rest == ID_HEX_LEN + scope_len &&
		    memcmp(s + k + ID_HEX_LEN, scope, scope_len) == 0 &&
		    is_hex_id(s + k, ID_HEX_LEN)) {
			*rt = patterns[i].rt;
			*id = s + k;
			return true;
		}
		if (!patterns[i].scope_only && is_hex_id(s + k, rest)) {
			*rt = patterns[i].rt;
			*id = s + k;
			return true;
		}
	}
	/* docker's cgroupfs driver: /docker/<id> */
	if (is_hex_id(s, n) && pn == 6 && memcmp(parent, "docker", 6) == 0) {
		*rt = VMI_RT_DOCKER;
		*id = s;
		return true;
	}
	return false;
}

/* The deepest component of path that names a container. */
static bool match_path(const char *path, struct vmi_container_key *key)
{
	const char *comp[VMI_CGROUP_DEPTH_MAX + 1];
	size_t len[VMI_CGROUP_DEPTH_MAX + 1];
	size_t n = 0, i = 0;

	/* Split "/a/b/c" into its components (bounded by the path's own bound). */
	while (path[i] != '\0' && n < sizeof(comp) / sizeof(comp[0])) {
		size_t start;

		while (path[i] == '/')
			i++;
		if (path[i] == '\0')
			break;
		start = i;
		while (path[i] != '\0' && path[i] != '/')
			i++;
		comp[n] = path + start;
		len[n] = i - start;
		n++;
	}
	for (size_t c = n; c-- > 0;) {
		enum vmi_runtime rt;
		const char *id;

		if (match_component(comp[c], len[c], c > 0 ? comp[c - 1] : "",
				    c > 0 ? len[c - 1] : 0, &rt, &id)) {
			key->in_container = true;
			key->runtime = rt;
			memcpy(key->id, id, ID_HEX_LEN);
			key->id[ID_HEX_LEN] = '\0';
			key->cgroup_len = (size_t)(comp[c] + len[c] - path);
			key->cgroup_hash = 0xcbf29ce484222325ull; /* FNV-1a 64 */
			for (size_t k = 0; k < key->cgroup_len; k++)
				key->cgroup_hash =
					(key->cgroup_hash ^ (uint8_t)path[k]) * 0x100000001b3ull;
			return true;
		}
	}
	return false;
}

static bool by_namespaces(enum vmi_runtime rt)
{
	return rt == VMI_RT_CGROUPFS || rt == VMI_RT_NAMESPACES;
}

void vmi_container_key_of(const struct vmi *v, const struct vmi_process *p,
			  struct vmi_container_key *key)
{
	memset(key, 0, sizeof(*key));
	if (p->cgroup[0] != '\0' && match_path(p->cgroup, key))
		return;
	/* A zombie has no nsproxy left (mnt unknown) but still its struct pid: its pid
	 * namespace alone then decides. */
	if (p->ns[VMI_NS_PID] != 0 && v->host_ns[VMI_NS_PID] != 0 &&
	    p->ns[VMI_NS_PID] != v->host_ns[VMI_NS_PID] &&
	    (p->ns[VMI_NS_MNT] == 0 || p->ns[VMI_NS_MNT] != v->host_ns[VMI_NS_MNT])) {
		key->in_container = true;
		key->runtime = strcmp(p->cgroup, "/") == 0 || p->cgroup[0] == '\0'
				       ? VMI_RT_NAMESPACES
				       : VMI_RT_CGROUPFS;
		key->pid_ns = p->ns[VMI_NS_PID];
		key->cgroup_len = strlen(p->cgroup);
	}
}

bool vmi_container_key_equal(const struct vmi_container_key *a, const struct vmi_container_key *b)
{
	if (!a->in_container || !b->in_container)
		return false;
	if (by_namespaces(a->runtime) || by_namespaces(b->runtime))
		return by_namespaces(a->runtime) && by_namespaces(b->runtime) &&
		       a->pid_ns == b->pid_ns;
	/* the same id under another cgroup path is another container: an unprivileged user can
	 * name a directory of its delegated subtree docker-<id>.scope after a real one */
	return a->runtime == b->runtime && strcmp(a->id, b->id) == 0 &&
	       a->cgroup_len == b->cgroup_len && a->cgroup_hash == b->cgroup_hash;
}

int vmi_container_find(const struct vmi_container *c, size_t n, const struct vmi_process *p,
		       const struct vmi *v)
{
	struct vmi_container_key key;

	vmi_container_key_of(v, p, &key);
	if (!key.in_container)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (vmi_container_key_equal(&c[i].key, &key))
			return (int)i;
	}
	return -1;
}

/* The last component of a path ("/lab/web" -> "web"). */
static const char *leaf(const char *path)
{
	const char *l = path;

	for (const char *s = path; *s != '\0'; s++) {
		if (*s == '/' && s[1] != '\0')
			l = s + 1;
	}
	return l;
}

static void take_init(struct vmi_container *c, const struct vmi_process *p)
{
	c->init_pid = p->tgid;
	c->init_nspid = p->nspid;
	c->init_task = p->task;
	c->frozen = p->frozen;
	c->freeze_set = p->freeze_set;
	memcpy(c->ns, p->ns, sizeof(c->ns));
	if (by_namespaces(c->key.runtime)) {
		/* Named after the init's cgroup: crun/runc use the container id as its leaf. */
		fmt_snprintf(c->cgroup, sizeof(c->cgroup), "%s", p->cgroup);
		if (p->cgroup[0] != '\0' && strcmp(p->cgroup, "/") != 0) {
			c->key.runtime = VMI_RT_CGROUPFS;
			fmt_snprintf(c->id, sizeof(c->id), "%s", leaf(p->cgroup));
		} else {
			c->key.runtime = VMI_RT_NAMESPACES;
			fmt_snprintf(c->id, sizeof(c->id), "pidns-%u", p->ns[VMI_NS_PID]);
		}
		fmt_snprintf(c->name, sizeof(c->name), "%s", c->id);
	}
}

static void add_member(struct vmi_container *c, const struct vmi_process *p, bool fresh)
{
	c->processes++;
	if (p->state != 'Z' && p->state != 'X')
		c->live++;
	/* The init: the process that is pid 1 inside, else the first one seen. */
	if (fresh || (p->nspid == 1 && c->init_nspid != 1))
		take_init(c, p);
}

static void new_container(struct vmi_container *c, const struct vmi_container_key *key,
			  const struct vmi_process *p)
{
	memset(c, 0, sizeof(*c));
	c->key = *key;
	if (!by_namespaces(key->runtime)) {
		fmt_snprintf(c->id, sizeof(c->id), "%s", key->id);
		fmt_snprintf(c->name, sizeof(c->name), "%.12s", key->id);
		fmt_snprintf(c->cgroup, sizeof(c->cgroup), "%.*s", (int)key->cgroup_len, p->cgroup);
	}
}

/* Adds p to its container in out[0..*n) (a new one when there is room), its index in *at
 * (SIZE_MAX: in none); -1 when there was no room. */
static int group(struct vmi *v, struct vmi_container *out, size_t cap, size_t *n,
		 const struct vmi_process *p, size_t *at)
{
	struct vmi_container_key key;
	size_t i;

	*at = SIZE_MAX;
	vmi_container_key_of(v, p, &key);
	if (!key.in_container)
		return 0;
	for (i = 0; i < *n; i++) {
		if (vmi_container_key_equal(&out[i].key, &key))
			break;
	}
	if (i < *n) {
		add_member(&out[i], p, false);
		*at = i;
		return 0;
	}
	if (*n == cap)
		return -1; /* more containers than room: the first cap are kept */
	new_container(&out[i], &key, p);
	(*n)++;
	add_member(&out[i], p, true);
	*at = i;
	return 0;
}

/* p into the table of c, and to c's member hook */
static void collect_one(struct vmi *v, struct vmi_ct_collect *c, const struct vmi_process *p)
{
	size_t at;
	if (group(v, c->out, c->cap, &c->n, p, &at) != 0)
		c->rc = -1;
	if (at != SIZE_MAX && c->member != NULL)
		c->member(c->member_ctx, at, p);
}

/* Processes a rootkit took off the tasks list still belong to their containers (xview.c). */
struct hidden_ctx {
	struct vmi *v;
	struct vmi_ct_collect *c;
};

static void group_hidden(void *ctx, uint64_t task)
{
	struct hidden_ctx *h = ctx;
	struct vmi_process p;

	if (vmi_process_read(h->v, task, VMI_READ_NS | VMI_READ_CGROUP, &p) == 0)
		collect_one(h->v, h->c, &p);
}

/* The table once every task was grouped: the hidden ones too, then each one's hostname,
 * owner and state. */
static void collect_finish(struct vmi *v, struct vmi_ct_collect *c)
{
	struct vmi_process p;
	struct hidden_ctx hidden = {v, c};
	vmi_xview_hidden_leaders(v, group_hidden, &hidden);

	for (size_t i = 0; i < c->n; i++) {
		struct vmi_container *ct = &c->out[i];

		if (vmi_process_read(v, ct->init_task, VMI_READ_HOSTNAME, &p) == 0)
			fmt_snprintf(ct->hostname, sizeof(ct->hostname), "%s", p.hostname);
		ct->owner_known =
			vmi_process_read(v, ct->init_task, VMI_READ_CGROUP, &p) == 0 &&
			vmi_owner_uid(v, ct->init_task, p.cgroup_ptr, &ct->owner_uid) == 0;
		ct->rootless = v->prof->owner_known && (!ct->owner_known || ct->owner_uid != 0);
		if (ct->live == 0)
			ct->state = VMI_CT_STOPPED;
		else if (ct->frozen || ct->freeze_set)
			ct->state = VMI_CT_PAUSED;
		else
			ct->state = VMI_CT_RUNNING;
	}
	c->done = true;
}

void vmi_containers_begin(struct vmi_ct_collect *c, struct vmi_container *out, size_t cap)
{
	memset(c, 0, sizeof(*c));
	c->out = out;
	c->cap = cap;
}

/* The tasks list, at most budget tasks; true at its end (or where it was cut). */
static bool walk_step(struct vmi *v, struct vmi_ct_collect *c, uint32_t budget)
{
	struct vmi_process p;
	uint64_t task;

	if (!vmi_walk_continue(v, &c->w, &c->mark))
		return true; /* the walk says why it was cut */
	for (uint32_t i = 0; i < budget; i++) {
		if (!vmi_walk_next(v, &c->w, &task))
			return true;
		if (vmi_process_read(v, task, VMI_READ_NS | VMI_READ_CGROUP, &p) == 0)
			collect_one(v, c, &p);
	}
	return !vmi_walk_pause(v, &c->w, &c->mark);
}

bool vmi_containers_step(struct vmi *v, struct vmi_ct_collect *c, uint32_t budget)
{
	if (c->done) {
		vmi_containers_keep_xview(v, c);
		return true;
	}
	if (!c->walked) {
		if (!walk_step(v, c, budget))
			return false;
		c->walked = true;
		vmi_xview_begin(v, &c->xview);
	}
	if (v->xview_slots != NULL) {
		if (!vmi_xview_step(v, &c->xview, budget))
			return false;
		vmi_xview_use(v, &c->xview);
	}
	collect_finish(v, c);
	return true;
}

void vmi_containers_keep_xview(struct vmi *v, const struct vmi_ct_collect *c)
{
	if (c->done && v->xview_slots != NULL && c->xview.stage == VMI_XV_DONE)
		vmi_xview_use(v, &c->xview);
}

int vmi_containers_collect(struct vmi *v, struct vmi_container *out, size_t cap, size_t *n,
			   struct vmi_walk *w)
{
	struct vmi_ct_collect c;

	vmi_containers_begin(&c, out, cap);
	while (!vmi_containers_step(v, &c, UINT32_MAX))
		;
	*n = c.n;
	if (w != NULL)
		*w = c.w;
	return c.rc;
}

/* ------------------------------------------------------------------ names */

/* Does `name` (n bytes) name c: its id, its name, or (3 characters at least) its id's
 * beginning? */
static bool names(const struct vmi_container *c, const char *name, size_t n, bool *exact)
{
	*exact = (strlen(c->id) == n && memcmp(c->id, name, n) == 0) ||
		 (strlen(c->name) == n && memcmp(c->name, name, n) == 0);
	return *exact || (n >= 3 && strncmp(c->id, name, n) == 0);
}

int vmi_container_resolve(const struct vmi_container *c, size_t n, const char *name, size_t *at,
			  char *why, size_t cap)
{
	/* OWNER/REST names a sandbox of OWNER; a plain name, root's containers only */
	const char *slash = NULL;
	for (const char *s = name; *s != '\0' && slash == NULL; s++)
		if (*s == '/')
			slash = s;
	uint32_t owner = 0;
	const char *rest = name;
	if (slash != NULL) {
		uint64_t value = 0;
		if (slash == name || slash - name > 10)
			goto none;
		for (const char *d = name; d < slash; d++) {
			if (*d < '0' || *d > '9')
				goto none;
			value = value * 10u + (uint64_t)(*d - '0');
		}
		if (value > UINT32_MAX)
			goto none;
		owner = (uint32_t)value;
		rest = slash + 1;
	}
	size_t len = strlen(rest), found = 0, exact_found = 0, exact_at = 0;
	for (size_t i = 0; i < n; i++) {
		bool exact;
		bool sandbox = c[i].rootless;
		if (sandbox != (slash != NULL) ||
		    (sandbox && (!c[i].owner_known || c[i].owner_uid != owner)))
			continue;
		if (!names(&c[i], rest, len, &exact))
			continue;
		if (exact) {
			exact_found++;
			exact_at = i;
		}
		found++;
		*at = i;
	}
	if (exact_found == 1 || (exact_found == 0 && found == 1)) {
		if (exact_found == 1)
			*at = exact_at;
		return 0;
	}
	if (found > 1) {
		size_t len_why =
			(size_t)fmt_snprintf(why, cap, "'%.40s' is ambiguous; it names:", name);
		for (size_t i = 0; i < n && len_why < cap; i++) {
			bool exact, sandbox = c[i].rootless;
			if (sandbox != (slash != NULL) || (sandbox && c[i].owner_uid != owner) ||
			    !names(&c[i], rest, len, &exact) || (exact_found > 1 && !exact))
				continue;
			len_why += (size_t)fmt_snprintf(why + len_why, cap - len_why,
							" %.20s (pid %d, %.60s)", c[i].id,
							(int)c[i].init_pid, c[i].cgroup);
		}
		return -2;
	}
none:
	fmt_snprintf(why, cap, "no such container: '%.40s'", name);
	for (size_t i = 0; i < n && slash == NULL; i++) {
		bool exact;
		if (c[i].rootless && names(&c[i], name, strlen(name), &exact) && exact) {
			size_t used = strlen(why);
			if (c[i].owner_known)
				fmt_snprintf(why + used, cap - used,
					     " (a sandbox of uid %u is named %u/%.40s)",
					     (unsigned)c[i].owner_uid, (unsigned)c[i].owner_uid,
					     c[i].id);
			else
				fmt_snprintf(
					why + used, cap - used,
					" (a process group of unknown owner is named like it)");
			break;
		}
	}
	return -1;
}

bool vmi_container_init_still(const struct vmi_container *c, const struct vmi_process *p)
{
	size_t len = strnlen(c->cgroup, sizeof(c->cgroup));
	if (p->tgid != c->init_pid || p->ns[VMI_NS_PID] != c->ns[VMI_NS_PID] ||
	    strncmp(p->cgroup, c->cgroup, len) != 0)
		return false;
	/* the same path, or one under it ("/" holds every path) */
	return len <= 1 || p->cgroup[len] == '\0' || p->cgroup[len] == '/';
}
