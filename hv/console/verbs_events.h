/* SPDX-License-Identifier: MIT */
/* `events`: alerts and operation records from the events ring (core/events.h). */
#ifndef HV_CONSOLE_VERBS_EVENTS_H
#define HV_CONSOLE_VERBS_EVENTS_H

#include "console/cmd.h"

#define VERB_EVENTS_USAGE "events [--since SEQ] [--json]"
#define VERB_EVENTS_SUMMARY                                                                        \
	"alerts and operation records after SEQ (default: all kept); hvctl events --follow"

int verb_events(struct reply *r, int argc, char **argv);

#endif
