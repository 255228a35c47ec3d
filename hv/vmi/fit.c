/* SPDX-License-Identifier: MIT */
/*
 * Does the profile describe the kernel that runs? Offsets from another kernel build read
 * plausible-looking garbage, so before trusting any answer we compare the profile's
 * release with the one the running kernel reports about itself: init_task's uts
 * namespace, name.release (what `uname -r` prints, include/linux/utsname.h).
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"

int vmi_profile_fits(struct vmi *v, char *why, size_t cap)
{
	const struct vmi_profile *p = v->prof;
	uint64_t nsproxy, uts;
	char release[VMI_HOSTNAME_MAX];

	if (vmi_read_kptr(v, v->init_task + p->task_nsproxy, &nsproxy) < 0 ||
	    vmi_read_kptr(v, nsproxy + p->nsproxy_uts_ns, &uts) < 0 ||
	    vmi_read_string(v, uts + p->uts_namespace_name + p->new_utsname_release, release,
			    sizeof(release)) < 0) {
		fmt_snprintf(why, cap,
			     "the profile does not fit the running kernel: its "
			     "init_task.nsproxy->uts_ns->name.release is unreadable");
		return -1;
	}
	if (p->release[0] && strcmp(p->release, release) != 0) {
		fmt_snprintf(why, cap,
			     "the profile is for kernel %s but the guest runs %s: make "
			     "one with tools/mkprofile",
			     p->release, release);
		return -1;
	}
	fmt_snprintf(why, cap, "kernel %s", release);
	return 0;
}
