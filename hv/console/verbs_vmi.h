/* SPDX-License-Identifier: MIT */
/* The live introspection verbs (verbs_vmi.c). */
#ifndef HV_CONSOLE_VERBS_VMI_H
#define HV_CONSOLE_VERBS_VMI_H

#include "console/cmd.h"

int verb_ps(struct reply *r, int argc, char **argv);
int verb_containers(struct reply *r, int argc, char **argv);
int verb_inspect(struct reply *r, int argc, char **argv);

#endif
