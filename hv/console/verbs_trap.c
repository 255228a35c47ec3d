/* SPDX-License-Identifier: MIT */
/* `trap`: arm, disarm and watch the syscall-entry trap (inject/syscall_trap.h). */
#include "console/verbs_trap.h"

#include "inject/engine.h"
#include "inject/syscall_trap.h"
#include "lib/string.h"

static bool parse_pid(const char *s, int32_t *out)
{
	int64_t v = 0;
	if (*s == 0)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 4194304) /* PID_MAX_LIMIT */
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = (int32_t)v;
	return v > 0 && v <= 4194304;
}

static void print_stats(struct reply *r, bool json)
{
	const struct syscall_trap_stats *s = syscall_trap_stats();
	if (json) {
		reply_line(
			r,
			"{\"armed\":%s,\"execute_only\":%s,\"target_tgid\":%d,\"lstar\":\"0x%llx\","
			"\"entry_gpa\":\"0x%llx\",\"entries\":%llu,\"cpus_entered\":\"0x%llx\","
			"\"target_entries\":%llu,"
			"\"unknown_task\":%llu,\"view_switches\":%llu,\"switch_failures\":%llu,"
			"\"stale_entries\":%llu}",
			s->armed ? "true" : "false", s->execute_only ? "true" : "false",
			(int)s->target_tgid, (unsigned long long)s->lstar,
			(unsigned long long)s->entry_gpa, (unsigned long long)s->entries,
			(unsigned long long)s->cpus_entered, (unsigned long long)s->target_entries,
			(unsigned long long)s->unknown_task, (unsigned long long)s->view_switches,
			(unsigned long long)s->switch_failures,
			(unsigned long long)s->stale_entries);
		return;
	}
	reply_line(r, "syscall trap: %s%s", s->armed ? "armed" : "disarmed",
		   s->armed && s->execute_only ? " (execute-only shadow)" : "");
	reply_line(r, "entry 0x%llx at gpa 0x%llx", (unsigned long long)s->lstar,
		   (unsigned long long)s->entry_gpa);
	if (s->target_tgid >= 0)
		reply_line(r, "syscall entries: %llu (pid %d: %llu), task unreadable: %llu",
			   (unsigned long long)s->entries, (int)s->target_tgid,
			   (unsigned long long)s->target_entries,
			   (unsigned long long)s->unknown_task);
	else
		reply_line(r, "syscall entries: %llu, task unreadable: %llu",
			   (unsigned long long)s->entries, (unsigned long long)s->unknown_task);
	reply_line(r, "entry page view switches: %llu (not confirmed by every CPU: %llu)",
		   (unsigned long long)s->view_switches, (unsigned long long)s->switch_failures);
}

int verb_trap(struct reply *r, int argc, char **argv)
{
	if (argc < 2)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_TRAP_USAGE);
	const char *what = argv[1];
	if (strcmp(what, "status") == 0) {
		if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0))
			return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_TRAP_USAGE);
		print_stats(r, argc == 3);
		return 0;
	}
	if (inject_uses_trap())
		return reply_fail(r, PROTO_BUSY,
				  "an injection operation uses the trap; try again when it ends");
	if (strcmp(what, "disarm") == 0) {
		if (argc != 2)
			return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_TRAP_USAGE);
		syscall_trap_disarm();
		print_stats(r, false);
		return 0;
	}
	if (strcmp(what, "arm") == 0) {
		int32_t pid = -1;
		if (argc > 3 || (argc == 3 && !parse_pid(argv[2], &pid)))
			return reply_fail(r, PROTO_BAD_ARGUMENT,
					  "arm takes an optional pid (1-4194304); usage: %s",
					  VERB_TRAP_USAGE);
		char why[PROTO_MESSAGE_MAX];
		if (syscall_trap_arm(pid, why, sizeof(why)) < 0)
			return reply_fail(r, PROTO_FAILED, "%s", why);
		print_stats(r, false);
		return 0;
	}
	return reply_fail(r, PROTO_BAD_ARGUMENT, "unknown trap command \"%s\"; usage: %s", what,
			  VERB_TRAP_USAGE);
}
