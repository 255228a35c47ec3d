/* SPDX-License-Identifier: MIT */
/* The console's verb table (one entry per verb; verbs live in verbs_*.c). */
#ifndef HV_CONSOLE_VERBS_H
#define HV_CONSOLE_VERBS_H

#include <stddef.h>

#include "console/cmd.h"

extern const struct cmd_verb console_verbs[];
extern const size_t console_verb_count;

#endif
