/* SPDX-License-Identifier: MIT */
/*
 * Will every task of a cgroup stop before it runs another instruction of its own? The
 * cgroup v2 freezer (kernel/cgroup/freezer.c) reports a cgroup frozen (CGRP_FROZEN) only
 * once each task has entered its trap; a task that cannot run meanwhile (held by cpu.max,
 * waiting for a CPU) keeps the cgroup "freezing" for as long as it waits. Writing
 * cgroup.freeze sets JOBCTL_TRAP_FREEZE on every task of the cgroup and wakes it
 * (cgroup_freeze_task: signal_wake_up); while that bit is set, TIF_SIGPENDING stays set
 * (recalc_sigpending_tsk), so the task takes get_signal -> do_freezer_trap on its way back
 * to user mode, before any instruction of its own (kernel/signal.c). A task that has the
 * bit and is on no CPU therefore runs none; it may still finish a system call it is in,
 * which `crun pause`, returning after its write, does not wait for either. A task forked
 * or moved into the cgroup later gets the bit too (cgroup_post_fork,
 * cgroup_freezer_migrate_task).
 *
 * The look reads the cgroup's own task lists (cgroup->cset_links -> each css_set's tasks
 * and mg_tasks, task->cg_list), so it costs the cgroup's tasks, not the guest's: at most
 * max_tasks of them in one call, or no answer. A cgroup with child cgroups, a profile
 * without the fields, a list that does not close within its bound: no answer either (the
 * caller then waits for the kernel's own CGRP_FROZEN). Only a yes is ever acted on, and
 * every way of not knowing is a no.
 */
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

#define JOBCTL_TRAP_FREEZE (1ull << 23) /* include/linux/sched/jobctl.h, since 5.2 */
/* include/linux/sched.h: __state bits that keep a task from its trap when it is woken
 * (TASK_UNINTERRUPTIBLE, __TASK_STOPPED, __TASK_TRACED, TASK_PARKED, TASK_DEAD...): only
 * TASK_RUNNING and TASK_INTERRUPTIBLE (with TASK_FREEZABLE, as do_freezer_trap sleeps)
 * are taken */
#define TASK_INTERRUPTIBLE 0x0001u
#define TASK_FREEZABLE     0x2000u
#define FREEZE_CSETS_MAX   64u /* css_sets linked to one cgroup (one per mix of controllers) */
#define TIF_SIGPENDING     2u  /* arch/x86/include/asm/thread_info.h */
#define PF_IO_WORKER       0x00000010u /* include/linux/sched.h: an io_uring worker */

static int answer(struct vmi_freeze_look *out, int rc, int32_t pid, const char *why)
{
	out->holdout_pid = pid;
	out->why = why;
	return rc;
}

/* One task of the cgroup (on cset's list): 1 it will stop, 0 it may run (why), -1 it
 * cannot be read. */
static int task_will_stop(struct vmi *v, uint64_t task, uint64_t cset, struct vmi_freeze_look *out)
{
	const struct vmi_profile *pr = v->prof;
	uint32_t flags, pid, exit_state = 0, on_cpu, state32;
	uint64_t jobctl, state, tif, cgroups;

	if (vmi_read_u32(v, task + pr->task_flags, &flags) != 0 ||
	    vmi_read_u32(v, task + pr->task_pid, &pid) != 0 ||
	    vmi_read_u64(v, task + pr->task_jobctl, &jobctl) != 0 ||
	    vmi_read_u32(v, task + pr->task_on_cpu, &on_cpu) != 0 ||
	    vmi_read_u64(v, task + pr->task_thread_info + pr->thread_info_flags, &tif) != 0 ||
	    vmi_read_u64(v, task + pr->task_cgroups, &cgroups) != 0)
		return answer(out, -1, -1, "a task of the cgroup cannot be read");
	/* the list is read without the kernel's css_set_lock: a node that is not a task of
	 * this css_set (a list head reached through a move to mg_tasks, say) ends the look */
	if (cgroups != cset)
		return answer(out, -1, (int32_t)pid, "a task on the list is not the css_set's");
	if (pr->task_state_size == 8) {
		if (vmi_read_u64(v, task + pr->task_state, &state) != 0)
			return answer(out, -1, (int32_t)pid, "a task's state cannot be read");
	} else {
		if (vmi_read_u32(v, task + pr->task_state, &state32) != 0)
			return answer(out, -1, (int32_t)pid, "a task's state cannot be read");
		state = state32;
	}
	if (pr->task_exit_state != 0 &&
	    vmi_read_u32(v, task + pr->task_exit_state, &exit_state) != 0)
		return answer(out, -1, (int32_t)pid, "a task's exit state cannot be read");
	/* the freezer leaves kernel threads alone (cgroup_freeze_task); an exiting task
	 * never returns to user mode */
	if ((flags & (VMI_PF_KTHREAD | VMI_PF_EXITING)) != 0 || exit_state != 0)
		return 1;
	if ((jobctl & JOBCTL_TRAP_FREEZE) == 0)
		return answer(out, 0, (int32_t)pid, "a task has no freeze trap pending");
	if (on_cpu != 0)
		return answer(out, 0, (int32_t)pid, "a task is on a CPU");
	/* an io_uring worker sleeps interruptibly between work items it runs in the kernel
	 * without looking at signals (io_wq_worker): only the kernel's frozen says it stopped */
	if ((flags & PF_IO_WORKER) != 0)
		return answer(out, 0, (int32_t)pid, "an io_uring worker is not frozen yet");
	if ((state & ~(uint64_t)(TASK_INTERRUPTIBLE | TASK_FREEZABLE)) != 0)
		return answer(out, 0, (int32_t)pid, "a task sleeps where the trap cannot wake it");
	if (state == 0) {
		/* waiting for a CPU: it takes the trap on its way out only with TIF_SIGPENDING,
		 * which the freeze sets after the trap bit (signal_wake_up) and a uprobe's
		 * single step clears for a moment (uprobe_deny_signal) */
		if ((tif & (1ull << TIF_SIGPENDING)) == 0)
			return answer(out, 0, (int32_t)pid, "a task has no signal pending yet");
		out->runnable++;
	}
	return 1;
}

/* The tasks on one of a css_set's lists (head: the list_head in the css_set). */
static int list_will_stop(struct vmi *v, uint64_t cset, uint64_t head, uint32_t max_tasks,
			  struct vmi_freeze_look *out)
{
	uint64_t node;

	if (vmi_read_kptr(v, head, &node) != 0)
		return answer(out, -1, -1, "a css_set's task list cannot be read");
	while (node != head) {
		int rc;

		if (out->tasks >= max_tasks)
			return answer(out, -1, -1, "more tasks than one look takes");
		out->tasks++;
		rc = task_will_stop(v, node - v->prof->task_cg_list, cset, out);
		if (rc <= 0)
			return rc;
		if (vmi_read_kptr(v, node, &node) != 0)
			return answer(out, -1, -1, "a css_set's task list cannot be read");
	}
	return 1;
}

int vmi_cgroup_freeze_pending(struct vmi *v, uint64_t cgroup, uint32_t max_tasks,
			      struct vmi_freeze_look *out)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t head, node;
	uint32_t descendants, csets = 0;
	bool freeze_set;

	memset(out, 0, sizeof(*out));
	out->holdout_pid = -1;
	if (!pr->freeze_known)
		return answer(out, -1, -1, "the profile lacks the freezer's fields");
	if (vmi_cgroup_freeze_set(v, cgroup, &freeze_set) != 0 ||
	    vmi_read_u32(v, cgroup + pr->cgroup_nr_descendants, &descendants) != 0)
		return answer(out, -1, -1, "the cgroup cannot be read");
	if (!freeze_set)
		return answer(out, 0, -1, "the cgroup's freeze is not set");
	if (descendants != 0)
		return answer(out, -1, -1, "the cgroup has child cgroups");
	head = cgroup + pr->cgroup_cset_links;
	if (vmi_read_kptr(v, head, &node) != 0)
		return answer(out, -1, -1, "the cgroup's css_sets cannot be read");
	while (node != head) {
		uint64_t link = node - pr->cgrp_cset_link_cset_link, cset, dfl;
		int rc;

		if (++csets > FREEZE_CSETS_MAX)
			return answer(out, -1, -1, "the cgroup's css_set list does not end");
		if (vmi_read_kptr(v, link + pr->cgrp_cset_link_cset, &cset) != 0 ||
		    vmi_read_kptr(v, cset + pr->css_set_dfl_cgrp, &dfl) != 0)
			return answer(out, -1, -1, "a css_set of the cgroup cannot be read");
		if (dfl != cgroup) /* linked for a v1 hierarchy: its tasks are elsewhere on v2 */
			return answer(out, -1, -1, "a css_set of the cgroup is another cgroup's");
		rc = list_will_stop(v, cset, cset + pr->css_set_tasks, max_tasks, out);
		if (rc == 1)
			rc = list_will_stop(v, cset, cset + pr->css_set_mg_tasks, max_tasks, out);
		if (rc <= 0)
			return rc;
		if (vmi_read_kptr(v, node, &node) != 0)
			return answer(out, -1, -1, "the cgroup's css_sets cannot be read");
	}
	/* the freeze still asked for at the end (a thaw meanwhile clears every trap bit) */
	if (vmi_cgroup_freeze_set(v, cgroup, &freeze_set) != 0 || !freeze_set)
		return answer(out, 0, -1, "the cgroup's freeze was taken back");
	return answer(out, 1, -1, NULL);
}
