/* The synthetic guest of vmi_fake.h. */
#include "vmi_fake.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "x86/cr.h"
#include "x86/paging.h"

/* ------------------------------------------------------------------ memory */

static int fake_read_phys(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct fake *f = ctx;

	if (gpa >= FAKE_RAM_SIZE || n > FAKE_RAM_SIZE - gpa)
		return -1;
	if (f->reads_fail_at != 0 && gpa <= f->reads_fail_at && f->reads_fail_at < gpa + n)
		return -1;
	memcpy(buf, f->ram + gpa, n);
	return 0;
}

uint64_t fake_palloc(struct fake *f, uint64_t size, uint64_t align)
{
	uint64_t pa = (f->brk + align - 1) & ~(align - 1);

	assert(pa + size <= FAKE_RAM_SIZE);
	f->brk = pa + size;
	memset(f->ram + pa, 0, size);
	return pa;
}

uint64_t fake_pa(uint64_t kva)
{
	return kva - FAKE_DIRECT_MAP;
}

uint64_t fake_kalloc(struct fake *f, uint64_t size)
{
	return FAKE_DIRECT_MAP + fake_palloc(f, size, 64);
}

static uint8_t *at(struct fake *f, uint64_t kva, size_t n)
{
	uint64_t pa = fake_pa(kva);

	assert(pa < FAKE_RAM_SIZE && n <= FAKE_RAM_SIZE - pa);
	return f->ram + pa;
}

void fake_w8(struct fake *f, uint64_t kva, uint8_t v)
{
	*at(f, kva, 1) = v;
}

void fake_w32(struct fake *f, uint64_t kva, uint32_t v)
{
	memcpy(at(f, kva, 4), &v, 4);
}

void fake_w64(struct fake *f, uint64_t kva, uint64_t v)
{
	memcpy(at(f, kva, 8), &v, 8);
}

void fake_wbytes(struct fake *f, uint64_t kva, const void *p, size_t n)
{
	memcpy(at(f, kva, n), p, n);
}

uint64_t fake_r64(struct fake *f, uint64_t kva)
{
	uint64_t v;

	memcpy(&v, at(f, kva, 8), 8);
	return v;
}

static uint64_t *entry_at(struct fake *f, uint64_t table, unsigned int index)
{
	return (uint64_t *)(void *)(f->ram + table + index * 8u);
}

void fake_map(struct fake *f, uint64_t root, uint64_t va, uint64_t pa, uint64_t page_size)
{
	int leaf = page_size == PAGE_SIZE_1G ? 3 : page_size == PAGE_SIZE_2M ? 2 : 1;
	uint64_t table = root & PTE_ADDR_MASK;

	for (int level = f->la57 ? 5 : 4; level >= leaf; level--) {
		unsigned int index = (unsigned int)(va >> (12 + 9 * (level - 1))) & 0x1ffu;
		uint64_t *e = entry_at(f, table, index);

		if (level == leaf) {
			/* user pages in the user half, as Linux maps them */
			*e = pa | PTE_P | PTE_RW | (leaf > 1 ? PTE_PS : 0) |
			     ((va >> (f->la57 ? 56 : 47)) == 0 ? PTE_US : 0);
			return;
		}
		if ((*e & PTE_P) == 0)
			*e = fake_palloc(f, 4096, 4096) | PTE_P | PTE_RW | PTE_US;
		table = *e & PTE_ADDR_MASK;
	}
}

/* ------------------------------------------------------------------ profile */

static void fake_profile(struct vmi_profile *p)
{
	memset(p, 0, sizeof(*p));
	strcpy(p->release, FAKE_RELEASE);
	p->percpu_current_task = FAKE_PERCPU_OFF;
	p->task_struct_size = 0x400;
	p->task_state = 0x08;
	p->task_state_size = 4;
	p->task_flags = 0x0c;
	p->task_tasks = 0x100;
	p->task_pid = 0x120;
	p->task_tgid = 0x124;
	p->task_real_parent = 0x128;
	p->task_group_leader = 0x130;
	p->task_comm = 0x140;
	p->task_mm = 0x150;
	p->task_real_cred = 0x158;
	p->task_start_boottime = 0x160;
	p->task_nsproxy = 0x168;
	p->task_cgroups = 0x170;
	p->task_signal = 0x178;
	p->task_thread_pid = 0x180;
	p->task_exit_state = 0x188;
	p->signal_nr_threads = 0x10;
	p->mm_pgd = 0x40;
	p->mm_arg_start = 0x100;
	p->mm_arg_end = 0x108;
	p->cred_uid = 0x08;
	p->cred_user_ns = 0x40;
	p->nsproxy_uts_ns = 0x08;
	p->nsproxy_ipc_ns = 0x10;
	p->nsproxy_mnt_ns = 0x18;
	p->nsproxy_pid_ns_for_children = 0x20;
	p->nsproxy_net_ns = 0x28;
	p->nsproxy_time_ns = 0x30;
	p->nsproxy_time_ns_for_children = 0x38;
	p->nsproxy_cgroup_ns = 0x40;
	p->uts_namespace_ns = 0x100;
	p->uts_namespace_name = 0x0;
	p->new_utsname_nodename = 65;
	p->new_utsname_release = 130;
	p->ipc_namespace_ns = 0x20;
	p->mnt_namespace_ns = 0x0;
	p->pid_namespace_ns = 0x30;
	p->net_ns = 0x40;
	p->cgroup_namespace_ns = 0x0;
	p->user_namespace_ns = 0x50;
	p->time_namespace_ns = 0x10;
	p->ns_common_inum = 0x10;
	p->pid_level = 0x04;
	p->pid_numbers = 0x40;
	p->upid_size = 16;
	p->upid_nr = 0;
	p->upid_ns = 8;
	p->css_set_dfl_cgrp = 0x80;
	p->cgroup_kn = 0x20;
	p->cgroup_flags = 0x28;
	p->kernfs_node_parent = 0x08;
	p->kernfs_node_name = 0x10;
	/* the cross-view (xview.c); xa_node.slots is 40 in Linux, 0x30 here */
	p->xview_known = true;
	p->task_pid_links = 0x200;
	p->task_thread_node = 0x240;
	p->signal_thread_head = 0x20;
	p->pid_tasks = 0x10;
	p->pid_namespace_idr = 0x100;
	p->idr_idr_rt = 0x8;
	p->xarray_xa_head = 0x10;
	p->xa_node_shift = 0x0;
	p->xa_node_slots = 0x30;
	/* the restrictions (restrict.c) */
	p->restrict_known = true;
	p->cred_cap_inheritable = 0x60;
	p->cred_cap_bset = 0x70;
	p->cred_cap_permitted = 0x80;
	p->cred_cap_effective = 0x88;
	p->cred_cap_ambient = 0x78;
	p->task_atomic_flags = 0x300;
	p->task_seccomp = 0x310;
	p->seccomp_mode = 0x0;
	p->seccomp_filter = 0x8;
	p->seccomp_filter_log = 0x4;
	p->seccomp_filter_prev = 0x18;
	p->seccomp_filter_prog = 0x20;
	p->seccomp_filter_notif = 0x30;
	p->bpf_prog_orig_prog = 0x38;
	p->sock_fprog_kern_len = 0x0;
	p->sock_fprog_kern_filter = 0x8;
	/* who owns a container (owner.c) */
	p->owner_known = true;
	p->user_namespace_parent = 0x08;
	p->user_namespace_owner = 0x10;
	p->kernfs_node_iattr = 0x40;
	p->kernfs_iattrs_ia_uid = 0x0;
	/* a freeze every task will take (freezer.c) */
	p->freeze_known = true;
	p->cgroup_cset_links = 0x40;
	p->cgroup_nr_descendants = 0x50;
	p->cgrp_cset_link_cset = 0x08;
	p->cgrp_cset_link_cset_link = 0x18;
	p->css_set_tasks = 0x10;
	p->css_set_mg_tasks = 0x20;
	p->task_cg_list = 0x320;
	p->task_jobctl = 0x330;
	p->task_on_cpu = 0x338;
	p->task_thread_info = 0x0; /* as on x86: thread_info first, flags first in it */
	p->thread_info_flags = 0x0;
}

/* list_add_tail(node, head) on a list whose empty head points to itself */
static void list_add_tail(struct fake *f, uint64_t node, uint64_t head)
{
	uint64_t prev = fake_r64(f, head + 8);

	fake_w64(f, node, head);
	fake_w64(f, node + 8, prev);
	fake_w64(f, prev, node);
	fake_w64(f, head + 8, node);
}

static void list_init(struct fake *f, uint64_t head)
{
	fake_w64(f, head, head);
	fake_w64(f, head + 8, head);
}

void fake_init(struct fake *f, bool la57)
{
	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, FAKE_RAM_SIZE);
	assert(f->ram != NULL);
	f->la57 = la57;
	f->brk = 0x100000;
	/* 8 KiB aligned, as Linux allocates pgds with PTI: kernel copy, then user copy. */
	f->pgd = fake_palloc(f, 8192, 8192);
	for (uint64_t pa = 0; pa < FAKE_RAM_SIZE; pa += PAGE_SIZE_2M)
		fake_map(f, f->pgd, FAKE_DIRECT_MAP + pa, pa, PAGE_SIZE_2M);
	fake_profile(&f->prof);
	f->mem.read_phys = fake_read_phys;
	f->mem.ctx = f;
	f->percpu = fake_kalloc(f, 0x20000);
	f->cpu.cr3 = f->pgd;
	f->cpu.cr4 = la57 ? X86_CR4_LA57 : 0;
	f->cpu.gs_base = f->percpu;
	f->cpu.kernel_gs_base = 0;
	f->cpu.user_mode = false;
}

void fake_free(struct fake *f)
{
	free(f->ram);
	f->ram = NULL;
}

/* ------------------------------------------------------------------ objects */

uint64_t fake_ns(struct fake *f, enum fake_ns_kind kind, uint32_t inum, const char *nodename)
{
	const struct vmi_profile *p = &f->prof;
	uint32_t off = 0;
	uint64_t ns = fake_kalloc(f, 0x300);

	switch (kind) {
	case FK_UTS:
		off = p->uts_namespace_ns;
		break;
	case FK_IPC:
		off = p->ipc_namespace_ns;
		break;
	case FK_MNT:
		off = p->mnt_namespace_ns;
		break;
	case FK_PID:
		off = p->pid_namespace_ns;
		break;
	case FK_NET:
		off = p->net_ns;
		break;
	case FK_CGROUP:
		off = p->cgroup_namespace_ns;
		break;
	case FK_USER:
		off = p->user_namespace_ns;
		break;
	case FK_TIME:
		off = p->time_namespace_ns;
		break;
	}
	fake_w32(f, ns + off + p->ns_common_inum, inum);
	if (kind == FK_UTS && nodename != NULL)
		fake_wbytes(f, ns + p->uts_namespace_name + p->new_utsname_nodename, nodename,
			    strlen(nodename) + 1);
	if (kind == FK_UTS)
		fake_wbytes(f, ns + p->uts_namespace_name + p->new_utsname_release, FAKE_RELEASE,
			    sizeof(FAKE_RELEASE));
	return ns;
}

uint64_t fake_nsproxy(struct fake *f, uint64_t uts, uint64_t ipc, uint64_t mnt, uint64_t pidc,
		      uint64_t net, uint64_t cgroup, uint64_t time)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t n = fake_kalloc(f, 0x80);

	fake_w32(f, n, 1); /* count */
	fake_w64(f, n + p->nsproxy_uts_ns, uts);
	fake_w64(f, n + p->nsproxy_ipc_ns, ipc);
	fake_w64(f, n + p->nsproxy_mnt_ns, mnt);
	fake_w64(f, n + p->nsproxy_pid_ns_for_children, pidc);
	fake_w64(f, n + p->nsproxy_net_ns, net);
	fake_w64(f, n + p->nsproxy_cgroup_ns, cgroup);
	fake_w64(f, n + p->nsproxy_time_ns, time);
	fake_w64(f, n + p->nsproxy_time_ns_for_children, time);
	return n;
}

uint64_t fake_pid(struct fake *f, unsigned int level, const int32_t *nr, const uint64_t *ns)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t pid = fake_kalloc(f, p->pid_numbers + (level + 1) * p->upid_size);

	fake_w32(f, pid + p->pid_level, level);
	for (unsigned int i = 0; i <= level; i++) {
		uint64_t upid = pid + p->pid_numbers + i * p->upid_size;

		fake_w32(f, upid + p->upid_nr, (uint32_t)nr[i]);
		fake_w64(f, upid + p->upid_ns, ns[i]);
	}
	return pid;
}

uint64_t fake_cred(struct fake *f, uint32_t uid, uint64_t user_ns)
{
	uint64_t c = fake_kalloc(f, 0xc0);

	fake_w32(f, c + f->prof.cred_uid, uid);
	fake_w64(f, c + f->prof.cred_user_ns, user_ns);
	return c;
}

void fake_cred_caps(struct fake *f, uint64_t cred, uint64_t inh, uint64_t bset, uint64_t amb)
{
	fake_w64(f, cred + f->prof.cred_cap_inheritable, inh);
	fake_w64(f, cred + f->prof.cred_cap_bset, bset);
	fake_w64(f, cred + f->prof.cred_cap_ambient, amb);
}

uint64_t fake_seccomp_filter(struct fake *f, uint64_t prev, const uint64_t *insns, uint16_t len,
			     bool log)
{
	uint64_t filter = fake_kalloc(f, 0x40), prog = fake_kalloc(f, 0x40);
	uint64_t orig = fake_kalloc(f, 0x10), code = fake_kalloc(f, (uint64_t)len * 8u + 8u);
	fake_wbytes(f, code, insns, (size_t)len * 8u);
	fake_w8(f, orig + f->prof.sock_fprog_kern_len, (uint8_t)len);
	fake_w8(f, orig + f->prof.sock_fprog_kern_len + 1, (uint8_t)(len >> 8));
	fake_w64(f, orig + f->prof.sock_fprog_kern_filter, code);
	fake_w64(f, prog + f->prof.bpf_prog_orig_prog, orig);
	fake_w8(f, filter + f->prof.seccomp_filter_log, log);
	fake_w64(f, filter + f->prof.seccomp_filter_prev, prev);
	fake_w64(f, filter + f->prof.seccomp_filter_prog, prog);
	return filter;
}

void fake_task_seccomp(struct fake *f, uint64_t task, bool no_new_privs, uint32_t mode,
		       uint64_t filter)
{
	fake_w64(f, task + f->prof.task_atomic_flags, no_new_privs ? 1u : 0u);
	fake_w32(f, task + f->prof.task_seccomp + f->prof.seccomp_mode, mode);
	fake_w64(f, task + f->prof.task_seccomp + f->prof.seccomp_filter, filter);
}

uint64_t fake_userns_child(struct fake *f, uint64_t parent, uint32_t owner, uint32_t inum)
{
	uint64_t ns = fake_ns(f, FK_USER, inum, NULL);
	fake_w64(f, ns + f->prof.user_namespace_parent, parent);
	fake_w32(f, ns + f->prof.user_namespace_owner, owner);
	return ns;
}

void fake_cgroup_chown(struct fake *f, uint64_t cgroup, uint32_t uid)
{
	uint64_t iattr = fake_kalloc(f, 0x60);
	fake_w32(f, iattr + f->prof.kernfs_iattrs_ia_uid, uid);
	fake_w64(f, fake_r64(f, cgroup + f->prof.cgroup_kn) + f->prof.kernfs_node_iattr, iattr);
}

uint64_t fake_signal(struct fake *f, int32_t threads)
{
	uint64_t s = fake_kalloc(f, 0x100);

	fake_w32(f, s + f->prof.signal_nr_threads, (uint32_t)threads);
	return s;
}

uint64_t fake_cgroup_kn(struct fake *f, uint64_t cgroup)
{
	return fake_r64(f, cgroup + f->prof.cgroup_kn);
}

uint64_t fake_cgroup(struct fake *f, uint64_t parent_cgroup, const char *name, uint64_t flags)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t cg = fake_kalloc(f, 0x100), kn = fake_kalloc(f, 0x80);
	uint64_t str = fake_kalloc(f, strlen(name) + 1);

	fake_wbytes(f, str, name, strlen(name) + 1);
	fake_w64(f, kn + p->kernfs_node_name, str);
	fake_w64(f, kn + p->kernfs_node_parent,
		 parent_cgroup != 0 ? fake_cgroup_kn(f, parent_cgroup) : 0);
	fake_w64(f, cg + p->cgroup_kn, kn);
	fake_w64(f, cg + p->cgroup_flags, flags);
	list_init(f, cg + p->cgroup_cset_links);
	return cg;
}

uint64_t fake_css_set(struct fake *f, uint64_t cgroup)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t c = fake_kalloc(f, 0x100), link = fake_kalloc(f, 0x40);

	fake_w64(f, c + p->css_set_dfl_cgrp, cgroup);
	list_init(f, c + p->css_set_tasks);
	list_init(f, c + p->css_set_mg_tasks);
	/* link_css_set: the cgroup's list of css_sets */
	fake_w64(f, link + p->cgrp_cset_link_cset, c);
	list_add_tail(f, link + p->cgrp_cset_link_cset_link, cgroup + p->cgroup_cset_links);
	return c;
}

uint64_t fake_mm(struct fake *f, const char *args, size_t len)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t pgd = fake_palloc(f, 8192, 8192);
	uint64_t page0 = fake_palloc(f, 4096, 4096), page1 = fake_palloc(f, 4096, 4096);
	uint64_t mm = fake_kalloc(f, 0x200);
	uint64_t base = FAKE_USER_ARGS & ~0xfffull;

	assert((FAKE_USER_ARGS & 0xfff) + len <= 8192);
	fake_map(f, pgd, base, page0, PAGE_SIZE_4K);
	fake_map(f, pgd, base + 4096, page1, PAGE_SIZE_4K);
	for (size_t i = 0; i < len; i++) {
		uint64_t off = (FAKE_USER_ARGS & 0xfff) + i;

		f->ram[(off < 4096 ? page0 : page1 - 4096) + off] = (uint8_t)args[i];
	}
	fake_w64(f, mm + p->mm_pgd, FAKE_DIRECT_MAP + pgd);
	fake_w64(f, mm + p->mm_arg_start, FAKE_USER_ARGS);
	fake_w64(f, mm + p->mm_arg_end, FAKE_USER_ARGS + len);
	return mm;
}

uint64_t fake_task(struct fake *f, const struct fake_task *t)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t task = fake_kalloc(f, p->task_struct_size);
	uint64_t list = task + p->task_tasks;
	char comm[16] = {0};

	strncpy(comm, t->comm, sizeof(comm) - 1);
	fake_w32(f, task + p->task_state, t->state);
	fake_w32(f, task + p->task_flags, t->flags);
	fake_w32(f, task + p->task_pid, (uint32_t)t->pid);
	fake_w32(f, task + p->task_tgid, (uint32_t)t->tgid);
	fake_w64(f, task + p->task_real_parent, t->real_parent != 0 ? t->real_parent : task);
	fake_w64(f, task + p->task_group_leader, task);
	fake_wbytes(f, task + p->task_comm, comm, sizeof(comm));
	fake_w64(f, task + p->task_mm, t->mm);
	fake_w64(f, task + p->task_real_cred, t->cred);
	fake_w64(f, task + p->task_start_boottime, t->start_ns);
	fake_w64(f, task + p->task_nsproxy, t->nsproxy);
	fake_w64(f, task + p->task_cgroups, t->css_set);
	fake_w64(f, task + p->task_signal, t->signal);
	fake_w64(f, task + p->task_thread_pid, t->thread_pid);
	fake_w32(f, task + p->task_exit_state, t->exit_state);
	fake_w64(f, task + p->task_jobctl, t->jobctl);
	fake_w32(f, task + p->task_on_cpu, t->on_cpu);
	fake_w64(f, task + p->task_thread_info + p->thread_info_flags, t->tif);
	if (t->css_set != 0) /* cgroup_post_fork: css_set_move_task onto cset->tasks */
		list_add_tail(f, task + p->task_cg_list, t->css_set + p->css_set_tasks);
	if (t->group_leader != 0)
		fake_w64(f, task + p->task_group_leader, t->group_leader);
	if (t->thread_pid != 0) {
		/* hlist_add_head(&task->pid_links[PIDTYPE_PID], &pid->tasks[PIDTYPE_PID]) */
		uint64_t first = t->thread_pid + p->pid_tasks, node = task + p->task_pid_links;
		uint64_t old = fake_r64(f, first);
		fake_w64(f, node, old);
		fake_w64(f, node + 8, first);
		if (old != 0)
			fake_w64(f, old + 8, node);
		fake_w64(f, first, node);
	}
	if (t->signal != 0) {
		/* list_add_tail(&task->thread_node, &signal->thread_head) */
		uint64_t head = t->signal + p->signal_thread_head,
			 node = task + p->task_thread_node;
		if (fake_r64(f, head) == 0) {
			fake_w64(f, head, head);
			fake_w64(f, head + 8, head);
		}
		uint64_t prev = fake_r64(f, head + 8);
		fake_w64(f, node, head);
		fake_w64(f, node + 8, prev);
		fake_w64(f, prev, node);
		fake_w64(f, head + 8, node);
	}
	if (t->group_leader != 0 && t->group_leader != task) {
		/* a thread that is not its group's leader is not on the tasks list */
		fake_w64(f, list, list);
		fake_w64(f, list + 8, list);
	} else if (f->init_task == 0) {
		f->init_task = task;
		fake_w64(f, list, list);
		fake_w64(f, list + 8, list);
	} else {
		/* list_add_tail(&task->tasks, &init_task.tasks) */
		uint64_t head = f->init_task + p->task_tasks;
		uint64_t prev = fake_r64(f, head + 8);

		fake_w64(f, list, head);
		fake_w64(f, list + 8, prev);
		fake_w64(f, prev, list);
		fake_w64(f, head + 8, list);
	}
	return task;
}

uint64_t fake_xa_node(struct fake *f, unsigned int shift)
{
	uint64_t node = fake_kalloc(f, f->prof.xa_node_slots + 64 * 8);

	fake_w8(f, node + f->prof.xa_node_shift, (uint8_t)shift);
	return node;
}

void fake_pid_idr(struct fake *f, uint64_t pid_ns, const uint64_t *pids, size_t n)
{
	const struct vmi_profile *p = &f->prof;
	uint64_t head = pid_ns + p->pid_namespace_idr + p->idr_idr_rt + p->xarray_xa_head;
	uint64_t max = 0, root;
	unsigned int shift = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t nr = (uint32_t)fake_r64(f, pids[i] + p->pid_numbers + p->upid_nr);
		if (nr > max)
			max = nr;
	}
	while (shift < 60 && (max >> shift) >= 64)
		shift += 6;
	root = fake_xa_node(f, shift);
	fake_w64(f, head, root | 2);
	for (size_t i = 0; i < n; i++) {
		uint64_t nr = (uint32_t)fake_r64(f, pids[i] + p->pid_numbers + p->upid_nr);
		uint64_t node = root;
		for (unsigned int sh = shift;; sh -= 6) {
			uint64_t slot = node + p->xa_node_slots + ((nr >> sh) & 63) * 8;
			if (sh == 0) {
				fake_w64(f, slot, pids[i]);
				break;
			}
			if (fake_r64(f, slot) == 0)
				fake_w64(f, slot, fake_xa_node(f, sh - 6) | 2);
			node = fake_r64(f, slot) & ~3ull;
		}
	}
}

void fake_set_current(struct fake *f, uint64_t task)
{
	fake_w64(f, f->percpu + FAKE_PERCPU_OFF, task);
}

/* ------------------------------------------------------------------ the scenario */

#define TASK_INTERRUPTIBLE 0x1u
#define TASK_IDLE          0x402u
#define PF_KTHREAD         0x00200000u

void fake_world(struct fake *f, struct fake_world *w)
{
	static const char init_args[] = "/bin/sh\0/init";
	static const char sh_args[] = "sh\0-c\0sleep 1000";
	static const char web_args[] = "/bin/sh\0/srv/web.sh";
	static const char child_args[] = "httpd\0-f";
	uint64_t host_uts = fake_ns(f, FK_UTS, 0xEFFFFFFEu, "lab-host");
	uint64_t host_ipc = fake_ns(f, FK_IPC, 0xEFFFFFFFu, NULL);
	uint64_t host_mnt = fake_ns(f, FK_MNT, 4026531841u, NULL);
	uint64_t host_pid = fake_ns(f, FK_PID, 0xEFFFFFFCu, NULL);
	uint64_t host_net = fake_ns(f, FK_NET, 4026531840u, NULL);
	uint64_t host_cg = fake_ns(f, FK_CGROUP, 0xEFFFFFFBu, NULL);
	uint64_t host_user = fake_ns(f, FK_USER, 0xEFFFFFFDu, NULL);
	uint64_t host_time = fake_ns(f, FK_TIME, 0xEFFFFFFAu, NULL);
	uint64_t host_nsproxy = fake_nsproxy(f, host_uts, host_ipc, host_mnt, host_pid, host_net,
					     host_cg, host_time);
	uint64_t root_cred = fake_cred(f, 0, host_user);
	uint64_t cg_root = fake_cgroup(f, 0, "", 0);
	uint64_t cg_lab = fake_cgroup(f, cg_root, "lab", 0);
	uint64_t cg_web = fake_cgroup(f, cg_lab, "web", 0);
	uint64_t cg_paused = fake_cgroup(f, cg_lab, "paused", 1ull << VMI_CGRP_FROZEN);
	uint64_t cg_gone = fake_cgroup(f, cg_lab, "gone", 0);
	uint64_t cg_slice = fake_cgroup(f, cg_root, "system.slice", 0);
	uint64_t cg_docker = fake_cgroup(f, cg_slice, "docker-" FAKE_DOCKER_ID ".scope", 0);
	uint64_t cg_svc = fake_cgroup(f, cg_slice, "private.service", 0);
	uint64_t css_root = fake_css_set(f, cg_root);
	struct fake_task t;
	int32_t nr[2];
	uint64_t ns[2];

	memset(w, 0, sizeof(*w));
	w->cg_root = cg_root;
	w->cg_web = cg_web;
	w->cg_paused = cg_paused;
	w->host_pid_ns = 0xEFFFFFFCu;

	/* init_task: pid 0, a kernel thread, always running somewhere */
	memset(&t, 0, sizeof(t));
	t.pid = t.tgid = 0;
	t.comm = "swapper/0";
	t.flags = PF_KTHREAD;
	t.cred = root_cred;
	t.signal = fake_signal(f, 1);
	t.nsproxy = host_nsproxy;
	nr[0] = 0;
	ns[0] = host_pid;
	t.thread_pid = fake_pid(f, 0, nr, ns);
	t.css_set = css_root;
	w->init_task = fake_task(f, &t);

	/* host processes */
	t.pid = t.tgid = 1;
	t.comm = "init";
	t.flags = 0;
	t.state = TASK_INTERRUPTIBLE;
	t.real_parent = w->init_task;
	t.start_ns = 620000000;
	t.mm = fake_mm(f, init_args, sizeof(init_args));
	nr[0] = 1;
	t.thread_pid = fake_pid(f, 0, nr, ns);
	w->init = fake_task(f, &t);

	t.pid = t.tgid = 2;
	t.comm = "kthreadd";
	t.flags = PF_KTHREAD;
	t.mm = 0;
	t.start_ns = 632000000;
	nr[0] = 2;
	t.thread_pid = fake_pid(f, 0, nr, ns);
	w->kthreadd = fake_task(f, &t);

	t.pid = t.tgid = 3;
	t.comm = "rcu_gp";
	t.state = TASK_IDLE;
	t.real_parent = w->kthreadd;
	nr[0] = 3;
	t.thread_pid = fake_pid(f, 0, nr, ns);
	fake_task(f, &t);

	t.pid = t.tgid = 50;
	t.comm = "sh";
	t.flags = 0;
	t.state = TASK_INTERRUPTIBLE;
	t.real_parent = w->init;
	t.start_ns = 5123456789ull;
	t.cred = fake_cred(f, 1000, host_user);
	t.signal = fake_signal(f, 4);
	t.mm = fake_mm(f, sh_args, sizeof(sh_args));
	nr[0] = 50;
	t.thread_pid = fake_pid(f, 0, nr, ns);
	w->sh = fake_task(f, &t);

	/* a crun container with cgroupsPath /lab/web: own pid, mnt, uts, ipc, net, cgroup */
	{
		uint64_t uts = fake_ns(f, FK_UTS, 4026532200u, "web");
		uint64_t ipc = fake_ns(f, FK_IPC, 4026532201u, NULL);
		uint64_t mnt = fake_ns(f, FK_MNT, 4026532202u, NULL);
		uint64_t pid = fake_ns(f, FK_PID, 4026532203u, NULL);
		uint64_t net = fake_ns(f, FK_NET, 4026532205u, NULL);
		uint64_t cg = fake_ns(f, FK_CGROUP, 4026532206u, NULL);
		uint64_t nsp = fake_nsproxy(f, uts, ipc, mnt, pid, net, cg, host_time);

		w->web_pid_ns = 4026532203u;
		memset(&t, 0, sizeof(t));
		t.pid = t.tgid = 100;
		t.comm = "sh";
		t.state = TASK_INTERRUPTIBLE;
		t.real_parent = w->init;
		t.start_ns = 7000000000ull;
		t.cred = root_cred;
		t.signal = fake_signal(f, 1);
		t.nsproxy = nsp;
		t.css_set = fake_css_set(f, cg_web);
		t.mm = fake_mm(f, web_args, sizeof(web_args));
		nr[0] = 100;
		nr[1] = 1;
		ns[0] = host_pid;
		ns[1] = pid;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->web_init = fake_task(f, &t);

		t.pid = t.tgid = 101;
		t.comm = "httpd";
		t.real_parent = w->web_init;
		t.mm = fake_mm(f, child_args, sizeof(child_args));
		nr[0] = 101;
		nr[1] = 2;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->web_child = fake_task(f, &t);
	}

	/* a docker container (systemd driver): found by its scope's name */
	{
		uint64_t uts = fake_ns(f, FK_UTS, 4026532300u, "0123456789ab");
		uint64_t mnt = fake_ns(f, FK_MNT, 4026532302u, NULL);
		uint64_t pid = fake_ns(f, FK_PID, 4026532303u, NULL);
		uint64_t nsp =
			fake_nsproxy(f, uts, host_ipc, mnt, pid, host_net, host_cg, host_time);

		t.pid = t.tgid = 200;
		t.comm = "nginx";
		t.real_parent = w->init;
		t.nsproxy = nsp;
		t.css_set = fake_css_set(f, cg_docker);
		t.mm = fake_mm(f, "nginx", 6);
		t.flags = 0;
		nr[0] = 200;
		nr[1] = 1;
		ns[1] = pid;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->docker_init = fake_task(f, &t);
	}

	/* a paused crun container: its cgroup is frozen */
	{
		uint64_t uts = fake_ns(f, FK_UTS, 4026532400u, "paused");
		uint64_t mnt = fake_ns(f, FK_MNT, 4026532402u, NULL);
		uint64_t pid = fake_ns(f, FK_PID, 4026532403u, NULL);
		uint64_t nsp =
			fake_nsproxy(f, uts, host_ipc, mnt, pid, host_net, host_cg, host_time);

		t.pid = t.tgid = 300;
		t.comm = "sleep";
		t.nsproxy = nsp;
		t.css_set = fake_css_set(f, cg_paused);
		t.mm = fake_mm(f,
			       "sleep\0"
			       "1000",
			       11);
		nr[0] = 300;
		nr[1] = 1;
		ns[1] = pid;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->paused_init = fake_task(f, &t);
	}

	/* a container whose only process is a zombie: stopped (no nsproxy, no mm) */
	{
		uint64_t pid = fake_ns(f, FK_PID, 4026532503u, NULL);

		t.pid = t.tgid = 400;
		t.comm = "exited";
		t.state = 0x80; /* TASK_DEAD */
		t.exit_state = VMI_EXIT_ZOMBIE;
		t.nsproxy = 0;
		t.mm = 0; /* exit_mm() */
		t.css_set = fake_css_set(f, cg_gone);
		nr[0] = 400;
		nr[1] = 1;
		ns[1] = pid;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->zombie = fake_task(f, &t);
	}

	/* `unshare --pid --mount --fork`: namespaces of its own, cgroup "/" */
	{
		uint64_t mnt = fake_ns(f, FK_MNT, 4026532602u, NULL);
		uint64_t pid = fake_ns(f, FK_PID, 4026532603u, NULL);
		uint64_t nsp =
			fake_nsproxy(f, host_uts, host_ipc, mnt, pid, host_net, host_cg, host_time);

		w->nsonly_pid_ns = 4026532603u;
		t.pid = t.tgid = 500;
		t.comm = "unshared";
		t.state = TASK_INTERRUPTIBLE;
		t.exit_state = 0;
		t.nsproxy = nsp;
		t.css_set = css_root;
		t.mm = fake_mm(f,
			       "sleep\0"
			       "999",
			       10);
		nr[0] = 500;
		nr[1] = 1;
		ns[1] = pid;
		t.thread_pid = fake_pid(f, 1, nr, ns);
		w->nsonly = fake_task(f, &t);
	}

	/* a service with a private mount namespace only (PrivateTmp=): not a container */
	{
		uint64_t mnt = fake_ns(f, FK_MNT, 4026532702u, NULL);
		uint64_t nsp = fake_nsproxy(f, host_uts, host_ipc, mnt, host_pid, host_net, host_cg,
					    host_time);

		t.pid = t.tgid = 600;
		t.comm = "service";
		t.nsproxy = nsp;
		t.css_set = fake_css_set(f, cg_svc);
		t.mm = fake_mm(f, "service", 8);
		nr[0] = 600;
		t.thread_pid = fake_pid(f, 0, nr, ns);
		fake_task(f, &t);
	}

	fake_set_current(f, w->sh);
}
