/* SPDX-License-Identifier: MIT */
/*
 * Who owns a container (vmi.h, "owners"). An unprivileged user can build everything that
 * makes a group of processes look like a container (issue 10): `unshare -Urpm` gives pid
 * and mount namespaces of its own, and a cgroup subtree delegated to the user gives it a
 * cgroup named like any real container's. What it cannot forge is ownership:
 *
 *  - a user namespace records the euid of its creator (struct user_namespace.owner); the
 *    namespaces a process holds are owned by its user namespace or one of its ancestors,
 *    so a process whose user namespaces up to the initial one were all created by root is
 *    root's; the first other owner found walking up is the user the sandbox belongs to;
 *  - a delegated cgroup subtree is one whose directory was chown'ed to the user
 *    (kernfs_node.iattr->ia_uid; a node never chown'ed has no iattr and is root's). The
 *    container's own cgroup is not looked at, only those above it: a runtime gives a
 *    container with a user namespace its own cgroup (crun chowns it to the container's
 *    root, e.g. uid 100000), and a user given only a leaf cannot make namespaces in it
 *    without a user namespace of its own, which the first rule sees.
 *
 * Each walk is bounded: 33 user namespaces (the kernel nests at most 32), VMI_OWNER_DEPTH
 * cgroup levels.
 */
#include "vmi/vmi_internal.h"

#define USERNS_DEPTH    33u
#define VMI_OWNER_DEPTH 64u

/* The first non-root owner of `ns` or its ancestors, 0 if root created them all; -1 if
 * unreadable. */
static int64_t userns_owner(struct vmi *v, uint64_t ns)
{
	const struct vmi_profile *pr = v->prof;
	for (uint32_t depth = 0; depth < USERNS_DEPTH; depth++) {
		uint64_t parent;
		uint32_t owner;
		if (vmi_read_u64(v, ns + pr->user_namespace_parent, &parent) < 0)
			return -1;
		if (parent == 0)
			return 0; /* the initial user namespace: no owner */
		if (vmi_read_u32(v, ns + pr->user_namespace_owner, &owner) < 0)
			return -1;
		if (owner != 0)
			return owner;
		if (!vmi_is_kernel_ptr(v, parent))
			return -1;
		ns = parent;
	}
	return -1;
}

/* The uid a directory above `cgroup`, up to the root, was chown'ed to; 0 if none. */
static int64_t cgroup_delegate(struct vmi *v, uint64_t cgroup)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t leaf, kn;
	if (vmi_read_kptr(v, cgroup + pr->cgroup_kn, &leaf) < 0 ||
	    vmi_read_u64(v, leaf + pr->kernfs_node_parent, &kn) < 0)
		return -1;
	for (uint32_t depth = 0; depth < VMI_OWNER_DEPTH && kn != 0; depth++) {
		uint64_t iattr, parent;
		uint32_t uid;
		if (!vmi_is_kernel_ptr(v, kn) ||
		    vmi_read_u64(v, kn + pr->kernfs_node_iattr, &iattr) < 0 ||
		    vmi_read_u64(v, kn + pr->kernfs_node_parent, &parent) < 0)
			return -1;
		if (iattr != 0) {
			if (!vmi_is_kernel_ptr(v, iattr) ||
			    vmi_read_u32(v, iattr + pr->kernfs_iattrs_ia_uid, &uid) < 0)
				return -1;
			if (uid != 0)
				return uid;
		}
		kn = parent;
	}
	return kn == 0 ? 0 : -1;
}

int vmi_owner_uid(struct vmi *v, uint64_t task, uint64_t cgroup, uint32_t *uid)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t cred, ns;
	*uid = 0;
	if (!pr->owner_known || pr->cred_user_ns == 0)
		return -1;
	if (vmi_read_kptr(v, task + pr->task_real_cred, &cred) < 0 ||
	    vmi_read_kptr(v, cred + pr->cred_user_ns, &ns) < 0)
		return -1;
	int64_t by_ns = userns_owner(v, ns);
	int64_t by_cgroup = cgroup != 0 ? cgroup_delegate(v, cgroup) : 0;
	if (by_ns < 0 || by_cgroup < 0)
		return -1;
	*uid = (uint32_t)(by_ns != 0 ? by_ns : by_cgroup);
	return 0;
}
