/* A synthetic Linux guest for the introspection tests: fake physical memory holding page
 * tables (4- or 5-level), a direct map of all RAM with 2 MiB pages, a per-CPU area and
 * kernel objects laid out by a made-up profile (deliberately unlike any real kernel's, so
 * the library cannot work by accident of hard-coded offsets). Host code, test-only. */
#ifndef TESTS_UNIT_VMI_FAKE_H
#define TESTS_UNIT_VMI_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmi/vmi.h"

#define FAKE_RAM_SIZE   (48ull << 20)
#define FAKE_DIRECT_MAP 0xffff888000000000ull
#define FAKE_USER_ARGS  0x00007ffc12340ff0ull /* crosses a page boundary on purpose */
#define FAKE_PERCPU_OFF 0x1a008ull            /* "current_task" in .data..percpu */
#define FAKE_RELEASE    "6.1.0-fake"          /* uname -r of every uts namespace */

struct fake {
	uint8_t *ram;
	uint64_t brk; /* next free physical byte */
	bool la57;
	uint64_t pgd; /* kernel top-level table (physical); the PTI user copy follows */
	struct vmi_profile prof;
	struct vmi_mem mem;
	struct vmi_cpu cpu;
	uint64_t percpu; /* per-CPU area (kernel virtual) */
	uint64_t init_task;
	uint64_t reads_fail_at; /* physical address whose reads fail (0: none) */
};

/* Empty guest: page tables with the direct map, a per-CPU area, profile, CPU state (kernel
 * mode, GS base = per-CPU area, CR3 = kernel tables, LA57 as asked). No tasks. */
void fake_init(struct fake *f, bool la57);
void fake_free(struct fake *f);

/* Physical memory: a zeroed block (align: power of two). */
uint64_t fake_palloc(struct fake *f, uint64_t size, uint64_t align);
/* Kernel memory in the direct map. */
uint64_t fake_kalloc(struct fake *f, uint64_t size);
uint64_t fake_pa(uint64_t kva); /* direct map VA -> PA */
/* Maps va -> pa in the tables rooted at `root` with a page of `page_size` (4K, 2M, 1G). */
void fake_map(struct fake *f, uint64_t root, uint64_t va, uint64_t pa, uint64_t page_size);

void fake_w8(struct fake *f, uint64_t kva, uint8_t v);
void fake_w32(struct fake *f, uint64_t kva, uint32_t v);
void fake_w64(struct fake *f, uint64_t kva, uint64_t v);
void fake_wbytes(struct fake *f, uint64_t kva, const void *p, size_t n);
uint64_t fake_r64(struct fake *f, uint64_t kva);

/* Kernel objects. */
enum fake_ns_kind { FK_UTS, FK_IPC, FK_MNT, FK_PID, FK_NET, FK_CGROUP, FK_USER, FK_TIME };
uint64_t fake_ns(struct fake *f, enum fake_ns_kind kind, uint32_t inum, const char *nodename);
uint64_t fake_nsproxy(struct fake *f, uint64_t uts, uint64_t ipc, uint64_t mnt, uint64_t pidc,
		      uint64_t net, uint64_t cgroup, uint64_t time);
/* struct pid with numbers[0..level]: nr[i] in ns[i]. */
uint64_t fake_pid(struct fake *f, unsigned int level, const int32_t *nr, const uint64_t *ns);
uint64_t fake_cred(struct fake *f, uint32_t uid, uint64_t user_ns);
uint64_t fake_signal(struct fake *f, int32_t threads);
/* The capability sets exec and cp give (restrict.c) of a cred. */
void fake_cred_caps(struct fake *f, uint64_t cred, uint64_t inh, uint64_t bset, uint64_t amb);
/* A seccomp filter of `len` instructions (its original program kept), chained to `prev`. */
uint64_t fake_seccomp_filter(struct fake *f, uint64_t prev, const uint64_t *insns, uint16_t len,
			     bool log);
/* A user namespace made by `owner` inside `parent` (owner.c). */
uint64_t fake_userns_child(struct fake *f, uint64_t parent, uint32_t owner, uint32_t inum);
/* The cgroup's directory chown'ed to uid (delegated). */
void fake_cgroup_chown(struct fake *f, uint64_t cgroup, uint32_t uid);
/* A task's no_new_privs, seccomp mode and newest filter. */
void fake_task_seccomp(struct fake *f, uint64_t task, bool no_new_privs, uint32_t mode,
		       uint64_t filter);
/* A cgroup (and its kernfs node) under parent (0: the root, named ""). */
uint64_t fake_cgroup(struct fake *f, uint64_t parent_cgroup, const char *name, uint64_t flags);
uint64_t fake_cgroup_kn(struct fake *f, uint64_t cgroup);
uint64_t fake_css_set(struct fake *f, uint64_t cgroup);
/* An mm whose arguments (len bytes, NULs included) are at FAKE_USER_ARGS in its own page
 * tables. */
uint64_t fake_mm(struct fake *f, const char *args, size_t len);

struct fake_task {
	int32_t pid, tgid;
	const char *comm;
	uint64_t real_parent; /* task (0: itself) */
	uint32_t state, exit_state, flags;
	uint64_t start_ns;
	uint64_t mm, cred, signal, nsproxy, thread_pid, css_set;
	uint64_t group_leader; /* 0: itself (a leader, linked on the tasks list) */
	uint64_t jobctl;       /* JOBCTL_* (freezer.c) */
	uint32_t on_cpu;
	uint64_t tif; /* thread_info.flags (TIF_*) */
};
/* A task_struct, linked at the tail of init_task's list (unless it is the first task:
 * then it becomes init_task, its list empty). */
uint64_t fake_task(struct fake *f, const struct fake_task *t);
/* The pid IDR (an xarray) of pid_ns holding the struct pids given, each at the index of
 * its numbers[0].nr; and one xa_node of the given shift. */
void fake_pid_idr(struct fake *f, uint64_t pid_ns, const uint64_t *pids, size_t n);
uint64_t fake_xa_node(struct fake *f, unsigned int shift);
/* Makes `task` the per-CPU current task. */
void fake_set_current(struct fake *f, uint64_t task);

/* The standard scenario (see vmi_fake.c): host processes, a crun-style container "web"
 * (/lab/web, 2 processes), a docker scope container, a paused one, one with only a zombie
 * left, and a namespaces-only one (cgroup "/"). Fills the ids below. */
struct fake_world {
	uint64_t init_task, init, kthreadd, sh, web_init, web_child, docker_init, paused_init,
		zombie, nsonly;
	uint64_t cg_web, cg_paused, cg_root;
	uint32_t host_pid_ns, web_pid_ns, nsonly_pid_ns;
};
void fake_world(struct fake *f, struct fake_world *w);

#define FAKE_DOCKER_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

#endif
