/* SPDX-License-Identifier: MIT */
/* The container operations' verbs (verbs_ops.c). */
#ifndef HV_CONSOLE_VERBS_OPS_H
#define HV_CONSOLE_VERBS_OPS_H

#include "console/cmd.h"

#define VERB_PAUSE_USAGE   "pause CONTAINER [--json]"
#define VERB_UNPAUSE_USAGE "unpause CONTAINER [--json]"
#define VERB_KILL_USAGE    "kill [-s SIGNAL] CONTAINER [--json]"
#define VERB_STOP_USAGE    "stop [-t SECONDS] CONTAINER [--json]"
#define VERB_STATS_USAGE   "stats [CONTAINER] [--json]"
#define VERB_HELPER_USAGE                                                                          \
	"helper start [--linger SECONDS] [--json] | stop | status [--json] | auto | manual"
#define VERB_EXEC_USAGE   "exec [--json] [--timeout SECONDS] CONTAINER -- CMD [ARGS...]"
#define VERB_CP_USAGE     "cp CONTAINER:PATH - | cp - CONTAINER:PATH [--json]"
#define VERB_UPLOAD_USAGE "upload begin SIZE | upload data BASE64"
#define VERB_PROBE_USAGE  "probe --pid PID | --container NAME | --host [--hold MS] [--json]"

int verb_pause(struct reply *r, int argc, char **argv);
int verb_unpause(struct reply *r, int argc, char **argv);
int verb_kill(struct reply *r, int argc, char **argv);
int verb_stop(struct reply *r, int argc, char **argv);
int verb_stats(struct reply *r, int argc, char **argv);
int verb_probe(struct reply *r, int argc, char **argv);
int verb_helper(struct reply *r, int argc, char **argv);
int verb_exec(struct reply *r, int argc, char **argv);
int verb_cp(struct reply *r, int argc, char **argv);
int verb_upload(struct reply *r, int argc, char **argv);

/* At every console poll: an operation that waited for the helper = auto start goes out. */
void verbs_ops_poll(void);

#endif
