/* hvctl against a fake monitor: the real line.c/cmd.c/proto.c/fmt.c serve two stub verbs on
 * the master side of a pty, and build/san/hvctl talks to its slave side as it would to an
 * emulator's UART (docs/console-protocol.md, "hvctl"). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "console/cmd.h"
#include "console/line.h"
#include "console/zbody.h"
#include "console/verbs_events.h"
#include "core/events.h"

#ifndef HVCTL_BIN
#define HVCTL_BIN "build/san/hvctl"
#endif

extern char **environ;

/* ------------------------------------------------------------ the fake monitor */

static void monitor_write(void *ctx, const char *s, size_t n)
{
	int fd = *(int *)ctx;

	/* Like a UART with nobody listening, output that cannot go out is lost; a monitor
	 * must never block on its console. */
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (w < 0 && errno == EAGAIN && poll(&p, 1, 200) > 0)
			continue;
		return;
	}
}

static int verb_ping(struct reply *r, int argc, char **argv)
{
	if (cmd_expect_only_flags(r, argc, argv, NULL) != 0)
		return -1;
	reply_line(r, "pong");
	return 0;
}

static int verb_echo(struct reply *r, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		reply_printf(r, "%s%s", i > 1 ? " " : "", argv[i]);
	reply_printf(r, "\r\n");
	return 0;
}

/* A reply to someone else, then ours: hvctl must print only what follows the last status
 * line it saw. */
static int verb_late(struct reply *r, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* earlier replies' bytes, on the line before this reply's (never in its body) */
	monitor_write(r->ctx, "old body\r\n= ok @oldtag\r\n", 24);
	monitor_write(r->ctx, "orphan line\r\n= error busy: not yours\r\n", 38);
	reply_line(r, "new body");
	return 0;
}

/* `lose N X`: the fake monitor drops the first N lines of this request (as a UART overrun
 * would: console/console.c, line_lost) before it answers; X (a-z) names the request. */
static int lost_count[26];

static int verb_lose(struct reply *r, int argc, char **argv)
{
	(void)argc;
	reply_line(r, "made it after %d losses", lost_count[argv[2][0] - 'a']);
	return 0;
}

/* Should the line in ls, about to end, be dropped as a `lose` request still to lose? */
static bool monitor_loses(const struct line_state *ls)
{
	char line[CONSOLE_LINE_MAX + 1];
	int n;
	char x;

	memcpy(line, ls->buf, ls->len);
	line[ls->len] = '\0';
	const char *sp = strchr(line, ' ');
	if (sp != NULL && strncmp(sp, " +deflate ", 10) == 0)
		sp += 9;
	if (line[0] != '@' || sp == NULL || sscanf(sp, " lose %d %c", &n, &x) != 2 || x < 'a' ||
	    x > 'z')
		return false;
	if (lost_count[x - 'a'] >= n)
		return false;
	lost_count[x - 'a']++;
	return true;
}

/* `emit N NAME`: N operation records named NAME in the events ring (core/events.c), whose
 * `events` verb is the monitor's own (console/verbs_events.c). */
static int verb_emit(struct reply *r, int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[1]) : 0;

	for (int i = 0; i < n; i++)
		events_record(EVENT_OP, 1000u + (uint64_t)i, 0, argv[2], "ok", "web",
			      "record %d {\"of\": [%s]}", i, argv[2]);
	reply_line(r, "%d recorded", n);
	return 0;
}

/* `dribble N MS`: N body lines, MS ms apart (a slow line: silence never longer than MS) */
static int verb_dribble(struct reply *r, int argc, char **argv)
{
	int n = argc == 3 ? atoi(argv[1]) : 0, ms = argc == 3 ? atoi(argv[2]) : 0;
	for (int i = 0; i < n; i++) {
		reply_line(r, "line %d", i);
		usleep((useconds_t)ms * 1000u);
	}
	return 0;
}

/* `many N`: N body lines (a long reply, compressed when asked) */
static int verb_many(struct reply *r, int argc, char **argv)
{
	int n = argc == 2 ? atoi(argv[1]) : 0;
	for (int i = 0; i < n; i++)
		reply_line(r, "%6d sleep infinity   /bin/sleep infinity (line %d of %d)", 1000 + i,
			   i, n);
	return 0;
}

static bool log_after_status;

/* `alert [after|partial]`: two body lines with a line of the monitor's log written between
 * them (an alert raised while the reply is made); `after`: one more right after the status;
 * `partial`: the end of a line first, as hvctl finds when it connects in the middle of one */
static int verb_alert(struct reply *r, int argc, char **argv)
{
	log_after_status = argc == 2 && strcmp(argv[1], "after") == 0;
	if (argc == 2 && strcmp(argv[1], "partial") == 0) {
		/* the end of a log line begun before this hvctl connected */
		static const char end[] = "lity=0x0 activity=0\r\n";
		monitor_write(r->ctx, end, sizeof(end) - 1);
	}
	reply_line(r, "{\"first\":1}");
	static const char log[] = "ctrvisor: alert: raised meanwhile\r\n";
	monitor_write(r->ctx, log, sizeof(log) - 1);
	reply_line(r, "{\"second\":2}");
	return 0;
}

/* `old on|off`: the fake monitor plays one from before compressed replies, which takes
 * +deflate for an unknown verb. */
static bool old_monitor;
static int verb_old(struct reply *r, int argc, char **argv)
{
	old_monitor = argc == 2 && strcmp(argv[1], "on") == 0;
	reply_line(r, "old %s", old_monitor ? "on" : "off");
	return 0;
}

static const struct cmd_verb monitor_verbs[] = {
	{"many", "many N", "prints N lines", verb_many},
	{"dribble", "dribble N MS", "prints N lines MS ms apart", verb_dribble},
	{"old", "old on|off", "plays a monitor without +deflate", verb_old},
	{"emit", "emit N NAME", "records N events", verb_emit},
	{"events", VERB_EVENTS_USAGE, VERB_EVENTS_SUMMARY, verb_events},
	{"lose", "lose N X", "answers after N lost lines", verb_lose},
	{"ping", "ping", "answers pong", verb_ping},
	{"echo", "echo [WORD...]", "prints its words", verb_echo},
	{"late", "late", "answers after a stale reply", verb_late},
	{"alert", "alert", "a log line among the body", verb_alert},
};

/* A compressed body as the console makes it (console/zbody.h), out through monitor_write. */
static void monitor_write_z(void *ctx, const char *s, size_t n)
{
	zbody_write(s, n, monitor_write, ctx);
}

static void monitor_status_z(void *ctx, const char *s, size_t n)
{
	zbody_end(monitor_write, ctx);
	monitor_write(ctx, s, n);
}

/* `alert after`: a log line goes out with the status line's end, in the same write */
static void monitor_status_then_log(void *ctx, const char *s, size_t n)
{
	static const char end[] = "\r\nctrvisor: alert: raised as the reply ended\r\n";
	if (log_after_status && n == 2 && memcmp(s, "\r\n", 2) == 0) {
		log_after_status = false;
		monitor_write(ctx, end, sizeof(end) - 1);
	} else {
		monitor_write(ctx, s, n);
	}
}

/* One request line: run as the console runs it, compressed when it asks (+deflate). */
static void monitor_run(int *fd, struct line_state *ls)
{
	struct reply r;
	reply_init(&r, monitor_write, fd);
	r.write_status = monitor_status_then_log;
	if (cmd_request_deflate(ls->buf) && old_monitor) {
		char tag[PROTO_TAG_MAX + 1] = "";
		sscanf(ls->buf, "@%16[A-Za-z0-9_-]", tag);
		reply_fail(&r, PROTO_UNKNOWN_VERB,
			   "unknown verb \"+deflate\"; \"help\" lists the verbs");
		cmd_write_status(&r, tag[0] ? tag : NULL);
		return;
	}
	if (cmd_request_deflate(ls->buf) && zbody_begin()) {
		r.write = monitor_write_z;
		r.write_status = monitor_status_z;
	}
	cmd_dispatch(monitor_verbs, sizeof(monitor_verbs) / sizeof(monitor_verbs[0]), ls->buf, &r);
	zbody_abort();
}

/* Serves requests on fd until it closes. */
static void monitor_serve(int fd)
{
	struct line_state ls;
	struct reply r;

	line_init(&ls);
	reply_init(&r, monitor_write, &fd);
	for (;;) {
		uint8_t buf[256];
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && !ls.lost && monitor_loses(&ls))
				cmd_report_line_event(line_lost(&ls), &ls, &r);
			enum line_event ev = line_feed(&ls, buf[i]);

			if (ev == LINE_READY)
				monitor_run(&fd, &ls);
			else
				cmd_report_line_event(ev, &ls, &r);
		}
	}
}

/* ------------------------------------------------------------ fixtures */

struct pty {
	int master, slave;
	char path[64];
};

static struct {
	struct pty live;   /* a fake monitor serves its master */
	struct pty silent; /* nobody reads its master */
	pid_t monitor;
	pid_t tcp_monitor;
	int tcp_port;
	char dir[64]; /* scratch files */
} fx;

static void open_pty(struct pty *p)
{
	struct termios t;

	p->master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(p->master >= 0);
	assert_int_equal(grantpt(p->master), 0);
	assert_int_equal(unlockpt(p->master), 0);
	assert_int_equal(ptsname_r(p->master, p->path, sizeof(p->path)), 0);
	/* Held open for the whole run: a pty whose last slave closes hangs up its master.
	 * Raw from the start, so nothing the monitor writes is echoed back to it. */
	p->slave = open(p->path, O_RDWR | O_NOCTTY);
	assert_true(p->slave >= 0);
	assert_int_equal(tcgetattr(p->slave, &t), 0);
	cfmakeraw(&t);
	assert_int_equal(tcsetattr(p->slave, TCSANOW, &t), 0);
}

static int group_setup(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int lfd;

	(void)state;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_hvctl.XXXXXX");
	assert_non_null(mkdtemp(fx.dir));
	open_pty(&fx.live);
	open_pty(&fx.silent);

	fx.monitor = fork();
	assert_true(fx.monitor >= 0);
	if (fx.monitor == 0) {
		/* Only the master stays open here, so the monitor sees the pty hang up (and
		 * ends) once the test process is gone, even if it crashed. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(fx.live.slave);
		close(fx.silent.master);
		close(fx.silent.slave);
		fcntl(fx.live.master, F_SETFL, O_NONBLOCK);
		monitor_serve(fx.live.master);
		_exit(0);
	}

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	fx.tcp_port = ntohs(sin.sin_port);
	fx.tcp_monitor = fork();
	assert_true(fx.tcp_monitor >= 0);
	if (fx.tcp_monitor == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		close(fx.live.master);
		close(fx.live.slave);
		close(fx.silent.master);
		close(fx.silent.slave);
		/* Like QEMU's "-serial tcp:...,server": one client at a time. */
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			if (fd < 0)
				_exit(1);
			monitor_serve(fd);
			close(fd);
		}
	}
	close(lfd);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	kill(fx.monitor, SIGTERM);
	kill(fx.tcp_monitor, SIGTERM);
	waitpid(fx.monitor, NULL, 0);
	waitpid(fx.tcp_monitor, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ running hvctl */

struct result {
	int status; /* exit status; -1 when killed */
	double secs;
	char out[1 << 20];
	char err[4096];
};

/* SIGINT to hvctl this many ms after it starts (0: none) */
static int interrupt_after_ms;

static void slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

static char **child_env(const char *const *extra)
{
	static char *env[256];
	size_t n = 0;

	/* hvctl must not pick up the developer's own console or log. */
	for (char **e = environ; *e != NULL && n < 200; e++) {
		if (strncmp(*e, "HVCTL_", 6) != 0)
			env[n++] = *e;
	}
	for (; extra != NULL && *extra != NULL && n < 255; extra++)
		env[n++] = (char *)*extra;
	env[n] = NULL;
	return env;
}

/* Runs hvctl with args (NULL-terminated), stdin from `input` (NULL: /dev/null). */
static void run_env(struct result *res, const char *input, const char *const *env,
		    const char *const *args)
{
	const char *bin = getenv("HVCTL") != NULL ? getenv("HVCTL") : HVCTL_BIN;
	char in_path[128], out_path[128], err_path[128];
	const char *argv[64];
	struct timespec t0, t1;
	size_t argc = 0;
	int wstatus;
	pid_t pid;

	snprintf(in_path, sizeof(in_path), "%s/stdin", fx.dir);
	snprintf(out_path, sizeof(out_path), "%s/stdout", fx.dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", fx.dir);
	if (input != NULL) {
		FILE *f = fopen(in_path, "w");
		assert_non_null(f);
		fputs(input, f);
		fclose(f);
	}
	argv[argc++] = bin;
	for (; *args != NULL && argc < 63; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int in = open(input != NULL ? in_path : "/dev/null", O_RDONLY);
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		alarm(60); /* survives exec: a hung hvctl fails the test instead of hanging it */
		execve(bin, (char *const *)argv, child_env(env));
		dprintf(2, "cannot run %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	if (interrupt_after_ms > 0) {
		usleep((useconds_t)interrupt_after_ms * 1000u);
		kill(pid, SIGINT);
	}
	assert_int_equal(waitpid(pid, &wstatus, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	res->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
	slurp(out_path, res->out, sizeof(res->out));
	slurp(err_path, res->err, sizeof(res->err));
}

static void run(struct result *res, const char *input, const char *const *args)
{
	run_env(res, input, NULL, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static struct result res;

/* ------------------------------------------------------------ tests */

static void test_ok_reply_exits_0_and_prints_the_body(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "ping"));
	assert_string_equal(res.err, "");
	assert_string_equal(res.out, "pong\n");
	assert_int_equal(res.status, 0);
}

static void test_request_whose_bytes_were_lost_is_sent_again(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "lose", "2", "a"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "made it after 2 losses\n");
	assert_non_null(strstr(res.err, "dropped bytes of the request; sending it again"));
}

static void test_request_lost_every_time_ends_with_line_lost(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "lose", "9", "b"));
	assert_int_equal(res.status, 1);
	assert_string_equal(res.out, "");
	assert_non_null(strstr(res.err, "hvctl: error line-lost: the serial line dropped bytes"));
}

static void test_arguments_are_sent_as_words(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", "a", "b  c", "--json"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "a b c --json\n");
}

static void test_unknown_verb_exits_1_with_the_error_on_stderr(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "frobnicate"));
	assert_int_equal(res.status, 1);
	assert_string_equal(res.out, "");
	assert_string_equal(res.err, "hvctl: error unknown-verb: unknown verb \"frobnicate\"; "
				     "\"help\" lists the verbs\n");
}

static void test_bad_argument_exits_1(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "ping", "--loud"));
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "hvctl: error bad-argument: unexpected \"--loud\""));
}

static void test_overlong_request_is_sent_and_exits_1_with_line_too_long(void **state)
{
	char word[301];

	(void)state;
	memset(word, 'x', 300);
	word[300] = '\0';
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", word));
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "hvctl: error line-too-long: "));
}

static void test_request_with_a_control_byte_gets_bad_input(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", "\x1b[A"));
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "hvctl: error bad-input: byte 0x1b"));
}

static void test_request_with_a_line_feed_is_refused_locally(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", "a\nping"));
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "not sent"));
}

/* 200 random bytes, line ends and Ctrl-U included, written as \xNN escapes. */
static void make_noise(char *buf, size_t cap, uint32_t seed)
{
	size_t n = 0;

	for (int i = 0; i < 200 && n + 5 < cap; i++) {
		seed = seed * 1103515245u + 12345u;
		n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", (seed >> 16) & 0xffu);
	}
}

static void test_request_after_random_noise_is_still_ok(void **state)
{
	char noise[1024];

	(void)state;
	for (uint32_t round = 1; round <= 4; round++) {
		make_noise(noise, sizeof(noise), round * 7919u);
		run(&res, NULL, ARGS("--console", fx.live.path, "--raw-send", noise));
		assert_int_equal(res.status, 0);
		run(&res, NULL, ARGS("--console", fx.live.path, "ping"));
		assert_string_equal(res.err, "");
		assert_string_equal(res.out, "pong\n");
		assert_int_equal(res.status, 0);
	}
}

static void test_noise_and_request_in_one_call_is_still_ok(void **state)
{
	char noise[1024];

	(void)state;
	for (uint32_t round = 1; round <= 4; round++) {
		make_noise(noise, sizeof(noise), round * 104729u);
		run(&res, NULL, ARGS("--console", fx.live.path, "--raw-send", noise, "ping"));
		assert_string_equal(res.err, "");
		assert_string_equal(res.out, "pong\n");
		assert_int_equal(res.status, 0);
	}
}

static void test_lines_before_the_last_status_line_are_not_ours(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "late"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "new body\n");
}

static void test_log_appends_every_byte_received(void **state)
{
	char log[256], text[4096];
	const char *first, *second;

	(void)state;
	snprintf(log, sizeof(log), "%s/console.log", fx.dir);
	unlink(log);
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "--log", log, "ping"));
	assert_int_equal(res.status, 0);
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "--log", log, "ping"));
	assert_int_equal(res.status, 0);
	slurp(log, text, sizeof(text));
	first = strstr(text, "pong\r\n= ok @");
	assert_non_null(first);
	second = strstr(first + 1, "pong\r\n= ok @");
	assert_non_null(second);
}

static void test_log_can_come_from_the_environment(void **state)
{
	char log[256], env[300], text[4096];

	(void)state;
	snprintf(log, sizeof(log), "%s/env.log", fx.dir);
	snprintf(env, sizeof(env), "HVCTL_LOG=%s", log);
	unlink(log);
	run_env(&res, NULL, ARGS(env), ARGS("--console", fx.live.path, "--compress", "no", "ping"));
	assert_int_equal(res.status, 0);
	slurp(log, text, sizeof(text));
	assert_non_null(strstr(text, "pong\r\n"));
}

static void test_silent_console_exits_3_within_the_timeout(void **state)
{
	char expect[256];

	(void)state;
	run(&res, NULL, ARGS("--console", fx.silent.path, "--timeout", "1", "ping"));
	assert_int_equal(res.status, 3);
	assert_true(res.secs >= 0.9);
	assert_true(res.secs < 3.0);
	snprintf(expect, sizeof(expect),
		 "hvctl: no answer from the monitor on %s within 1 s (is the lab running? is this "
		 "the monitor's console?)\n",
		 fx.silent.path);
	assert_string_equal(res.err, expect);
}

static void test_console_can_come_from_the_environment(void **state)
{
	char env[128];

	(void)state;
	snprintf(env, sizeof(env), "HVCTL_CONSOLE=%s", fx.live.path);
	run_env(&res, NULL, ARGS(env), ARGS("ping"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "pong\n");
}

static void test_missing_console_is_a_usage_error(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("ping"));
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "no console given"));
}

static void test_unopenable_console_exits_3(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", "/nonexistent/ttyS9", "ping"));
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "cannot open /nonexistent/ttyS9"));
}

static void test_console_that_is_not_a_tty_exits_3(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", "/dev/null", "ping"));
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "not a terminal"));
}

static void test_refused_tcp_console_exits_3(void **state)
{
	(void)state;
	/* Port 1 on loopback: nothing listens there in a test environment. */
	run(&res, NULL, ARGS("--console", "tcp:127.0.0.1:1", "--timeout", "2", "ping"));
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "cannot connect to 127.0.0.1 port 1"));
}

static void test_tcp_console_works_like_a_tty(void **state)
{
	char addr[64];

	(void)state;
	snprintf(addr, sizeof(addr), "tcp:127.0.0.1:%d", fx.tcp_port);
	run(&res, NULL, ARGS("--console", addr, "ping"));
	assert_string_equal(res.err, "");
	assert_string_equal(res.out, "pong\n");
	assert_int_equal(res.status, 0);
	run(&res, NULL, ARGS("--console", addr, "nope"));
	assert_int_equal(res.status, 1);
}

/* exec:COMMAND: the console through a program's stdin and stdout (a console server's
 * client); here socat to the fake monitor's TCP port */
static void test_exec_console_runs_a_program_as_the_line(void **state)
{
	char addr[128];

	(void)state;
	snprintf(addr, sizeof(addr), "exec:socat - TCP:127.0.0.1:%d", fx.tcp_port);
	run(&res, NULL, ARGS("--console", addr, "ping"));
	assert_string_equal(res.err, "");
	assert_string_equal(res.out, "pong\n");
	assert_int_equal(res.status, 0);
	run(&res, NULL, ARGS("--console", addr, "nope"));
	assert_int_equal(res.status, 1);
	/* a program that ends at once: no answer, exit 3, no hang */
	run(&res, NULL, ARGS("--console", "exec:true", "--timeout", "5", "ping"));
	assert_int_equal(res.status, 3);
	/* a program that never answers and ignores its stdin closing: killed, exit 3 */
	run(&res, NULL, ARGS("--console", "exec:trap '' TERM; sleep 30", "--timeout", "2", "ping"));
	assert_int_equal(res.status, 3);
	run(&res, NULL, ARGS("--console", "exec:", "ping"));
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "needs a command"));
}

/* A free TCP port on loopback (bound, then let go for the program that takes it). */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* Debian's conserver (server and client) in front of the console's tty, as a data centre
 * reaches serial consoles: hvctl runs conserver's `console` as its line (exec:). The
 * client prints a banner of its own first; the reply is still exactly the monitor's. */
static void test_conserver_in_front_of_the_console(void **state)
{
	char dir[] = "/tmp/test_hvctl_cs.XXXXXX", cf[256], pw[256], addr[256], ports[16];
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cf, sizeof(cf), "%s/conserver.cf", dir);
	snprintf(pw, sizeof(pw), "%s/conserver.passwd", dir);
	FILE *f = fopen(cf, "w");
	assert_non_null(f);
	fprintf(f,
		"config * { }\n"
		"default * { logfile %s/&.log; timestamp \"\"; rw *; }\n"
		"console lab { master localhost; type device; device %s; baud 115200; "
		"parity none; }\n"
		"access * { trusted 127.0.0.1; allowed 127.0.0.1; }\n",
		dir, fx.live.path);
	fclose(f);
	f = fopen(pw, "w");
	assert_non_null(f);
	fprintf(f, "root:*any*\n");
	fclose(f);
	int port = free_port();
	snprintf(ports, sizeof(ports), "%d", port);
	pid_t server = fork();
	assert_true(server >= 0);
	if (server == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		execlp("conserver", "conserver", "-C", cf, "-P", pw, "-p", ports, "-M", "127.0.0.1",
		       (char *)NULL);
		_exit(127);
	}
	/* until it listens (a few seconds at most) */
	bool up = false;
	for (int i = 0; i < 100 && !up; i++) {
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_port = htons((uint16_t)port),
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		up = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (!up)
			usleep(50000);
	}
	snprintf(addr, sizeof(addr), "exec:console -M 127.0.0.1 -p %d -f lab", port);
	if (up) {
		run(&res, NULL, ARGS("--console", addr, "--timeout", "20", "ping"));
	}
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	char rm[300];
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	assert_int_equal(system(rm), 0);
	assert_true(up); /* conserver (tools/deps.sh installs it) did not start */
	assert_string_equal(res.out, "pong\n");
	assert_int_equal(res.status, 0);
}

static void test_unknown_option_is_a_usage_error(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--frob", "ping"));
	assert_int_equal(res.status, 2);
	assert_non_null(strstr(res.err, "unknown option --frob"));
}

static void test_bad_timeout_is_a_usage_error(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "0", "ping"));
	assert_int_equal(res.status, 2);
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "soon", "ping"));
	assert_int_equal(res.status, 2);
}

static void test_help_option_prints_usage_and_exits_0(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--help"));
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "usage: hvctl"));
}

static void test_raw_send_alone_exits_0_without_waiting(void **state)
{
	(void)state;
	run(&res, NULL,
	    ARGS("--console", fx.silent.path, "--timeout", "5", "--raw-send", "x\\r\\n"));
	assert_int_equal(res.status, 0);
	assert_true(res.secs < 2.0);
	tcflush(fx.silent.master, TCIFLUSH);
}

static void test_raw_send_with_a_bad_escape_is_a_usage_error(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--raw-send", "\\q"));
	assert_int_equal(res.status, 2);
}

static void test_interactive_sends_one_request_per_line(void **state)
{
	(void)state;
	run(&res, "ping\n\n   \necho a b\nfrob\nping\n", ARGS("--console", fx.live.path));
	assert_string_equal(res.out, "pong\na b\npong\n");
	assert_non_null(strstr(res.err, "hvctl: error unknown-verb:"));
	assert_int_equal(res.status, 0); /* that of the last request */
}

static void test_interactive_exits_with_the_last_status_and_stops_at_quit(void **state)
{
	(void)state;
	run(&res, "ping\nfrob\nquit\nping\n", ARGS("--console", fx.live.path));
	assert_string_equal(res.out, "pong\n");
	assert_int_equal(res.status, 1);
}

/* ------------------------------------------------------------ events (issue 9 item 6) */

/* Each test's monitor is a fresh fork, but the ring lives in the monitor process for the
 * whole group: the tests below read what they emitted with --since. */
static unsigned long long events_last(void)
{
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--since",
		 "99999999999999999", "--json"));
	assert_int_equal(res.status, 0);
	const char *p = strstr(res.out, "\"next_since\":");
	assert_non_null(p);
	return strtoull(p + strlen("\"next_since\":"), NULL, 10);
}

static void test_events_lists_what_came_after_since(void **state)
{
	char since[32];

	(void)state;
	unsigned long long last = events_last();
	snprintf(since, sizeof(since), "%llu", last);
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "emit", "2", "pause"));
	assert_int_equal(res.status, 0);
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--since", since));
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, " op pause ok web: record 0 {\"of\": [pause]}\n"));
	assert_non_null(strstr(res.out, " op pause ok web: record 1 "));
	char want[64];
	snprintf(want, sizeof(want), "next: events --since %llu\n", last + 2);
	assert_non_null(strstr(res.out, want));
	/* nothing newer: only the trailer */
	snprintf(since, sizeof(since), "%llu", last + 2);
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--since", since));
	assert_string_equal(res.out, want);
}

static void test_events_follow_prints_each_event_once_as_a_json_line(void **state)
{
	char since[32];

	(void)state;
	unsigned long long last = events_last();
	snprintf(since, sizeof(since), "%llu", last);
	/* more than one reply holds (64): the follower asks again at once */
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "emit", "70", "stop"));
	assert_int_equal(res.status, 0);
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--follow", "--since",
		 since, "--count", "70", "--json"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.err, "");
	int lines = 0;
	for (const char *l = res.out; *l != '\0'; lines++) {
		char want[64];
		snprintf(want, sizeof(want), "{\"seq\":%llu,",
			 last + 1 + (unsigned long long)lines);
		assert_memory_equal(l, want, strlen(want));
		assert_non_null(strstr(l, "\"text\":\"record "));
		l = strchr(l, '\n');
		assert_non_null(l);
		l++;
	}
	assert_int_equal(lines, 70);
}

static void test_events_too_far_behind_says_how_many_were_lost(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--timeout", "10", "emit", "300", "kill"));
	assert_int_equal(res.status, 0);
	unsigned long long last = events_last();
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--since", "0", "--json"));
	assert_int_equal(res.status, 0);
	char want[64];
	snprintf(want, sizeof(want), "\"lost\":%llu,", last - 256);
	assert_non_null(strstr(res.out, want));
	assert_non_null(strstr(res.out, "\"more\":true"));
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--timeout", "10", "events", "--since", "x"));
	assert_int_equal(res.status, 1);
	assert_non_null(strstr(res.err, "bad-argument"));
}

/* ------------------------------------------------------------ compressed replies, silence, Ctrl-C
 */

static void test_a_long_reply_comes_compressed_and_prints_the_same(void **state)
{
	static char plain[1 << 20];
	char log[160], env[200];
	struct stat st;
	(void)state;
	snprintf(log, sizeof(log), "%s/zlog", fx.dir);
	snprintf(env, sizeof(env), "HVCTL_LOG=%s", log);
	unlink(log);
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "many", "3000"));
	assert_int_equal(res.status, 0);
	memcpy(plain, res.out, sizeof(plain));
	run_env(&res, NULL, ARGS(env), ARGS("--console", fx.live.path, "many", "3000"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, plain);
	assert_int_equal(stat(log, &st), 0);
	print_message("many 3000: %zu bytes printed, %lld received compressed\n", strlen(plain),
		      (long long)st.st_size);
	assert_true((size_t)st.st_size * 5 < strlen(plain));
	static char text[1 << 20];
	slurp(log, text, sizeof(text));
	assert_non_null(strstr(text, "\r\n~"));
}

static void test_a_monitor_without_deflate_gets_the_request_again_plain(void **state)
{
	char log[160], env[200], text[4096];
	(void)state;
	snprintf(log, sizeof(log), "%s/oldlog", fx.dir);
	snprintf(env, sizeof(env), "HVCTL_LOG=%s", log);
	unlink(log);
	run(&res, NULL, ARGS("--console", fx.live.path, "old", "on"));
	assert_int_equal(res.status, 0);
	run_env(&res, NULL, ARGS(env), ARGS("--console", fx.live.path, "many", "2"));
	assert_int_equal(res.status, 0);
	assert_non_null(strstr(res.out, "(line 1 of 2)"));
	assert_string_equal(res.err, "");
	/* the control: that monitor did refuse the first, compressed, request */
	slurp(log, text, sizeof(text));
	assert_non_null(strstr(text, "= error unknown-verb: unknown verb \"+deflate\""));
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "old", "off"));
	assert_int_equal(res.status, 0);
}

/* The monitor's log lines go to stderr as they come and the body alone to stdout, plain or
 * compressed; a body line that starts like the log (a command's output) is shifted by the
 * monitor and stays in the body. */
static void test_the_monitors_log_goes_to_stderr_and_the_body_to_stdout(void **state)
{
	(void)state;
	for (int z = 0; z < 2; z++) {
		run(&res, NULL,
		    ARGS("--console", fx.live.path, "--compress", z ? "yes" : "no", "alert"));
		assert_int_equal(res.status, 0);
		assert_string_equal(res.out, "{\"first\":1}\n{\"second\":2}\n");
		assert_string_equal(res.err, "ctrvisor: alert: raised meanwhile\n");
	}
	/* one that came in the same read as the status line is not dropped with what follows */
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "alert", "after"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "{\"first\":1}\n{\"second\":2}\n");
	assert_string_equal(res.err, "ctrvisor: alert: raised meanwhile\n"
				     "ctrvisor: alert: raised as the reply ended\n");
	/* a line's end before a compressed reply's first piece is not part of it: stderr */
	run(&res, NULL, ARGS("--console", fx.live.path, "alert", "partial"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "{\"first\":1}\n{\"second\":2}\n");
	/* (the log as it came; the line's end once the reply is whole) */
	assert_string_equal(res.err, "ctrvisor: alert: raised meanwhile\nlity=0x0 activity=0\n");
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", "ctrvisor:", "fake"));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, " ctrvisor: fake\n");
	assert_string_equal(res.err, "");
}

/* A plain reply is never inflated, whatever its lines look like (a command's output may
 * hold a line starting with '~'); the same line in a compressed reply comes out as it is. */
static void test_a_plain_body_is_never_inflated(void **state)
{
	(void)state;
	run(&res, NULL, ARGS("--console", fx.live.path, "--compress", "no", "echo", "~AwA="));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "~AwA=\n");
	run(&res, NULL, ARGS("--console", fx.live.path, "echo", "~AwA="));
	assert_int_equal(res.status, 0);
	assert_string_equal(res.out, "~AwA=\n");
}

/* The timeout counts silence: a reply that takes 3 s but is never silent 1 s is taken with
 * --timeout 1; the control, one silent for longer, is not. */
static void test_the_timeout_counts_silence_not_the_whole_reply(void **state)
{
	(void)state;
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--compress", "no", "--timeout", "1", "dribble", "10",
		 "300"));
	assert_int_equal(res.status, 0);
	assert_true(res.secs >= 2.5);
	assert_non_null(strstr(res.out, "line 9\n"));
	run(&res, NULL,
	    ARGS("--console", fx.live.path, "--compress", "no", "--timeout", "1", "dribble", "2",
		 "1500"));
	assert_int_equal(res.status, 3);
	assert_non_null(strstr(res.err, "the reply stopped: no byte from the monitor"));
	/* let the fake finish that reply before the next test */
	usleep(2000 * 1000);
}

/* Ctrl-C while a reply is awaited: hvctl sends Ctrl-X (the monitor cancels the reply it is
 * making), waits a little for the status line, and exits 130. */
static void test_ctrl_c_sends_ctrl_x_and_exits_130(void **state)
{
	(void)state;
	char junk[4096];
	int flags = fcntl(fx.silent.master, F_GETFL);
	fcntl(fx.silent.master, F_SETFL, flags | O_NONBLOCK);
	while (read(fx.silent.master, junk, sizeof(junk)) > 0)
		;
	interrupt_after_ms = 300;
	run(&res, NULL, ARGS("--console", fx.silent.path, "--timeout", "1", "ping"));
	interrupt_after_ms = 0;
	assert_int_equal(res.status, 130);
	assert_non_null(strstr(res.err, "asking the monitor to cancel"));
	ssize_t n = read(fx.silent.master, junk, sizeof(junk));
	fcntl(fx.silent.master, F_SETFL, flags);
	assert_true(n > 0);
	assert_non_null(memchr(junk, 0x18, (size_t)n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_reply_exits_0_and_prints_the_body),
		cmocka_unit_test(test_a_long_reply_comes_compressed_and_prints_the_same),
		cmocka_unit_test(test_a_monitor_without_deflate_gets_the_request_again_plain),
		cmocka_unit_test(test_a_plain_body_is_never_inflated),
		cmocka_unit_test(test_the_monitors_log_goes_to_stderr_and_the_body_to_stdout),
		cmocka_unit_test(test_the_timeout_counts_silence_not_the_whole_reply),
		cmocka_unit_test(test_ctrl_c_sends_ctrl_x_and_exits_130),
		cmocka_unit_test(test_events_lists_what_came_after_since),
		cmocka_unit_test(test_events_follow_prints_each_event_once_as_a_json_line),
		cmocka_unit_test(test_events_too_far_behind_says_how_many_were_lost),
		cmocka_unit_test(test_request_whose_bytes_were_lost_is_sent_again),
		cmocka_unit_test(test_request_lost_every_time_ends_with_line_lost),
		cmocka_unit_test(test_arguments_are_sent_as_words),
		cmocka_unit_test(test_unknown_verb_exits_1_with_the_error_on_stderr),
		cmocka_unit_test(test_bad_argument_exits_1),
		cmocka_unit_test(test_overlong_request_is_sent_and_exits_1_with_line_too_long),
		cmocka_unit_test(test_request_with_a_control_byte_gets_bad_input),
		cmocka_unit_test(test_request_with_a_line_feed_is_refused_locally),
		cmocka_unit_test(test_request_after_random_noise_is_still_ok),
		cmocka_unit_test(test_noise_and_request_in_one_call_is_still_ok),
		cmocka_unit_test(test_lines_before_the_last_status_line_are_not_ours),
		cmocka_unit_test(test_log_appends_every_byte_received),
		cmocka_unit_test(test_log_can_come_from_the_environment),
		cmocka_unit_test(test_silent_console_exits_3_within_the_timeout),
		cmocka_unit_test(test_console_can_come_from_the_environment),
		cmocka_unit_test(test_missing_console_is_a_usage_error),
		cmocka_unit_test(test_unopenable_console_exits_3),
		cmocka_unit_test(test_console_that_is_not_a_tty_exits_3),
		cmocka_unit_test(test_refused_tcp_console_exits_3),
		cmocka_unit_test(test_tcp_console_works_like_a_tty),
		cmocka_unit_test(test_exec_console_runs_a_program_as_the_line),
		cmocka_unit_test(test_conserver_in_front_of_the_console),
		cmocka_unit_test(test_unknown_option_is_a_usage_error),
		cmocka_unit_test(test_bad_timeout_is_a_usage_error),
		cmocka_unit_test(test_help_option_prints_usage_and_exits_0),
		cmocka_unit_test(test_raw_send_alone_exits_0_without_waiting),
		cmocka_unit_test(test_raw_send_with_a_bad_escape_is_a_usage_error),
		cmocka_unit_test(test_interactive_sends_one_request_per_line),
		cmocka_unit_test(test_interactive_exits_with_the_last_status_and_stops_at_quit),
	};

	return cmocka_run_group_tests_name("hvctl", tests, group_setup, group_teardown);
}
