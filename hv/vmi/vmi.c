/* SPDX-License-Identifier: MIT */
/* Opening an introspection session: checking the profile against our own limits, finding
 * the kernel (percpu.c, task.c) and the host's namespaces; names of enumerations. */
#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/string.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"

void vmi_set_error(struct vmi *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(v->error, sizeof(v->error), fmt, ap);
	va_end(ap);
}

/* Called in every VM exit that reads a running guest: a new generation, not a clear. */
void vmi_refresh(struct vmi *v)
{
	if (++v->cache_gen == 0) {
		/* wrapped (after 2^32 refreshes): entries of generation 1 and up may be old */
		memset(v->tlb, 0, sizeof(v->tlb));
		memset(v->large_tlb, 0, sizeof(v->large_tlb));
		memset(v->ns_cache, 0, sizeof(v->ns_cache));
		memset(v->cgroup_cache, 0, sizeof(v->cgroup_cache));
		v->cache_gen = 1;
	}
	v->xview_fresh = false;
}

/* The task_struct members process.c takes from one snapshot: all must lie in the first
 * snapshot_len bytes, which must fit VMI_TASK_SNAPSHOT_MAX. */
static int snapshot_layout(struct vmi *v)
{
	const struct vmi_profile *p = v->prof;
	const struct {
		uint32_t off, size;
	} m[] = {
		{p->task_state, p->task_state_size},
		{p->task_flags, 4},
		{p->task_tasks, 16},
		{p->task_pid, 4},
		{p->task_tgid, 4},
		{p->task_real_parent, 8},
		{p->task_group_leader, 8},
		{p->task_comm, VMI_COMM_LEN},
		{p->task_mm, 8},
		{p->task_real_cred, 8},
		{p->task_start_boottime, 8},
		{p->task_nsproxy, 8},
		{p->task_cgroups, 8},
		{p->task_signal, 8},
		{p->task_thread_pid, 8},
		{p->task_exit_state != 0 ? p->task_exit_state : p->task_pid, 4},
		{p->task_worker_private != 0 ? p->task_worker_private : p->task_pid, 8},
	};
	uint32_t end = 0;

	if (p->task_state_size != 4 && p->task_state_size != 8) {
		vmi_set_error(v, "profile: task_struct state size %u is neither 4 nor 8",
			      p->task_state_size);
		return -1;
	}
	if (p->upid_size == 0 || p->upid_size > 64) {
		vmi_set_error(v, "profile: struct upid size %u is implausible", p->upid_size);
		return -1;
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i].off > VMI_TASK_SNAPSHOT_MAX - m[i].size) {
			vmi_set_error(v,
				      "profile: a task_struct member lies at offset %u, beyond the "
				      "%u bytes this build reads",
				      m[i].off, VMI_TASK_SNAPSHOT_MAX);
			return -1;
		}
		if (m[i].off + m[i].size > end)
			end = m[i].off + m[i].size;
	}
	if (p->task_struct_size != 0 && end > p->task_struct_size) {
		vmi_set_error(v, "profile: task_struct members end at %u, past its size %u", end,
			      p->task_struct_size);
		return -1;
	}
	v->snapshot_len = end;
	return 0;
}

/* The namespaces of pid 1: what "the host" means when grouping containers. */
static void host_namespaces(struct vmi *v)
{
	struct vmi_process p;
	struct vmi_walk w;
	uint64_t task, host = v->init_task;
	uint32_t pid;

	vmi_walk_begin(v, &w);
	while (vmi_walk_next(v, &w, &task)) {
		if (vmi_read_u32(v, task + v->prof->task_pid, &pid) == 0 && pid == 1) {
			host = task;
			break;
		}
	}
	if (vmi_process_read(v, host, VMI_READ_NS, &p) == 0)
		memcpy(v->host_ns, p.ns, sizeof(v->host_ns));
}

int vmi_open(struct vmi *v, struct vmi_mem *mem, const struct vmi_profile *prof,
	     const struct vmi_cpu *cpu)
{
	struct vmi_container *containers = v->containers;
	size_t containers_cap = v->containers_cap;
	struct vmi_xview_entry *xview_slots = v->xview_slots;
	size_t xview_cap = v->xview_cap;
	uint64_t init_pid_ns = v->init_pid_ns, xview_seed = v->xview_seed;

	memset(v, 0, sizeof(*v));
	v->containers = containers;
	v->containers_cap = containers_cap;
	v->xview_slots = xview_slots;
	v->xview_cap = xview_cap;
	v->init_pid_ns = init_pid_ns;
	v->xview_seed = xview_seed;
	v->mem = mem;
	v->prof = prof;
	v->cache_gen = 1;
	if (snapshot_layout(v) != 0)
		return -1;
	if (vmi_percpu_locate(v, cpu) != 0)
		return -1;
	if (vmi_find_init_task(v, cpu->known_task) != 0)
		return -1;
	host_namespaces(v);
	return 0;
}

int vmi_pin_kernel_tables(struct vmi *v)
{
	struct vmi_walk w;
	uint64_t task, mm, pgd, pa;
	uint32_t tgid;

	/* pid 1 comes right after init_task in the list; a few steps are enough. */
	vmi_walk_begin(v, &w);
	for (int i = 0; i < 8 && vmi_walk_next(v, &w, &task); i++) {
		if (vmi_read_u32(v, task + v->prof->task_tgid, &tgid) < 0 || tgid != 1)
			continue;
		if (vmi_read_kptr(v, task + v->prof->task_mm, &mm) < 0 || mm == 0 ||
		    vmi_read_kptr(v, mm + v->prof->mm_pgd, &pgd) < 0 ||
		    vmi_kernel_phys(v, pgd, &pa) < 0)
			return -1;
		v->kernel_cr3 = pa & ~0xFFFull;
		vmi_refresh(v);
		return 0;
	}
	return -1;
}

const char *vmi_ns_name(enum vmi_ns ns)
{
	static const char *const names[VMI_NS_COUNT] = {
		[VMI_NS_CGROUP] = "cgroup", [VMI_NS_IPC] = "ipc",
		[VMI_NS_MNT] = "mnt",       [VMI_NS_NET] = "net",
		[VMI_NS_PID] = "pid",       [VMI_NS_PID_FOR_CHILDREN] = "pid_for_children",
		[VMI_NS_TIME] = "time",     [VMI_NS_TIME_FOR_CHILDREN] = "time_for_children",
		[VMI_NS_USER] = "user",     [VMI_NS_UTS] = "uts",
	};

	return (unsigned int)ns < VMI_NS_COUNT ? names[ns] : "?";
}

bool vmi_ns_known(const struct vmi *v, enum vmi_ns ns)
{
	const struct vmi_profile *p = v->prof;

	if (ns == VMI_NS_TIME || ns == VMI_NS_TIME_FOR_CHILDREN)
		return p->nsproxy_time_ns != 0 && p->nsproxy_time_ns_for_children != 0;
	if (ns == VMI_NS_USER)
		return p->cred_user_ns != 0;
	return (unsigned int)ns < VMI_NS_COUNT;
}

const char *vmi_runtime_name(enum vmi_runtime rt)
{
	switch (rt) {
	case VMI_RT_DOCKER:
		return "docker";
	case VMI_RT_CONTAINERD:
		return "containerd";
	case VMI_RT_CRIO:
		return "cri-o";
	case VMI_RT_PODMAN:
		return "podman";
	case VMI_RT_CGROUPFS:
		return "cgroupfs";
	case VMI_RT_NAMESPACES:
		return "namespaces";
	}
	return "?";
}

const char *vmi_container_state_name(enum vmi_container_state s)
{
	switch (s) {
	case VMI_CT_RUNNING:
		return "running";
	case VMI_CT_PAUSED:
		return "paused";
	case VMI_CT_STOPPED:
		return "stopped";
	}
	return "?";
}
