/* SPDX-License-Identifier: MIT */
/*
 * Hidden tasks: three views of the guest's tasks, compared (DESIGN §7, issue 9 item 5).
 *
 *   tasks  the tasks list from init_task (thread-group leaders), and each leader's
 *          thread list (signal->thread_head, linked through task->thread_node; kernel/fork.c
 *          copy_process adds every thread there);
 *   pids   the pid IDR of the initial pid namespace: every struct pid the kernel allocated
 *          (kernel/pid.c alloc_pid, one per thread, numbers[0] in init_pid_ns), and the task
 *          on its tasks[PIDTYPE_PID] list (attach_pid links task->pid_links[PIDTYPE_PID]);
 *   cpus   the task current on each CPU the caller knows (v->oncpu, else the session's).
 *
 * The kernel changes the first two together under tasklist_lock (copy_process and
 * __unhash_process), and /proc lists what the IDR holds (fs/proc/base.c next_tgid), so a
 * task in one and not the other has been taken off a list by hand: the classic way to
 * hide a process from tools that walk the tasks list. The IDR is an xarray
 * (include/linux/xarray.h): xa_head is NULL, an entry, or an internal node pointer (low
 * bits 10, above 4096); a node holds VMI_XA_CHUNK_SIZE (64) slots and its shift, a multiple of
 * VMI_XA_CHUNK_SHIFT (6), 0 for the leaves. The walk demands that each child's shift be its
 * parent's minus 6, so it is at most 11 levels deep, and it visits at most VMI_TASKS_MAX
 * nodes and VMI_TASKS_MAX entries: a hostile tree ends the view early, marked incomplete.
 */
#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

#define PIDTYPE_PID   0u   /* include/linux/pid.h enum pid_type */
#define PF_IDLE       0x2u /* include/linux/sched.h: the idle task of a CPU */
#define PID_LINKS_MAX 4u   /* tasks on one tasks[PIDTYPE_PID] list we look at (1 expected) */

/* include/linux/xarray.h xa_is_internal / xa_is_node / xa_to_node */
static bool xa_is_node(uint64_t entry)
{
	return (entry & 3u) == 2u && entry > 4096u;
}

/* Multiply-shift with the caller's secret odd multiplier (v->xview_seed): the guest
 * chooses the task addresses, and must not be able to choose them all into one chain. */
static uint64_t hash_slot(const struct vmi_xview *x, uint64_t task)
{
	return ((task >> 4) * x->mult) >> (64u - x->bits);
}

enum seen { SEEN_FULL = -1, SEEN_AGAIN = 0, SEEN_NEW = 1 };

/* Records that `view` sees `task`: SEEN_NEW, SEEN_AGAIN when this view saw it already (a
 * list that loops), SEEN_FULL when the table is full. */
static enum seen see(struct vmi_xview *x, uint64_t task, uint32_t view, int32_t pid)
{
	uint64_t i = hash_slot(x, task);

	for (size_t probes = 0; probes < x->cap; probes++, i = (i + 1) & (x->cap - 1)) {
		struct vmi_xview_entry *e = &x->slots[i];
		if (e->task == task) {
			if (e->views & view)
				return SEEN_AGAIN;
			e->views |= view;
			if (e->pid < 0)
				e->pid = pid;
			return SEEN_NEW;
		}
		if (e->task != 0)
			continue;
		if (x->used >= x->cap / 4 * 3)
			return SEEN_FULL;
		e->task = task;
		e->views = view;
		e->pid = pid;
		x->used++;
		return SEEN_NEW;
	}
	return SEEN_FULL;
}

/* A note in x->reason that leaves the views complete. */
static void note(struct vmi_xview *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void view_incomplete(struct vmi_xview *x, uint32_t view, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vnote(struct vmi_xview *x, const char *fmt, va_list ap)
{
	size_t at = strnlen(x->reason, sizeof(x->reason));

	if (at != 0 && at + 2 < sizeof(x->reason)) {
		x->reason[at++] = ';';
		x->reason[at++] = ' ';
		x->reason[at] = '\0';
	}
	fmt_vsnprintf(x->reason + at, sizeof(x->reason) - at, fmt, ap);
}

static void note(struct vmi_xview *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vnote(x, fmt, ap);
	va_end(ap);
}

static void view_incomplete(struct vmi_xview *x, uint32_t view, const char *fmt, ...)
{
	va_list ap;

	x->complete &= ~view;
	va_start(ap, fmt);
	vnote(x, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ pids */

/* The initial pid namespace: the caller's (from the symbol, v->init_pid_ns), checked
 * against where init_task's struct pid says it lives; else the latter. */
static uint64_t initial_pid_ns(struct vmi *v, struct vmi_xview *x)
{
	const struct vmi_profile *p = v->prof;
	uint64_t pid, ns = 0;

	if (vmi_read_kptr(v, v->init_task + p->task_thread_pid, &pid) != 0 ||
	    vmi_read_kptr(v, pid + p->pid_numbers + p->upid_ns, &ns) != 0)
		ns = 0;
	if (v->init_pid_ns != 0) {
		if (ns != v->init_pid_ns)
			view_incomplete(
				x, 0, "init_task's pid namespace 0x%llx is not init_pid_ns 0x%llx",
				(unsigned long long)ns, (unsigned long long)v->init_pid_ns);
		return v->init_pid_ns;
	}
	return ns;
}

/* A struct pid found at `index` of the IDR: the task(s) it names. */
static bool see_pid(struct vmi *v, struct vmi_xview *x, uint64_t pid, uint64_t index)
{
	const struct vmi_profile *p = v->prof;
	uint64_t node;
	uint32_t nr;

	if (!vmi_is_kernel_ptr(v, pid))
		return true; /* NULL (allocated, not yet filled in) or junk: no task */
	/* the number it is filed under, not the one it holds (which a rootkit may change so
	 * that the check at the end looks it up elsewhere) */
	nr = (uint32_t)index;
	if (vmi_read_u64(v, pid + p->pid_tasks + PIDTYPE_PID * 8u, &node) != 0)
		return true;
	/* hlist: first, then node->next; a pid with no task is a process group or session
	 * id that outlived its leader */
	for (uint32_t k = 0; k < PID_LINKS_MAX && vmi_is_kernel_ptr(v, node); k++) {
		if (see(x, node - p->task_pid_links - PIDTYPE_PID * 16u, VMI_VIEW_PIDS,
			(int32_t)nr) == SEEN_FULL) {
			view_incomplete(x, VMI_VIEW_PIDS, "more tasks than this build keeps");
			return false;
		}
		if (vmi_read_u64(v, node, &node) != 0)
			break;
	}
	return true;
}

/* An IDR node's shift and slots into the session's level k; its shift must be `shift`. */
static bool read_level(struct vmi *v, uint32_t k, uint64_t node, uint32_t shift)
{
	const struct vmi_profile *p = v->prof;
	uint8_t s;

	return vmi_read_kernel(v, node + p->xa_node_shift, &s, 1) == 0 && s == shift &&
	       vmi_read_kernel(v, node + p->xa_node_slots, v->xa_stack[k].slots,
			       sizeof(v->xa_stack[k].slots)) == 0;
}

/* The IDR's first step: its namespace and root. false when the view is over already. */
static bool pids_begin(struct vmi *v, struct vmi_xview_job *j)
{
	const struct vmi_profile *p = v->prof;
	struct vmi_xview *x = &j->x;
	uint64_t head;
	uint8_t shift;

	j->pid_ns = initial_pid_ns(v, x);
	if (j->pid_ns == 0 ||
	    vmi_read_u64(v, j->pid_ns + p->pid_namespace_idr + p->idr_idr_rt + p->xarray_xa_head,
			 &head) != 0) {
		view_incomplete(x, VMI_VIEW_PIDS, "the initial pid namespace is unreadable");
		return false;
	}
	if (!xa_is_node(head)) {
		see_pid(v, x, head, 0); /* a lone entry for index 0 (or none) */
		return false;
	}
	if (vmi_read_kernel(v, head - 2u + p->xa_node_shift, &shift, 1) != 0 ||
	    shift > VMI_XA_SHIFT_MAX || shift % VMI_XA_CHUNK_SHIFT != 0 ||
	    !read_level(v, 0, head - 2u, shift)) {
		view_incomplete(x, VMI_VIEW_PIDS, "the pid IDR's root node is unreadable");
		return false;
	}
	j->at[0].node = head - 2u;
	j->at[0].base = 0;
	j->at[0].shift = shift;
	j->at[0].next = 0;
	j->depth = j->nodes = 1;
	return true;
}

/* At most *left entries and nodes of the IDR, depth first; true when the view is over. */
static bool pids_step(struct vmi *v, struct vmi_xview_job *j, uint32_t *left)
{
	struct vmi_xview *x = &j->x;

	if (j->depth == 0)
		return !pids_begin(v, j);
	/* the nodes the walk stands in, read again: the guest ran since */
	for (uint32_t k = 0; k < j->depth; k++) {
		if (!read_level(v, k, j->at[k].node, j->at[k].shift)) {
			view_incomplete(x, VMI_VIEW_PIDS,
					"pid IDR node 0x%llx changed while it was read",
					(unsigned long long)j->at[k].node);
			return true;
		}
	}
	while (j->depth > 0) {
		uint32_t d = j->depth - 1u;
		if (j->at[d].next == VMI_XA_CHUNK_SIZE) {
			j->depth--;
			continue;
		}
		if (*left == 0)
			return false;
		(*left)--;
		uint32_t slot = j->at[d].next++;
		uint64_t entry = v->xa_stack[d].slots[slot];
		uint64_t index = j->at[d].base + ((uint64_t)slot << j->at[d].shift);
		if (entry == 0)
			continue;
		if (j->at[d].shift == 0 || !xa_is_node(entry)) {
			if ((entry & 3u) != 0)
				continue; /* an internal entry (retry, zero, sibling) or a value */
			if (++j->entries > VMI_TASKS_MAX) {
				view_incomplete(x, VMI_VIEW_PIDS,
						"more than %u pids: stopped there", VMI_TASKS_MAX);
				return true;
			}
			if (!see_pid(v, x, entry, index))
				return true;
			continue;
		}
		if (++j->nodes > VMI_TASKS_MAX) {
			view_incomplete(x, VMI_VIEW_PIDS, "more than %u IDR nodes: stopped there",
					VMI_TASKS_MAX);
			return true;
		}
		/* each child's shift is its parent's minus 6: at most VMI_XA_LEVELS deep */
		if (j->at[d].shift < VMI_XA_CHUNK_SHIFT ||
		    !read_level(v, d + 1u, entry - 2u, j->at[d].shift - VMI_XA_CHUNK_SHIFT)) {
			view_incomplete(x, VMI_VIEW_PIDS,
					"pid IDR node 0x%llx is unreadable or out of place",
					(unsigned long long)(entry - 2u));
			return true;
		}
		j->at[d + 1u].node = entry - 2u;
		j->at[d + 1u].base = index;
		j->at[d + 1u].shift = j->at[d].shift - VMI_XA_CHUNK_SHIFT;
		j->at[d + 1u].next = 0;
		j->depth++;
	}
	return true;
}

/* Does the IDR of pid_ns map nr to task now? One descent (at most VMI_XA_LEVELS nodes),
 * then the task(s) on that struct pid. */
static bool idr_maps(struct vmi *v, uint64_t pid_ns, uint32_t nr, uint64_t task)
{
	const struct vmi_profile *p = v->prof;
	uint64_t entry, node;
	uint32_t got;
	uint8_t shift;

	if (vmi_read_u64(v, pid_ns + p->pid_namespace_idr + p->idr_idr_rt + p->xarray_xa_head,
			 &entry) != 0)
		return false;
	if (xa_is_node(entry)) {
		if (vmi_read_kernel(v, entry - 2u + p->xa_node_shift, &shift, 1) != 0 ||
		    shift > VMI_XA_SHIFT_MAX || ((uint64_t)nr >> shift) >= VMI_XA_CHUNK_SIZE)
			return false;
		for (uint32_t level = 0; xa_is_node(entry) && level < VMI_XA_LEVELS; level++) {
			node = entry - 2u;
			if (vmi_read_kernel(v, node + p->xa_node_shift, &got, 1) != 0 ||
			    (uint8_t)got != shift ||
			    vmi_read_u64(v,
					 node + p->xa_node_slots +
						 8u * ((nr >> shift) & (VMI_XA_CHUNK_SIZE - 1u)),
					 &entry) != 0)
				return false;
			if (shift == 0)
				break;
			shift -= VMI_XA_CHUNK_SHIFT;
		}
	} else if (nr != 0) {
		return false;
	}
	if ((entry & 3u) != 0 || !vmi_is_kernel_ptr(v, entry) ||
	    vmi_read_u64(v, entry + p->pid_tasks + PIDTYPE_PID * 8u, &node) != 0)
		return false;
	for (uint32_t k = 0; k < PID_LINKS_MAX && vmi_is_kernel_ptr(v, node); k++) {
		if (node - p->task_pid_links - PIDTYPE_PID * 16u == task)
			return true;
		if (vmi_read_u64(v, node, &node) != 0)
			break;
	}
	return false;
}

/* ------------------------------------------------------------------ tasks */

enum { THREADS_DONE, THREADS_PAUSED, THREADS_END_VIEW };

/* The threads on the leader's signal->thread_head (j->leader), leader included, each
 * checked to be one of its threads (group_leader and tgid): a process moved onto another's
 * thread list is not thereby seen. Each step checks that the next node points back, so the
 * walk ends at the head or stops; a broken list ends only this process's threads (they
 * are then judged by the other views), not the view. It goes on at a later exit from the
 * node it stood at, or round again from the head when that thread left meanwhile (its
 * threads met again are then no loop; the view's bound on threads holds throughout). */
static int see_threads(struct vmi *v, struct vmi_xview_job *j, uint32_t *left)
{
	const struct vmi_profile *p = v->prof;
	struct vmi_xview *x = &j->x;
	uint64_t leader = j->leader, signal, head, next, back, gl;
	uint32_t tgid, leader_tgid;

	if (vmi_read_kptr(v, leader + p->task_signal, &signal) != 0 ||
	    vmi_read_u32(v, leader + p->task_tgid, &leader_tgid) != 0)
		return THREADS_DONE; /* an exiting task without signal: the leader alone */
	head = signal + p->signal_thread_head;
	if (j->thread_at == 0)
		j->thread_at = head;
	for (;;) {
		uint64_t cur = j->thread_at;
		if (vmi_read_kptr(v, cur, &next) != 0 || vmi_read_kptr(v, next + 8u, &back) != 0 ||
		    back != cur || next == cur) {
			if (j->thread_resumed && cur != head) {
				j->thread_at = head;
				j->thread_resumed = false;
				j->threads_again = true;
				continue;
			}
			note(x, "thread list of task 0x%llx broken or changing",
			     (unsigned long long)leader);
			return THREADS_DONE;
		}
		j->thread_resumed = false;
		if (next == head)
			return THREADS_DONE;
		if (j->threads_left == 0) {
			view_incomplete(x, VMI_VIEW_TASKS, "more than %u threads: stopped there",
					VMI_TASKS_MAX);
			return THREADS_END_VIEW;
		}
		if (*left == 0)
			return THREADS_PAUSED;
		j->threads_left--;
		(*left)--;
		uint64_t t = next - p->task_thread_node;
		if (vmi_read_kptr(v, t + p->task_group_leader, &gl) != 0 ||
		    vmi_read_u32(v, t + p->task_tgid, &tgid) != 0 || gl != leader ||
		    tgid != leader_tgid) {
			note(x, "task 0x%llx on the thread list of 0x%llx is not its thread",
			     (unsigned long long)t, (unsigned long long)leader);
		} else {
			enum seen r = see(x, t, VMI_VIEW_TASKS, -1);
			if (r == SEEN_FULL) {
				view_incomplete(x, VMI_VIEW_TASKS,
						"more tasks than this build keeps");
				return THREADS_END_VIEW;
			}
			if (r == SEEN_AGAIN && t != leader && !j->threads_again) {
				note(x, "thread list of task 0x%llx loops",
				     (unsigned long long)leader);
				return THREADS_DONE;
			}
		}
		j->thread_at = next;
	}
}

/* At most *left tasks and threads of the tasks list; true when the view is over. */
static bool tasks_step(struct vmi *v, struct vmi_xview_job *j, uint32_t *left)
{
	struct vmi_xview *x = &j->x;
	uint64_t task;

	if (!vmi_walk_continue(v, &j->w, &j->mark)) {
		view_incomplete(x, VMI_VIEW_TASKS, "%s", j->w.reason);
		return true;
	}
	if (j->leader != 0 && j->w.cur != j->leader)
		j->leader = 0; /* it left the list meanwhile, its threads with it */
	j->thread_resumed = j->leader != 0;
	for (;;) {
		if (j->leader != 0) {
			int r = see_threads(v, j, left);
			if (r == THREADS_END_VIEW)
				return true;
			if (r == THREADS_PAUSED)
				break;
			j->leader = j->thread_at = 0;
			j->threads_again = false;
		}
		if (*left == 0)
			break;
		if (!vmi_walk_next(v, &j->w, &task)) {
			if (j->w.truncated)
				view_incomplete(x, VMI_VIEW_TASKS, "%s", j->w.reason);
			return true;
		}
		(*left)--;
		enum seen r = see(x, task, VMI_VIEW_TASKS, -1);
		if (r == SEEN_FULL) {
			view_incomplete(x, VMI_VIEW_TASKS, "more tasks than this build keeps");
			return true;
		}
		if (r == SEEN_AGAIN) {
			view_incomplete(x, VMI_VIEW_TASKS, "task 0x%llx met twice: the list loops",
					(unsigned long long)task);
			return true;
		}
		/* init_task's thread list is its own (a lone idle task) */
		if (task != v->init_task)
			j->leader = task;
	}
	if (!vmi_walk_pause(v, &j->w, &j->mark)) {
		view_incomplete(x, VMI_VIEW_TASKS, "%s", j->w.reason);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------ cpus */

static void cpus_view(struct vmi *v, struct vmi_xview *x)
{
	if (v->oncpu == NULL) {
		if (v->current_task != 0 && see(x, v->current_task, VMI_VIEW_CPUS, -1) == SEEN_FULL)
			view_incomplete(x, VMI_VIEW_CPUS, "more tasks than this build keeps");
		return;
	}
	for (size_t k = 0; k < v->oncpu_count; k++) {
		const struct vmi_oncpu *o = &v->oncpu[k];
		if (o->state == VMI_CPU_RUNNING &&
		    see(x, o->task, VMI_VIEW_CPUS, o->pid) == SEEN_FULL) {
			view_incomplete(x, VMI_VIEW_CPUS, "more tasks than this build keeps");
			return;
		}
	}
}

/* ------------------------------------------------------------------ the check at the end */

/* Is the node at `node` linked both ways into a list (not onto itself)? */
static bool node_linked(struct vmi *v, uint64_t node)
{
	uint64_t next, prev, back;

	return vmi_read_kptr(v, node, &next) == 0 && vmi_read_kptr(v, node + 8u, &prev) == 0 &&
	       next != node && vmi_read_kptr(v, next + 8u, &back) == 0 && back == node &&
	       vmi_read_kptr(v, prev, &back) == 0 && back == node;
}

/* Is task still linked where the tasks view can meet it: the tasks list (a leader) or a
 * thread list (a thread)? Both are asked: which one applies would be told by its
 * group_leader, which a rootkit can point elsewhere to make a linked task look exited. An
 * exit unlinks both (__unhash_process, __exit_signal). */
static bool still_linked(struct vmi *v, uint64_t task)
{
	return node_linked(v, task + v->prof->task_tasks) ||
	       node_linked(v, task + v->prof->task_thread_node);
}

/* One task a view missed, looked at again now (vmi_xview_job); the steps of the views
 * were taken at different times. */
static void check_again(struct vmi *v, struct vmi_xview_job *j, struct vmi_xview_entry *e)
{
	uint32_t both = VMI_VIEW_TASKS | VMI_VIEW_PIDS, nr;

	if ((e->views & both) == VMI_VIEW_PIDS) {
		/* forked before the tasks list was read: gone since, unless the IDR still has it */
		if (!idr_maps(v, j->pid_ns, (uint32_t)e->pid, e->task))
			e->views |= VMI_XVIEW_SETTLED;
	} else if ((e->views & both) == VMI_VIEW_TASKS && (j->x.complete & VMI_VIEW_PIDS)) {
		/* forked after the IDR was read (it maps it now), or exited (no longer linked) */
		if (vmi_read_u32(v, e->task + v->prof->task_pid, &nr) != 0 ||
		    idr_maps(v, j->pid_ns, nr, e->task) || !still_linked(v, e->task))
			e->views |= VMI_XVIEW_SETTLED;
	}
}

/* The leaders off the tasks list, kept so that per-container loops need not scan the set. */
static void note_hidden_leader(struct vmi *v, struct vmi_xview *x, const struct vmi_xview_entry *e)
{
	uint64_t gl;

	if ((e->views & VMI_VIEW_TASKS) != 0 || !vmi_xview_hidden(v, x, e))
		return;
	if (vmi_read_kptr(v, e->task + v->prof->task_group_leader, &gl) != 0 || gl != e->task)
		return; /* a thread: its leader stands for the process */
	if (x->hidden_leader_count < VMI_XVIEW_LEADERS_MAX)
		x->hidden_leaders[x->hidden_leader_count] = e->task;
	x->hidden_leader_count++;
}

/* At most *left units of the set (64 slots, or one task looked at again); true at its end. */
static bool check_step(struct vmi *v, struct vmi_xview_job *j, uint32_t *left)
{
	struct vmi_xview *x = &j->x;
	uint32_t scanned = 0;

	for (; j->slot < x->cap; j->slot++) {
		struct vmi_xview_entry *e = &x->slots[j->slot];
		if (++scanned == 64u) {
			scanned = 0;
			if (*left == 0)
				return false;
			(*left)--;
		}
		if (e->task == 0 || e->task == v->init_task)
			continue;
		if ((e->views & (VMI_VIEW_TASKS | VMI_VIEW_PIDS)) !=
		    (VMI_VIEW_TASKS | VMI_VIEW_PIDS)) {
			if (*left == 0)
				return false;
			(*left)--;
			check_again(v, j, e);
		}
		note_hidden_leader(v, x, e);
	}
	return true;
}

/* ------------------------------------------------------------------ together */

void vmi_xview_begin(struct vmi *v, struct vmi_xview_job *j)
{
	struct vmi_xview *x = &j->x;

	memset(j, 0, sizeof(*j));
	j->threads_left = VMI_TASKS_MAX;
	j->rc = -1;
	j->stage = VMI_XV_DONE;
	if (v->xview_slots == NULL || v->xview_cap < 16 ||
	    (v->xview_cap & (v->xview_cap - 1)) != 0) {
		fmt_snprintf(x->reason, sizeof(x->reason),
			     "no room for the cross-view in this build");
		return;
	}
	if (!v->prof->xview_known) {
		fmt_snprintf(x->reason, sizeof(x->reason),
			     "the profile lacks the members of the pid-IDR view (made before it)");
		return;
	}
	x->slots = v->xview_slots;
	x->cap = v->xview_cap;
	x->mult = ((v->xview_seed ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull) | 1u;
	for (x->bits = 0; ((size_t)1 << x->bits) < x->cap; x->bits++)
		;
	memset(x->slots, 0, x->cap * sizeof(x->slots[0]));
	x->complete = VMI_VIEW_TASKS | VMI_VIEW_PIDS | VMI_VIEW_CPUS;
	j->rc = 0;
	j->stage = VMI_XV_PIDS;
}

bool vmi_xview_step(struct vmi *v, struct vmi_xview_job *j, uint32_t budget)
{
	uint32_t left = budget;

	switch (j->stage) {
	case VMI_XV_PIDS:
		if (!pids_step(v, j, &left))
			return false;
		j->stage = VMI_XV_TASKS;
		/* fall through */
	case VMI_XV_TASKS:
		if (!tasks_step(v, j, &left))
			return false;
		cpus_view(v, &j->x); /* in the exit where the tasks list ended */
		j->stage = VMI_XV_CHECK;
		/* fall through */
	case VMI_XV_CHECK:
		if (!check_step(v, j, &left))
			return false;
		j->stage = VMI_XV_DONE;
		/* fall through */
	case VMI_XV_START:
	case VMI_XV_DONE:
	default:
		return true;
	}
}

void vmi_xview_use(struct vmi *v, const struct vmi_xview_job *j)
{
	v->xview = j->x;
	v->xview_rc = j->rc;
	v->xview_fresh = true;
}

int vmi_xview_collect(struct vmi *v, struct vmi_xview *x)
{
	struct vmi_xview_job j;

	vmi_xview_begin(v, &j);
	while (!vmi_xview_step(v, &j, UINT32_MAX))
		;
	*x = j.x;
	return j.rc;
}

bool vmi_xview_hidden(struct vmi *v, const struct vmi_xview *x, const struct vmi_xview_entry *e)
{
	/* missing from the pids view counts only when that view was read to its end; missing
	 * from the tasks list always (unconfirmed when the list was cut: vmi_xview_unconfirmed),
	 * so breaking the list on purpose hides nothing */
	uint32_t want = VMI_VIEW_TASKS | (x->complete & VMI_VIEW_PIDS), flags;

	if ((e->views & want) == want || (e->views & VMI_XVIEW_SETTLED) != 0 ||
	    e->task == v->init_task)
		return false;
	/* the idle task of a secondary CPU is on neither list (kernel/fork.c fork_idle) */
	if ((e->views & ~VMI_XVIEW_SETTLED) == VMI_VIEW_CPUS &&
	    vmi_read_u32(v, e->task + v->prof->task_flags, &flags) == 0 && (flags & PF_IDLE) != 0)
		return false;
	return true;
}

bool vmi_xview_unconfirmed(const struct vmi_xview *x, const struct vmi_xview_entry *e)
{
	return !(e->views & VMI_VIEW_TASKS) && !(x->complete & VMI_VIEW_TASKS);
}

const struct vmi_xview *vmi_xview_get(struct vmi *v, const char **why)
{
	if (!v->xview_fresh) {
		struct vmi_xview_job j;
		vmi_xview_begin(v, &j);
		while (!vmi_xview_step(v, &j, UINT32_MAX))
			;
		vmi_xview_use(v, &j);
	}
	*why = v->xview.reason;
	return v->xview_rc == 0 ? &v->xview : NULL;
}

void vmi_xview_hidden_leaders(struct vmi *v, void (*fn)(void *ctx, uint64_t task), void *ctx)
{
	const char *why;
	const struct vmi_xview *x;

	if (v->xview_slots == NULL || (x = vmi_xview_get(v, &why)) == NULL)
		return;
	for (uint32_t i = 0; i < x->hidden_leader_count && i < VMI_XVIEW_LEADERS_MAX; i++)
		fn(ctx, x->hidden_leaders[i]);
}
