/* SPDX-License-Identifier: MIT */
#ifndef HV_CONSOLE_VERBS_TRAP_H
#define HV_CONSOLE_VERBS_TRAP_H

#include "console/cmd.h"

#define VERB_TRAP_USAGE   "trap arm [PID] | trap disarm | trap status [--json]"
#define VERB_TRAP_SUMMARY "the syscall-entry trap: count the guest's syscall entries"

int verb_trap(struct reply *r, int argc, char **argv);

#endif
