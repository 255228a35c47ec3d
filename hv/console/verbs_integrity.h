/* SPDX-License-Identifier: MIT */
/* The kernel-protection verb (verbs_integrity.c, protect/protect.h). */
#ifndef HV_CONSOLE_VERBS_INTEGRITY_H
#define HV_CONSOLE_VERBS_INTEGRITY_H

#include "console/cmd.h"

#define VERB_INTEGRITY_USAGE "integrity [--check] [--json]"
#define VERB_INTEGRITY_SUMMARY                                                                     \
	"kernel protection: lock state, what is protected, counters, last alerts (--check: now)"

int verb_integrity(struct reply *r, int argc, char **argv);

#endif
