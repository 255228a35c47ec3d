/* SPDX-License-Identifier: MIT */
/*
 * Every process through the circular `tasks` list (include/linux/sched.h: task_struct.tasks,
 * headed by init_task.tasks; kernel/fork.c copy_process adds each new thread-group leader
 * at the tail; pid-0 idle tasks of secondary CPUs are not on it).
 *
 * A guest may hand us a broken or hostile list, or change it while we walk (a live guest
 * on another vCPU). The walk checks at every step that next->prev points back at where it
 * came from: with that check no cycle can form that does not pass through the head (if
 * task X were reached twice, its one prev would equal two different predecessors), so the
 * walk ends at the head, at a broken link, or at VMI_TASKS_MAX steps; the last two mark it
 * truncated with the reason.
 */
#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

/* The list_head of `task` and its next/prev. */
static int read_links(struct vmi *v, uint64_t task, uint64_t *next, uint64_t *prev)
{
	uint64_t lh[2];

	if (vmi_read_kernel(v, task + v->prof->task_tasks, lh, sizeof(lh)) != 0)
		return -1;
	*next = lh[0];
	*prev = lh[1];
	return 0;
}

static int read_pid(struct vmi *v, uint64_t task, int32_t *pid)
{
	uint32_t val;

	if (vmi_read_u32(v, task + v->prof->task_pid, &val) != 0)
		return -1;
	*pid = (int32_t)val;
	return 0;
}

/* The fields every task_struct has in range: pid and tgid within pid_max's limit, a comm
 * with its NUL. */
static bool task_fields_sane(struct vmi *v, uint64_t task, uint32_t ids[2])
{
	const struct vmi_profile *p = v->prof;
	char comm[VMI_COMM_LEN];
	bool has_nul = false;

	if (!vmi_is_kernel_ptr(v, task))
		return false;
	if (vmi_read_u32(v, task + p->task_pid, &ids[0]) != 0 ||
	    vmi_read_u32(v, task + p->task_tgid, &ids[1]) != 0)
		return false;
	if ((int32_t)ids[0] < 0 || (int32_t)ids[0] > VMI_PID_MAX_LIMIT || (int32_t)ids[1] < 0 ||
	    (int32_t)ids[1] > VMI_PID_MAX_LIMIT)
		return false;
	if (vmi_read_kernel(v, task + p->task_comm, comm, sizeof(comm)) != 0)
		return false;
	for (size_t i = 0; i < sizeof(comm); i++)
		has_nul |= comm[i] == '\0';
	return has_nul;
}

bool vmi_task_exiting(struct vmi *v, uint64_t task)
{
	const struct vmi_profile *p = v->prof;
	uint32_t ids[2], flags, exit_state;

	return p->task_exit_state != 0 && task_fields_sane(v, task, ids) && ids[0] != 0 &&
	       vmi_read_u32(v, task + p->task_flags, &flags) == 0 && (flags & VMI_PF_EXITING) &&
	       vmi_read_u32(v, task + p->task_exit_state, &exit_state) == 0 &&
	       (exit_state == VMI_EXIT_DEAD || exit_state == VMI_EXIT_ZOMBIE);
}

bool vmi_task_plausible(struct vmi *v, uint64_t task)
{
	const struct vmi_profile *p = v->prof;
	uint32_t ids[2];
	uint64_t next, prev, back;

	if (!task_fields_sane(v, task, ids))
		return false;
	if (read_links(v, task, &next, &prev) != 0 || !vmi_is_kernel_ptr(v, next) ||
	    !vmi_is_kernel_ptr(v, prev))
		return false;
	if (ids[0] == 0)
		return true; /* an idle task: on the list only for CPU 0 (init_task) */
	if (vmi_read_kptr(v, next + 8u, &back) != 0)
		return false;
	if (back == task + p->task_tasks)
		return true;
	/* A thread that is not its group's leader is not on the tasks list (kernel/fork.c
	 * links leaders only; its links are a stale copy): its leader must be, with its
	 * tgid. */
	uint64_t leader, leader_back, leader_next, leader_prev;
	uint32_t leader_tgid;
	if (ids[0] == ids[1] || vmi_read_kptr(v, task + p->task_group_leader, &leader) != 0 ||
	    leader == task || !vmi_is_kernel_ptr(v, leader) ||
	    vmi_read_u32(v, leader + p->task_tgid, &leader_tgid) != 0 || leader_tgid != ids[1] ||
	    read_links(v, leader, &leader_next, &leader_prev) != 0 ||
	    vmi_read_kptr(v, leader_next + 8u, &leader_back) != 0)
		return false;
	return leader_back == leader + p->task_tasks;
}

/* Is task linked both ways into a list (its neighbours point back at it)? */
static bool on_list(struct vmi *v, uint64_t task)
{
	uint64_t list = task + v->prof->task_tasks, next, prev, back_of_next, fwd_of_prev;

	if (read_links(v, task, &next, &prev) != 0)
		return false;
	if (vmi_read_kptr(v, next + 8u, &back_of_next) != 0 ||
	    vmi_read_kptr(v, prev, &fwd_of_prev) != 0)
		return false;
	return back_of_next == list && fwd_of_prev == list;
}

int vmi_find_init_task(struct vmi *v, uint64_t known)
{
	const struct vmi_profile *p = v->prof;
	uint64_t start = v->current_task, task;
	uint32_t steps;
	int32_t known_pid;

	/* The previous session's: a static of the kernel, it does not move. One look instead
	 * of going round a list of thousands of tasks at every session (every exit of a verb
	 * in steps). */
	uint64_t known_next, known_prev;
	if (known != 0 && read_pid(v, known, &known_pid) == 0 && known_pid == 0 &&
	    on_list(v, known) && read_links(v, known, &known_next, &known_prev) == 0 &&
	    known_next != known + p->task_tasks) { /* not a list of its own alone */
		v->init_task = known;
		return 0;
	}

	/* The current task may be an idle task of a secondary CPU, which is not on the list
	 * (kernel/fork.c: only tasks with a pid are linked); its parents are. */
	for (steps = 0; steps < 4 && !on_list(v, start); steps++) {
		uint64_t parent;

		if (vmi_read_kptr(v, start + p->task_real_parent, &parent) != 0 || parent == start)
			break;
		start = parent;
	}
	if (!on_list(v, start)) {
		vmi_set_error(v, "current task 0x%llx and its parents are not on a tasks list",
			      (unsigned long long)v->current_task);
		return -1;
	}

	/* init_task (pid 0) is the head; go round once to find it. */
	task = start;
	for (steps = 0; steps < VMI_TASKS_MAX; steps++) {
		int32_t pid;
		uint64_t next, prev, back;

		if (read_pid(v, task, &pid) != 0)
			break;
		if (pid == 0) {
			v->init_task = task;
			return 0;
		}
		if (read_links(v, task, &next, &prev) != 0 || !vmi_is_kernel_ptr(v, next) ||
		    vmi_read_kptr(v, next + 8u, &back) != 0 || back != task + p->task_tasks)
			break;
		task = next - p->task_tasks;
		if (task == start)
			break;
	}
	/* No pid 0 on the list (or a broken list): walk from where we stand. */
	v->init_task = start;
	return 0;
}

static int read_identity(struct vmi *v, uint64_t task, uint32_t *pid, uint64_t *start_ns)
{
	if (vmi_read_u32(v, task + v->prof->task_pid, pid) != 0 ||
	    vmi_read_u64(v, task + v->prof->task_start_boottime, start_ns) != 0)
		return -1;
	return 0;
}

/* Is (pid, start_ns) later in fork order than (than_pid, than_start_ns)? Ties go by pid. */
static bool later(uint32_t pid, uint64_t start_ns, uint32_t than_pid, uint64_t than_start_ns)
{
	return start_ns > than_start_ns || (start_ns == than_start_ns && pid > than_pid);
}

/* w->cur was just returned: the latest so far? */
static void note_latest(struct vmi *v, struct vmi_walk *w)
{
	uint32_t pid;
	uint64_t start_ns;
	if (read_identity(v, w->cur, &pid, &start_ns) == 0 &&
	    later(pid, start_ns, w->latest_pid, w->latest_start_ns)) {
		w->latest_pid = pid;
		w->latest_start_ns = start_ns;
	}
}

void vmi_walk_begin(struct vmi *v, struct vmi_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->head = v->init_task;
}

static bool walk_stop(struct vmi_walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool walk_stop(struct vmi_walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(w->reason, sizeof(w->reason), fmt, ap);
	va_end(ap);
	w->truncated = true;
	w->done = true;
	return false;
}

bool vmi_walk_next(struct vmi *v, struct vmi_walk *w, uint64_t *task)
{
	const struct vmi_profile *p = v->prof;
	uint64_t next, prev, back, cur_list;

	if (w->done)
		return false;
	if (w->cur == 0) {
		if (w->head == 0)
			return walk_stop(w, "no init_task: the session is not open");
		w->cur = w->head;
		w->visited++; /* zeroed by vmi_walk_begin; a resumed walk counts on */
		*task = w->cur;
		return true;
	}
	cur_list = w->cur + p->task_tasks;
	if (read_links(v, w->cur, &next, &prev) != 0)
		return walk_stop(w, "tasks list of task 0x%llx is unreadable",
				 (unsigned long long)w->cur);
	if (!vmi_is_kernel_ptr(v, next))
		return walk_stop(w, "task 0x%llx: tasks.next 0x%llx is not a kernel address",
				 (unsigned long long)w->cur, (unsigned long long)next);
	if (next == w->head + p->task_tasks) {
		w->done = true; /* back at init_task: the whole list was seen */
		return false;
	}
	if (vmi_read_kernel(v, next + 8u, &back, sizeof(back)) != 0)
		return walk_stop(w, "task 0x%llx: tasks.next 0x%llx points outside guest memory",
				 (unsigned long long)w->cur, (unsigned long long)next);
	if (back != cur_list)
		return walk_stop(
			w,
			"task 0x%llx: tasks.next 0x%llx does not point back (prev 0x%llx): "
			"list corrupt or changing",
			(unsigned long long)w->cur, (unsigned long long)next,
			(unsigned long long)back);
	if (w->visited >= VMI_TASKS_MAX)
		return walk_stop(w, "more than %u tasks: stopped there", VMI_TASKS_MAX);
	w->cur = next - p->task_tasks;
	w->visited++;
	note_latest(v, w);
	*task = w->cur;
	return true;
}

/* ------------------------------------------------------------------ over several exits */

int vmi_walk_mark(struct vmi *v, const struct vmi_walk *w, struct vmi_walk_mark *m)
{
	memset(m, 0, sizeof(*m));
	if (w->cur == 0)
		return 0;
	m->task = w->cur;
	return read_identity(v, w->cur, &m->pid, &m->start_ns);
}

int vmi_walk_resume(struct vmi *v, struct vmi_walk *w, const struct vmi_walk_mark *m)
{
	uint32_t pid, visited = w->visited;
	uint64_t start_ns, task;

	if (w->done)
		return w->truncated ? -1 : 0;
	if (m->task == 0) {
		vmi_walk_begin(v, w);
		return 0;
	}
	w->head = v->init_task;
	/* Still linked both ways, and the same task: go on from it. */
	if (on_list(v, m->task) && read_identity(v, m->task, &pid, &start_ns) == 0 &&
	    pid == m->pid && start_ns == m->start_ns) {
		w->cur = m->task;
		return 0;
	}
	/* Gone: round again from init_task, past every task not later than the latest one
	 * returned. The steps count towards the walk's bound. */
	uint32_t latest_pid = w->latest_pid;
	uint64_t latest_start_ns = w->latest_start_ns;
	vmi_walk_begin(v, w);
	w->visited = visited;
	uint64_t last = 0;
	while (vmi_walk_next(v, w, &task)) {
		if (read_identity(v, task, &pid, &start_ns) == 0 && pid != 0 &&
		    later(pid, start_ns, latest_pid, latest_start_ns))
			break;
		last = task;
	}
	w->latest_pid = latest_pid;
	w->latest_start_ns = latest_start_ns;
	if (w->truncated)
		return -1;
	if (w->done) {
		w->cur = last; /* every task is at or before the mark: the walk is over */
		return 1;
	}
	w->cur = last; /* the next call of vmi_walk_next returns `task` again */
	w->visited--;
	return 1;
}

bool vmi_walk_continue(struct vmi *v, struct vmi_walk *w, const struct vmi_walk_mark *m)
{
	if (w->cur == 0) {
		vmi_walk_begin(v, w); /* from this session's init_task */
		return true;
	}
	return vmi_walk_resume(v, w, m) >= 0;
}

bool vmi_walk_pause(struct vmi *v, struct vmi_walk *w, struct vmi_walk_mark *m)
{
	if (vmi_walk_mark(v, w, m) == 0)
		return true;
	w->truncated = w->done = true;
	fmt_snprintf(w->reason, sizeof(w->reason),
		     "task 0x%llx cannot be read again: the walk cannot go on later",
		     (unsigned long long)w->cur);
	return false;
}
