/* SPDX-License-Identifier: MIT */
/*
 * The restrictions of a container's processes, given to a process exec or cp starts in the
 * container (DESIGN §6: "work done for a container runs with the container's own
 * restrictions"), as `crun exec` gives them: the container's user namespace and root in it,
 * its capability bounding, inheritable and ambient sets, no_new_privs, its seccomp filters
 * and its AppArmor profile. They are read from the container's init (vmi/restrict.c) and
 * applied by injected calls in crun's order (libcrun exec_process_entrypoint): the label,
 * the filters first when no_new_privs is off (installing one then needs CAP_SYS_ADMIN), the
 * bounding set, the ids, capset, the ambient set, no_new_privs, the filters last when it
 * is on. The command's own execve then gives it what `crun exec`'s gives: as root, its
 * permitted and effective sets become the bounding set plus the inheritable one.
 *
 * The first call makes the process not dumpable: until its execve it shares the scratch
 * area with the monitor's host-root helper, and a container root that could ptrace it
 * (same ids, same capabilities, once they are given) could write there. Not dumpable, its
 * memory is reachable only with CAP_SYS_PTRACE in the initial user namespace (its mm's).
 */
#ifndef HV_INJECT_OPS_RESTRICT_H
#define HV_INJECT_OPS_RESTRICT_H

#include <stddef.h>
#include <stdint.h>

#include "inject/engine.h"
#include "vmi/vmi.h"

#define OPS_LABEL_MAX 255u /* an AppArmor profile name (the "exec NAME" slot holds 272) */

struct ops_restrict {
	struct vmi_restrictions want;  /* of the container's init */
	uint64_t host_user_ns;         /* the initial user namespace (the helper's) */
	bool at_once;                  /* cp: the label now (changeprofile), not at an execve */
	int32_t userns_fd;             /* its user namespace; -1: the host's */
	int32_t proc_fd;               /* the host's /proc (O_PATH), for attr/exec; -1: no label */
	char label[OPS_LABEL_MAX + 1]; /* the AppArmor profile to exec into; "" unconfined */
	/* progress */
	uint32_t phase, index;
	int64_t fd;
};

/* The text of /proc/PID/attr/current (n bytes) into rs->label: "unconfined" or nothing
 * (no LSM that has a label) leaves it empty; "NAME (MODE)" (AppArmor) gives NAME. 0, or -1
 * with why for a label this cannot copy (another LSM's, or too long). */
int ops_restrict_label(struct ops_restrict *rs, const char *text, size_t n, char *why, size_t cap);

struct ops_request;
/* The program's steps: call it from the process's own program until it stops returning
 * INJECT_STEP_CALL. `result` is the last call's. INJECT_STEP_DONE: every restriction is in
 * place; INJECT_STEP_FAIL: one could not be given (req->op.error says which), and the process
 * must exit without running anything. */
enum inject_step ops_restrict_next(struct ops_request *req, struct ops_restrict *rs,
				   struct inject_env *env, int64_t result, struct inject_call *c);

#endif
