/* SPDX-License-Identifier: MIT */
/*
 * What a task may do, read from its kernel structures for exec and cp (vmi.h,
 * "restrictions"): the capability sets, no_new_privs and the seccomp filters. The process
 * those operations start in a container gets the same (inject/ops_restrict.c), as `crun
 * exec` would give it from the container's config.
 *
 * Every value comes from the guest kernel and is checked before it is used: pointers must
 * be the kernel's, the chain and each program are bounded, and a filter whose original
 * program the kernel did not keep refuses the operation instead of running it with less.
 */

#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi_internal.h"

#define PFA_NO_NEW_PRIVS 0u /* include/linux/sched.h: bit of task_struct.atomic_flags */

/* One filter of the chain at `f`: its program and flags into *out, the next one into *prev. */
static int read_filter(struct vmi *v, uint64_t f, struct vmi_seccomp_filter *out, uint64_t *prev,
		       char *why, size_t cap)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t prog, orig, notif, insns;
	uint8_t log = 0;
	uint16_t len = 0;
	if (vmi_read_u64(v, f + pr->seccomp_filter_prev, prev) < 0 ||
	    vmi_read_u64(v, f + pr->seccomp_filter_prog, &prog) < 0 ||
	    vmi_read_u64(v, f + pr->seccomp_filter_notif, &notif) < 0 ||
	    vmi_read_kernel(v, f + pr->seccomp_filter_log, &log, 1) < 0)
		return fmt_fail(why, cap, "seccomp filter at %#llx unreadable",
				(unsigned long long)f);
	if (notif != 0)
		return fmt_fail(why, cap, "a seccomp filter (at %#llx) has a user-space listener",
				(unsigned long long)f);
	if (!vmi_is_kernel_ptr(v, prog) ||
	    vmi_read_u64(v, prog + pr->bpf_prog_orig_prog, &orig) < 0)
		return fmt_fail(why, cap, "seccomp filter at %#llx has no readable program",
				(unsigned long long)f);
	if (!vmi_is_kernel_ptr(v, orig))
		return fmt_fail(why, cap,
				"the kernel did not keep seccomp filter %#llx's program "
				"(CONFIG_CHECKPOINT_RESTORE)",
				(unsigned long long)f);
	if (vmi_read_kernel(v, orig + pr->sock_fprog_kern_len, &len, 2) < 0 ||
	    vmi_read_u64(v, orig + pr->sock_fprog_kern_filter, &insns) < 0 ||
	    !vmi_is_kernel_ptr(v, insns))
		return fmt_fail(why, cap, "seccomp filter at %#llx: program unreadable",
				(unsigned long long)f);
	if (len == 0 || len > VMI_SECCOMP_INSNS_MAX)
		return fmt_fail(why, cap, "a seccomp program of %u instructions", (unsigned)len);
	*out = (struct vmi_seccomp_filter){insns, len, log != 0};
	return 0;
}

int vmi_task_restrictions(struct vmi *v, uint64_t task, struct vmi_restrictions *r, char *why,
			  size_t cap)
{
	const struct vmi_profile *pr = v->prof;
	memset(r, 0, sizeof(*r));
	if (!pr->restrict_known || pr->cred_user_ns == 0 || pr->user_namespace_ns == 0)
		return fmt_fail(why, cap,
				"the kernel profile lacks the fields of capabilities and "
				"seccomp");
	uint64_t cred, flags, f;
	int32_t mode;
	/* one cred: its user namespace and capability sets are read together */
	if (vmi_read_kptr(v, task + pr->task_real_cred, &cred) < 0 || !vmi_is_kernel_ptr(v, cred) ||
	    vmi_read_u32(v, cred + pr->cred_uid, &r->uid) < 0 ||
	    vmi_read_kptr(v, cred + pr->cred_user_ns, &r->user_ns) < 0 ||
	    vmi_read_u32(v, r->user_ns + pr->user_namespace_ns + pr->ns_common_inum,
			 &r->userns_inum) < 0 ||
	    vmi_read_u64(v, cred + pr->cred_cap_inheritable, &r->cap_inheritable) < 0 ||
	    vmi_read_u64(v, cred + pr->cred_cap_bset, &r->cap_bset) < 0 ||
	    vmi_read_u64(v, cred + pr->cred_cap_ambient, &r->cap_ambient) < 0 ||
	    vmi_read_u64(v, cred + pr->cred_cap_permitted, &r->cap_permitted) < 0 ||
	    vmi_read_u64(v, cred + pr->cred_cap_effective, &r->cap_effective) < 0)
		return fmt_fail(why, cap, "credentials of task %#llx unreadable",
				(unsigned long long)task);
	if (vmi_read_u64(v, task + pr->task_atomic_flags, &flags) < 0 ||
	    vmi_read_kernel(v, task + pr->task_seccomp + pr->seccomp_mode, &mode, 4) < 0 ||
	    vmi_read_u64(v, task + pr->task_seccomp + pr->seccomp_filter, &f) < 0)
		return fmt_fail(why, cap, "seccomp state of task %#llx unreadable",
				(unsigned long long)task);
	r->no_new_privs = (flags >> PFA_NO_NEW_PRIVS) & 1u;
	if (mode < 0 || mode > (int32_t)VMI_SECCOMP_MODE_FILTER)
		return fmt_fail(why, cap, "seccomp mode %d unknown", (int)mode);
	r->seccomp_mode = (uint32_t)mode;
	if (r->seccomp_mode != VMI_SECCOMP_MODE_FILTER)
		return f == 0 ? 0 : fmt_fail(why, cap, "seccomp filters without filter mode");
	uint32_t path = 0;
	while (f != 0) {
		if (r->filters == VMI_SECCOMP_FILTERS_MAX)
			return fmt_fail(why, cap, "more than %u seccomp filters",
					VMI_SECCOMP_FILTERS_MAX);
		if (!vmi_is_kernel_ptr(v, f))
			return fmt_fail(why, cap,
					"seccomp filter pointer %#llx is not the kernel's",
					(unsigned long long)f);
		struct vmi_seccomp_filter *out = &r->filter[r->filters];
		if (read_filter(v, f, out, &f, why, cap) < 0)
			return -1;
		path += out->len + 4u;
		if (path > VMI_SECCOMP_PATH_MAX)
			return fmt_fail(why, cap, "seccomp filters of more than %u instructions",
					VMI_SECCOMP_PATH_MAX);
		r->filters++;
	}
	return r->filters > 0 ? 0 : fmt_fail(why, cap, "seccomp filter mode without a filter");
}
