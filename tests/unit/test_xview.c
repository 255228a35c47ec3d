/* hv/vmi/xview.c: the cross-view of the tasks list (with thread lists), the pid IDR and the
 * CPUs, on a small synthetic guest: a clean guest has no hidden task; a process unlinked
 * from the tasks list, a thread taken out of the IDR and a task seen only on a CPU are each
 * flagged with the views that see it (the controls: the same guest before the attack);
 * a hostile IDR ends the view with a reason, never a hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmi/report.h"
#include "vmi/vmi.h"
#include "vmi_fake.h"

#define SLOTS      256u
#define PF_IDLE    0x2u
#define PF_KTHREAD 0x00200000u

static struct fake f;
static struct vmi v;
static struct vmi_xview_entry slots[SLOTS];
static struct vmi_xview x;

/* The guest: init_task, init (1), a two-thread process (10, thread 11), a process 20 (to be
 * hidden), a process 5000 (the IDR needs three levels for it), and a process group id 7
 * whose leader is gone (a struct pid with no task). */
static struct {
	uint64_t pid_ns, init_task, init, p10, t11, p20, p5000;
	uint64_t pids[32];
	size_t npids;
} g;

static uint64_t task(int32_t pid, int32_t tgid, const char *comm, uint64_t leader, uint64_t signal)
{
	struct fake_task t = {0};
	int32_t nr[1] = {pid};
	uint64_t ns[1] = {g.pid_ns};

	t.pid = pid;
	t.tgid = tgid;
	t.comm = comm;
	t.state = 1;
	t.flags = pid == 0 ? PF_KTHREAD | PF_IDLE : 0;
	t.real_parent = g.init_task;
	t.cred = fake_cred(&f, 0, 0);
	t.signal = signal;
	t.thread_pid = fake_pid(&f, 0, nr, ns);
	t.group_leader = leader;
	uint64_t task = fake_task(&f, &t);
	if (pid != 0)
		g.pids[g.npids++] = t.thread_pid;
	return task;
}

static int setup(void **state)
{
	int32_t nr[1] = {7};
	uint64_t ns[1];

	(void)state;
	memset(&g, 0, sizeof(g));
	fake_init(&f, false);
	g.pid_ns = fake_ns(&f, FK_PID, 0xEFFFFFFCu, NULL);
	ns[0] = g.pid_ns;
	g.init_task = task(0, 0, "swapper/0", 0, fake_signal(&f, 1));
	g.init = task(1, 1, "init", 0, fake_signal(&f, 1));
	uint64_t sig10 = fake_signal(&f, 2);
	g.p10 = task(10, 10, "two", 0, sig10);
	g.t11 = task(11, 10, "two-worker", g.p10, sig10);
	g.p20 = task(20, 20, "hideme", 0, fake_signal(&f, 1));
	g.p5000 = task(5000, 5000, "far", 0, fake_signal(&f, 1));
	g.pids[g.npids++] = fake_pid(&f, 0, nr, ns);
	fake_pid_idr(&f, g.pid_ns, g.pids, g.npids);
	fake_set_current(&f, g.init);
	memset(&v, 0, sizeof(v));
	v.xview_slots = slots;
	v.xview_cap = SLOTS;
	if (vmi_open(&v, &f.mem, &f.prof, &f.cpu) != 0)
		fail_msg("vmi_open: %s", v.error);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_free(&f);
	return 0;
}

/* The views that see `task` (0: none), and whether it is flagged hidden. */
static uint32_t views_of(uint64_t t, bool *hidden)
{
	for (size_t i = 0; i < x.cap; i++) {
		if (x.slots[i].task == t) {
			*hidden = vmi_xview_hidden(&v, &x, &x.slots[i]);
			return x.slots[i].views;
		}
	}
	*hidden = false;
	return 0;
}

static size_t hidden_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < x.cap; i++)
		n += x.slots[i].task != 0 && vmi_xview_hidden(&v, &x, &x.slots[i]);
	return n;
}

static void collect(void)
{
	vmi_refresh(&v);
	assert_int_equal(vmi_xview_collect(&v, &x), 0);
}

static void list_del_init(uint64_t t)
{
	uint64_t list = t + f.prof.task_tasks;
	uint64_t next = fake_r64(&f, list), prev = fake_r64(&f, list + 8);

	fake_w64(&f, prev, next);
	fake_w64(&f, next + 8, prev);
	fake_w64(&f, list, list);
	fake_w64(&f, list + 8, list);
}

static void test_clean_guest_has_nothing_hidden(void **state)
{
	const uint32_t all = VMI_VIEW_TASKS | VMI_VIEW_PIDS | VMI_VIEW_CPUS;
	bool hidden;

	(void)state;
	collect();
	assert_int_equal(x.complete, all);
	assert_string_equal(x.reason, "");
	assert_int_equal(x.used, 6); /* init_task, 1, 10, 11, 20, 5000 */
	assert_int_equal(hidden_count(), 0);
	assert_int_equal(views_of(g.t11, &hidden), VMI_VIEW_TASKS | VMI_VIEW_PIDS);
	assert_int_equal(views_of(g.init, &hidden), all);
	assert_int_equal(views_of(g.p5000, &hidden), VMI_VIEW_TASKS | VMI_VIEW_PIDS);
	assert_int_equal(views_of(g.init_task, &hidden), VMI_VIEW_TASKS); /* pid 0: no IDR entry */
	assert_false(hidden);
}

static void test_process_unlinked_from_tasks_list_is_flagged(void **state)
{
	bool hidden;

	(void)state;
	collect(); /* control: seen by both before */
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_TASKS | VMI_VIEW_PIDS);
	assert_false(hidden);

	list_del_init(g.p20);
	collect();
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
	assert_int_equal(x.complete, VMI_VIEW_TASKS | VMI_VIEW_PIDS | VMI_VIEW_CPUS);
}

static void test_unlinked_leader_hides_its_threads_from_the_list(void **state)
{
	bool hidden;

	(void)state;
	list_del_init(g.p10);
	collect();
	assert_int_equal(views_of(g.p10, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(views_of(g.t11, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 2);
}

static void test_thread_taken_out_of_the_idr_is_flagged(void **state)
{
	uint64_t pid11 = fake_r64(&f, g.t11 + f.prof.task_thread_pid);
	bool hidden;

	(void)state;
	/* detach: tasks[PIDTYPE_PID] of its struct pid emptied */
	fake_w64(&f, pid11 + f.prof.pid_tasks, 0);
	collect();
	assert_int_equal(views_of(g.t11, &hidden), VMI_VIEW_TASKS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
}

static void test_task_only_on_a_cpu_is_flagged_idle_is_not(void **state)
{
	struct vmi_oncpu oncpu[2] = {{0}, {0}};
	bool hidden;

	(void)state;
	/* unlinked from both and current on CPU 1; CPU 0 runs a secondary idle task */
	uint64_t pid20 = fake_r64(&f, g.p20 + f.prof.task_thread_pid);
	list_del_init(g.p20);
	fake_w64(&f, pid20 + f.prof.pid_tasks, 0);
	uint64_t idle = task(0, 0, "swapper/1", 0, fake_signal(&f, 1));
	list_del_init(idle);
	oncpu[0] = (struct vmi_oncpu){.cpu = 0, .state = VMI_CPU_RUNNING, .task = idle};
	oncpu[1] = (struct vmi_oncpu){.cpu = 1, .state = VMI_CPU_RUNNING, .task = g.p20, .pid = 20};
	v.oncpu = oncpu;
	v.oncpu_count = 2;

	collect();
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_CPUS);
	assert_true(hidden);
	assert_int_equal(views_of(idle, &hidden), VMI_VIEW_CPUS);
	assert_false(hidden);
	assert_int_equal(hidden_count(), 1);
	v.oncpu = NULL;
	v.oncpu_count = 0;
}

static void test_hostile_idr_ends_the_view(void **state)
{
	const struct vmi_profile *p = &f.prof;
	uint64_t head = g.pid_ns + p->pid_namespace_idr + p->idr_idr_rt + p->xarray_xa_head;
	uint64_t root = fake_r64(&f, head) & ~3ull;
	bool hidden;

	(void)state;
	/* a child slot pointing back at the root: a cycle */
	fake_w64(&f, root + p->xa_node_slots + 63 * 8, root | 2);
	collect();
	assert_false(x.complete & VMI_VIEW_PIDS);
	assert_non_null(strstr(x.reason, "out of place"));
	/* what the pids view did not finish proves nothing: no task flagged for it */
	assert_int_equal(hidden_count(), 0);
	(void)views_of(g.p20, &hidden);
	assert_false(hidden);

	/* a root whose shift is not a multiple of 6 */
	fake_w8(&f, root + p->xa_node_shift, 7);
	collect();
	assert_false(x.complete & VMI_VIEW_PIDS);
	assert_non_null(strstr(x.reason, "root node"));

	/* a head pointing outside memory */
	fake_w64(&f, head, 0xffff888fff000002ull);
	collect();
	assert_false(x.complete & VMI_VIEW_PIDS);
}

static void test_broken_thread_list_flags_its_threads_not_the_view(void **state)
{
	bool hidden;

	(void)state;
	/* thread 11's prev does not point back at its leader's node */
	uint64_t node = g.t11 + f.prof.task_thread_node;
	fake_w64(&f, node + 8, node);
	collect();
	assert_true(x.complete & VMI_VIEW_TASKS); /* the rest of the list still counts */
	assert_non_null(strstr(x.reason, "thread list"));
	assert_int_equal(views_of(g.t11, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
}

/* A hidden process moved onto another process's thread list is not one of its threads. */
static void test_process_posing_as_a_thread_is_flagged(void **state)
{
	const struct vmi_profile *p = &f.prof;
	bool hidden;

	(void)state;
	list_del_init(g.p20);
	/* list_add_tail(&p20->thread_node, &p10's signal->thread_head) */
	uint64_t head = fake_r64(&f, g.p10 + p->task_signal) + p->signal_thread_head;
	uint64_t node = g.p20 + p->task_thread_node, prev = fake_r64(&f, head + 8);
	fake_w64(&f, node, head);
	fake_w64(&f, node + 8, prev);
	fake_w64(&f, prev, node);
	fake_w64(&f, head + 8, node);
	collect();
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_non_null(strstr(x.reason, "is not its thread"));
}

/* A tasks list that loops ends the tasks view, and a process seen only in the pid IDR is
 * still flagged: unconfirmed (it may only be beyond the cut), so breaking the list on
 * purpose hides nothing. */
static void test_looping_list_still_flags_what_only_the_idr_sees(void **state)
{
	const struct vmi_profile *p = &f.prof;
	bool hidden;

	(void)state;
	list_del_init(g.p20);
	/* p10.tasks.next -> init.tasks: a loop init -> p10 -> init that never returns to
	 * init_task (init's prev must point back at p10 for the walk to follow it) */
	uint64_t init_list = g.init + p->task_tasks, p10_list = g.p10 + p->task_tasks;
	fake_w64(&f, p10_list, init_list);
	fake_w64(&f, init_list + 8, p10_list);
	collect();
	assert_false(x.complete & VMI_VIEW_TASKS);
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	for (size_t i = 0; i < x.cap; i++)
		if (x.slots[i].task == g.p20)
			assert_true(vmi_xview_unconfirmed(&x, &x.slots[i]));
}

static void test_without_storage_or_profile_members_says_why(void **state)
{
	struct vmi_profile saved = f.prof;

	(void)state;
	v.xview_slots = NULL;
	assert_int_equal(vmi_xview_collect(&v, &x), -1);
	assert_non_null(strstr(x.reason, "no room"));
	v.xview_slots = slots;
	f.prof.xview_known = false;
	assert_int_equal(vmi_xview_collect(&v, &x), -1);
	assert_non_null(strstr(x.reason, "profile lacks"));
	f.prof = saved;
}

static void test_table_full_is_reported(void **state)
{
	(void)state;
	v.xview_cap = 16; /* room for 12 */
	for (int i = 0; i < 12; i++)
		task(100 + i, 100 + i, "many", 0, fake_signal(&f, 1));
	collect();
	assert_non_null(strstr(x.reason, "more tasks than this build keeps"));
	assert_true((x.complete & (VMI_VIEW_TASKS | VMI_VIEW_PIDS)) !=
		    (VMI_VIEW_TASKS | VMI_VIEW_PIDS));
	v.xview_cap = SLOTS;
}

/* ------------------------------------------------------------------ in steps */

static struct vmi_xview_job job;

/* The cross-view in steps of `budget`, a new session each (the guest may run between):
 * `between` is called after every step with the job (it may change the guest). The
 * number of steps. */
static uint32_t collect_in_steps(uint32_t budget, void (*between)(void))
{
	uint32_t steps = 0;

	vmi_refresh(&v);
	vmi_xview_begin(&v, &job);
	for (;;) {
		assert_true(++steps < 100000);
		bool done = vmi_xview_step(&v, &job, budget);
		if (between != NULL)
			between();
		if (done)
			break;
		vmi_refresh(&v);
	}
	assert_int_equal(job.rc, 0);
	x = job.x;
	return steps;
}

static void test_steps_see_what_one_exit_sees(void **state)
{
	uint64_t all[] = {g.init_task, g.init, g.p10, g.t11, g.p20, g.p5000};
	uint32_t want[6];
	bool hidden;

	(void)state;
	collect();
	for (size_t i = 0; i < 6; i++)
		want[i] = views_of(all[i], &hidden);
	assert_true(collect_in_steps(1, NULL) > 60); /* really in steps: the IDR's 64 slots */
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(views_of(all[i], &hidden), want[i]);
	assert_int_equal(hidden_count(), 0);
	assert_int_equal(x.complete, VMI_VIEW_TASKS | VMI_VIEW_PIDS | VMI_VIEW_CPUS);

	/* the attack is seen in steps as in one exit */
	list_del_init(g.p20);
	collect_in_steps(1, NULL);
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
	assert_int_equal(x.hidden_leader_count, 1);
	assert_int_equal(x.hidden_leaders[0], g.p20);
}

/* Between the IDR and the tasks list (the first step of the tasks list): a process forks,
 * or one exits; with idr_too false, the "fork" is a process a rootkit keeps out of the IDR
 * and the "exit" one it unlinks from the list only (the controls). */
static bool idr_too;
static uint64_t forked;

static void fork_between(void)
{
	if (forked != 0 || job.stage != VMI_XV_TASKS)
		return;
	forked = task(30, 30, "newborn", 0, fake_signal(&f, 1));
	if (!idr_too)
		g.npids--; /* not in the IDR */
	fake_pid_idr(&f, g.pid_ns, g.pids, g.npids);
}

static void exit_between(void)
{
	if (forked != 0 || job.stage != VMI_XV_TASKS)
		return;
	forked = g.p20;
	list_del_init(g.p20);
	if (!idr_too)
		return;
	uint64_t pid20 = fake_r64(&f, g.p20 + f.prof.task_thread_pid);
	fake_w64(&f, pid20 + f.prof.pid_tasks, 0);
	for (size_t i = 0; i < g.npids; i++)
		if (g.pids[i] == pid20)
			g.pids[i] = g.pids[--g.npids];
	fake_pid_idr(&f, g.pid_ns, g.pids, g.npids);
}

static void test_a_fork_between_the_views_is_not_hidden(void **state)
{
	bool hidden;

	(void)state;
	idr_too = true;
	forked = 0;
	collect_in_steps(1, fork_between);
	assert_int_equal(views_of(forked, &hidden), VMI_VIEW_TASKS | VMI_XVIEW_SETTLED);
	assert_false(hidden);
	assert_int_equal(hidden_count(), 0);

	idr_too = false; /* control: on the list, never in the IDR */
	forked = 0;
	collect_in_steps(1, fork_between);
	assert_int_equal(views_of(forked, &hidden), VMI_VIEW_TASKS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
}

static void test_an_exit_between_the_views_is_not_hidden(void **state)
{
	bool hidden;

	(void)state;
	idr_too = true;
	forked = 0;
	collect_in_steps(1, exit_between);
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS | VMI_XVIEW_SETTLED);
	assert_false(hidden);
	assert_int_equal(hidden_count(), 0);
}

static void test_an_unlink_between_the_views_is_hidden(void **state)
{
	bool hidden;

	(void)state;
	idr_too = false; /* the control of the exit: unlinked, its pid still its own */
	forked = 0;
	collect_in_steps(1, exit_between);
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	assert_int_equal(hidden_count(), 1);
}

/* A rootkit that hides a task also forges what the check at the end asks, so that it looks
 * like an exit: the struct pid's own number (the check looks the task up under the number
 * the IDR files it at), or the task's group_leader (which list it is asked to be on). It
 * is still flagged, in steps as in one exit. */
static void test_forged_numbers_do_not_settle_a_hidden_task(void **state)
{
	const struct vmi_profile *p = &f.prof;
	bool hidden;

	(void)state;
	/* unlinked from the tasks list, its struct pid saying it is pid 777 */
	list_del_init(g.p20);
	uint64_t pid20 = fake_r64(&f, g.p20 + p->task_thread_pid);
	fake_w32(&f, pid20 + p->pid_numbers + p->upid_nr, 777);
	collect_in_steps(1, NULL);
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
	collect();
	assert_int_equal(views_of(g.p20, &hidden), VMI_VIEW_PIDS);
	assert_true(hidden);
}

static void test_forged_group_leader_does_not_settle_a_hidden_task(void **state)
{
	const struct vmi_profile *p = &f.prof;
	bool hidden;

	(void)state;
	/* out of the IDR, still on the tasks list, group_leader pointing at nothing */
	uint64_t pid5000 = fake_r64(&f, g.p5000 + p->task_thread_pid);
	fake_w64(&f, pid5000 + p->pid_tasks, 0);
	fake_w64(&f, g.p5000 + p->task_group_leader, 0x0000000000001000ull);
	collect_in_steps(1, NULL);
	assert_int_equal(views_of(g.p5000, &hidden), VMI_VIEW_TASKS);
	assert_true(hidden);
	/* control: the same task exited (unlinked too) is not */
	list_del_init(g.p5000);
	collect_in_steps(1, NULL);
	assert_int_equal(views_of(g.p5000, &hidden), 0);
	assert_int_equal(hidden_count(), 0);
}

/* The tasks list pauses inside a thread list, at a thread that exits before the next step:
 * the list goes round again from its head; the other threads are seen, no loop is noted. */
static uint64_t t12;

static void thread_exits_where_paused(void)
{
	uint64_t node = g.t11 + f.prof.task_thread_node;
	if (forked != 0 || job.stage != VMI_XV_TASKS || job.leader != g.p10 ||
	    job.thread_at != node)
		return;
	forked = g.t11;
	uint64_t next = fake_r64(&f, node), prev = fake_r64(&f, node + 8);
	fake_w64(&f, prev, next);
	fake_w64(&f, next + 8, prev);
	fake_w64(&f, node + 8, 0xdead000000000122ull); /* list_del_rcu: LIST_POISON2 */
	uint64_t pid11 = fake_r64(&f, g.t11 + f.prof.task_thread_pid);
	fake_w64(&f, pid11 + f.prof.pid_tasks, 0);
}

static void test_threads_go_on_after_the_thread_they_stood_at_exits(void **state)
{
	bool hidden;

	(void)state;
	uint64_t sig10 = fake_r64(&f, g.p10 + f.prof.task_signal);
	t12 = task(12, 10, "two-worker2", g.p10, sig10);
	fake_pid_idr(&f, g.pid_ns, g.pids, g.npids);
	forked = 0;
	collect_in_steps(1, thread_exits_where_paused);
	assert_int_equal(forked, g.t11); /* the pause came where it had to */
	assert_int_equal(views_of(t12, &hidden), VMI_VIEW_TASKS | VMI_VIEW_PIDS);
	assert_false(hidden);
	assert_null(strstr(x.reason, "loops"));
	assert_int_equal(hidden_count(), 0);
}

/* ------------------------------------------------------------------ the ps verb */

struct capture {
	char text[1 << 16];
	size_t len;
};
static struct capture out;

static void capture_write(void *ctx, const char *s, size_t n)
{
	struct capture *c = ctx;

	assert_true(c->len + n < sizeof(c->text));
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

static void ps(bool json)
{
	char *argv[3] = {"ps", json ? "--json" : NULL, NULL};
	struct reply r;

	out.len = 0;
	out.text[0] = '\0';
	reply_init(&r, capture_write, &out);
	assert_int_equal(vmi_verb_ps(&v, &r, json ? 2 : 1, argv), 0);
}

static void test_ps_shows_the_hidden_process(void **state)
{
	(void)state;
	ps(true); /* control */
	assert_non_null(strstr(out.text, "\"hidden\":[]"));
	list_del_init(g.p20);
	ps(true);
	assert_non_null(strstr(out.text, "\"hidden\":[{\"pid\":20,"));
	assert_non_null(strstr(out.text, "\"comm\":\"hideme\""));
	assert_non_null(strstr(out.text, "\"seen_by\":[\"pids\"],\"unconfirmed\":false"));
	assert_non_null(strstr(out.text, "\"complete\":[\"tasks\",\"pids\",\"cpus\"]"));
	ps(false);
	assert_non_null(strstr(out.text, "hidden: missing from a view"));
	assert_non_null(strstr(out.text, "[seen by pids] thread 20:"));
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_clean_guest_has_nothing_hidden),
		T(test_steps_see_what_one_exit_sees),
		T(test_a_fork_between_the_views_is_not_hidden),
		T(test_an_exit_between_the_views_is_not_hidden),
		T(test_an_unlink_between_the_views_is_hidden),
		T(test_threads_go_on_after_the_thread_they_stood_at_exits),
		T(test_forged_numbers_do_not_settle_a_hidden_task),
		T(test_forged_group_leader_does_not_settle_a_hidden_task),
		T(test_process_unlinked_from_tasks_list_is_flagged),
		T(test_unlinked_leader_hides_its_threads_from_the_list),
		T(test_thread_taken_out_of_the_idr_is_flagged),
		T(test_task_only_on_a_cpu_is_flagged_idle_is_not),
		T(test_hostile_idr_ends_the_view),
		T(test_broken_thread_list_flags_its_threads_not_the_view),
		T(test_process_posing_as_a_thread_is_flagged),
		T(test_looping_list_still_flags_what_only_the_idr_sees),
		T(test_without_storage_or_profile_members_says_why),
		T(test_table_full_is_reported),
		T(test_ps_shows_the_hidden_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
