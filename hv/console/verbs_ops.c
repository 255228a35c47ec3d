/* SPDX-License-Identifier: MIT */
/*
 * The container operations on the console: pause, unpause, kill, stop, stats, and probe
 * (the injection engine's own check). Each verb checks its arguments and the container's
 * state as the guest's memory shows it, starts an injected-call program (inject/ops.h)
 * and defers its reply; the reply comes when the program ends, with the VM exits and
 * guest time the operation took and the task that did the work.
 */
#include "console/verbs_ops.h"

#include "console/console.h"
#include "console/verbs_vmi.h"
#include "core/events.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "inject/syscall_trap.h"
#include "lib/base64.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define OPS_TIMEOUT_MS      15000u /* finding a task and running a short program */
#define OPS_STOP_DEFAULT_S  10u    /* docker's and crun's default grace period */
#define OPS_STOP_MAX_S      300u
#define OPS_HELPER_LINGER_S 60u /* a helper with no work for this long exits */

static struct ops_request req; /* one operation at a time (the engine's rule) */

/* What `upload` received, for the next `cp - CONTAINER:PATH`. */
static struct {
	uint32_t size, got;
	uint8_t data[INJECT_DATA_MAX];
} upload;

#define CP_LINE_BYTES 57u /* 76 base64 characters a body line */

static bool parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	if (*s == 0)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10u + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* signal(7) names, with or without "SIG", or a number 1-64. */
static bool parse_signal(const char *s, int32_t *sig)
{
	static const char *const names[] = {
		0,        "HUP",  "INT",    "QUIT", "ILL",   "TRAP", "ABRT", "BUS",
		"FPE",    "KILL", "USR1",   "SEGV", "USR2",  "PIPE", "ALRM", "TERM",
		"STKFLT", "CHLD", "CONT",   "STOP", "TSTP",  "TTIN", "TTOU", "URG",
		"XCPU",   "XFSZ", "VTALRM", "PROF", "WINCH", "IO",   "PWR",  "SYS",
	};
	uint32_t n;
	if (parse_uint(s, 64, &n)) {
		*sig = (int32_t)n;
		return n >= 1;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (int32_t i = 1; i < (int32_t)(sizeof(names) / sizeof(names[0])); i++) {
		if (strcmp(s, names[i]) == 0) {
			*sig = i;
			return true;
		}
	}
	return false;
}

/* `stats` without a name: every container, none named */
static bool every_container(const struct ops_request *q)
{
	return q->kind == OPS_STATS && q->u.stats.nct > 0;
}

static void body_common_text(struct reply *r, const struct ops_request *q)
{
	if (q->helper_started > 0)
		reply_line(r, "helper pid %d started for this operation and kept (helper = auto)",
			   (int)q->helper_started);
	reply_line(r,
		   "vm exits %llu, guest time %llu us (monitor %llu us), %u injected calls in "
		   "pid %d (%s), %llu other syscall entries passed",
		   (unsigned long long)q->op.exits, (unsigned long long)(q->op.guest_ns / 1000u),
		   (unsigned long long)(q->op.monitor_ns / 1000u), q->op.calls, (int)q->op.tgid,
		   q->op.comm, (unsigned long long)q->op.passed);
	reply_line(r, "%s", q->integrity.summary);
}

static void body_common_json(struct reply *r, const struct ops_request *q, bool ok)
{
	reply_printf(r,
		     "\"op\":\"%s\",\"ok\":%s,\"exits\":%llu,\"guest_us\":%llu,"
		     "\"monitor_us\":%llu,\"calls\":%u,"
		     "\"passed\":%llu,\"via\":{\"pid\":%d,\"tid\":%d,\"nspid\":%d,\"comm\":",
		     q->op.name, ok ? "true" : "false", (unsigned long long)q->op.exits,
		     (unsigned long long)(q->op.guest_ns / 1000u),
		     (unsigned long long)(q->op.monitor_ns / 1000u), q->op.calls,
		     (unsigned long long)q->op.passed, (int)q->op.tgid, (int)q->op.tid,
		     (int)q->op.nspid);
	reply_json_string(r, q->op.comm);
	reply_printf(r, "},\"call_time\":[");
	for (uint32_t i = 0; i < q->op.call_stat_count; i++) {
		const struct inject_call_stat *cs = &q->op.call_stats[i];
		reply_printf(r, "%s{\"nr\":%u,\"calls\":%u,\"us\":%llu}", i ? "," : "", cs->nr,
			     cs->calls, (unsigned long long)(cs->ns / 1000u));
	}
	reply_printf(r,
		     "],\"integrity\":{\"repaired\":%u,\"accepted\":%u,\"check_us\":%llu,"
		     "\"compared\":%llu,\"summary\":",
		     q->integrity.repaired, q->integrity.accepted,
		     (unsigned long long)(machine.tsc_hz
						  ? q->integrity.tsc * 1000000u / machine.tsc_hz
						  : 0),
		     (unsigned long long)q->integrity.compared);
	reply_json_string(r, q->integrity.summary);
	reply_printf(r, "}");
	if (q->helper_started > 0)
		reply_printf(r, ",\"helper_started\":%d", (int)q->helper_started);
	if (!ok) {
		reply_printf(r, ",\"error\":");
		reply_json_string(r, q->op.error);
	}
}

/* "usage_usec 123\n..." -> the value of key, or -1. */
static int64_t stat_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; *p;) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			int64_t v = 0;
			for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
				v = v * 10 + (*p - '0');
			return v;
		}
		while (*p && *p != '\n')
			p++;
		if (*p)
			p++;
	}
	return -1;
}

static int64_t plain_value(const char *text)
{
	if (*text < '0' || *text > '9')
		return -1;
	int64_t v = 0;
	for (; *text >= '0' && *text <= '9'; text++)
		v = v * 10 + (*text - '0');
	return v;
}

struct cg_stats {
	int64_t usage, user, sys, mem, pids;
};

static struct cg_stats parse_stats(const char text[OPS_STATS_FILES][OPS_STATS_TEXT_MAX])
{
	return (struct cg_stats){
		stat_value(text[0], "usage_usec"), stat_value(text[0], "user_usec"),
		stat_value(text[0], "system_usec"), plain_value(text[1]), plain_value(text[2])};
}

static void stats_json_object(struct reply *r, const struct cg_stats *s)
{
	reply_printf(r,
		     "{\"cpu_usage_usec\":%lld,\"cpu_user_usec\":%lld,\"cpu_system_usec\":%lld,"
		     "\"memory_current\":%lld,\"pids_current\":%lld",
		     (long long)s->usage, (long long)s->user, (long long)s->sys, (long long)s->mem,
		     (long long)s->pids);
}

static void stats_row(struct reply *r, const char *name, const struct cg_stats *s)
{
	reply_line(r, "%-16s %14lld %14lld %14lld %16lld %6lld", name, (long long)s->usage,
		   (long long)s->user, (long long)s->sys, (long long)s->mem, (long long)s->pids);
}

/* One container: "stats":{...}; every container (no name): "containers":[{...},...]. */
static void stats_body(struct reply *r, const struct ops_request *q)
{
	if (q->json && q->u.stats.nct == 0) {
		struct cg_stats s = parse_stats(q->u.stats.text);
		reply_printf(r, ",\"stats\":");
		stats_json_object(r, &s);
		reply_printf(r, "}");
		return;
	}
	if (q->json) {
		reply_printf(r, ",\"containers\":[");
		for (uint32_t i = 0; i < q->u.stats.nct; i++) {
			struct cg_stats s = parse_stats(
				(const char(*)[OPS_STATS_TEXT_MAX])q->u.stats.all_text[i]);
			reply_printf(r, "%s", i ? "," : "");
			stats_json_object(r, &s);
			reply_printf(r, ",\"container\":");
			reply_json_string(r, q->u.stats.ct_names[i]);
			reply_printf(r, "}");
		}
		reply_printf(r, "]");
		return;
	}
	reply_line(r, "%-16s %14s %14s %14s %16s %6s", "CONTAINER", "CPU usage us", "user us",
		   "system us", "memory bytes", "pids");
	if (q->u.stats.nct == 0) {
		struct cg_stats s = parse_stats(q->u.stats.text);
		stats_row(r, q->ct.name, &s);
	}
	for (uint32_t i = 0; i < q->u.stats.nct; i++) {
		struct cg_stats s =
			parse_stats((const char(*)[OPS_STATS_TEXT_MAX])q->u.stats.all_text[i]);
		stats_row(r, q->u.stats.ct_names[i], &s);
	}
}

/* wait4's status word (include/uapi/linux/wait.h via the WIFEXITED macros): the exit code,
 * or 128 + the signal as a shell reports it. */
static int exit_code(const struct ops_request *q)
{
	int32_t st = q->wait_status;
	if ((st & 0x7f) == 0)
		return (st >> 8) & 0xff;
	return 128 + (st & 0x7f);
}

static void json_bytes(struct reply *r, const char *buf, uint32_t n)
{
	static char tmp[OPS_EXEC_OUT_MAX + 1];
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		tmp[k++] = buf[i] ? buf[i] : '?'; /* NUL would end the string: shown as '?' */
	tmp[k] = 0;
	reply_json_string(r, tmp);
}

static void exec_json(struct reply *r, const struct ops_request *q)
{
	reply_printf(r, ",\"exit_code\":%d,\"exited\":%s,\"stdout\":",
		     q->cmd_exited ? exit_code(q) : -1, q->cmd_exited ? "true" : "false");
	json_bytes(r, q->u.exec.out, q->u.exec.out_len);
	reply_printf(r, ",\"stderr\":");
	json_bytes(r, q->u.exec.err, q->u.exec.err_len);
	reply_printf(r, ",\"stdout_truncated\":%s,\"stderr_truncated\":%s,\"exec_errno\":%lld",
		     q->u.exec.out_cut ? "true" : "false", q->u.exec.err_cut ? "true" : "false",
		     (long long)-q->exec_errno);
}

static void exec_text(struct reply *r, const struct ops_request *q)
{
	const struct {
		const char *name;
		const char *buf;
		uint32_t len;
		bool cut;
	} streams[2] = {{"stdout", q->u.exec.out, q->u.exec.out_len, q->u.exec.out_cut},
			{"stderr", q->u.exec.err, q->u.exec.err_len, q->u.exec.err_cut}};
	for (int i = 0; i < 2; i++) {
		reply_line(r, "--- %s (%u bytes%s) ---", streams[i].name, streams[i].len,
			   streams[i].cut ? ", cut at the limit" : "");
		for (uint32_t k = 0; k < streams[i].len; k++) {
			char ch = streams[i].buf[k];
			if (ch == '\n')
				reply_printf(r, "\r\n");
			else
				reply_printf(r, "%c", ch >= 0x20 && ch < 0x7f ? ch : '?');
		}
		if (streams[i].len > 0 && streams[i].buf[streams[i].len - 1] != '\n')
			reply_printf(r, "\r\n");
	}
	if (q->exec_errno != 0 && q->exec_errno != -LINUX_ENOENT)
		reply_line(r, "the command could not be started: %s",
			   ops_errno_text(q->exec_errno));
	else if (q->exec_errno != 0)
		reply_line(r, "%s: command not found in the container", q->u.exec.argv[0]);
	reply_line(r, "exit status %d", exit_code(q));
}

static void reply_body(struct reply *r, void *ctx)
{
	const struct ops_request *q = ctx;
	bool ok = q->op.error[0] == 0;
	if (q->json) {
		reply_printf(r, "{");
		body_common_json(r, q, ok);
		if (q->kind != OPS_PROBE) {
			reply_printf(r, ",\"container\":");
			reply_json_string(r, every_container(q) ? 0 : q->ct.name);
		}
		if (q->kind == OPS_PROBE)
			reply_printf(r, ",\"getpid\":%lld", (long long)q->getpid_result);
		if (q->kind == OPS_PAUSE || q->kind == OPS_UNPAUSE)
			reply_printf(r, ",\"polls\":%u,\"frozen_after\":%s,\"trap_pending\":%u",
				     q->polls,
				     q->frozen_seen < 0    ? "null"
				     : q->frozen_seen == 1 ? "true"
							   : "false",
				     q->trap_pending);
		if (q->kind == OPS_STOP)
			reply_printf(r, ",\"signal\":\"%s\"", q->killed ? "KILL" : "TERM");
		if (q->kind == OPS_KILL)
			reply_printf(r, ",\"signal\":%d", (int)q->signal);
		if (q->kind == OPS_STATS && ok)
			stats_body(r, q);
		if (q->kind == OPS_EXEC)
			exec_json(r, q);
		if (q->kind == OPS_HELPER)
			reply_printf(r, ",\"helper_pid\":%d", (int)q->op.helper_tgid);
		if ((q->kind == OPS_CP_OUT || q->kind == OPS_CP_IN) && ok)
			reply_printf(r, ",\"path\":\"%s\",\"size\":%u", q->u.cp.path,
				     q->u.cp.data_len);
		reply_line(r, "}");
		return;
	}
	if (ok) {
		switch (q->kind) {
		case OPS_PAUSE:
			if (q->frozen_seen == 1)
				reply_line(r, "%s paused (its cgroup reports frozen)", q->ct.name);
			else /* ops.c freeze_taken */
				reply_line(r,
					   "%s paused (every task has the freezer's trap pending, "
					   "%u still waiting "
					   "for a CPU to enter it: none runs an instruction of its "
					   "own before "
					   "unpause; a system call in progress may finish)",
					   q->ct.name, q->trap_pending);
			break;
		case OPS_UNPAUSE:
			reply_line(r, "%s unpaused (its cgroup reports thawed)", q->ct.name);
			break;
		case OPS_KILL:
			reply_line(r, "signal %d sent to %s (init pid %d)", (int)q->signal,
				   q->ct.name, (int)q->ct.init_pid);
			break;
		case OPS_STOP:
			reply_line(r, "%s stopped (%s)", q->ct.name,
				   q->killed ? "SIGKILL after the grace period" : "by SIGTERM");
			break;
		case OPS_STATS:
			stats_body(r, q);
			break;
		case OPS_PROBE:
			reply_line(r, "getpid() = %lld in pid %d", (long long)q->getpid_result,
				   (int)q->op.tgid);
			break;
		case OPS_CP_OUT:
			for (uint32_t off = 0; off < q->u.cp.data_len; off += CP_LINE_BYTES) {
				char line[BASE64_LEN(CP_LINE_BYTES) + 1];
				uint32_t n = q->u.cp.data_len - off < CP_LINE_BYTES
						     ? q->u.cp.data_len - off
						     : CP_LINE_BYTES;
				line[base64_encode(q->u.cp.data + off, n, line)] = 0;
				reply_line(r, "data %s", line);
			}
			reply_line(r, "size %u", q->u.cp.data_len);
			break;
		case OPS_CP_IN:
			reply_line(r, "%u bytes written to %s:%s", q->u.cp.data_len, q->ct.name,
				   q->u.cp.path);
			break;
		case OPS_EXEC:
			exec_text(r, q);
			break;
		case OPS_HELPER:
			reply_line(r, "helper pid %d parked (adopted by init)",
				   (int)q->op.helper_tgid);
			break;
		}
	}
	body_common_text(r, q);
}

/* The operation's record in the events ring (core/events.h). */
static void op_event(const struct ops_request *q, const char *status, const char *error)
{
	events_record(EVENT_OP, monitor_uptime_ms(), this_vcpu()->id, ops_kind_name(q->kind),
		      status, every_container(q) ? "" : q->ct.name, "%s%s%s; %s",
		      error[0] ? "error: " : "", error, error[0] ? "" : "done",
		      q->integrity.summary);
}

/* After the operation's last call: the text written while it ran (track.c keeps the pages)
 * is looked at again. A change the check had to repair was made while the operation ran
 * (a rootkit putting its hook back): its result cannot be vouched for, and it fails with a
 * clear error instead, the change repaired (issue 9: DESIGN §7). So does any write to text
 * at all while it ran, when all of them were seen: a hook put in and taken out again
 * before this check (from another CPU, around the operation's call) leaves the text as
 * recorded, and only the write shows. A legal patch in that time (a static key flipped)
 * fails it too: run again, it passes. */
static bool changed_since_start(struct ops_request *q);

static bool changed_while_running(struct ops_request *q)
{
	/* what went wrong besides (a pause's undo, a timeout) stays in the message, after */
	char before[sizeof(q->op.error)];
	memcpy(before, q->op.error, sizeof(before));
	if (!changed_since_start(q))
		return false;
	if (before[0] != '\0') {
		size_t n = strlen(q->op.error);
		fmt_snprintf(q->op.error + n, sizeof(q->op.error) - n, "; %s", before);
	}
	return true;
}

/* changed_while_running without the operation's own error: op.error gets the change. */
static bool changed_since_start(struct ops_request *q)
{
	struct protect_report after;
	const struct protect_stats *s = protect_stats();
	uint64_t text = q->text_writes_seen ? s->text_pages_opened - q->text_writes_before : 0;
	uint64_t map = q->map_writes_seen ? s->map_pages_opened - q->map_writes_before : 0;
	protect_check(this_vcpu(), &after);
	syscall_trap_refresh();
	q->integrity.accepted += after.accepted;
	if (after.repaired == 0 && after.unrepaired == 0) {
		if (text == 0 && map == 0)
			return false;
		fmt_snprintf(q->op.error, sizeof(q->op.error),
			     "not vouched for: kernel %s written while the operation ran (%llu "
			     "page%s; now as recorded); run it again",
			     text && map ? "text and page tables"
			     : text      ? "text"
					 : "page tables",
			     (unsigned long long)(text + map), text + map == 1 ? "" : "s");
		fmt_snprintf(q->integrity.summary, sizeof(q->integrity.summary),
			     "integrity: written while the operation ran (%s)", after.summary);
		return true;
	}
	q->integrity.repaired += after.repaired;
	fmt_snprintf(q->op.error, sizeof(q->op.error),
		     "not vouched for: kernel text changed while the operation ran (%u %s; see "
		     "integrity); run it again",
		     after.repaired + after.unrepaired,
		     after.unrepaired == 0 ? "repaired" : "not repaired");
	fmt_snprintf(q->integrity.summary, sizeof(q->integrity.summary),
		     "integrity: changed while the operation ran (%s)", after.summary);
	return true;
}

static void op_done(struct inject_op *op, bool ok)
{
	struct ops_request *q = (struct ops_request *)op;
	/* A program that asked already (a pause, when it saw its freeze) has its answer: it
	 * failed with the change named and undid its effect, or its effect was vouched for;
	 * what is written after that cannot have made it. */
	if (q->vouch == OPS_VOUCH_LOST ||
	    (q->vouch == OPS_VOUCH_AT_END && changed_while_running(q)))
		ok = false;
	op_event(q, ok ? "ok" : "failed", q->op.error);
	console_finish_deferred(reply_body, q, ok ? PROTO_OK : PROTO_FAILED, q->op.error);
}

/* The container found (live_find_then): one the operation can act on? */
static int check_container(struct reply *r, const struct ops_request *q)
{
	if (q->ct.state == VMI_CT_STOPPED || q->ct.live == 0)
		return reply_fail(r, PROTO_FAILED, "container %s is stopped", q->ct.name);
	if (q->ct_cgroup == 0)
		return reply_fail(r, PROTO_FAILED, "the cgroup of container %s cannot be read",
				  q->ct.name);
	return 0;
}

/* helper = auto (hv.cfg; `helper auto` on the console): an operation that needs a host
 * task, with no helper there, first starts one (the `helper start` program, kept with no
 * linger time), then runs in it; every later one finds it parked. The operation waits in
 * `after_helper` and goes out from verbs_ops_poll once the engine is free. If the helper
 * cannot be started, the operation runs anyway, in a host task it waits for, and its
 * reply still comes. */
static struct ops_request auto_helper;
static struct ops_request *after_helper;
static bool auto_helper_ended;
/* After a start that failed, operations run without trying again for this long: a guest
 * where the helper cannot be made must not pay for the attempt every time. */
#define AUTO_HELPER_RETRY_MS 60000u
static uint64_t auto_helper_failed_ms; /* monitor uptime of the last failure, 0: none */

static void auto_helper_done(struct inject_op *op, bool ok)
{
	if (ok)
		log_printf("ctrvisor: helper pid %d started from pid %d (%s) for the next "
			   "operation (helper = auto)\r\n",
			   (int)op->helper_tgid, (int)op->tgid, op->comm);
	else
		log_printf("ctrvisor: helper = auto: the helper could not be started (%s); the "
			   "operation waits for a host task\r\n",
			   op->error);
	if (after_helper != NULL)
		after_helper->helper_started = ok ? op->helper_tgid : 0;
	auto_helper_failed_ms = ok ? 0 : monitor_uptime_ms() | 1u;
	auto_helper_ended = true;
}

static bool start_helper_first(struct ops_request *q)
{
	struct inject_helper_status st;
	if (!inject_helper_auto() || q->kind == OPS_HELPER ||
	    q->op.target.kind != INJECT_TARGET_HOST_ROOT || inject_helper_status(&st) ||
	    (auto_helper_failed_ms != 0 &&
	     monitor_uptime_ms() - auto_helper_failed_ms < AUTO_HELPER_RETRY_MS))
		return false;
	memset(&auto_helper, 0, sizeof(auto_helper));
	auto_helper.kind = OPS_HELPER;
	auto_helper.op.target.kind = INJECT_TARGET_HOST_ROOT;
	auto_helper.op.timeout_ms = OPS_TIMEOUT_MS;
	auto_helper.op.done = auto_helper_done;
	inject_helper_set_linger(INJECT_LINGER_FOREVER);
	ops_prepare(&auto_helper);
	if (inject_start(&auto_helper.op) < 0)
		return false;
	after_helper = q;
	auto_helper_ended = false;
	return true;
}

void verbs_ops_poll(void)
{
	if (after_helper == NULL || !auto_helper_ended || inject_busy())
		return;
	struct ops_request *q = after_helper;
	after_helper = NULL;
	ops_prepare(q);
	if (inject_start(&q->op) < 0)
		op_done(&q->op, false); /* its error says why; the reply goes out now */
}

static int start(struct reply *r, struct ops_request *q)
{
	/* DESIGN §7: the kernel checked and repaired first; an operation whose kernel cannot
	 * be brought back to the record is refused, not reported (protect/protect.h) */
	protect_check(this_vcpu(), &q->integrity);
	syscall_trap_refresh();
	if (!q->integrity.vouched) {
		op_event(q, "refused", "the kernel cannot be vouched for");
		return reply_fail(r, PROTO_FAILED, "refused: the kernel cannot be vouched for (%s)",
				  q->integrity.summary);
	}
	/* as the check saw them with the other CPUs held */
	q->text_writes_seen = q->integrity.text_writes_seen;
	q->text_writes_before = q->integrity.text_pages_opened;
	q->map_writes_seen = q->integrity.map_writes_seen;
	q->map_writes_before = q->integrity.map_pages_opened;
	q->op.done = op_done;
	q->vouch_lost = changed_while_running; /* also asked before a pause is declared done */
	if (q->op.timeout_ms == 0)
		q->op.timeout_ms = OPS_TIMEOUT_MS;
	q->helper_started = 0;
	if (start_helper_first(q))
		return CMD_DEFERRED;
	ops_prepare(q);
	int refused = inject_start(&q->op);
	if (refused < 0)
		return reply_fail(r, refused == INJECT_REFUSED_BUSY ? PROTO_BUSY : PROTO_FAILED,
				  "%s", q->op.error);
	return CMD_DEFERRED;
}

static int busy_check(struct reply *r)
{
	if (inject_busy())
		return reply_fail(r, PROTO_BUSY, "another operation is running");
	return 0;
}

/* Common parsing: [OPTION VALUE]... NAME [--json]; options given in opts ("-s", "-t"). */
static int parse_args(struct reply *r, int argc, char **argv, const char *usage, const char *opt,
		      const char **opt_val, const char **name, bool *json)
{
	*name = 0;
	*json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (opt && strcmp(argv[i], opt) == 0) {
			if (i + 1 >= argc)
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "%s needs a value; usage: %s", opt, usage);
			*opt_val = argv[++i];
		} else if (argv[i][0] == '-' || *name) {
			return reply_fail(r, PROTO_BAD_ARGUMENT, "unexpected \"%.40s\"; usage: %s",
					  argv[i], usage);
		} else {
			*name = argv[i];
		}
	}
	if (!*name)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "which container? usage: %s", usage);
	return 0;
}

/* The container named `name` into req, found over several exits; then `then`. */
static int take_container(struct reply *r, const char *name, int (*then)(struct reply *r))
{
	return live_find_then(r, name, &req.ct, &req.ct_cgroup, then);
}

static int container_found(struct reply *r);

static int container_verb(struct reply *r, int argc, char **argv, enum ops_kind kind,
			  const char *usage, const char *opt)
{
	const char *name, *val = 0;
	bool json;
	if (parse_args(r, argc, argv, usage, opt, &val, &name, &json) < 0 || busy_check(r) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.kind = kind;
	req.json = json;
	if (kind == OPS_KILL) {
		req.signal = 9;
		if (val && !parse_signal(val, &req.signal))
			return reply_fail(r, PROTO_BAD_ARGUMENT,
					  "bad signal \"%.20s\": a name (TERM, SIGKILL...) or 1-64",
					  val);
	}
	if (kind == OPS_STOP) {
		uint32_t s = OPS_STOP_DEFAULT_S;
		if (val && !parse_uint(val, OPS_STOP_MAX_S, &s))
			return reply_fail(r, PROTO_BAD_ARGUMENT,
					  "bad grace period \"%.20s\": 0-%u seconds", val,
					  OPS_STOP_MAX_S);
		req.grace_ms = s * 1000u;
		req.op.timeout_ms = OPS_TIMEOUT_MS + req.grace_ms + OPS_KILL_WAIT_MS;
	}
	if (kind == OPS_PAUSE || kind == OPS_UNPAUSE) /* and room to undo a pause */
		req.op.timeout_ms = OPS_TIMEOUT_MS + OPS_FREEZE_WAIT_MS;
	return take_container(r, name, container_found);
}

static int container_found(struct reply *r)
{
	enum ops_kind kind = req.kind;
	if (check_container(r, &req) < 0)
		return -1;
	bool paused = req.ct.state == VMI_CT_PAUSED;
	if (kind == OPS_PAUSE && paused)
		return reply_fail(r, PROTO_FAILED, "container %s is already paused", req.ct.name);
	if (kind == OPS_UNPAUSE && !paused)
		return reply_fail(r, PROTO_FAILED, "container %s is not paused", req.ct.name);
	if (kind == OPS_STOP && paused)
		return reply_fail(r, PROTO_FAILED,
				  "container %s is paused: its processes cannot handle SIGTERM; "
				  "unpause it first, or kill it",
				  req.ct.name);
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	return start(r, &req);
}

int verb_pause(struct reply *r, int argc, char **argv)
{
	return container_verb(r, argc, argv, OPS_PAUSE, VERB_PAUSE_USAGE, 0);
}

int verb_unpause(struct reply *r, int argc, char **argv)
{
	return container_verb(r, argc, argv, OPS_UNPAUSE, VERB_UNPAUSE_USAGE, 0);
}

int verb_kill(struct reply *r, int argc, char **argv)
{
	return container_verb(r, argc, argv, OPS_KILL, VERB_KILL_USAGE, "-s");
}

int verb_stop(struct reply *r, int argc, char **argv)
{
	return container_verb(r, argc, argv, OPS_STOP, VERB_STOP_USAGE, "-t");
}

static struct vmi_container stats_all[OPS_STATS_ALL_MAX]; /* stats of every container */
static size_t stats_all_n;
static int stats_all_found(struct reply *r);

int verb_stats(struct reply *r, int argc, char **argv)
{
	bool named = false;
	for (int i = 1; i < argc; i++)
		named |= argv[i][0] != '-';
	if (named)
		return container_verb(r, argc, argv, OPS_STATS, VERB_STATS_USAGE, 0);
	/* Every container that has processes (a stopped one has no cgroup files left to
	 * read, or none that memory shows). */
	static const char *const json_only[] = {"--json", 0};
	if (cmd_expect_only_flags(r, argc, argv, json_only) < 0 || busy_check(r) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.kind = OPS_STATS;
	req.json = cmd_has_flag(argc, argv, "--json");
	return live_list_then(r, stats_all, OPS_STATS_ALL_MAX, &stats_all_n, stats_all_found);
}

static int stats_all_found(struct reply *r)
{
	const struct vmi_container *all = stats_all;
	size_t n = stats_all_n;
	for (size_t i = 0; i < n; i++) {
		if (all[i].state == VMI_CT_STOPPED || all[i].live == 0)
			continue;
		memcpy(req.u.stats.ct_names[req.u.stats.nct], all[i].name,
		       sizeof(req.u.stats.ct_names[0]));
		memcpy(req.u.stats.ct_cgroups[req.u.stats.nct], all[i].cgroup,
		       sizeof(req.u.stats.ct_cgroups[0]));
		req.u.stats.nct++;
	}
	if (req.u.stats.nct == 0)
		return reply_fail(r, PROTO_FAILED, "no running or paused container");
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	return start(r, &req);
}

static int probe_found(struct reply *r);

int verb_probe(struct reply *r, int argc, char **argv)
{
	const char *container = 0;
	if (busy_check(r) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.kind = OPS_PROBE;
	bool chosen = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			req.json = true;
		} else if (strcmp(argv[i], "--hold") == 0 && i + 1 < argc) {
			if (!parse_uint(argv[++i], 60000u, &req.grace_ms))
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "bad --hold \"%.20s\": 0-60000 ms", argv[i]);
			req.op.timeout_ms = OPS_TIMEOUT_MS + req.grace_ms;
		} else if (!chosen && strcmp(argv[i], "--host") == 0) {
			req.op.target.kind = INJECT_TARGET_HOST_ROOT;
			chosen = true;
		} else if (!chosen && strcmp(argv[i], "--pid") == 0 && i + 1 < argc) {
			uint32_t pid;
			if (!parse_uint(argv[++i], 4194304u, &pid) || pid == 0)
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "bad pid \"%.20s\"; usage: %s", argv[i],
						  VERB_PROBE_USAGE);
			req.op.target = (struct inject_target){INJECT_TARGET_PID, (int32_t)pid, 0};
			chosen = true;
		} else if (!chosen && strcmp(argv[i], "--container") == 0 && i + 1 < argc) {
			container = argv[++i];
			chosen = true;
		} else {
			return reply_fail(r, PROTO_BAD_ARGUMENT, "unexpected \"%.40s\"; usage: %s",
					  argv[i], VERB_PROBE_USAGE);
		}
	}
	if (!chosen)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "which task? usage: %s", VERB_PROBE_USAGE);
	if (container)
		return take_container(r, container, probe_found);
	return start(r, &req);
}

static int probe_found(struct reply *r)
{
	if (check_container(r, &req) < 0)
		return -1;
	if (req.ct.state == VMI_CT_PAUSED)
		return reply_fail(r, PROTO_FAILED,
				  "container %s is paused: none of its processes can run",
				  req.ct.name);
	req.op.target = (struct inject_target){INJECT_TARGET_CONTAINER, 0, req.ct_cgroup};
	return start(r, &req);
}

/* exec CONTAINER -- CMD ARGS...: CMD inside the container (ops_exec.c). The console has
 * no quoting: each argument is one word. */
static int exec_found(struct reply *r);

int verb_exec(struct reply *r, int argc, char **argv)
{
	int i = 1;
	bool json = false;
	uint32_t timeout_s = OPS_EXEC_TIMEOUT_MS / 1000u;
	const char *name = 0;
	for (; i < argc && !name; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if (!parse_uint(argv[++i], OPS_EXEC_TIMEOUT_MAX_S, &timeout_s) ||
			    timeout_s == 0)
				return reply_fail(r, PROTO_BAD_ARGUMENT,
						  "bad --timeout \"%.20s\": 1-%u seconds", argv[i],
						  OPS_EXEC_TIMEOUT_MAX_S);
		} else if (argv[i][0] == '-')
			return reply_fail(r, PROTO_BAD_ARGUMENT, "unexpected \"%.40s\"; usage: %s",
					  argv[i], VERB_EXEC_USAGE);
		else
			name = argv[i];
	}
	if (!name || i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_EXEC_USAGE);
	if (busy_check(r) < 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.kind = OPS_EXEC;
	req.json = json;
	char why[80];
	if (ops_exec_words(&req, argc - (i + 1), argv + i + 1, why, sizeof(why)) < 0)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "%s", why);
	/* past it the command is killed and the operation fails, saying so */
	req.op.timeout_ms = timeout_s * 1000u;
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	return take_container(r, name, exec_found);
}

static int exec_found(struct reply *r)
{
	if (check_container(r, &req) < 0)
		return -1;
	if (req.ct.state == VMI_CT_PAUSED)
		return reply_fail(r, PROTO_FAILED, "container %s is paused: unpause it first",
				  req.ct.name);
	return start(r, &req);
}

/* helper start [--linger SECONDS] | stop | status [--json] | auto | manual */
int verb_helper(struct reply *r, int argc, char **argv)
{
	struct inject_helper_status st;
	if (argc >= 2 && strcmp(argv[1], "status") == 0 && argc <= 3) {
		inject_helper_status(&st);
		bool kept = st.linger_ms == INJECT_LINGER_FOREVER;
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			reply_line(r,
				   "{\"present\":%s,\"working\":%s,\"pid\":%d,\"naps\":%llu,"
				   "\"linger_ms\":%lld,\"mode\":\"%s\",\"waits\":\"%s\","
				   "\"wakes\":%llu}",
				   st.present ? "true" : "false", st.working ? "true" : "false",
				   st.present ? (int)st.tgid : 0, (unsigned long long)st.naps,
				   kept ? -1ll : (long long)st.linger_ms,
				   st.automatic ? "auto" : "manual", st.blocks ? "blocked" : "naps",
				   (unsigned long long)st.wakes);
		else if (argc == 3)
			return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_HELPER_USAGE);
		else if (st.present && kept)
			reply_line(r,
				   "helper pid %d, %s (%s), %llu waits, %llu wakes, kept (helper = "
				   "%s)",
				   (int)st.tgid, st.working ? "working" : "parked",
				   st.blocks ? "blocked on the wake port" : "napping",
				   (unsigned long long)st.naps, (unsigned long long)st.wakes,
				   st.automatic ? "auto" : "manual");
		else if (st.present)
			reply_line(r,
				   "helper pid %d, %s, %llu naps, exits after %llu ms idle "
				   "(helper = %s)",
				   (int)st.tgid, st.working ? "working" : "parked",
				   (unsigned long long)st.naps, (unsigned long long)st.linger_ms,
				   st.automatic ? "auto" : "manual");
		else
			reply_line(r, "no helper (helper = %s%s)", st.automatic ? "auto" : "manual",
				   st.automatic
					   ? ": the next operation needing a host task starts one"
					   : "");
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "auto") == 0 || strcmp(argv[1], "manual") == 0)) {
		bool automatic = strcmp(argv[1], "auto") == 0;
		inject_helper_set_auto(automatic);
		reply_line(
			r, "helper = %s%s", argv[1],
			automatic ? ": the next operation needing a host task starts one if none "
				    "is there"
				  : ": only `helper start` makes one (a running helper stays until "
				    "`helper stop` or its linger time)");
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "stop") == 0) {
		if (inject_helper_stop() < 0)
			return reply_fail(r, PROTO_FAILED, "no helper is running");
		reply_line(r, "the helper exits at the end of its current nap");
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "start") == 0) {
		uint32_t linger = OPS_HELPER_LINGER_S;
		bool json = false;
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") == 0)
				json = true;
			else if (strcmp(argv[i], "--linger") == 0 && i + 1 < argc &&
				 parse_uint(argv[i + 1], 3600u, &linger))
				i++;
			else
				return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s",
						  VERB_HELPER_USAGE);
		}
		if (busy_check(r) < 0)
			return -1;
		if (inject_helper_status(&st))
			return reply_fail(r, PROTO_FAILED, "a helper is already running (pid %d)",
					  (int)st.tgid);
		memset(&req, 0, sizeof(req));
		req.kind = OPS_HELPER;
		req.json = json;
		inject_helper_set_linger((uint64_t)linger * 1000u);
		req.op.target.kind = INJECT_TARGET_HOST_ROOT;
		return start(r, &req);
	}
	return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_HELPER_USAGE);
}

/* upload begin SIZE | upload data BASE64: a file for the next cp into a container, in
 * pieces that fit a request line; hvctl's cp sends them. */
int verb_upload(struct reply *r, int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "begin") == 0) {
		uint32_t size;
		if (!parse_uint(argv[2], UINT32_MAX / 2u, &size))
			return reply_fail(r, PROTO_BAD_ARGUMENT, "bad size \"%.20s\"", argv[2]);
		if (size > INJECT_DATA_MAX)
			return reply_fail(r, PROTO_FAILED,
					  "%u bytes is more than cp's limit of %u bytes", size,
					  INJECT_DATA_MAX);
		upload.size = size;
		upload.got = 0;
		reply_line(r, "ready for %u bytes", size);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "data") == 0) {
		long n = base64_decode(argv[2], strlen(argv[2]), upload.data + upload.got,
				       upload.size - upload.got);
		if (n < 0)
			return reply_fail(r, PROTO_BAD_ARGUMENT,
					  "not base64, or more than the %u bytes announced",
					  upload.size);
		upload.got += (uint32_t)n;
		reply_line(r, "%u of %u bytes", upload.got, upload.size);
		return 0;
	}
	return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_UPLOAD_USAGE);
}

/* "NAME:PATH" -> name (in place) and an absolute path. */
static int split_container_path(struct reply *r, char *arg, char **name, const char **path)
{
	char *colon = 0;
	for (char *p = arg; *p; p++) {
		if (*p == ':') {
			colon = p;
			break;
		}
	}
	if (colon == 0 || colon == arg || colon[1] != '/')
		return reply_fail(r, PROTO_BAD_ARGUMENT,
				  "\"%.40s\" is not CONTAINER:/ABSOLUTE/PATH; usage: %s", arg,
				  VERB_CP_USAGE);
	*colon = 0;
	*name = arg;
	*path = colon + 1;
	if (strlen(*path) > OPS_PATH_MAX)
		return reply_fail(r, PROTO_BAD_ARGUMENT, "path longer than %u bytes", OPS_PATH_MAX);
	return 0;
}

static int cp_found(struct reply *r);

int verb_cp(struct reply *r, int argc, char **argv)
{
	bool json = cmd_has_flag(argc, argv, "--json");
	int words = argc - (json ? 1 : 0);
	char *src = argv[1], *dst = argc > 2 ? argv[2] : 0;
	if (words != 3 || strcmp(src, "--json") == 0 || strcmp(dst, "--json") == 0 ||
	    (strcmp(src, "-") == 0) == (strcmp(dst, "-") == 0))
		return reply_fail(r, PROTO_BAD_ARGUMENT, "usage: %s", VERB_CP_USAGE);
	if (busy_check(r) < 0)
		return -1;
	bool out = strcmp(dst, "-") == 0;
	char *name = 0;
	const char *path = 0;
	if (split_container_path(r, out ? src : dst, &name, &path) < 0)
		return -1;
	if (!out && upload.got != upload.size)
		return reply_fail(r, PROTO_FAILED,
				  "nothing complete to copy: upload has %u of %u bytes", upload.got,
				  upload.size);
	memset(&req, 0, sizeof(req));
	req.kind = out ? OPS_CP_OUT : OPS_CP_IN;
	req.json = json;
	memcpy(req.u.cp.path, path, strlen(path) + 1);
	if (!out) {
		memcpy(req.u.cp.data, upload.data, upload.size);
		req.u.cp.data_len = upload.size;
	}
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	return take_container(r, name, cp_found);
}

static int cp_found(struct reply *r)
{
	if (check_container(r, &req) < 0)
		return -1;
	if (req.ct.state == VMI_CT_PAUSED)
		return reply_fail(r, PROTO_FAILED, "container %s is paused", req.ct.name);
	return start(r, &req);
}
