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

/* ------------------------------------------------------------------ tasks */

/* The threads on leader's signal->thread_head, leader included, each checked to be one of
 * its threads (group_leader and tgid): a process moved onto another's thread list is not
 * thereby seen. Each step checks that the next node points back, so the walk ends at the
 * head or stops; a broken list ends only this process's threads (they are then judged by
 * the other views), not the view. false when the view must end (no room, no budget). */
static bool see_threads(struct vmi *v, struct vmi_xview *x, uint64_t leader, uint32_t *budget)
{
	const struct vmi_profile *p = v->prof;
	uint64_t signal, head, cur, next, back, gl;
	uint32_t tgid, leader_tgid;

	if (vmi_read_kptr(v, leader + p->task_signal, &signal) != 0 ||
	    vmi_read_u32(v, leader + p->task_tgid, &leader_tgid) != 0)
		return true; /* an exiting task without signal: the leader alone */
	head = signal + p->signal_thread_head;
	cur = head;
	for (;;) {
		if (vmi_read_kptr(v, cur, &next) != 0 || vmi_read_kptr(v, next + 8u, &back) != 0 ||
		    back != cur) {
			note(x, "thread list of task 0x%llx broken or changing",
			     (unsigned long long)leader);
			return true;
		}
		if (next == head)
			return true;
		if (*budget == 0) {
			view_incomplete(x, VMI_VIEW_TASKS, "more than %u threads: stopped there",
					VMI_TASKS_MAX);
			return false;
		}
		(*budget)--;
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
				return false;
			}
			if (r == SEEN_AGAIN && t != leader) {
				note(x, "thread list of task 0x%llx loops",
				     (unsigned long long)leader);
				return true;
			}
		}
		cur = next;
	}
}

static void tasks_view(struct vmi *v, struct vmi_xview *x)
{
	struct vmi_walk w;
	uint64_t task;
	uint32_t budget = VMI_TASKS_MAX;

	vmi_walk_begin(v, &w);
	while (vmi_walk_next(v, &w, &task)) {
		enum seen r = see(x, task, VMI_VIEW_TASKS, -1);
		if (r == SEEN_FULL) {
			view_incomplete(x, VMI_VIEW_TASKS, "more tasks than this build keeps");
			return;
		}
		if (r == SEEN_AGAIN) {
			view_incomplete(x, VMI_VIEW_TASKS, "task 0x%llx met twice: the list loops",
					(unsigned long long)task);
			return;
		}
		if (task == v->init_task)
			continue; /* init_task's thread list is its own (a lone idle task) */
		if (!see_threads(v, x, task, &budget))
			return;
	}
	if (w.truncated)
		view_incomplete(x, VMI_VIEW_TASKS, "%s", w.reason);
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
	if (vmi_read_u32(v, pid + p->pid_numbers + p->upid_nr, &nr) != 0)
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

static void pids_view(struct vmi *v, struct vmi_xview *x)
{
	const struct vmi_profile *p = v->prof;
	struct vmi_xa_level *stack = v->xa_stack;
	uint32_t depth = 0, nodes = 0, entries = 0;
	uint64_t ns = initial_pid_ns(v, x), head;
	uint8_t shift;

	if (ns == 0 ||
	    vmi_read_u64(v, ns + p->pid_namespace_idr + p->idr_idr_rt + p->xarray_xa_head, &head) !=
		    0) {
		view_incomplete(x, VMI_VIEW_PIDS, "the initial pid namespace is unreadable");
		return;
	}
	if (!xa_is_node(head)) {
		see_pid(v, x, head, 0); /* a lone entry for index 0 (or none) */
		return;
	}
	/* push the root */
	stack[0].node = head - 2u;
	stack[0].base = 0;
	stack[0].next = 0;
	if (vmi_read_kernel(v, stack[0].node + p->xa_node_shift, &shift, 1) != 0 ||
	    shift > VMI_XA_SHIFT_MAX || shift % VMI_XA_CHUNK_SHIFT != 0 ||
	    vmi_read_kernel(v, stack[0].node + p->xa_node_slots, stack[0].slots,
			    sizeof(stack[0].slots)) != 0) {
		view_incomplete(x, VMI_VIEW_PIDS, "the pid IDR's root node is unreadable");
		return;
	}
	stack[0].shift = shift;
	depth = 1;
	nodes = 1;
	while (depth > 0) {
		struct vmi_xa_level *top = &stack[depth - 1];
		if (top->next == VMI_XA_CHUNK_SIZE) {
			depth--;
			continue;
		}
		uint32_t slot = top->next++;
		uint64_t entry = top->slots[slot];
		uint64_t index = top->base + ((uint64_t)slot << top->shift);
		if (entry == 0)
			continue;
		if (top->shift == 0 || !xa_is_node(entry)) {
			if ((entry & 3u) != 0)
				continue; /* an internal entry (retry, zero, sibling) or a value */
			if (++entries > VMI_TASKS_MAX) {
				view_incomplete(x, VMI_VIEW_PIDS,
						"more than %u pids: stopped there", VMI_TASKS_MAX);
				return;
			}
			if (!see_pid(v, x, entry, index))
				return;
			continue;
		}
		if (++nodes > VMI_TASKS_MAX) {
			view_incomplete(x, VMI_VIEW_PIDS, "more than %u IDR nodes: stopped there",
					VMI_TASKS_MAX);
			return;
		}
		struct vmi_xa_level *child = &stack[depth];
		child->node = entry - 2u;
		child->base = index;
		child->next = 0;
		if (vmi_read_kernel(v, child->node + p->xa_node_shift, &shift, 1) != 0 ||
		    shift + VMI_XA_CHUNK_SHIFT != top->shift ||
		    vmi_read_kernel(v, child->node + p->xa_node_slots, child->slots,
				    sizeof(child->slots)) != 0) {
			view_incomplete(x, VMI_VIEW_PIDS,
					"pid IDR node 0x%llx is unreadable or out of place",
					(unsigned long long)child->node);
			return;
		}
		child->shift = shift;
		depth++;
	}
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

/* ------------------------------------------------------------------ together */

int vmi_xview_collect(struct vmi *v, struct vmi_xview *x)
{
	memset(x->reason, 0, sizeof(x->reason));
	x->used = 0;
	x->complete = 0;
	if (v->xview_slots == NULL || v->xview_cap < 16 ||
	    (v->xview_cap & (v->xview_cap - 1)) != 0) {
		fmt_snprintf(x->reason, sizeof(x->reason),
			     "no room for the cross-view in this build");
		return -1;
	}
	if (!v->prof->xview_known) {
		fmt_snprintf(x->reason, sizeof(x->reason),
			     "the profile lacks the members of the pid-IDR view (made before it)");
		return -1;
	}
	x->slots = v->xview_slots;
	x->cap = v->xview_cap;
	x->mult = ((v->xview_seed ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull) | 1u;
	for (x->bits = 0; ((size_t)1 << x->bits) < x->cap; x->bits++)
		;
	memset(x->slots, 0, x->cap * sizeof(x->slots[0]));
	x->complete = VMI_VIEW_TASKS | VMI_VIEW_PIDS | VMI_VIEW_CPUS;
	tasks_view(v, x);
	pids_view(v, x);
	cpus_view(v, x);
	return 0;
}

bool vmi_xview_hidden(struct vmi *v, const struct vmi_xview *x, const struct vmi_xview_entry *e)
{
	/* missing from the pids view counts only when that view was read to its end; missing
	 * from the tasks list always (unconfirmed when the list was cut: vmi_xview_unconfirmed),
	 * so breaking the list on purpose hides nothing */
	uint32_t want = VMI_VIEW_TASKS | (x->complete & VMI_VIEW_PIDS), flags;

	if ((e->views & want) == want || e->task == v->init_task)
		return false;
	/* the idle task of a secondary CPU is on neither list (kernel/fork.c fork_idle) */
	if (e->views == VMI_VIEW_CPUS &&
	    vmi_read_u32(v, e->task + v->prof->task_flags, &flags) == 0 && (flags & PF_IDLE) != 0)
		return false;
	return true;
}

bool vmi_xview_unconfirmed(const struct vmi_xview *x, const struct vmi_xview_entry *e)
{
	return !(e->views & VMI_VIEW_TASKS) && !(x->complete & VMI_VIEW_TASKS);
}

/* The leaders off the tasks list, kept so that per-container loops need not scan the set. */
static void find_hidden_leaders(struct vmi *v, struct vmi_xview *x)
{
	uint64_t gl;

	x->hidden_leader_count = 0;
	for (size_t i = 0; i < x->cap; i++) {
		const struct vmi_xview_entry *e = &x->slots[i];
		if (e->task == 0 || (e->views & VMI_VIEW_TASKS) != 0 || !vmi_xview_hidden(v, x, e))
			continue;
		if (vmi_read_kptr(v, e->task + v->prof->task_group_leader, &gl) != 0 ||
		    gl != e->task)
			continue; /* a thread: its leader stands for the process */
		if (x->hidden_leader_count < VMI_XVIEW_LEADERS_MAX)
			x->hidden_leaders[x->hidden_leader_count] = e->task;
		x->hidden_leader_count++;
	}
}

const struct vmi_xview *vmi_xview_get(struct vmi *v, const char **why)
{
	if (!v->xview_fresh) {
		v->xview_rc = vmi_xview_collect(v, &v->xview);
		if (v->xview_rc == 0)
			find_hidden_leaders(v, &v->xview);
		v->xview_fresh = true;
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
