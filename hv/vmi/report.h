/* SPDX-License-Identifier: MIT */
/*
 * The introspection verbs of the console (docs/console-protocol.md, "Verbs (issue 3)"):
 * ps, containers and inspect, with --json. One implementation, written through struct
 * reply, serves the monitor's console and `hvctl --dump`, so both print the same text.
 * Each verb starts with vmi_refresh(): what it prints is what guest memory holds now.
 */
#ifndef HV_VMI_REPORT_H
#define HV_VMI_REPORT_H

#include "console/cmd.h"
#include "vmi/psfields.h"
#include "vmi/vmi.h"

#define VMI_PS_USAGE           "ps [--json|--compact] [--pid N] [--container NAME] [--fields a,b,c]"
#define VMI_PS_SUMMARY         "the guest's processes, from its memory"
#define VMI_CONTAINERS_USAGE   "containers [--json|--compact]"
#define VMI_CONTAINERS_SUMMARY "the guest's containers: id, state, init, hostname, cgroup"
#define VMI_INSPECT_USAGE      "inspect <id|name|pid> [--json]"
#define VMI_INSPECT_SUMMARY    "one container (with its processes) or one process in detail"

/* The monitor's storage for the verbs (console/verbs_vmi.c); the benchmark gives the same */
#define VMI_LIVE_CONTAINERS_MAX 256u
#define VMI_LIVE_XVIEW_SLOTS    32768u /* the cross-view of `ps` keeps up to 3/4 of this many */
/* ps, containers and inspect over several exits (vmi_ps_step, vmi_ct_list_step,
 * vmi_inspect_step): at most this many tasks per exit, and as many pids, IDR nodes or
 * tasks of the cross-view (vmi_xview_step) (make bench: the longest exit on a 16,064-task
 * dump is a few ms of host time; each session finds init_task at one look from the
 * previous session's). */
#define VMI_LIVE_TASKS_PER_STEP 128u

/* ps over several VM exits (the monitor's console): vmi_ps_start checks the words and
 * writes nothing; each vmi_ps_step, in a new session of the same guest (vmi_refresh, or a
 * new vmi_open of the same storage), reads at most `budget` tasks and writes what it has,
 * and the last one (returning true) the list's end. Between steps the guest runs: a process
 * that started meanwhile may be missing and one that ended is missing, as in /proc. */
enum vmi_ps_phase { VMI_PS_CONTAINERS, VMI_PS_LIST, VMI_PS_END };
struct vmi_ps_job {
	enum vmi_format format;
	struct vmi_ps_fields fields; /* --fields (none: the default listing) */
	uint32_t reads;              /* VMI_READ_* each process needs */
	bool by_pid;                 /* --pid */
	int32_t pid;
	char container[VMI_ID_MAX];    /* --container as given ("": none) */
	char container_id[VMI_ID_MAX]; /* its id, once resolved */
	enum vmi_ps_phase phase;
	struct vmi_ct_collect ct; /* the containers, first (in v->containers) */
	size_t n;
	bool all_containers;
	struct vmi_walk w; /* then the list */
	struct vmi_walk_mark mark;
	uint32_t count;
};
int vmi_ps_start(struct vmi_ps_job *j, struct reply *r, int argc, char **argv);
bool vmi_ps_step(struct vmi *v, struct vmi_ps_job *j, struct reply *r, uint32_t budget);

/* containers the same way: each step groups at most `budget` tasks; the last writes the
 * whole table. */
struct vmi_ct_list_job {
	bool json, compact, started;
	struct vmi_ct_collect ct;
};
int vmi_ct_list_start(struct vmi_ct_list_job *j, struct reply *r, int argc, char **argv);
bool vmi_ct_list_step(struct vmi *v, struct vmi_ct_list_job *j, struct reply *r, uint32_t budget);

/* inspect the same way: the containers, then the process of that pid or the container's
 * processes, a budget of tasks per step. */
enum vmi_inspect_phase { VMI_IN_COLLECT, VMI_IN_FIND, VMI_IN_MEMBERS };
struct vmi_inspect_job {
	bool json;
	enum vmi_inspect_phase phase;
	char what[CONSOLE_LINE_MAX + 1];
	struct vmi_ct_collect ct;
	int resolved; /* vmi_container_resolve's answer, its index and why */
	size_t at;
	char why[PROTO_MESSAGE_MAX];
	int32_t pid;
	struct vmi_walk w;
	struct vmi_walk_mark mark;
	uint32_t count; /* processes written */
};
int vmi_inspect_start(struct vmi_inspect_job *j, struct reply *r, int argc, char **argv);
bool vmi_inspect_step(struct vmi *v, struct vmi_inspect_job *j, struct reply *r, uint32_t budget);

/* s with every byte outside 0x20..0x7e replaced by '?', cut to cap - 1 bytes (text output
 * of untrusted guest strings). */
const char *vmi_printable(const char *s, char *buf, size_t cap);

/* argv as cmd_dispatch passes it (argv[0] is the verb). 0, or reply_fail's -1. */
int vmi_verb_ps(struct vmi *v, struct reply *r, int argc, char **argv);
int vmi_verb_containers(struct vmi *v, struct reply *r, int argc, char **argv);
int vmi_verb_inspect(struct vmi *v, struct reply *r, int argc, char **argv);

#endif
