// SPDX-License-Identifier: MIT
/*
 * lab-checker: guest programs for the injection tests (issue 4), kept apart from
 * lab-probe (which prints the guest's truth).
 *
 *   lab-checker check      a loop of system calls whose results it knows in advance (and
 *                          the registers the kernel preserves), hit by 20 signals a second;
 *                          runs in the lab's "checker" container while the monitor injects
 *                          into it. Every GUEST-CHECKER line (every 2 s) says how many calls
 *                          it made, how many returned something other than expected, how
 *                          many mappings it has and how many signals it handled:
 *                          GUEST-CHECKER pid=P iter=N calls=N bad=N maps=N signals=N
 *                          cpus=MASK [first=WHAT]
 *                          With more than one CPU allowed, its main thread is moved to the
 *                          next CPU at every signal (mid-injection too); MASK: the CPUs it
 *                          was seen on.
 *   lab-checker time TAG CMD...  runs CMD and prints how long it took in guest time:
 *                          GUEST-TIME tag=TAG ns=N status=S (the benchmark's crun side)
 *   lab-checker time-until EVENTS FROZEN TAG CMD...  the same, then waits (10 s at most)
 *                          until the cgroup.events file EVENTS says "frozen FROZEN", and
 *                          adds settled_ns=N (from the start; -1 if never): `crun pause`
 *                          returns once cgroup.freeze is written, before the kernel has
 *                          frozen the cgroup, which the monitor's pause waits for.
 *   lab-checker victim MS  a process whose second thread ends it (exit_group) after MS ms
 *                          while its first thread keeps entering nanosleep: a target that
 *                          exits in the middle of an injected operation. Prints
 *                          GUEST-VICTIM pid=P ms=MS when it starts.
 *   lab-checker spawn N    returns at once; a child of it with no descriptor open then forks
 *                          N processes that sleep forever (pause) and exits: load for the
 *                          tests (fork only), started by the monitor's exec.
 *
 * Built with: gcc -static -O2 -Wall -Wextra -Werror (tools/lab/mkinitrd.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long calls, bad;
static char first_bad[96];

static void expect(bool ok, const char *what)
{
	calls++;
	if (ok)
		return;
	if (bad++ == 0)
		snprintf(first_bad, sizeof(first_bad), "%s(errno=%d)", what, errno);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* getpid through SYSCALL with a known value in every register the kernel must preserve
 * (all but RAX, RCX, R11: arch/x86/entry/entry_64.S): an injection that did not restore
 * one of them would show here. True when all came back and RAX is our pid. */
static bool registers_kept(long pid)
{
	long rax = SYS_getpid;
	register long acc __asm__("r11");
	/* After the call each register is XORed with what it held (0 if kept) and the results
	 * are ORed into R11: no memory operand, since RSP moves while they are saved. */
	__asm__ volatile("sub $128, %%rsp\n\t" /* past the red zone the compiler may use */
			 "push %%rbx\n\t"
			 "push %%rbp\n\t"
			 "push %%r12\n\t"
			 "push %%r13\n\t"
			 "push %%r14\n\t"
			 "push %%r15\n\t"
			 "mov $0x1111111111111111, %%rbx\n\t"
			 "mov $0x2222222222222222, %%rbp\n\t"
			 "mov $0x3333333333333333, %%r12\n\t"
			 "mov $0x4444444444444444, %%r13\n\t"
			 "mov $0x5555555555555555, %%r14\n\t"
			 "mov $0x6666666666666666, %%r15\n\t"
			 "mov $0x7777777777777777, %%rdi\n\t"
			 "mov $0x0888888888888888, %%rsi\n\t"
			 "mov $0x0999999999999999, %%rdx\n\t"
			 "mov $0x0aaaaaaaaaaaaaaa, %%r10\n\t"
			 "mov $0x0bbbbbbbbbbbbbbb, %%r8\n\t"
			 "mov $0x0ccccccccccccccc, %%r9\n\t"
			 "syscall\n\t"
			 "mov $0x1111111111111111, %%rcx\n\t xor %%rcx, %%rbx\n\t"
			 "mov $0x2222222222222222, %%rcx\n\t xor %%rcx, %%rbp\n\t"
			 "mov $0x3333333333333333, %%rcx\n\t xor %%rcx, %%r12\n\t"
			 "mov $0x4444444444444444, %%rcx\n\t xor %%rcx, %%r13\n\t"
			 "mov $0x5555555555555555, %%rcx\n\t xor %%rcx, %%r14\n\t"
			 "mov $0x6666666666666666, %%rcx\n\t xor %%rcx, %%r15\n\t"
			 "mov $0x7777777777777777, %%rcx\n\t xor %%rcx, %%rdi\n\t"
			 "mov $0x0888888888888888, %%rcx\n\t xor %%rcx, %%rsi\n\t"
			 "mov $0x0999999999999999, %%rcx\n\t xor %%rcx, %%rdx\n\t"
			 "mov $0x0aaaaaaaaaaaaaaa, %%rcx\n\t xor %%rcx, %%r10\n\t"
			 "mov $0x0bbbbbbbbbbbbbbb, %%rcx\n\t xor %%rcx, %%r8\n\t"
			 "mov $0x0ccccccccccccccc, %%rcx\n\t xor %%rcx, %%r9\n\t"
			 "mov %%rbx, %%r11\n\t"
			 "or %%rbp, %%r11\n\t"
			 "or %%r12, %%r11\n\t"
			 "or %%r13, %%r11\n\t"
			 "or %%r14, %%r11\n\t"
			 "or %%r15, %%r11\n\t"
			 "or %%rdi, %%r11\n\t"
			 "or %%rsi, %%r11\n\t"
			 "or %%rdx, %%r11\n\t"
			 "or %%r10, %%r11\n\t"
			 "or %%r8, %%r11\n\t"
			 "or %%r9, %%r11\n\t"
			 "pop %%r15\n\t"
			 "pop %%r14\n\t"
			 "pop %%r13\n\t"
			 "pop %%r12\n\t"
			 "pop %%rbp\n\t"
			 "pop %%rbx\n\t"
			 "add $128, %%rsp\n\t"
			 : "+a"(rax), "=r"(acc)
			 :
			 : "rcx", "rdi", "rsi", "rdx", "r8", "r9", "r10", "memory", "cc");
	return acc == 0 && rax == pid;
}

/* Lines of /proc/self/maps: an injection's scratch area must not be left behind. */
static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;
	if (!f)
		return -1;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* Signals at the checker's main thread, 20 a second, from a second thread: they arrive
 * while the monitor injects into it too. The handler makes a syscall of its own (an entry
 * of the hijacked task that is not the injected call's return) and counts. */
static volatile unsigned long long signals;
static pid_t main_tid;

static void on_usr1(int sig)
{
	(void)sig;
	syscall(SYS_getppid);
	signals++;
}

/* The CPUs the checker may run on (its affinity at start) and those its main thread was
 * seen on. With more than one, the signaller moves the main thread to the next CPU at each
 * signal: it migrates at any point, also in the middle of a chain the monitor injects. */
static cpu_set_t allowed;
static volatile unsigned long long cpus_seen; /* bit N: ran on CPU N (N < 64) */

static void note_cpu(void)
{
	int cpu = sched_getcpu();
	if (cpu >= 0 && cpu < 64)
		cpus_seen |= 1ull << cpu;
}

static void move_main_thread(void)
{
	static int last = -1;
	int n = CPU_COUNT(&allowed);
	if (n < 2)
		return;
	for (int k = 1; k <= CPU_SETSIZE; k++) {
		int cpu = (last + k) % CPU_SETSIZE;
		if (CPU_ISSET(cpu, &allowed)) {
			cpu_set_t one;
			CPU_ZERO(&one);
			CPU_SET(cpu, &one);
			/* May fail while a CPU is offline: the next signal tries the next one. */
			(void)sched_setaffinity(main_tid, sizeof(one), &one);
			last = cpu;
			return;
		}
	}
}

static void *signaller(void *arg)
{
	(void)arg;
	for (;;) {
		struct timespec t = {0, 50000000};
		nanosleep(&t, NULL);
		move_main_thread();
		syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
	}
	return NULL;
}

/* Raw syscalls (not the vDSO) so each one enters the kernel through SYSCALL. */
static int cmd_check(void)
{
	pid_t pid = (pid_t)syscall(SYS_getpid);
	pid_t ppid = (pid_t)syscall(SYS_getppid);
	int fds[2];
	char ref[256], buf[256];
	int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
	ssize_t ref_len = fd >= 0 ? read(fd, ref, sizeof(ref)) : -1;

	if (fd >= 0)
		close(fd);
	if (pipe2(fds, O_CLOEXEC) < 0 || ref_len <= 0) {
		printf("GUEST-CHECKER-ERROR setup errno=%d\n", errno);
		fflush(stdout);
		return 1;
	}
	struct sigaction sa;
	pthread_t th;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	main_tid = (pid_t)syscall(SYS_gettid);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	if (sigaction(SIGUSR1, &sa, NULL) < 0 || pthread_create(&th, NULL, signaller, NULL) != 0) {
		printf("GUEST-CHECKER-ERROR signals errno=%d\n", errno);
		fflush(stdout);
		return 1;
	}
	double next = now_s() + 2.0;
	for (unsigned long long iter = 1;; iter++) {
		static const struct timespec nap = {0, 5000000}; /* 5 ms */
		char msg[32];
		int len = snprintf(msg, sizeof(msg), "msg-%llu", iter);

		note_cpu();
		expect(syscall(SYS_getpid) == pid, "getpid");
		expect(registers_kept(pid), "registers");
		expect(syscall(SYS_getppid) == ppid, "getppid");
		expect(syscall(SYS_write, fds[1], msg, (size_t)len) == len, "write");
		memset(buf, 0, sizeof(buf));
		expect(syscall(SYS_read, fds[0], buf, sizeof(buf)) == len &&
			       memcmp(buf, msg, (size_t)len) == 0,
		       "read");
		fd = (int)syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY | O_CLOEXEC);
		expect(fd >= 0, "openat");
		if (fd >= 0) {
			ssize_t n = syscall(SYS_read, fd, buf, sizeof(buf));
			expect(n == ref_len && memcmp(buf, ref, (size_t)n) == 0, "read-file");
			expect(syscall(SYS_close, fd) == 0, "close");
		}
		errno = 0;
		expect(syscall(SYS_kill, pid, 0) == 0, "kill0");
		/* A signal ends a nanosleep early (EINTR, even with SA_RESTART: signal(7)). */
		errno = 0;
		long slept = syscall(SYS_nanosleep, &nap, NULL);
		expect(slept == 0 || errno == EINTR, "nanosleep");
		if (now_s() >= next) {
			next += 2.0;
			printf("GUEST-CHECKER pid=%d iter=%llu calls=%llu bad=%llu maps=%d "
			       "signals=%llu cpus=0x%llx%s%s\n",
			       (int)pid, iter, calls, bad, count_maps(), signals, cpus_seen,
			       bad ? " first=" : "", bad ? first_bad : "");
			fflush(stdout);
		}
	}
}

/* cgroup.events says "frozen WANT"? -1 if it cannot be read. */
static int events_frozen_is(int fd, char want)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *f = strstr(buf, "frozen ");
	return f ? f[7] == want : -1;
}

/* From t0 until EVENTS says "frozen WANT": kernfs signals POLLPRI at each change. */
static double settle(const char *events, char want, double t0)
{
	int fd = open(events, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	double seen = -1;
	while (now_s() - t0 < 10.0) {
		int is = events_frozen_is(fd, want);
		if (is < 0)
			break;
		if (is) {
			seen = now_s() - t0;
			break;
		}
		struct pollfd p = {fd, POLLPRI, 0};
		poll(&p, 1, 20);
	}
	close(fd);
	return seen;
}

static int cmd_time(const char *tag, char **argv, const char *events, char want)
{
	double t0 = now_s();
	pid_t pid = fork();
	int st = 0;

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 1;
	double took = now_s() - t0;
	printf("GUEST-TIME tag=%s ns=%.0f status=%d", tag, took * 1e9,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	if (events) {
		double settled = settle(events, want, t0);
		printf(" settled_ns=%.0f", settled < 0 ? -1.0 : settled * 1e9);
	}
	printf("\n");
	fflush(stdout);
	return 0;
}

static long victim_ms;

static void *victim_end(void *arg)
{
	(void)arg;
	struct timespec t = {victim_ms / 1000, (victim_ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
	syscall(SYS_exit_group, 0);
	return NULL;
}

static int cmd_victim(const char *ms)
{
	pthread_t th;
	victim_ms = strtol(ms, NULL, 10);
	/* Not root: the monitor's host-root operations must never pick a process that is
	 * about to end by itself. */
	if (victim_ms <= 0 || setresgid(1000, 1000, 1000) != 0 ||
	    setresuid(1000, 1000, 1000) != 0 || pthread_create(&th, NULL, victim_end, NULL) != 0)
		return 2;
	printf("GUEST-VICTIM pid=%d ms=%ld\n", (int)getpid(), victim_ms);
	fflush(stdout);
	for (;;) {
		struct timespec t = {0, 10000000}; /* 10 ms */
		syscall(SYS_nanosleep, &t, NULL);
	}
}

static int cmd_spawn(const char *arg)
{
	char *end;
	errno = 0;
	long n = strtol(arg, &end, 10);
	if (errno || end == arg || *end || n < 1 || n > 100000)
		return 2;
	/* The caller returns at once: a spawner child does the forking on its own, with no
	 * descriptor of the caller's (so the monitor's exec, whose pipes these are, ends
	 * before the load starts and its entry trap is not armed during a thousand forks). */
	pid_t spawner = fork();
	if (spawner < 0)
		return 1;
	if (spawner > 0)
		return 0;
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			for (;;)
				pause();
		}
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "check") == 0)
		return cmd_check();
	if (argc >= 4 && strcmp(argv[1], "time") == 0)
		return cmd_time(argv[2], argv + 3, NULL, 0);
	if (argc >= 6 && strcmp(argv[1], "time-until") == 0 && strlen(argv[3]) == 1)
		return cmd_time(argv[4], argv + 5, argv[2], argv[3][0]);
	if (argc == 3 && strcmp(argv[1], "victim") == 0)
		return cmd_victim(argv[2]);
	if (argc == 3 && strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(argv[2]);
	fprintf(stderr, "usage: lab-checker check | time TAG CMD... | time-until EVENTS FROZEN "
			"TAG CMD... | victim MS | spawn N\n");
	return 2;
}
