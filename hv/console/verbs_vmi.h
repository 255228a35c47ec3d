/* SPDX-License-Identifier: MIT */
/* The live introspection verbs (verbs_vmi.c). */
#ifndef HV_CONSOLE_VERBS_VMI_H
#define HV_CONSOLE_VERBS_VMI_H

#include "console/cmd.h"

struct vmi;

/* Open an introspection session on the guest as it is at this exit, checking the profile
 * fits; 0, or reply_fail's -1 saying why not. */
int live_vmi_open(struct vmi *session, struct reply *r);

int verb_ps(struct reply *r, int argc, char **argv);
int verb_containers(struct reply *r, int argc, char **argv);
int verb_inspect(struct reply *r, int argc, char **argv);

#endif
