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
/* vmi_user_access on the live guest (writes through live_write_phys). */
int live_user_access(uint64_t cr3, bool la57, uint64_t va, void *buf, size_t n, bool write);
/* The containers as the guest's memory shows them, collected over several exits (a job of
 * the console: VMI_LIVE_TASKS_PER_STEP tasks per exit), then, in the exit where the collect
 * ends, with the other CPUs running again:
 *  - live_find_then: the container named `name` (id, name, or a unique id prefix of 3+
 *    characters) into *out and the struct cgroup * of its init into *cgroup (0 if none),
 *    then then(r); none or several: the request fails saying so;
 *  - live_list_then: every container (at most cap) into out[0..*n), then then(r).
 * then's return: 0 or -1 (the reply is complete: its status follows), or CMD_DEFERRED (an
 * operation started: its reply ends the request). `name` is copied; out, cgroup and n must
 * outlive the job. Returns CMD_DEFERRED, or reply_fail's -1. */
int live_find_then(struct reply *r, const char *name, struct vmi_container *out, uint64_t *cgroup,
		   int (*then)(struct reply *r));
int live_list_then(struct reply *r, struct vmi_container *out, size_t cap, size_t *n,
		   int (*then)(struct reply *r));

int verb_ps(struct reply *r, int argc, char **argv);
int verb_containers(struct reply *r, int argc, char **argv);
int verb_inspect(struct reply *r, int argc, char **argv);

#endif
