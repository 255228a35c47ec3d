/* SPDX-License-Identifier: MIT */
/* The live introspection verbs (verbs_vmi.c). */
#ifndef HV_CONSOLE_VERBS_VMI_H
#define HV_CONSOLE_VERBS_VMI_H

#include <stddef.h>
#include <stdint.h>

#include "console/cmd.h"

struct vmi;
struct vmi_container;

/* Open an introspection session on the guest as it is at this exit, checking the profile
 * fits; 0, or reply_fail's -1 saying why not. */
int live_vmi_open(struct vmi *session, struct reply *r);
/* The same, for code that is not the console\'s: why it failed into why[cap]. */
int live_vmi_open_why(struct vmi *session, char *why, size_t cap);
/* [gpa, gpa + n) is guest RAM (never the monitor's, MMIO or reserved ranges). */
bool live_guest_ram(uint64_t gpa, size_t n);
/* Guest RAM only (never the monitor's, MMIO or reserved ranges): 0, or -1. */
int live_write_phys(uint64_t gpa, const void *buf, size_t n);
/* The container whose id or name is `name` (or a unique id prefix of 3+ characters), as
 * the guest's memory shows it now, and the struct cgroup * of its init (0 if none); -1 with
 * reply_fail when none or several match. */
/* Every container the guest's memory shows now (at most cap): 0, or -1 with reply_fail. */
int live_list_containers(struct reply *r, struct vmi_container *out, size_t cap, size_t *n);
int live_find_container(struct reply *r, const char *name, struct vmi_container *out,
			uint64_t *cgroup);

int verb_ps(struct reply *r, int argc, char **argv);
int verb_containers(struct reply *r, int argc, char **argv);
int verb_inspect(struct reply *r, int argc, char **argv);

#endif
