/* hv/inject/ops.c (pause, unpause) and hv/inject/ops_exec.c (the command's PATH walk, the
 * helper's output loop),
 * stepped by hand with the results a kernel would give (ops_harness.c). The frozen state
 * comes from a synthetic guest (vmi_fake.c) whose cgroup flags the test changes between
 * polls, as a kernel finishing a freeze would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inject/linux_abi.h"
#include "ops_harness.h"
#include "vmi_fake.h"

static struct fake f;
static struct fake_world w;
static struct vmi v;
static uint64_t host_user, actor;

/* A task's credentials (a fresh cred: uid, user namespace, bset as permitted and effective
 * too, inheritable, ambient), no_new_privs and newest seccomp filter. */
static void set_state(uint64_t task, uint64_t userns, uint32_t uid, uint64_t bset, uint64_t inh,
		      uint64_t amb, bool nnp, uint64_t newest_filter)
{
	uint64_t cred = fake_cred(&f, uid, userns);
	fake_cred_caps(&f, cred, inh, bset, amb);
	fake_w64(&f, cred + f.prof.cred_cap_permitted, bset);
	fake_w64(&f, cred + f.prof.cred_cap_effective, bset);
	fake_w64(&f, task + f.prof.task_real_cred, cred);
	fake_task_seccomp(&f, task, nnp, newest_filter ? 2u : 0u, newest_filter);
}

static int setup(void **state)
{
	(void)state;
	harness_reset();
	fake_init(&f, false);
	fake_world(&f, &w);
	memset(&v, 0, sizeof(v));
	if (vmi_open(&v, &f.mem, &f.prof, &f.cpu) != 0)
		fail_msg("vmi_open: %s", v.error);
	env.vmi = &v;
	snprintf(q.ct.name, sizeof(q.ct.name), "web");
	snprintf(q.ct.cgroup, sizeof(q.ct.cgroup), "/lab/web");
	q.ct_cgroup = w.cg_web;
	q.ct.init_pid = 100;
	q.ct.init_task = w.web_init;
	/* the namespaces introspection saw the init in (the helper's fstat must find them) */
	for (uint32_t k = 0; k < VMI_NS_COUNT; k++)
		q.ct.ns[k] = 4026532100u + k;
	host_user =
		fake_r64(&f, fake_r64(&f, w.init + f.prof.task_real_cred) + f.prof.cred_user_ns);
	v.host_ns[VMI_NS_USER] = (uint32_t)fake_r64(&f, host_user + f.prof.user_namespace_ns +
								f.prof.ns_common_inum);
	/* the process that acts (the helper, then the command): host root until a test gives
	 * it what the kernel would after the restrictions */
	actor = fake_task(&f, &(struct fake_task){.pid = 900, .tgid = 900, .comm = "sh"});
	set_state(actor, host_user, 0, ~0ull, 0, 0, false, 0);
	env.task = actor;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_free(&f);
	return 0;
}

/* ------------------------------------------------------------------ pause, unpause */

static void set_frozen(uint64_t cgroup, bool frozen)
{
	fake_w64(&f, cgroup + f.prof.cgroup_flags, frozen ? 1ull << VMI_CGRP_FROZEN : 0);
}

/* open cgroup.freeze, write `value`, close: what every freeze write looks like. */
static void expect_freeze_write(const char *value)
{
	expect_call(LINUX_NR_openat);
	assert_string_equal(scratch_string(call.arg[1]), "/sys/fs/cgroup/lab/web/cgroup.freeze");
	feed(7);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[0], 7);
	assert_int_equal(call.arg[2], 1);
	assert_memory_equal(scratch_string(call.arg[1]), value, 1);
	feed(1);
	expect_call(LINUX_NR_close);
	assert_int_equal(call.arg[0], 7);
}

/* The first look found the state not yet reached: cgroup.events is opened (it gets fd 9),
 * its change to wake the wait. */
static void expect_events_open(void)
{
	expect_call(LINUX_NR_openat);
	assert_string_equal(scratch_string(call.arg[1]), "/sys/fs/cgroup/lab/web/cgroup.events");
	feed(9);
}

/* A look found the state not yet reached: ppoll for a change of cgroup.events, at most
 * OPS_FREEZE_POLL_MS, which the monitor's clock is moved by. */
static void expect_poll(void)
{
	expect_call(LINUX_NR_ppoll);
	assert_int_equal(call.arg[1], 1);
	struct {
		int32_t fd;
		int16_t events, revents;
	} pfd;
	memcpy(&pfd, scratch_string(call.arg[0]), sizeof(pfd));
	assert_int_equal(pfd.fd, 9);
	assert_int_equal(pfd.events, LINUX_POLLPRI);
	env.now_ns += OPS_FREEZE_POLL_MS * 1000000ull;
}

/* The wait is over: cgroup.events closed. */
static void expect_events_close(void)
{
	expect_call(LINUX_NR_close);
	assert_int_equal(call.arg[0], 9);
	feed(0);
}

static void test_pause_sees_a_freeze_that_completes_at_the_third_poll(void **state)
{
	(void)state;
	/* The container was found (its path read and cached) before the freeze began. */
	char path[VMI_PATH_MAX];
	bool frozen = true;
	assert_int_equal(vmi_cgroup_path(&v, w.cg_web, path, sizeof(path), &frozen), 0);
	assert_false(frozen);

	begin(OPS_PAUSE);
	expect_freeze_write("1");
	feed(0);              /* close; look 1: still freezing */
	expect_events_open(); /* look 2: still freezing */
	expect_poll();
	feed(0); /* timed out; look 3: still freezing */
	expect_poll();
	feed(1); /* signalled, but look 4 sees no freeze yet: read again before the next poll */
	expect_call(LINUX_NR_pread64);
	assert_int_equal(call.arg[0], 9);
	assert_int_equal(call.arg[3], 0);
	feed(1); /* look 5: still freezing */
	expect_poll();
	set_frozen(w.cg_web, true);
	feed(1); /* signalled; look 6 sees it, in the same session: nothing is cached */
	expect_events_close();
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_true(q.state_reached);
	assert_int_equal(q.polls, 6);
	assert_string_equal(q.op.error, "");
}

/* The kernel's freeze requested (CGRP_FREEZE) and each of web's tasks given the freezer's
 * trap (JOBCTL_TRAP_FREEZE) and woken, as cgroup_freeze_task does, and left waiting for a
 * CPU (TASK_RUNNING, held by cpu.max say); CGRP_FROZEN not yet. */
static void freeze_requested(uint64_t web_child_jobctl)
{
	fake_w32(&f, w.web_init + f.prof.task_state, 0);
	fake_w32(&f, w.web_child + f.prof.task_state, 0);
	fake_w64(&f, w.cg_web + f.prof.cgroup_flags, 1ull << 2);
	fake_w64(&f, w.web_init + f.prof.task_jobctl, 1ull << 23);
	fake_w64(&f, w.web_child + f.prof.task_jobctl, web_child_jobctl);
	/* TIF_SIGPENDING, set by signal_wake_up with the trap */
	fake_w64(&f, w.web_init + f.prof.task_thread_info + f.prof.thread_info_flags, 1ull << 2);
	fake_w64(&f, w.web_child + f.prof.task_thread_info + f.prof.thread_info_flags, 1ull << 2);
}

static void test_pause_of_tasks_held_off_cpu_with_the_trap_pending_is_done(void **state)
{
	(void)state;
	begin(OPS_PAUSE);
	expect_freeze_write("1");
	freeze_requested(1ull << 23);
	feed(0);              /* close; look 1: not frozen, and too early to look at the tasks */
	expect_events_open(); /* look 2: the same */
	expect_poll();        /* OPS_FREEZE_PENDING_AFTER_MS later */
	feed(0);              /* look 3: not frozen, every task waits with its trap pending */
	expect_events_close();
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_true(q.state_reached);
	assert_int_equal(q.frozen_seen, 0);
	assert_int_equal(q.trap_pending, 2);
	assert_string_equal(q.op.error, "");
}

static void test_pause_waits_for_frozen_while_a_task_may_still_run(void **state)
{
	(void)state;
	begin(OPS_PAUSE);
	expect_freeze_write("1");
	freeze_requested(0); /* web's child has no trap yet */
	feed(0);
	expect_events_open();
	expect_poll();
	feed(0); /* look 3: not a yes */
	expect_poll();
	/* on a CPU now, with its trap: still not a yes */
	fake_w64(&f, w.web_child + f.prof.task_jobctl, 1ull << 23);
	fake_w32(&f, w.web_child + f.prof.task_on_cpu, 1);
	feed(0);
	expect_poll();
	set_frozen(w.cg_web, true); /* the kernel's own frozen */
	feed(1);
	expect_events_close();
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_int_equal(q.frozen_seen, 1);
	assert_int_equal(q.trap_pending, 0);
}

static void test_cgroup_path_reads_the_frozen_flag_anew_at_every_call(void **state)
{
	(void)state;
	char path[VMI_PATH_MAX];
	bool frozen = true;
	assert_int_equal(vmi_cgroup_path(&v, w.cg_web, path, sizeof(path), &frozen), 0);
	assert_false(frozen);
	set_frozen(w.cg_web, true);
	assert_int_equal(vmi_cgroup_path(&v, w.cg_web, path, sizeof(path), &frozen), 0);
	assert_string_equal(path, "/lab/web");
	assert_true(frozen);
}

static void test_pause_that_does_not_freeze_in_time_is_undone(void **state)
{
	(void)state;
	begin(OPS_PAUSE);
	expect_freeze_write("1");
	feed(0);
	expect_events_open();
	for (uint32_t i = 0; env.now_ns < OPS_FREEZE_WAIT_MS * 1000000ull; i++) {
		assert_true(i < 2 * OPS_FREEZE_WAIT_MS / OPS_FREEZE_POLL_MS);
		expect_poll();
		feed(0);
	}
	/* Past the deadline: cgroup.freeze goes back to 0, and the failure says so. */
	expect_events_close();
	expect_freeze_write("0");
	feed(0);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_false(q.state_reached);
	assert_non_null(strstr(q.op.error, "did not report frozen within"));
	assert_non_null(strstr(q.op.error, "the freeze was undone"));
}

static void test_unpause_waits_for_the_thaw(void **state)
{
	(void)state;
	set_frozen(w.cg_web, true);
	begin(OPS_UNPAUSE);
	expect_freeze_write("0");
	feed(0);
	expect_events_open();
	expect_poll();
	set_frozen(w.cg_web, false);
	feed(1);
	expect_events_close();
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_true(q.state_reached);
}

static void test_pause_of_an_unreadable_cgroup_fails_instead_of_guessing(void **state)
{
	(void)state;
	q.ct_cgroup = 0x1000; /* not a kernel address: nothing can be read there */
	begin(OPS_UNPAUSE);   /* "not frozen" would be the answer an unpause wants */
	expect_freeze_write("0");
	feed(0);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_false(q.state_reached);
	assert_non_null(strstr(q.op.error, "cannot read the cgroup's state"));
}

/* ------------------------------------------------------------------ exec's PATH walk */

/* The command's process (the fourth context, made by the helper's fork), stepped through
 * its set-up with results of 0 up to its first execve. */
static void cmd_to_first_execve(const char *argv0)
{
	snprintf(q.u.exec.argv[0], sizeof(q.u.exec.argv[0]), "%s", argv0);
	q.u.exec.argc = 1;
	q.pipe_fd[0] = 10, q.pipe_fd[1] = 11, q.pipe_fd[2] = 12, q.pipe_fd[3] = 13;
	q.next_role = OPS_ROLE_CMD;
	/* what the helper's plan found: no user namespace, label or capability to take (the
	 * acting task has them all already) */
	char why[VMI_ERROR_MAX];
	assert_int_equal(vmi_task_restrictions(&v, actor, &q.confine.want, why, sizeof(why)), 0);
	q.confine.host_user_ns = host_user;
	q.confine.userns_fd = q.confine.proc_fd = -1;
	env.ctx = 3;
	env.first = true;
	begin(OPS_EXEC);
	env.first = false;
	for (uint32_t i = 0; step == INJECT_STEP_CALL && call.nr != LINUX_NR_execve; i++) {
		assert_true(i < 128);
		feed(call.nr == LINUX_NR_write ? (int64_t)call.arg[2] : 0);
	}
	expect_call(LINUX_NR_execve);
	assert_int_equal(call.kind, INJECT_CALL_EXEC);
}

/* The command's process finds its parent is no longer the helper (it ended between the
 * fork and the prctl, which then came too late to fire): it runs nothing. Only a container
 * that shares the host's pids shows this: in a pid namespace of its own both the helper
 * and an orphan's new reaper are outside it, getppid() 0 either way. */
static void test_command_whose_helper_ended_runs_nothing(void **state)
{
	(void)state;
	snprintf(q.u.exec.argv[0], sizeof(q.u.exec.argv[0]), "sleep");
	q.u.exec.argc = 1;
	q.helper_pid = 812;
	q.next_role = OPS_ROLE_CMD;
	env.ctx = 3;
	env.first = true;
	begin(OPS_EXEC);
	env.first = false;
	expect_call(LINUX_NR_madvise);
	feed(0);
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[0], LINUX_PR_SET_PDEATHSIG);
	feed(0);
	expect_call(LINUX_NR_getppid);
	feed(812); /* control: the helper, in a container sharing the host's pids */
	expect_call(LINUX_NR_dup2);

	memset(&q, 0, sizeof(q));
	snprintf(q.u.exec.argv[0], sizeof(q.u.exec.argv[0]), "sleep");
	q.u.exec.argc = 1;
	q.helper_pid = 812;
	q.next_role = OPS_ROLE_CMD;
	env.first = true;
	begin(OPS_EXEC);
	env.first = false;
	feed(0);
	feed(0);
	expect_call(LINUX_NR_getppid);
	feed(1); /* a container sharing the host's pids: reparented to init, the helper gone */
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "helper ended"));
}

/* Every candidate left answers ENOENT (at most the six PATH directories). */
static void enoent_to_the_end(void)
{
	for (uint32_t i = 0; step == INJECT_STEP_CALL && call.nr == LINUX_NR_execve; i++) {
		assert_true(i < 6);
		feed(-LINUX_ENOENT);
	}
}

/* The walk gave up: the command's process exits with `status`, and `err` is reported. */
static void expect_gave_up(uint64_t status, int64_t err)
{
	expect_call(LINUX_NR_exit_group);
	assert_int_equal(call.kind, INJECT_CALL_FINAL);
	assert_int_equal(call.arg[0], status);
	assert_int_equal(q.exec_errno, err);
}

static void test_exec_found_in_a_later_path_directory_reports_no_error(void **state)
{
	(void)state;
	cmd_to_first_execve("ls");
	assert_string_equal(scratch_string(call.arg[0]), "/usr/local/sbin/ls");
	feed(-LINUX_ENOENT);
	assert_string_equal(scratch_string(call.arg[0]), "/usr/local/bin/ls");
	feed(-LINUX_ENOENT);
	assert_string_equal(scratch_string(call.arg[0]), "/usr/sbin/ls");
	feed(-LINUX_ENOENT);
	expect_call(LINUX_NR_execve);
	assert_string_equal(scratch_string(call.arg[0]), "/usr/bin/ls");
	/* This execve succeeds: it never returns to the program. Nothing was reported. */
	assert_int_equal(q.exec_errno, 0);
}

static void test_exec_not_a_directory_on_the_way_still_walks_on(void **state)
{
	(void)state;
	cmd_to_first_execve("nosuch");
	feed(-LINUX_ENOTDIR); /* /usr/local/sbin is a file in this container */
	expect_call(LINUX_NR_execve);
	assert_string_equal(scratch_string(call.arg[0]), "/usr/local/bin/nosuch");
	enoent_to_the_end();
	expect_gave_up(127, -LINUX_ENOENT);
}

static void test_exec_all_enoent_reports_enoent_and_127(void **state)
{
	(void)state;
	cmd_to_first_execve("nosuch");
	enoent_to_the_end();
	expect_gave_up(127, -LINUX_ENOENT);
}

static void test_exec_permission_denied_anywhere_is_what_is_reported(void **state)
{
	(void)state;
	cmd_to_first_execve("tool");
	feed(-LINUX_EACCES); /* /usr/local/sbin/tool exists but may not be run */
	enoent_to_the_end();
	expect_gave_up(126, -LINUX_EACCES);
}

static void test_exec_other_error_ends_the_walk(void **state)
{
	(void)state;
	cmd_to_first_execve("script");
	feed(-LINUX_ENOEXEC);
	expect_gave_up(126, -LINUX_ENOEXEC);
}

static void test_exec_with_a_slash_tries_only_that_path(void **state)
{
	(void)state;
	cmd_to_first_execve("/bin/true");
	assert_string_equal(scratch_string(call.arg[0]), "/bin/true");
	feed(-LINUX_ENOENT);
	expect_gave_up(127, -LINUX_ENOENT);
}

/* An exec request's words fill their slots exactly: a word of OPS_PATH_MAX bytes fits, one
 * byte more is refused (it overflowed into the next slot before), and so is a word more
 * than OPS_EXEC_ARGS_MAX. */
static void test_exec_words_are_bounded_exactly(void **state)
{
	(void)state;
	static char longest[OPS_PATH_MAX + 2];
	char *words[OPS_EXEC_ARGS_MAX + 1];
	char why[80];
	memset(longest, 'a', OPS_PATH_MAX);
	longest[OPS_PATH_MAX] = '\0';
	for (unsigned i = 0; i <= OPS_EXEC_ARGS_MAX; i++)
		words[i] = longest;
	memset(&q, 0, sizeof(q));
	assert_int_equal(ops_exec_words(&q, (int)OPS_EXEC_ARGS_MAX, words, why, sizeof(why)), 0);
	assert_int_equal(q.u.exec.argc, OPS_EXEC_ARGS_MAX);
	assert_int_equal(strlen(q.u.exec.argv[OPS_EXEC_ARGS_MAX - 1]), OPS_PATH_MAX);
	memset(&q, 0, sizeof(q));
	assert_int_equal(ops_exec_words(&q, (int)OPS_EXEC_ARGS_MAX + 1, words, why, sizeof(why)),
			 -1);
	assert_string_equal(why, "at most 13 command words");
	memset(&q, 0, sizeof(q));
	longest[OPS_PATH_MAX] = 'a'; /* 241 bytes */
	char *two[2] = {"ls", longest};
	assert_int_equal(ops_exec_words(&q, 2, two, why, sizeof(why)), -1);
	assert_string_equal(why, "command word 2 is 241 bytes; at most 240");
	assert_int_equal(q.u.exec.argc, 1);
	assert_int_equal(q.u.exec.argv[1][0], '\0'); /* nothing written past the first word */
}

/* A string goes into its slot only if it fits, NUL included; nothing is written when not
 * (a long path once ran on into the next slot). */
static void test_put_string_is_bounded_by_its_slot(void **state)
{
	(void)state;
	char s[SCRATCH_CP_PATH_SIZE + 1];
	memset(s, 'p', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0'; /* 256 bytes and the NUL: one too many */
	memset(scratch, 0, sizeof(scratch));
	assert_int_equal(ops_put_string(&env, SCRATCH_SLOT(SCRATCH_CP_PATH), s), 0);
	assert_int_equal(scratch[SCRATCH_CP_PATH_OFF], 0);
	s[sizeof(s) - 2] = '\0'; /* 255 and the NUL: fits */
	assert_int_equal(ops_put_string(&env, SCRATCH_SLOT(SCRATCH_CP_PATH), s),
			 SCRATCH_VA + SCRATCH_CP_PATH_OFF);
	assert_int_equal(scratch[SCRATCH_END(SCRATCH_CP_PATH) - 1], 0);
	assert_int_equal(scratch[SCRATCH_END(SCRATCH_CP_PATH)], 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ------------------------------------------------------------------ exec's output loop */

#define CMD_PID 300

/* fstat of a namespace file the helper just opened ("/proc/100/ns/NAME" still in the path
 * slot): its inode, as introspection saw it. */
static void answer_ns_fstat(uint32_t userns_inum)
{
	static const struct {
		const char *name;
		enum vmi_ns kind;
	} kinds[] = {{"ipc", VMI_NS_IPC},       {"uts", VMI_NS_UTS}, {"net", VMI_NS_NET},
		     {"cgroup", VMI_NS_CGROUP}, {"pid", VMI_NS_PID}, {"mnt", VMI_NS_MNT}};
	const char *path = scratch_string(SCRATCH_VA + SCRATCH_EXEC_PATH_OFF);
	uint64_t ino = userns_inum;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(path + strlen("/proc/100/ns/"), kinds[k].name) == 0)
			ino = q.ct.ns[kinds[k].kind];
	expect_call(LINUX_NR_fstat);
	memcpy(scratch + (call.arg[1] - SCRATCH_VA) + 8, &ino, 8);
	feed(0);
}

/* A helper's first calls: the host task's descriptors closed, /dev/null as 0, 1 and 2. */
static void expect_helper_shed(void)
{
	expect_call(LINUX_NR_close_range);
	assert_int_equal(call.arg[0], 0);
	assert_int_equal(call.arg[1], 0xFFFFFFFFu);
	feed(0);
	expect_call(LINUX_NR_openat);
	assert_string_equal(scratch_string(call.arg[1]), "/dev/null");
	feed(0);
	expect_call(LINUX_NR_dup2);
	assert_int_equal(call.arg[0], 0);
	assert_int_equal(call.arg[1], 1);
	feed(1);
	expect_call(LINUX_NR_dup2);
	assert_int_equal(call.arg[1], 2);
	feed(2);
}

/* The helper (the third context) through its set-up, up to the first read of the
 * command's stdout: namespace files open as fds 20.., the pipes are 10/11 and 12/13. */
static void helper_to_output_loop(void)
{
	snprintf(q.u.exec.argv[0], sizeof(q.u.exec.argv[0]), "dd");
	q.u.exec.argc = 1;
	q.next_role = OPS_ROLE_HELPER;
	env.ctx = 2;
	env.first = true;
	begin(OPS_EXEC);
	env.first = false;
	expect_helper_shed();
	int64_t next_fd = 20;
	for (uint32_t i = 0;
	     !(step == INJECT_STEP_CALL && call.nr == LINUX_NR_read && call.arg[0] == 10); i++) {
		assert_true(i < 64);
		assert_int_equal(step, INJECT_STEP_CALL);
		switch (call.nr) {
		case LINUX_NR_openat:
			feed(next_fd++);
			break;
		case LINUX_NR_fstat:
			answer_ns_fstat(0);
			break;
		case LINUX_NR_write:
			feed((int64_t)call.arg[2]);
			break;
		case LINUX_NR_pipe2: {
			int32_t fds[2] = {10, 11};
			if (call.arg[0] != SCRATCH_VA + INJECT_SCRATCH_OP + 16u)
				fds[0] = 12, fds[1] = 13;
			memcpy(scratch + (call.arg[0] - SCRATCH_VA), fds, sizeof(fds));
			feed(0);
			break;
		}
		case LINUX_NR_clone:
			feed(CMD_PID);
			break;
		default:
			feed(0);
		}
	}
	assert_int_equal(call.arg[0], 10);
}

/* Nothing to read yet and the command still running: wait4 WNOHANG, then ppoll on the
 * pipes given (not a fixed nap: output or a hang-up wakes it). */
static void expect_idle_round(uint32_t nfds, int32_t first_fd)
{
	expect_call(LINUX_NR_wait4);
	assert_int_equal(call.arg[0], CMD_PID);
	assert_int_equal(call.arg[2], LINUX_WNOHANG);
	feed(0);
	expect_call(LINUX_NR_ppoll);
	assert_int_equal(call.arg[1], nfds);
	int32_t fd;
	memcpy(&fd, scratch + (call.arg[0] - SCRATCH_VA), sizeof(fd));
	assert_int_equal(fd, first_fd);
	int64_t ts[2];
	memcpy(ts, scratch + (call.arg[2] - SCRATCH_VA), sizeof(ts));
	assert_true(ts[0] == 0 && ts[1] > 0 && ts[1] <= 1000000000);
}

static void test_exec_output_loop_sleeps_in_ppoll_until_output(void **state)
{
	(void)state;
	helper_to_output_loop();
	feed(-LINUX_EAGAIN); /* stdout */
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 12);
	feed(-LINUX_EAGAIN); /* stderr */
	expect_idle_round(2, 10);
	feed(1); /* stderr became readable */
	expect_call(LINUX_NR_read);
	feed(-LINUX_EAGAIN);
	expect_call(LINUX_NR_read);
	feed(34); /* "70+0 records in..." */
	/* output: read again at once, no sleep */
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 10);
	feed(0); /* stdout closed */
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 12);
	feed(-LINUX_EAGAIN);
	/* One pipe at its end, the other open and empty: a ppoll on the open one only, not a
	 * read of it again and again. */
	expect_idle_round(1, 12);
	feed(1);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 12);
	feed(0); /* stderr closed too: the command is gone, or going */
	expect_call(LINUX_NR_wait4);
	assert_int_equal(call.arg[2], LINUX_WNOHANG); /* never a blocking reap */
	feed(0);                                      /* not yet: a nap, then again */
	expect_call(LINUX_NR_nanosleep);
	feed(0);
	expect_call(LINUX_NR_wait4);
	feed(CMD_PID);
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_true(q.cmd_exited);
	assert_int_equal(q.u.exec.err_len, 34);
}

/* The operation ends while the helper naps between reaps of a command that closed its
 * pipes but runs on: the next round kills it (before, it reaped with WNOHANG and napped
 * again until its own alarm ended it). */
static void test_exec_ending_between_reaps_kills_the_command(void **state)
{
	(void)state;
	helper_to_output_loop();
	feed(0); /* stdout closed */
	expect_call(LINUX_NR_read);
	feed(0); /* stderr closed */
	expect_call(LINUX_NR_wait4);
	assert_int_equal(call.arg[2], LINUX_WNOHANG);
	feed(0); /* still running */
	expect_call(LINUX_NR_nanosleep);
	env.aborting = true;
	feed(0);
	expect_call(LINUX_NR_kill);
	assert_int_equal(call.arg[0], CMD_PID);
	assert_int_equal(call.arg[1], LINUX_SIGKILL);
	feed(0);
	expect_call(LINUX_NR_wait4);
	assert_int_equal(call.arg[2], 0);
	feed(CMD_PID);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_true(q.cmd_exited);
}

/* ------------------------------------------------------------------ the restrictions */

#define CAP_KILL             5u
#define CAP_NET_BIND_SERVICE 10u
#define CAP_AUDIT_WRITE      29u
#define CAP_LAST             40u /* 6.1's CAP_CHECKPOINT_RESTORE */

static const uint64_t lab_bset =
	1ull << CAP_KILL | 1ull << CAP_NET_BIND_SERVICE | 1ull << CAP_AUDIT_WRITE;

/* The container's init (web's sh) with its own credentials: `bset`, nothing inheritable or
 * ambient, no_new_privs as given, and the filters newest first (0: none). */
static void init_restricted(bool nnp, uint64_t newest_filter)
{
	set_state(w.web_init, host_user, 0, lab_bset, 0, 0, nnp, newest_filter);
}

/* The same in a user namespace of its own (made by root): returns it. */
static uint64_t init_restricted_in_userns(bool nnp, uint64_t newest_filter)
{
	uint64_t userns = fake_userns_child(&f, host_user, 0, 4026532777u);
	set_state(w.web_init, userns, 100000, lab_bset, 0, 0, nnp, newest_filter);
	return userns;
}

static const uint64_t filter_old[2] = {0x0000000400000020ull, 0x7fff000000000006ull};
static const uint64_t filter_new[3] = {0x0000000000000020ull, 0x0000003b01000015ull,
				       0x7fff000000000006ull};

static void test_restrictions_are_read_from_the_containers_init(void **state)
{
	(void)state;
	uint64_t old = fake_seccomp_filter(&f, 0, filter_old, 2, false);
	uint64_t new = fake_seccomp_filter(&f, old, filter_new, 3, true);
	init_restricted(true, new);
	struct vmi_restrictions r;
	char why[VMI_ERROR_MAX] = "";
	int rc = vmi_task_restrictions(&v, w.web_init, &r, why, sizeof(why));
	if (rc != 0)
		fail_msg("%s", why);
	assert_int_equal(r.cap_bset, lab_bset);
	assert_int_equal(r.cap_inheritable, 0);
	assert_true(r.no_new_privs);
	assert_int_equal(r.seccomp_mode, 2);
	assert_int_equal(r.filters, 2);
	assert_int_equal(r.filter[0].len, 3); /* newest first, as the kernel chains them */
	assert_true(r.filter[0].log);
	assert_int_equal(r.filter[1].len, 2);
	assert_false(r.filter[1].log);
}

static void test_restrictions_refuse_what_cannot_be_copied(void **state)
{
	(void)state;
	struct vmi_restrictions r;
	char why[VMI_ERROR_MAX];
	/* a listener in user space: a copy would answer ENOSYS where the container waits */
	uint64_t one = fake_seccomp_filter(&f, 0, filter_old, 2, false);
	fake_w64(&f, one + f.prof.seccomp_filter_notif, fake_kalloc(&f, 64));
	init_restricted(false, one);
	assert_int_equal(vmi_task_restrictions(&v, w.web_init, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "user-space listener"));
	/* the original program not kept (no CONFIG_CHECKPOINT_RESTORE) */
	one = fake_seccomp_filter(&f, 0, filter_old, 2, false);
	fake_w64(&f, fake_r64(&f, one + f.prof.seccomp_filter_prog) + f.prof.bpf_prog_orig_prog, 0);
	init_restricted(false, one);
	assert_int_equal(vmi_task_restrictions(&v, w.web_init, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "did not keep"));
	/* a chain that loops on itself ends at the bound, refused */
	one = fake_seccomp_filter(&f, 0, filter_old, 2, false);
	fake_w64(&f, one + f.prof.seccomp_filter_prev, one);
	init_restricted(false, one);
	assert_int_equal(vmi_task_restrictions(&v, w.web_init, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "more than 32 seccomp filters"));
	/* a profile without the fields */
	f.prof.restrict_known = false;
	assert_int_equal(vmi_task_restrictions(&v, w.web_init, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "profile lacks"));
}

static void test_label_of_apparmor_is_taken_and_others_refused(void **state)
{
	(void)state;
	struct ops_restrict rs;
	char why[120];
	const char confined[] = "lab-locked (enforce)\n";
	assert_int_equal(ops_restrict_label(&rs, confined, sizeof(confined) - 1, why, sizeof(why)),
			 0);
	assert_string_equal(rs.label, "lab-locked");
	assert_int_equal(ops_restrict_label(&rs, "unconfined\n", 11, why, sizeof(why)), 0);
	assert_string_equal(rs.label, "");
	assert_int_equal(ops_restrict_label(&rs, "", 0, why, sizeof(why)), 0);
	assert_string_equal(rs.label, "");
	const char selinux[] = "system_u:system_r:container_t:s0:c1,c2";
	assert_int_equal(ops_restrict_label(&rs, selinux, sizeof(selinux) - 1, why, sizeof(why)),
			 -1);
	assert_non_null(strstr(why, "not AppArmor's"));
	const char odd[] = "a\x1b[2Jb (enforce)";
	assert_int_equal(ops_restrict_label(&rs, odd, sizeof(odd) - 1, why, sizeof(why)), -1);
}

/* The helper's first calls: SIGALRM at its default action and unblocked, and an alarm past
 * the operation's timeout and half the engine's grace: its kernel ends it if it is stuck;
 * SIGCHLD at its default action (a host task that ignores it would leave its children to
 * the kernel to reap, and the command's status would be lost). */
static void expect_helper_deadline(void)
{
	expect_call(LINUX_NR_madvise); /* its scratch pages mapped: a fork copies none */
	assert_int_equal(call.arg[0], SCRATCH_VA);
	assert_int_equal(call.arg[2], LINUX_MADV_POPULATE_WRITE);
	feed(0);
	expect_call(LINUX_NR_prctl); /* not dumpable first, so is the command's process */
	assert_int_equal(call.arg[0], LINUX_PR_SET_DUMPABLE);
	assert_int_equal(call.arg[1], 0);
	feed(0);
	expect_call(LINUX_NR_rt_sigaction);
	assert_int_equal(call.arg[0], LINUX_SIGALRM);
	uint64_t act[4];
	memcpy(act, scratch + (call.arg[1] - SCRATCH_VA), sizeof(act));
	assert_int_equal(act[0], LINUX_SIG_DFL);
	feed(0);
	expect_call(LINUX_NR_rt_sigaction);
	assert_int_equal(call.arg[0], LINUX_SIGCHLD);
	memcpy(act, scratch + (call.arg[1] - SCRATCH_VA), sizeof(act));
	assert_int_equal(act[0], LINUX_SIG_DFL);
	feed(0);
	expect_call(LINUX_NR_rt_sigprocmask);
	assert_int_equal(call.arg[0], LINUX_SIG_UNBLOCK);
	uint64_t set;
	memcpy(&set, scratch + (call.arg[1] - SCRATCH_VA), sizeof(set));
	assert_int_equal(set, 1ull << (LINUX_SIGALRM - 1));
	feed(0);
	expect_call(LINUX_NR_alarm);
	assert_int_equal(call.arg[0], (q.op.timeout_ms + INJECT_CLEANUP_GRACE_MS / 2) / 1000 + 1);
	feed(0);
}

/* The helper through its set-up with a container in a user namespace of its own and an
 * AppArmor profile: fds from 30 (the user namespace's is the seventh), attr/current says
 * `label`; stops with the fork of the command's process in flight. */
static void helper_to_clone(const char *label)
{
	snprintf(q.u.exec.argv[0], sizeof(q.u.exec.argv[0]), "id");
	q.u.exec.argc = 1;
	q.next_role = OPS_ROLE_HELPER;
	env.ctx = 2;
	env.first = true;
	begin(OPS_EXEC);
	env.first = false;
	expect_helper_shed();
	expect_helper_deadline();
	for (uint32_t i = 0; i < 7; i++) {
		expect_call(LINUX_NR_openat);
		assert_string_equal(scratch_string(call.arg[1]),
				    i == 6 ? "/proc/100/ns/user" : scratch_string(call.arg[1]));
		feed(30 + i);
		answer_ns_fstat(4026532777u);
	}
	expect_call(LINUX_NR_openat);
	assert_string_equal(scratch_string(call.arg[1]), "/proc/100/attr/current");
	feed(40);
	expect_call(LINUX_NR_read);
	memcpy(scratch + (call.arg[1] - SCRATCH_VA), label, strlen(label));
	feed((int64_t)strlen(label));
	expect_call(LINUX_NR_close);
	feed(0);
	bool confined = true; /* exec's command opens oom_score_adj there with any label */
	(void)label;
	if (confined) {
		expect_call(LINUX_NR_openat); /* the host's /proc, for attr/exec */
		assert_string_equal(scratch_string(call.arg[1]), "/proc");
		assert_true(call.arg[2] & LINUX_O_PATH);
		feed(41);
	}
	expect_call(LINUX_NR_openat);
	assert_string_equal(scratch_string(call.arg[1]), "/dev/null");
	feed(42);
	for (uint32_t i = 0; call.nr != LINUX_NR_clone; i++) {
		assert_true(i < 64);
		assert_int_equal(step, INJECT_STEP_CALL);
		if (call.nr == LINUX_NR_setns)
			assert_true(call.arg[0] != 36); /* the user namespace is the command's */
		if (call.nr == LINUX_NR_pipe2) {
			int32_t fds[2] = {10, 11};
			if (call.arg[0] != SCRATCH_VA + SCRATCH_EXEC_PIPES_OFF)
				fds[0] = 12, fds[1] = 13;
			memcpy(scratch + (call.arg[0] - SCRATCH_VA), fds, sizeof(fds));
		}
		feed(call.nr == LINUX_NR_write    ? (int64_t)call.arg[2]
		     : call.nr == LINUX_NR_openat ? 50
						  : 0);
	}
}

/* helper_to_clone, and the fork's return: the helper closes what was the command's. */
static void helper_to_fork(const char *label)
{
	bool confined = true;
	helper_to_clone(label);
	feed(CMD_PID);
	/* the helper keeps none of what was the command's */
	int64_t closed[5] = {0};
	for (uint32_t i = 0; i < (confined ? 5u : 4u); i++) {
		expect_call(LINUX_NR_close);
		closed[i] = (int64_t)call.arg[0];
		feed(0);
	}
	assert_int_equal(closed[2], 36);
	assert_int_equal(closed[3], 42);
	assert_int_equal(closed[4], confined ? 41 : 0);
}

/* openat(dirfd, path) answered with fd, a write of `text` whole, close. */
static void expect_file_written(int64_t dirfd, const char *path, const char *text, int64_t fd)
{
	expect_call(LINUX_NR_openat);
	assert_int_equal(call.arg[0], dirfd);
	assert_string_equal(scratch_string(call.arg[1]), path);
	feed(fd);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[0], fd);
	assert_int_equal(call.arg[2], strlen(text));
	assert_memory_equal(scratch + (call.arg[1] - SCRATCH_VA), text, strlen(text));
	feed((int64_t)strlen(text));
	expect_call(LINUX_NR_close);
	assert_int_equal(call.arg[0], fd);
	feed(0);
}

/* The command's process from the fork to its restrictions. */
static void cmd_to_restrictions(void)
{
	env.ctx = 3;
	env.first = true;
	feed(0);
	env.first = false;
	expect_call(LINUX_NR_madvise);
	assert_int_equal(call.arg[2], LINUX_MADV_POPULATE_WRITE);
	feed(0);
	/* killed by the kernel if the helper ends first, however it ends */
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[0], LINUX_PR_SET_PDEATHSIG);
	assert_int_equal(call.arg[1], LINUX_SIGKILL);
	feed(0);
	expect_call(LINUX_NR_getppid);
	feed(0); /* the helper, outside the container's pid namespace */
	expect_call(LINUX_NR_dup2);
	feed(1);
	expect_call(LINUX_NR_dup2);
	feed(2);
	expect_call(LINUX_NR_dup2);
	assert_int_equal(call.arg[0], 42); /* stdin: the host's /dev/null */
	for (uint32_t i = 0; call.nr != LINUX_NR_setgroups; i++) {
		assert_true(i < 40);
		feed(0);
	}
	feed(0);
	/* nothing of the host task's scheduling, keyring or OOM score */
	expect_call(LINUX_NR_sched_setscheduler);
	assert_int_equal(call.arg[1], LINUX_SCHED_OTHER);
	feed(0);
	expect_call(LINUX_NR_setpriority);
	assert_int_equal(call.arg[2], 0);
	feed(0);
	expect_call(LINUX_NR_keyctl);
	assert_int_equal(call.arg[0], LINUX_KEYCTL_JOIN_SESSION_KEYRING);
	feed(77);
	expect_file_written(41, "thread-self/oom_score_adj", "0", 44);
	/* before any restriction (a container's filter may refuse it): every fd past 2 is
	 * closed at the execve */
	expect_call(LINUX_NR_close_range);
	assert_int_equal(call.arg[0], 3);
	assert_int_equal(call.arg[2], LINUX_CLOSE_RANGE_CLOEXEC);
	feed(0);
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[0], LINUX_PR_SET_DUMPABLE);
	assert_int_equal(call.arg[1], 0);
	feed(0);
}

static void test_exec_gives_the_command_the_containers_restrictions(void **state)
{
	(void)state;
	uint64_t old = fake_seccomp_filter(&f, 0, filter_old, 2, false);
	uint64_t new = fake_seccomp_filter(&f, old, filter_new, 3, true);
	uint64_t userns = init_restricted_in_userns(true, new);
	helper_to_fork("lab-locked (enforce)\n");
	cmd_to_restrictions();
	expect_call(LINUX_NR_setns);
	assert_int_equal(call.arg[0], 36);
	assert_int_equal(call.arg[1], LINUX_CLONE_NEWUSER);
	feed(0);
	expect_file_written(41, "thread-self/attr/exec", "exec lab-locked", 43);
	/* no_new_privs: the filters come last; every capability but the three leaves the
	 * bounding set, until the kernel says there are no more */
	for (uint32_t cap = 0; cap <= CAP_LAST; cap++) {
		if (lab_bset >> cap & 1u)
			continue;
		expect_call(LINUX_NR_prctl);
		assert_int_equal(call.arg[0], LINUX_PR_CAPBSET_DROP);
		assert_int_equal(call.arg[1], cap);
		feed(0);
	}
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[1], CAP_LAST + 1);
	feed(-LINUX_EINVAL);
	expect_call(LINUX_NR_setresgid);
	feed(0);
	expect_call(LINUX_NR_setresuid);
	assert_true(call.arg[0] == 0 && call.arg[1] == 0 && call.arg[2] == 0);
	feed(0);
	expect_call(LINUX_NR_capset);
	uint32_t caps[8];
	/* what the kernel holds for the process once the calls below are done (the monitor
	 * reads it back before the execve) */
	set_state(actor, userns, 100000, lab_bset, 0, 0, true, new);
	memcpy(caps, scratch + (call.arg[0] - SCRATCH_VA), sizeof(caps));
	assert_int_equal(caps[0], LINUX_CAPABILITY_VERSION_3);
	assert_int_equal(caps[2], (uint32_t)lab_bset); /* effective */
	assert_int_equal(caps[3], (uint32_t)lab_bset); /* permitted */
	assert_int_equal(caps[4], 0);                  /* inheritable */
	feed(0);
	expect_call(LINUX_NR_prctl); /* not dumpable again, after the last change of ids */
	assert_int_equal(call.arg[0], LINUX_PR_SET_DUMPABLE);
	feed(0);
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[0], LINUX_PR_SET_NO_NEW_PRIVS);
	feed(0);
	/* the oldest filter first, each a copy of the kernel's program */
	const uint64_t *want[2] = {filter_old, filter_new};
	for (uint32_t i = 0; i < 2; i++) {
		expect_call(LINUX_NR_seccomp);
		assert_int_equal(call.arg[0], LINUX_SECCOMP_SET_MODE_FILTER);
		assert_int_equal(call.arg[1], i == 1 ? LINUX_SECCOMP_FILTER_FLAG_LOG : 0);
		uint64_t fprog[2];
		memcpy(fprog, scratch + (call.arg[2] - SCRATCH_VA), sizeof(fprog));
		assert_int_equal(fprog[0] & 0xffff, i == 0 ? 2 : 3);
		assert_memory_equal(scratch + (fprog[1] - SCRATCH_VA), want[i], fprog[0] * 8);
		feed(0);
	}
	expect_call(LINUX_NR_execve);
}

static void test_exec_runs_nothing_when_a_restriction_fails(void **state)
{
	(void)state;
	init_restricted_in_userns(false, 0);
	helper_to_fork("unconfined\n");
	cmd_to_restrictions();
	expect_call(LINUX_NR_setns);
	feed(0);
	/* no label to give, no filter: the bounding set next */
	expect_call(LINUX_NR_prctl);
	assert_int_equal(call.arg[0], LINUX_PR_CAPBSET_DROP);
	feed(-LINUX_EPERM);
	assert_int_equal(step, INJECT_STEP_FAIL); /* the process exits; no execve */
	assert_non_null(strstr(q.op.error, "bounding set"));
}

static void test_exec_refuses_a_container_whose_init_is_gone(void **state)
{
	(void)state;
	q.ct.init_pid = 4242; /* the task at init_task is someone else now */
	q.next_role = OPS_ROLE_HELPER;
	env.ctx = 2;
	env.first = true;
	begin(OPS_EXEC);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "is gone"));
}

/* cp: the helper itself takes the container's restrictions before it opens the path (the
 * kernel then judges the open as the container's root), and opens no /dev/null. */
/* The cp helper's way to the file; `took`: whether the kernel took the restrictions (else
 * every call is answered as done but nothing changed, as a container's filter can do). */
/* The operation ends (its timeout) while the helper's fork of the command is in flight: the
 * command's process may already have run to its execve, so the fork's return is not the
 * end of the helper: it kills the command and reaps it first (before, the helper just
 * exited and `sleep 777` ran on in the container). */
static void test_exec_ending_at_the_fork_kills_the_command(void **state)
{
	(void)state;
	init_restricted_in_userns(false, 0);
	helper_to_clone("unconfined\n");
	env.aborting = true;
	feed(CMD_PID);
	expect_call(LINUX_NR_kill);
	assert_int_equal(call.arg[0], CMD_PID);
	assert_int_equal(call.arg[1], LINUX_SIGKILL);
	feed(0);
	expect_call(LINUX_NR_wait4);
	assert_int_equal(call.arg[0], CMD_PID);
	assert_int_equal(call.arg[2], 0); /* the helper's own deadline bounds this wait */
	feed(CMD_PID);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_true(q.cmd_exited);
}

static void cp_helper_to_file(bool took)
{
	init_restricted(true, 0);
	if (took)
		set_state(actor, host_user, 0, lab_bset, 0, 0, true, 0);
	snprintf(q.u.cp.path, sizeof(q.u.cp.path), "/etc/hostname");
	q.next_role = OPS_ROLE_HELPER;
	env.ctx = 2;
	env.first = true;
	begin(OPS_CP_OUT);
	env.first = false;
	expect_helper_shed();
	expect_helper_deadline();
	bool dumpable = false, capset = false, nnp = false, setns_mnt = false;
	for (uint32_t i = 0; call.nr != LINUX_NR_openat2; i++) {
		assert_true(i < 128);
		if (!took && step == INJECT_STEP_FAIL)
			break;
		if (step != INJECT_STEP_CALL)
			fail_msg("%s", q.op.error);
		if (call.nr == LINUX_NR_fstat) {
			answer_ns_fstat(0);
			continue;
		}
		if (call.nr == LINUX_NR_openat) {
			const char *path = scratch_string(call.arg[1]);
			assert_string_not_equal(path, "/dev/null");
			feed(strcmp(path, "/proc/100/attr/current") == 0 ? -LINUX_EINVAL : 30);
			continue;
		}
		if (call.nr == LINUX_NR_setns)
			setns_mnt = true;
		if (call.nr == LINUX_NR_prctl && call.arg[0] == LINUX_PR_SET_DUMPABLE)
			dumpable = setns_mnt; /* after it left the host's namespaces */
		if (call.nr == LINUX_NR_prctl && call.arg[0] == LINUX_PR_SET_NO_NEW_PRIVS)
			nnp = true;
		if (call.nr == LINUX_NR_capset)
			capset = true;
		feed(call.nr == LINUX_NR_write ? (int64_t)call.arg[2] : 0);
	}
	assert_true(dumpable && capset && nnp);
	if (took)
		assert_string_equal(scratch_string(call.arg[1]), "/etc/hostname");
}

static void test_cp_helper_is_restricted_before_it_opens_the_path(void **state)
{
	(void)state;
	cp_helper_to_file(true);
}

/* What the kernel holds decides, not the calls' answers: no file is opened. */
static void test_restrictions_answered_but_not_taken_are_refused(void **state)
{
	(void)state;
	cp_helper_to_file(false);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "did not get the container's capability bounding set"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pause_sees_a_freeze_that_completes_at_the_third_poll),
		T(test_pause_of_tasks_held_off_cpu_with_the_trap_pending_is_done),
		T(test_pause_waits_for_frozen_while_a_task_may_still_run),
		T(test_cgroup_path_reads_the_frozen_flag_anew_at_every_call),
		T(test_pause_that_does_not_freeze_in_time_is_undone),
		T(test_unpause_waits_for_the_thaw),
		T(test_pause_of_an_unreadable_cgroup_fails_instead_of_guessing),
		T(test_exec_output_loop_sleeps_in_ppoll_until_output),
		T(test_restrictions_are_read_from_the_containers_init),
		T(test_restrictions_refuse_what_cannot_be_copied),
		T(test_label_of_apparmor_is_taken_and_others_refused),
		T(test_exec_gives_the_command_the_containers_restrictions),
		T(test_exec_ending_at_the_fork_kills_the_command),
		T(test_exec_ending_between_reaps_kills_the_command),
		T(test_command_whose_helper_ended_runs_nothing),
		T(test_exec_runs_nothing_when_a_restriction_fails),
		T(test_exec_refuses_a_container_whose_init_is_gone),
		T(test_cp_helper_is_restricted_before_it_opens_the_path),
		T(test_restrictions_answered_but_not_taken_are_refused),
		T(test_exec_found_in_a_later_path_directory_reports_no_error),
		T(test_exec_not_a_directory_on_the_way_still_walks_on),
		T(test_exec_all_enoent_reports_enoent_and_127),
		T(test_exec_permission_denied_anywhere_is_what_is_reported),
		T(test_exec_other_error_ends_the_walk),
		T(test_exec_with_a_slash_tries_only_that_path),
		cmocka_unit_test(test_exec_words_are_bounded_exactly),
		T(test_put_string_is_bounded_by_its_slot),
	};
	return cmocka_run_group_tests_name("ops_programs", tests, NULL, NULL);
}
