/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 path of a struct cgroup, as /proc/PID/cgroup shows it from the initial
 * cgroup namespace ("0::/lab/web"): the names of its kernfs nodes (cgroup->kn, then
 * kn->parent up to the hierarchy's root, whose name is not part of the path;
 * kernel/cgroup/cgroup.c cgroup_path_ns -> kernfs_path_from_node). And whether the cgroup
 * is frozen (CGRP_FROZEN in cgroup->flags: kernel/cgroup/freezer.c).
 *
 * The path is cached in the session (keyed by the cgroup and its kernfs node, read anew at
 * every call, so a freed and reused struct cgroup is not taken for the old one); the
 * frozen flag is a moment value and is read from the guest at every call, never cached:
 * an operation polls it while the kernel is still freezing the cgroup.
 *
 * The parent chain is followed at most VMI_CGROUP_DEPTH_MAX levels (a cycle ends there,
 * reported as a missing path); a name is read up to the room left in the path (a longer
 * one truncates the path, reported as such).
 */
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

static uint32_t walk_path(struct vmi *v, uint64_t kn, char *path, size_t cap)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t nodes[VMI_CGROUP_DEPTH_MAX];
	size_t depth = 0, pos = 0;

	path[0] = '\0';
	if (cap < 2)
		return VMI_MISSING_CGROUP;

	for (;;) {
		uint64_t parent;

		if (depth == VMI_CGROUP_DEPTH_MAX)
			return VMI_MISSING_CGROUP; /* deeper than any real hierarchy: a cycle */
		nodes[depth++] = kn;
		if (vmi_read_u64(v, kn + pr->kernfs_node_parent, &parent) != 0)
			return VMI_MISSING_CGROUP;
		if (parent == 0)
			break; /* kn is the root */
		if (!vmi_is_kernel_ptr(v, parent))
			return VMI_MISSING_CGROUP;
		kn = parent;
	}

	/* nodes[depth - 1] is the root: "/" alone, else "/a/b" from the top down. */
	path[pos++] = '/';
	path[pos] = '\0';
	for (size_t i = depth - 1; i-- > 0;) {
		uint64_t name;
		int n;

		if (i != depth - 2) {
			if (pos + 1 >= cap)
				return VMI_TRUNCATED_CGROUP;
			path[pos++] = '/';
			path[pos] = '\0';
		}
		if (vmi_read_kptr(v, nodes[i] + pr->kernfs_node_name, &name) != 0) {
			path[0] = '\0';
			return VMI_MISSING_CGROUP;
		}
		n = vmi_read_string(v, name, path + pos, cap - pos);
		if (n < 0) {
			/* No NUL in the room left: a name too long for us (or garbage), or the
			 * string ran into unreadable memory. Keep the readable prefix. */
			pos += strlen(path + pos);
			return VMI_TRUNCATED_CGROUP;
		}
		pos += (size_t)n;
	}
	return 0;
}

/* One bit of cgroup->flags, read from the guest at every call. */
static int flag_bit(struct vmi *v, uint64_t cgroup, unsigned bit, bool *set)
{
	uint64_t flags;

	*set = false;
	if (!vmi_is_kernel_ptr(v, cgroup) ||
	    vmi_read_u64(v, cgroup + v->prof->cgroup_flags, &flags) != 0)
		return -1;
	*set = (flags & (1ull << bit)) != 0;
	return 0;
}

int vmi_cgroup_frozen(struct vmi *v, uint64_t cgroup, bool *frozen)
{
	return flag_bit(v, cgroup, VMI_CGRP_FROZEN, frozen);
}

int vmi_cgroup_freeze_set(struct vmi *v, uint64_t cgroup, bool *freeze_set)
{
	return flag_bit(v, cgroup, VMI_CGRP_FREEZE, freeze_set);
}

uint32_t vmi_cgroup_path(struct vmi *v, uint64_t cgroup, char *path, size_t cap, bool *frozen)
{
	struct vmi_cgroup_cache_entry *e =
		&v->cgroup_cache[(cgroup >> 6) % VMI_CGROUP_CACHE_ENTRIES];
	uint32_t missing;
	uint64_t kn;
	size_t len;

	*frozen = false;
	if (cap == 0)
		return VMI_MISSING_CGROUP;
	path[0] = '\0';
	if (vmi_cgroup_frozen(v, cgroup, frozen) != 0 ||
	    vmi_read_kptr(v, cgroup + v->prof->cgroup_kn, &kn) != 0)
		return VMI_MISSING_CGROUP;
	if (e->gen == v->cache_gen && e->cgroup == cgroup && e->kn == kn &&
	    cap >= sizeof(e->path)) {
		memcpy(path, e->path, sizeof(e->path));
		return e->missing;
	}
	missing = walk_path(v, kn, path, cap);
	if (missing & VMI_MISSING_CGROUP)
		path[0] = '\0';
	len = strnlen(path, cap);
	if (len < sizeof(e->path) && cap >= sizeof(e->path)) {
		e->cgroup = cgroup;
		e->kn = kn;
		e->missing = missing;
		e->gen = v->cache_gen;
		memcpy(e->path, path, len + 1);
		memset(e->path + len + 1, 0, sizeof(e->path) - len - 1);
	}
	return missing;
}
