/* SPDX-License-Identifier: MIT */
/*
 * One process's facts, as /proc would show them, read from its task_struct and the
 * objects it points to. The task_struct is read in one piece (the first snapshot_len
 * bytes, see vmi.c) and every pointer taken from it is checked before it is followed:
 * a process whose cred, signal or namespaces cannot be read still gets the rest, with the
 * missing facts marked in p->missing.
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

/* fs/proc/array.c task_state_array, indexed as include/linux/sched.h __task_state_index
 * (6.1) computes it: fls((__state | exit_state) & TASK_REPORT), TASK_IDLE reported as I,
 * TASK_RTLOCK_WAIT as D. */
#define TASK_REPORT          0x7fu
#define TASK_NOLOAD          0x400u
#define TASK_UNINTERRUPTIBLE 0x2u
#define TASK_IDLE            (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_RTLOCK_WAIT     0x1000u
#define TASK_REPORT_IDLE     0x80u

char vmi_state_letter(uint32_t state, uint32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	uint32_t report = (state | exit_state) & TASK_REPORT;
	unsigned int index = 0;

	if ((state & TASK_IDLE) == TASK_IDLE)
		report = TASK_REPORT_IDLE;
	if ((state & TASK_RTLOCK_WAIT) != 0)
		report = TASK_UNINTERRUPTIBLE;
	while (report != 0) { /* fls(): 1 + the highest set bit, 0 for none */
		index++;
		report >>= 1;
	}
	return letters[index];
}

uint32_t vmi_ns_inum(struct vmi *v, uint64_t ns_struct, uint32_t ns_member_off, uint32_t kind)
{
	struct vmi_ns_cache_entry *e;
	uint32_t inum;

	if (!vmi_is_kernel_ptr(v, ns_struct))
		return 0;
	e = &v->ns_cache[((ns_struct >> 6) ^ kind) % VMI_NS_CACHE_ENTRIES];
	if (e->gen == v->cache_gen && e->ptr == ns_struct && e->kind == kind)
		return e->inum;
	if (vmi_read_u32(v, ns_struct + ns_member_off + v->prof->ns_common_inum, &inum) != 0)
		return 0;
	e->ptr = ns_struct;
	e->kind = kind;
	e->inum = inum;
	e->gen = v->cache_gen;
	return inum;
}

/* The namespaces hanging off nsproxy (all but pid and user). */
static void nsproxy_namespaces(struct vmi *v, uint64_t nsproxy, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	const struct {
		enum vmi_ns ns;
		uint32_t ptr_off;    /* in struct nsproxy */
		uint32_t member_off; /* of ns_common in the namespace struct */
	} m[] = {
		{VMI_NS_CGROUP, pr->nsproxy_cgroup_ns, pr->cgroup_namespace_ns},
		{VMI_NS_IPC, pr->nsproxy_ipc_ns, pr->ipc_namespace_ns},
		{VMI_NS_MNT, pr->nsproxy_mnt_ns, pr->mnt_namespace_ns},
		{VMI_NS_NET, pr->nsproxy_net_ns, pr->net_ns},
		{VMI_NS_PID_FOR_CHILDREN, pr->nsproxy_pid_ns_for_children, pr->pid_namespace_ns},
		{VMI_NS_UTS, pr->nsproxy_uts_ns, pr->uts_namespace_ns},
		/* last: left out when the profile lacks them (profile.h) */
		{VMI_NS_TIME, pr->nsproxy_time_ns, pr->time_namespace_ns},
		{VMI_NS_TIME_FOR_CHILDREN, pr->nsproxy_time_ns_for_children, pr->time_namespace_ns},
	};
	size_t count = sizeof(m) / sizeof(m[0]);
	uint8_t buf[128];
	uint32_t lo = UINT32_MAX, hi = 0;
	bool block;

	if (pr->nsproxy_time_ns == 0 || pr->nsproxy_time_ns_for_children == 0)
		count -= 2;
	/* The pointers sit together at the start of struct nsproxy: one read for all. */
	for (size_t i = 0; i < count; i++) {
		if (m[i].ptr_off < lo)
			lo = m[i].ptr_off;
		if (m[i].ptr_off + 8u > hi)
			hi = m[i].ptr_off + 8u;
	}
	block = hi - lo <= sizeof(buf) && vmi_read_kernel(v, nsproxy + lo, buf, hi - lo) == 0;
	for (size_t i = 0; i < count; i++) {
		uint64_t ns_struct = 0;

		if (block)
			ns_struct = vmi_get(buf, hi - lo, m[i].ptr_off - lo, 8);
		else if (vmi_read_kptr(v, nsproxy + m[i].ptr_off, &ns_struct) != 0)
			ns_struct = 0;
		p->ns[m[i].ns] = vmi_ns_inum(v, ns_struct, m[i].member_off, (uint32_t)m[i].ns);
	}
}

/* The name /proc/PID/stat shows (fs/proc/array.c proc_task_name, 6.1): a workqueue
 * worker's comm with "+desc" (running a work item) or "-desc" appended
 * (kernel/workqueue.c wq_worker_comm); another kernel thread's full_name when it has one
 * (kernel/kthread.c get_kthread_comm); else comm. p->comm holds comm on entry. */
static void proc_name(struct vmi *v, uint64_t worker_private, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t kthread = worker_private, ptr;
	char buf[VMI_NAME_MAX];

	if ((p->flags & VMI_PF_KTHREAD) == 0 || pr->task_worker_private == 0 ||
	    !vmi_is_kernel_ptr(v, kthread))
		return;
	if ((p->flags & VMI_PF_WQ_WORKER) != 0) {
		uint64_t worker, pool, current_work;
		char desc[24 + 1];

		if (pr->kthread_data == 0 || pr->worker_desc == 0 ||
		    vmi_read_kptr(v, kthread + pr->kthread_data, &worker) != 0 ||
		    vmi_read_u64(v, worker + pr->worker_pool, &pool) != 0 || pool == 0 ||
		    vmi_read_u64(v, worker + pr->worker_current_work, &current_work) != 0 ||
		    vmi_read_kernel(v, worker + pr->worker_desc, desc, sizeof(desc) - 1) != 0)
			return;
		desc[sizeof(desc) - 1] = '\0';
		if (desc[0] != '\0')
			fmt_snprintf(buf, sizeof(buf), "%s%c%s", p->comm,
				     current_work != 0 ? '+' : '-', desc);
		else
			return;
	} else {
		if (pr->kthread_full_name == 0 ||
		    vmi_read_u64(v, kthread + pr->kthread_full_name, &ptr) != 0 || ptr == 0 ||
		    vmi_read_string(v, ptr, buf, sizeof(buf)) < 0)
			return;
	}
	memcpy(p->comm, buf, sizeof(p->comm));
}

/* struct pid: the task's own pid namespace is numbers[level].ns (kernel/pid.c
 * task_active_pid_ns), and its pid there numbers[level].nr. */
static void pid_namespace(struct vmi *v, uint64_t thread_pid, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	uint8_t upid[64];
	uint32_t level;
	uint64_t ns_struct;

	if (!vmi_is_kernel_ptr(v, thread_pid) ||
	    vmi_read_u32(v, thread_pid + pr->pid_level, &level) != 0 || level > VMI_PID_LEVEL_MAX)
		return;
	if (vmi_read_kernel(v, thread_pid + pr->pid_numbers + (uint64_t)level * pr->upid_size, upid,
			    pr->upid_size) != 0)
		return;
	p->nspid = (int32_t)vmi_get(upid, pr->upid_size, pr->upid_nr, 4);
	ns_struct = vmi_get(upid, pr->upid_size, pr->upid_ns, 8);
	p->ns[VMI_NS_PID] = vmi_ns_inum(v, ns_struct, pr->pid_namespace_ns, VMI_NS_PID);
}

static void read_hostname(struct vmi *v, uint64_t nsproxy, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t uts;

	if (!vmi_is_kernel_ptr(v, nsproxy) ||
	    vmi_read_kptr(v, nsproxy + pr->nsproxy_uts_ns, &uts) != 0 ||
	    vmi_read_kernel(v, uts + pr->uts_namespace_name + pr->new_utsname_nodename, p->hostname,
			    sizeof(p->hostname)) != 0) {
		p->hostname[0] = '\0';
		p->missing |= VMI_MISSING_HOSTNAME;
		return;
	}
	p->hostname[sizeof(p->hostname) - 1] = '\0';
}

/* arg_start..arg_end of the process's memory, through its own page tables: mm->pgd is the
 * kernel virtual address of its top-level table (the PTI kernel copy, which maps all of
 * user space too). NULs between arguments become spaces, as ps shows them. */
static void read_cmdline(struct vmi *v, uint64_t mm, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	uint64_t pgd, pgd_pa, start, end, len, args[2];
	size_t got;
	bool adjacent = pr->mm_arg_end == pr->mm_arg_start + 8u; /* as in every kernel */

	if (adjacent && vmi_read_kernel(v, mm + pr->mm_arg_start, args, sizeof(args)) == 0) {
		start = args[0];
		end = args[1];
	} else if (adjacent || vmi_read_u64(v, mm + pr->mm_arg_start, &start) != 0 ||
		   vmi_read_u64(v, mm + pr->mm_arg_end, &end) != 0) {
		p->missing |= VMI_MISSING_CMDLINE;
		return;
	}
	if (vmi_read_kptr(v, mm + pr->mm_pgd, &pgd) != 0 || vmi_kernel_phys(v, pgd, &pgd_pa) != 0) {
		p->missing |= VMI_MISSING_CMDLINE;
		return;
	}
	if (end <= start)
		return; /* no arguments (yet): /proc shows an empty cmdline */
	len = end - start;
	if (len > VMI_CMDLINE_MAX - 1) {
		len = VMI_CMDLINE_MAX - 1;
		p->missing |= VMI_TRUNCATED_CMDLINE;
	}
	got = vmi_read_user(v, pgd_pa, start, p->cmdline, (size_t)len);
	if (got == 0) {
		p->missing |= VMI_MISSING_CMDLINE;
		return;
	}
	if (got < len)
		p->missing |= VMI_TRUNCATED_CMDLINE;
	while (got > 0 && p->cmdline[got - 1] == '\0')
		got--;
	for (size_t i = 0; i < got; i++) {
		if (p->cmdline[i] == '\0')
			p->cmdline[i] = ' ';
	}
	p->cmdline[got] = '\0';
}

static void read_cgroup(struct vmi *v, uint64_t css_set, struct vmi_process *p)
{
	uint64_t cgroup;

	if (!vmi_is_kernel_ptr(v, css_set) ||
	    vmi_read_kptr(v, css_set + v->prof->css_set_dfl_cgrp, &cgroup) != 0) {
		p->missing |= VMI_MISSING_CGROUP;
		return;
	}
	p->cgroup_ptr = cgroup;
	p->missing |= vmi_cgroup_path(v, cgroup, p->cgroup, sizeof(p->cgroup), &p->frozen);
	(void)vmi_cgroup_freeze_set(v, cgroup, &p->freeze_set); /* read as the path was */
}

int vmi_process_read(struct vmi *v, uint64_t task, unsigned int what, struct vmi_process *p)
{
	const struct vmi_profile *pr = v->prof;
	const uint8_t *s = v->snapshot;
	uint32_t len = v->snapshot_len, exit_state;
	uint64_t mm, real_parent, real_cred, nsproxy, css_set, signal, thread_pid, worker_private;
	uint32_t val;

	memset(p, 0, sizeof(*p));
	p->task = task;
	p->ppid = -1;
	p->nspid = -1;
	p->uid = UINT32_MAX;
	p->threads = -1;
	p->state = '?';
	if (!vmi_is_kernel_ptr(v, task) || vmi_read_kernel(v, task, v->snapshot, len) != 0)
		return -1;

	/* Everything the snapshot gives, taken before anything else reuses it. */
	p->pid = (int32_t)vmi_get(s, len, pr->task_pid, 4);
	p->tgid = (int32_t)vmi_get(s, len, pr->task_tgid, 4);
	p->flags = (uint32_t)vmi_get(s, len, pr->task_flags, 4);
	exit_state =
		pr->task_exit_state != 0 ? (uint32_t)vmi_get(s, len, pr->task_exit_state, 4) : 0;
	p->state = vmi_state_letter((uint32_t)vmi_get(s, len, pr->task_state, pr->task_state_size),
				    exit_state);
	p->start_ns = vmi_get(s, len, pr->task_start_boottime, 8);
	memcpy(p->comm, s + pr->task_comm, VMI_COMM_LEN - 1);
	p->comm[VMI_COMM_LEN - 1] = '\0';
	mm = vmi_get(s, len, pr->task_mm, 8);
	real_parent = vmi_get(s, len, pr->task_real_parent, 8);
	real_cred = vmi_get(s, len, pr->task_real_cred, 8);
	nsproxy = vmi_get(s, len, pr->task_nsproxy, 8);
	css_set = vmi_get(s, len, pr->task_cgroups, 8);
	signal = vmi_get(s, len, pr->task_signal, 8);
	thread_pid = vmi_get(s, len, pr->task_thread_pid, 8);
	worker_private =
		pr->task_worker_private != 0 ? vmi_get(s, len, pr->task_worker_private, 8) : 0;

	/* A kernel thread has PF_KTHREAD (and no mm); a zombie has lost its mm but is not
	 * one. */
	p->kthread = (p->flags & VMI_PF_KTHREAD) != 0 || (mm == 0 && exit_state == 0);
	proc_name(v, worker_private, p);

	if (vmi_is_kernel_ptr(v, real_parent) &&
	    vmi_read_u32(v, real_parent + pr->task_tgid, &val) == 0)
		p->ppid = (int32_t)val;
	else
		p->missing |= VMI_MISSING_PPID;
	if (vmi_is_kernel_ptr(v, real_cred) && vmi_read_u32(v, real_cred + pr->cred_uid, &val) == 0)
		p->uid = val;
	else
		p->missing |= VMI_MISSING_UID;
	if (vmi_is_kernel_ptr(v, signal) &&
	    vmi_read_u32(v, signal + pr->signal_nr_threads, &val) == 0)
		p->threads = (int32_t)val;
	else
		p->missing |= VMI_MISSING_THREADS;

	if ((what & VMI_READ_CMDLINE) != 0 && !p->kthread && mm != 0) {
		if (vmi_is_kernel_ptr(v, mm))
			read_cmdline(v, mm, p);
		else
			p->missing |= VMI_MISSING_CMDLINE;
	}
	if ((what & VMI_READ_NS) != 0) {
		uint64_t user_ns;

		/* An exiting task has dropped its nsproxy (kernel/exit.c exit_task_namespaces);
		 * /proc then shows no namespaces but pid and user. */
		if (vmi_is_kernel_ptr(v, nsproxy))
			nsproxy_namespaces(v, nsproxy, p);
		pid_namespace(v, thread_pid, p);
		if (pr->cred_user_ns != 0 && vmi_is_kernel_ptr(v, real_cred) &&
		    vmi_read_kptr(v, real_cred + pr->cred_user_ns, &user_ns) == 0)
			p->ns[VMI_NS_USER] =
				vmi_ns_inum(v, user_ns, pr->user_namespace_ns, VMI_NS_USER);
		for (unsigned int i = 0; i < VMI_NS_COUNT; i++) {
			if (p->ns[i] == 0 && vmi_ns_known(v, i) &&
			    (nsproxy != 0 || i == VMI_NS_PID || i == VMI_NS_USER))
				p->missing |= VMI_MISSING_NS;
		}
	}
	if ((what & VMI_READ_HOSTNAME) != 0)
		read_hostname(v, nsproxy, p);
	if ((what & VMI_READ_CGROUP) != 0)
		read_cgroup(v, css_set, p);
	return 0;
}
