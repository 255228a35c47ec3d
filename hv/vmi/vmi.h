/* SPDX-License-Identifier: MIT */
/*
 * Virtual machine introspection of a Linux guest (DESIGN §5): reads guest memory only,
 * through a reader the caller provides (the live monitor reads guest-physical memory
 * directly; hvctl reads a QEMU ELF dump). Freestanding: core and host tools share it.
 * Every walk over guest data is bounded; a corrupt or hostile structure yields an error
 * or a truncated answer marked as such, never a hang or an out-of-bounds access.
 *
 * Files: pagewalk.c (virtual -> physical), guestmem.c (counted, cached reads of kernel and
 * user memory), percpu.c (per-CPU base, current task, kernel CR3), task.c (the tasks
 * list), process.c (one process's facts), cgroup.c (cgroup v2 path and freezer state),
 * freezer.c (whether every task of a cgroup will stop before it runs again),
 * container.c (grouping processes into containers), vmi.c (opening a session), report.c
 * (the ps / containers / inspect verbs, shared by the console and hvctl).
 *
 * Use: fill a struct vmi_mem and a struct vmi_cpu, parse a profile, then vmi_open(); call
 * vmi_refresh() before each new look at a live guest (it drops the caches).
 */
#ifndef HV_VMI_VMI_H
#define HV_VMI_VMI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmi/profile.h"

/* Guest-physical memory. read_phys returns 0 when all n bytes were read, -1 when any
 * part is not guest RAM (not in the dump, MMIO, the monitor's own pages...). */
struct vmi_mem {
	int (*read_phys)(void *ctx, uint64_t gpa, void *buf, size_t n);
	void *ctx;
	uint64_t reads; /* read_phys calls made by the library (for the benchmark) */
};

/* The CPU state introspection starts from (one vCPU). */
struct vmi_cpu {
	uint64_t cr3;
	uint64_t cr4;            /* LA57 selects 5-level paging */
	uint64_t gs_base;        /* IA32_GS_BASE */
	uint64_t kernel_gs_base; /* IA32_KERNEL_GS_BASE */
	bool user_mode;          /* CPL 3 when captured: the per-CPU base is in KERNEL_GS_BASE */
	uint64_t known_task;     /* optional: a task_struct a previous session found (its
				  * init_task), used when the current task is not plausible */
};

/* ------------------------------------------------------------------ limits */
#define VMI_TASKS_MAX            65536u /* tasks a walk visits before it stops, marked truncated */
#define VMI_COMM_LEN             16u    /* TASK_COMM_LEN, NUL included */
#define VMI_NAME_MAX             64u    /* a name as /proc shows it (proc_task_name's tcomm[64]) */
#define VMI_CMDLINE_MAX          256u   /* bytes of cmdline kept, NUL included */
#define VMI_PATH_MAX             256u   /* bytes of a cgroup path kept, NUL included */
#define VMI_CGROUP_DEPTH_MAX     32u    /* kernfs levels followed towards the root */
#define VMI_HOSTNAME_MAX         65u    /* __NEW_UTS_LEN + 1 */
#define VMI_PID_LEVEL_MAX        32u    /* MAX_PID_NS_LEVEL (kernel/pid_namespace.c) */
#define VMI_TASK_SNAPSHOT_MAX    16384u /* bytes of task_struct read at once (see vmi_open) */
#define VMI_ERROR_MAX            160u
#define VMI_ID_MAX               65u  /* a container id: 64 hex digits, or a cgroup name */
#define VMI_TLB_ENTRIES          256u /* 4 KiB translations cached (direct mapped) */
#define VMI_LARGE_TLB_ENTRIES    64u  /* 2 MiB / 1 GiB pages cached (the kernel's direct map) */
#define VMI_NS_CACHE_ENTRIES     64u
#define VMI_CGROUP_CACHE_ENTRIES 16u

/* ------------------------------------------------------------------ page walk */
/* SDM Vol. 3A 4.5: a guest virtual address through the paging structures rooted at cr3.
 * cr3 is used as given after removing the PCID (bits 11:0) and the bits above 51: the
 * caller picks the PTI kernel or user copy (vmi_open keeps the kernel one). Returns 0 and
 * the guest-physical address, or -1 (not present, not canonical, table outside RAM). */
int vmi_translate(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa);
/* The same, also giving the size of the page that maps va (4 KiB, 2 MiB or 1 GiB). */
int vmi_translate_size(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa,
		       uint64_t *page_size);
/* Access rights of a translation (SDM Vol. 3A 4.6 "Access Rights"): a user-mode access
 * needs U/S set in the entry of every level, a write R/W set in every level (always for
 * user-mode writes; for supervisor writes with CR0.WP set, as Linux runs). */
#define VMI_RIGHT_USER  1u
#define VMI_RIGHT_WRITE 2u
/* The same as vmi_translate_size, also giving the rights every level grants (VMI_RIGHT_*). */
int vmi_translate_rights(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa,
			 uint64_t *page_size, unsigned *rights);
/* Is va in the user half of the address space (below the canonical hole)? */
bool vmi_user_half(uint64_t va, bool la57);
/* The end of the user half Linux gives processes: below the canonical hole of 4-level
 * paging (also valid with LA57). */
#define VMI_USER_VA_END 0x0000800000000000ull
/* Copies n bytes between buf and user memory at va of the address space whose tables are
 * at cr3, as ring 3 reaches it (SDM Vol. 3A 4.6 "Access Rights"): user-half addresses below
 * VMI_USER_VA_END, pages user-accessible at every level of the walk, and writable at every
 * level for a write (a page shared copy-on-write after a fork is read-only there: written
 * through its physical address, the other process would see the write too). Writes go
 * through write_phys. 0, or -1 when any byte is not such memory (nothing is promised of
 * the bytes before it). */
int vmi_user_access(struct vmi_mem *m, int (*write_phys)(uint64_t gpa, const void *buf, size_t n),
		    uint64_t cr3, bool la57, uint64_t va, void *buf, size_t n, bool write);
/* Does va have the canonical form of the paging mode (bits 63:47, or 63:56 with LA57,
 * all equal)? */
bool vmi_canonical(uint64_t va, bool la57);
/* The CR3 value bits that locate the top-level table (51:12). */
uint64_t vmi_cr3_table(uint64_t cr3);
/* Counted read_phys. */
int vmi_read_phys(struct vmi_mem *m, uint64_t gpa, void *buf, size_t n);

/* ------------------------------------------------------------------ namespaces */
/* In the order of `ls /proc/PID/ns`. */
enum vmi_ns {
	VMI_NS_CGROUP,
	VMI_NS_IPC,
	VMI_NS_MNT,
	VMI_NS_NET,
	VMI_NS_PID,
	VMI_NS_PID_FOR_CHILDREN,
	VMI_NS_TIME,
	VMI_NS_TIME_FOR_CHILDREN,
	VMI_NS_USER,
	VMI_NS_UTS,
	VMI_NS_COUNT
};
/* "cgroup", "ipc", ... as in /proc/PID/ns/ */
const char *vmi_ns_name(enum vmi_ns ns);

/* ------------------------------------------------------------------ a process */
#define VMI_PF_EXITING   0x00000004u /* include/linux/sched.h: the task is in do_exit */
#define VMI_PF_KTHREAD   0x00200000u
#define VMI_PF_WQ_WORKER 0x00000020u
#define VMI_EXIT_DEAD    0x10u /* include/linux/sched.h */
#define VMI_EXIT_ZOMBIE  0x20u
#define VMI_CGRP_FROZEN                                                                            \
	3u                 /* bit of cgroup->flags: include/linux/cgroup-defs.h in 6.1             \
			    * (CGRP_NOTIFY_ON_RELEASE, CGRP_CPUSET_CLONE_CHILDREN,                 \
			    * CGRP_FREEZE, CGRP_FROZEN), checked against 6.1.0-56 BTF */
#define VMI_CGRP_FREEZE 2u /* the bit before it: cgroup.freeze is 1 (cgroup_freeze_write) */

/* Which facts vmi_process_read fetches (the others are left "unknown"). */
enum {
	VMI_READ_CMDLINE = 1u << 0,  /* from the process's own memory */
	VMI_READ_NS = 1u << 1,       /* namespaces and nspid */
	VMI_READ_CGROUP = 1u << 2,   /* cgroup path and frozen flag */
	VMI_READ_HOSTNAME = 1u << 3, /* uts_ns nodename */
	VMI_READ_ALL = 0xfu,
};

/* Facts that could not be read (bits of vmi_process.missing). */
enum {
	VMI_MISSING_PPID = 1u << 0,
	VMI_MISSING_UID = 1u << 1,
	VMI_MISSING_THREADS = 1u << 2,
	VMI_MISSING_CMDLINE = 1u << 3, /* unreadable (e.g. swapped out); a kernel thread has none */
	VMI_MISSING_NS = 1u << 4,      /* at least one namespace */
	VMI_MISSING_CGROUP = 1u << 5,
	VMI_MISSING_HOSTNAME = 1u << 6,
	VMI_TRUNCATED_CMDLINE = 1u << 7,
	VMI_TRUNCATED_CGROUP = 1u << 8, /* longer than VMI_PATH_MAX - 1 */
};

struct vmi_process {
	uint64_t task;     /* guest virtual address of its task_struct */
	int32_t pid;       /* task_struct.pid: the thread id */
	int32_t tgid;      /* the process id seen from the initial pid namespace */
	int32_t ppid;      /* real_parent->tgid; -1 if unknown */
	int32_t nspid;     /* pid in its own pid namespace (thread_pid->numbers[level].nr); -1 */
	uint32_t uid;      /* real_cred->uid; UINT32_MAX if unknown */
	int32_t threads;   /* signal->nr_threads; -1 if unknown */
	char state;        /* R S D T t X Z P I as /proc/PID/stat shows it; '?' if unknown */
	bool kthread;      /* PF_KTHREAD, or no mm */
	uint32_t flags;    /* task_struct.flags */
	uint64_t start_ns; /* start_boottime: ns since boot */
	char comm[VMI_NAME_MAX];       /* as /proc/PID/stat shows it: task->comm, or a kernel
					* thread's full name (see profile.h) */
	char cmdline[VMI_CMDLINE_MAX]; /* arguments joined by spaces */
	uint32_t ns[VMI_NS_COUNT];     /* inode numbers; 0 if unknown */
	char hostname[VMI_HOSTNAME_MAX];
	char cgroup[VMI_PATH_MAX]; /* cgroup v2 path from the hierarchy's root, "/..." */
	uint64_t cgroup_ptr;       /* struct cgroup * (dfl_cgrp) */
	bool frozen;               /* CGRP_FROZEN in that cgroup */
	bool freeze_set;           /* CGRP_FREEZE: its cgroup.freeze is 1 (frozen or freezing) */
	uint32_t missing;          /* VMI_MISSING_* / VMI_TRUNCATED_* */
};

/* ------------------------------------------------------------------ containers */
enum vmi_runtime {
	VMI_RT_DOCKER,     /* docker-<id>.scope (systemd driver) or /docker/<id> */
	VMI_RT_CONTAINERD, /* cri-containerd-<id>.scope */
	VMI_RT_CRIO,       /* crio-<id>.scope, crio-<id> */
	VMI_RT_PODMAN,     /* libpod-<id>.scope, libpod-<id> */
	VMI_RT_CGROUPFS,   /* own pid and mnt namespaces, named by its plain cgroupfs leaf
			    * (crun/runc with cgroupsPath /lab/NAME) */
	VMI_RT_NAMESPACES, /* own pid and mnt namespaces, cgroup "/": named by its pid ns */
};
const char *vmi_runtime_name(enum vmi_runtime rt);

enum vmi_container_state {
	VMI_CT_RUNNING,
	VMI_CT_PAUSED,  /* its cgroup.freeze is 1 (crun/runc/docker pause), frozen or still
			 * freezing (crun list says paused from the same file) */
	VMI_CT_STOPPED, /* no live process left: only zombies */
};
const char *vmi_container_state_name(enum vmi_container_state s);

/* What makes processes one container: a runtime id from the cgroup path, or else a pid
 * namespace of its own. */
struct vmi_container_key {
	bool in_container;
	enum vmi_runtime runtime;
	char id[VMI_ID_MAX];
	uint32_t pid_ns;      /* for VMI_RT_CGROUPFS / VMI_RT_NAMESPACES */
	size_t cgroup_len;    /* the container's cgroup: the first cgroup_len bytes of the path */
	uint64_t cgroup_hash; /* FNV-1a of those bytes: a runtime id's cgroup elsewhere (a user's
			       * delegated subtree) is another container */
};

struct vmi_container {
	struct vmi_container_key key;
	char id[VMI_ID_MAX];
	char name[VMI_ID_MAX];
	char cgroup[VMI_PATH_MAX];
	char hostname[VMI_HOSTNAME_MAX];
	uint32_t ns[VMI_NS_COUNT]; /* of its init process */
	int32_t init_pid;          /* on the host */
	int32_t init_nspid;        /* inside (1 with a pid namespace of its own) */
	uint64_t init_task;
	uint32_t processes;
	uint32_t live; /* processes that are not zombies */
	/* who owns it (owner.c): 0 root; else the unprivileged user whose user namespace or
	 * delegated cgroup it is in: a rootless sandbox, named OWNER/ID only. owner_known is
	 * false when it cannot be told: with a profile that lacks the fields every container is
	 * taken as root's (as before them); when memory cannot tell, as a sandbox no name
	 * reaches. */
	uint32_t owner_uid;
	bool owner_known;
	bool rootless;
	bool frozen;     /* its init's cgroup reports frozen (CGRP_FROZEN) */
	bool freeze_set; /* its cgroup.freeze is 1 (CGRP_FREEZE): paused, as crun reports it */
	enum vmi_container_state state;
};

/* ------------------------------------------------------------------ the task walk */
struct vmi_walk {
	uint64_t head;    /* task_struct of init_task, where the walk starts and ends */
	uint64_t cur;     /* the task returned last; 0 before the first */
	uint32_t visited; /* tasks returned, over every step of a resumed walk (the bound) */
	/* the latest in fork order (start time, then pid) of the tasks returned: a resumed
	 * walk that had to go round again skips to after it (vmi_walk_resume) */
	uint32_t latest_pid;
	uint64_t latest_start_ns;
	bool done;
	bool truncated; /* stopped before the list's end: reason says why */
	char reason[VMI_ERROR_MAX];
};

/* A walk that goes on at a later VM exit, the guest having run meanwhile: the task it
 * stood at, and who that was (a freed task_struct is soon another task's). */
struct vmi_walk_mark {
	uint64_t task; /* 0: the walk had not started */
	uint32_t pid;
	uint64_t start_ns;
};

/* ------------------------------------------------------------------ a session */
/* Each cache entry holds only while its `gen` is the session's cache_gen (vmi_refresh). */
struct vmi_tlb_entry {
	uint64_t cr3;    /* tag: table address | 1 (0: empty) */
	uint64_t vpage;  /* va >> 12 */
	uint64_t ppage;  /* physical address of the 4 KiB page */
	unsigned rights; /* VMI_RIGHT_* of the walk */
	uint32_t gen;
};
struct vmi_large_tlb_entry {
	uint64_t cr3;    /* tag: table address | 1 (0: empty) */
	uint64_t vbase;  /* virtual base of the large page */
	uint64_t pbase;  /* its physical base */
	uint64_t size;   /* 2 MiB or 1 GiB */
	unsigned rights; /* VMI_RIGHT_* of the walk */
	uint32_t gen;
};
struct vmi_ns_cache_entry {
	uint64_t ptr; /* the namespace struct (0: empty) */
	uint32_t kind;
	uint32_t inum;
	uint32_t gen;
};
struct vmi_cgroup_cache_entry {
	uint64_t cgroup; /* struct cgroup * (0: empty) */
	uint64_t kn;     /* its kernfs node when the path was read */
	uint32_t missing;
	uint32_t gen;
	char path[VMI_PATH_MAX]; /* never the frozen flag: that is read at every call */
};

/* The cross-view of the tasks (xview.c). */
enum {
	VMI_VIEW_TASKS = 1u << 0, /* the tasks list and each process's thread list */
	VMI_VIEW_PIDS = 1u << 1,  /* the pid IDR of the initial pid namespace */
	VMI_VIEW_CPUS = 1u << 2,  /* current on a CPU */
};
struct vmi_xview_entry {
	uint64_t task;  /* task_struct (0: empty slot) */
	uint32_t views; /* VMI_VIEW_* that see it */
	int32_t pid;    /* the pid the IDR files it under (or a CPU's view of it); -1 */
};
#define VMI_XVIEW_LEADERS_MAX 64u
struct vmi_xview {
	struct vmi_xview_entry *slots; /* v->xview_slots: an open-addressing set */
	size_t cap, used;
	uint64_t mult;     /* the hash's odd multiplier, from v->xview_seed */
	uint32_t bits;     /* log2(cap) */
	uint32_t complete; /* views read to their end; the others say why below */
	char reason[2 * VMI_ERROR_MAX];
	/* the thread-group leaders found off the tasks list (vmi_xview_get) */
	uint64_t hidden_leaders[VMI_XVIEW_LEADERS_MAX];
	uint32_t hidden_leader_count; /* may exceed the array: the rest are not kept */
};
/* xarray nodes (include/linux/xarray.h): XA_CHUNK_SHIFT, XA_CHUNK_SIZE; 64-bit indices */
#define VMI_XA_CHUNK_SHIFT 6u
#define VMI_XA_CHUNK_SIZE  64u
#define VMI_XA_SHIFT_MAX   60u
#define VMI_XA_LEVELS      (VMI_XA_SHIFT_MAX / VMI_XA_CHUNK_SHIFT + 1u)
struct vmi_xa_level {
	uint64_t node;  /* xa_node */
	uint64_t base;  /* index of its slot 0 */
	uint32_t shift; /* its shift */
	uint32_t next;  /* the next slot to look at */
	uint64_t slots[VMI_XA_CHUNK_SIZE];
};
/* Not a view: a task that joined or left a list while the views were taken over several
 * exits, as the check at their end found (vmi_xview_step): never hidden. */
#define VMI_XVIEW_SETTLED (1u << 8)

/* The cross-view taken over several VM exits (vmi_xview_step), the guest running between
 * them: the pid IDR first, then the tasks list with its thread lists, and the CPUs in the
 * exit where that list ends; then each task one view missed is looked at again. A task the
 * IDR listed and the tasks list did not had been forked before the list was read: it is
 * hidden if its pid still maps to it at the end (else it exited). A task on the tasks list
 * and not in the IDR is hidden if, at the end, its pid still does not map to it (else it
 * was forked after the IDR was read) and it is still linked (else it exited). */
enum vmi_xview_stage { VMI_XV_START, VMI_XV_PIDS, VMI_XV_TASKS, VMI_XV_CHECK, VMI_XV_DONE };
struct vmi_xview_job {
	enum vmi_xview_stage stage;
	int rc; /* -1: no cross-view (x.reason says why) */
	struct vmi_xview x;
	/* the IDR: where the walk stands, level by level (each node's slots are read again
	 * at the next exit, into the session's xa_stack) */
	uint64_t pid_ns;
	uint32_t depth, nodes, entries;
	struct {
		uint64_t node, base;
		uint32_t shift, next;
	} at[VMI_XA_LEVELS];
	/* the tasks list, and the thread list of the process it stands at */
	struct vmi_walk w;
	struct vmi_walk_mark mark;
	uint32_t threads_left; /* the bound on threads over the whole view */
	uint64_t leader;       /* 0: not in a thread list */
	uint64_t thread_at;    /* the node of that list it stands at (0: its head) */
	bool thread_resumed, threads_again;
	/* the check at the end */
	size_t slot;
};

/* What one CPU runs, for `ps` (filled by the caller: the live monitor knows every vCPU, a
 * dump only the one whose registers it holds). */
#define VMI_CPUS_MAX 64u
enum vmi_cpu_state {
	VMI_CPU_UNKNOWN, /* no register state yet, or no plausible task behind it (`why`) */
	VMI_CPU_RUNNING, /* `task` is current there (the idle task when tgid is 0) */
	VMI_CPU_STOPPED, /* waits for a SIPI: offline, or never started */
};
struct vmi_oncpu {
	uint32_t cpu;
	enum vmi_cpu_state state;
	uint64_t task;
	int32_t pid, tgid; /* of `task`; 0 for the idle task */
	bool exiting;      /* `task` is past its release (off every list) on its way out */
	char comm[VMI_COMM_LEN];
	const char *why; /* VMI_CPU_UNKNOWN: why no task is named */
};

struct vmi {
	struct vmi_mem *mem;
	const struct vmi_profile *prof;
	/* Found by vmi_open. */
	uint64_t kernel_cr3; /* table address of the kernel's page tables (PTI kernel copy) */
	bool la57;
	uint64_t percpu_base;
	uint64_t current_task;
	uint64_t init_task;
	uint32_t host_ns[VMI_NS_COUNT]; /* of pid 1 (init_task's when there is none) */
	uint32_t snapshot_len;          /* bytes of task_struct read per task */
	/* Working storage: caches (emptied by vmi_refresh: a new cache_gen, an entry of an
	 * older one is empty; 0 is never current) and the task snapshot. */
	uint32_t cache_gen;
	struct vmi_tlb_entry tlb[VMI_TLB_ENTRIES];
	struct vmi_large_tlb_entry large_tlb[VMI_LARGE_TLB_ENTRIES];
	struct vmi_ns_cache_entry ns_cache[VMI_NS_CACHE_ENTRIES];
	struct vmi_cgroup_cache_entry cgroup_cache[VMI_CGROUP_CACHE_ENTRIES];
	uint8_t snapshot[VMI_TASK_SNAPSHOT_MAX];
	/* The containers table of the report verbs (caller's storage; may be NULL/0). */
	struct vmi_container *containers;
	size_t containers_cap;
	/* What each CPU runs (caller's storage; NULL/0: not known, `ps` says nothing of it). */
	const struct vmi_oncpu *oncpu;
	size_t oncpu_count;
	/* The cross-view's set (caller's storage, a power of two; NULL/0: `ps` does no
	 * cross-view) and the initial pid namespace when the caller knows it from the symbol
	 * init_pid_ns (0: taken from init_task's struct pid). */
	struct vmi_xview_entry *xview_slots;
	size_t xview_cap;
	uint64_t xview_seed; /* the caller's secret for the set's hash (any value; not 0 ideally) */
	uint64_t init_pid_ns;
	struct vmi_xa_level xa_stack[VMI_XA_LEVELS];
	struct vmi_xview xview; /* the last cross-view (vmi_xview_get); dropped by vmi_refresh */
	bool xview_fresh;
	int xview_rc;
	char error[VMI_ERROR_MAX]; /* why vmi_open failed */
};

/*
 * Finds the kernel's page tables, the per-CPU area, the current task and init_task from
 * one vCPU's state (percpu.c), and the host's namespaces. Returns 0, or -1 with v->error
 * saying what could not be found. v keeps pointers to mem and prof.
 */
int vmi_open(struct vmi *v, struct vmi_mem *mem, const struct vmi_profile *prof,
	     const struct vmi_cpu *cpu);
/* The task current on another CPU of the same guest, from that CPU's registers, through the
 * session's kernel page tables (percpu.c). Fills `out` (out->cpu is the caller's). */
void vmi_oncpu_read(struct vmi *v, const struct vmi_cpu *cpu, struct vmi_oncpu *out);
/* Does the profile describe the running kernel (fit.c)? Compares the profile's release
 * with init's uts namespace release. 0, or -1 with why saying what differs. */
int vmi_profile_fits(struct vmi *v, char *why, size_t cap);
/* A session kept across exits (the injection engine's) must not translate kernel addresses
 * through the page tables of whatever process was current when it was opened: that
 * process may exit and its tables be freed. This switches it to pid 1's tables (their
 * kernel half is the same in every process, and init lives as long as the guest).
 * 0, or -1 (the session keeps the tables it had) when pid 1 cannot be read. */
int vmi_pin_kernel_tables(struct vmi *v);
/* Empties the caches: call before each look at a guest that has run since the last. */
void vmi_refresh(struct vmi *v);

/* Does the profile let us read this namespace? (time and user need members a profile
 * may lack: profile.h) */
bool vmi_ns_known(const struct vmi *v, enum vmi_ns ns);

/* Kernel virtual memory through the kernel's page tables; va must be a canonical
 * kernel-half address. 0 or -1. */
int vmi_read_kernel(struct vmi *v, uint64_t va, void *buf, size_t n);
/* The physical address of a kernel virtual address (cached like the reads). 0 or -1. */
int vmi_kernel_phys(struct vmi *v, uint64_t va, uint64_t *pa);
/* User memory through a page-table root other than the kernel's (a process's mm->pgd, as
 * a physical address), as the process itself could read it: user-half addresses, pages
 * user-accessible at every level. Reads what it can page by page and returns the bytes
 * read from the start (stops at the first page it may not read). */
size_t vmi_read_user(struct vmi *v, uint64_t cr3, uint64_t va, void *buf, size_t n);
/* A pointer stored at va that must itself be a kernel address (-1 otherwise). */
int vmi_read_kptr(struct vmi *v, uint64_t va, uint64_t *ptr);
int vmi_read_u32(struct vmi *v, uint64_t va, uint32_t *val);
int vmi_read_u64(struct vmi *v, uint64_t va, uint64_t *val);
/* A NUL-terminated string of at most cap - 1 bytes. Returns its length, or -1 when
 * unreadable or when no NUL comes within cap bytes (buf then holds the first cap - 1
 * bytes, NUL-terminated). */
int vmi_read_string(struct vmi *v, uint64_t va, char *buf, size_t cap);
/* A pointer as the kernel stores it for kernel objects: canonical, in the upper half. */
bool vmi_is_kernel_ptr(const struct vmi *v, uint64_t va);

/* The tasks list from init_task, one task_struct address per call (task.c). */
void vmi_walk_begin(struct vmi *v, struct vmi_walk *w);
bool vmi_walk_next(struct vmi *v, struct vmi_walk *w, uint64_t *task);

/* Where w stands now. 0, or -1 when that task cannot be read (the walk then cannot go on
 * later). */
int vmi_walk_mark(struct vmi *v, const struct vmi_walk *w, struct vmi_walk_mark *m);
/* w goes on after the marked task, in a later session of the same guest (vmi_refresh
 * since). 0: the task is still on the list, the same task; 1: it has left it, and the walk
 * went round again from init_task to the first task later in fork order than every task
 * it returned so far, so none is returned twice (the list is in fork order but for forks
 * that raced: the start time is taken before the list's lock, so such a fork may then be
 * missed); -1: it cannot, w is done and truncated with the reason. The steps of every
 * round count towards the walk's bound (VMI_TASKS_MAX). */
int vmi_walk_resume(struct vmi *v, struct vmi_walk *w, const struct vmi_walk_mark *m);
/* The two ends of a step of a walk over several exits. At its start: w begins (from this
 * session's init_task) if it had not, else goes on after m; false when it cannot (w is
 * done and truncated). At its end: m marks where w stands; false when it cannot (w is then
 * done and truncated, saying so). */
bool vmi_walk_continue(struct vmi *v, struct vmi_walk *w, const struct vmi_walk_mark *m);
bool vmi_walk_pause(struct vmi *v, struct vmi_walk *w, struct vmi_walk_mark *m);

/* One process's facts (process.c). what: VMI_READ_*. Returns 0, or -1 when the task_struct
 * itself cannot be read (p then holds only task). */
int vmi_process_read(struct vmi *v, uint64_t task, unsigned int what, struct vmi_process *p);
/* The state letter of /proc/PID/stat for __state and exit_state (fs/proc/array.c). */
char vmi_state_letter(uint32_t state, uint32_t exit_state);

/* The cgroup v2 path of a struct cgroup (cgroup.c): walks kn->parent to the root. Returns
 * VMI_MISSING_CGROUP / VMI_TRUNCATED_CGROUP bits (0 when all is well); path is always
 * NUL-terminated ("" when missing). */
uint32_t vmi_cgroup_path(struct vmi *v, uint64_t cgroup, char *path, size_t cap, bool *frozen);
/* Whether the cgroup is frozen now (CGRP_FROZEN), read from the guest at every call.
 * Returns 0, or -1 when cgroup->flags cannot be read (*frozen is then false). */
int vmi_cgroup_frozen(struct vmi *v, uint64_t cgroup, bool *frozen);
/* Whether its freeze is asked for (CGRP_FREEZE: cgroup.freeze is 1), the same way. */
int vmi_cgroup_freeze_set(struct vmi *v, uint64_t cgroup, bool *freeze_set);

/* A look at a cgroup being frozen (freezer.c). */
struct vmi_freeze_look {
	uint32_t tasks;      /* tasks of the cgroup looked at */
	uint32_t runnable;   /* of them, those still to enter the trap, waiting for a CPU */
	int32_t holdout_pid; /* the task that made the answer not a yes (-1: none, or none known) */
	const char *why;     /* why not a yes (NULL on a yes) */
};
/* Will every task of the cgroup stop before it runs another instruction of its own? (its
 * freeze requested, each task with the freezer's trap pending and on no CPU; freezer.c).
 * 1 yes; 0 not yet (out->why, out->holdout_pid); -1 cannot be told (out->why: no profile
 * fields, child cgroups, more than max_tasks tasks, unreadable or unending lists). */
int vmi_cgroup_freeze_pending(struct vmi *v, uint64_t cgroup, uint32_t max_tasks,
			      struct vmi_freeze_look *out);

/* The cross-view (xview.c): every task the tasks list (with thread lists), the pid IDR of
 * the initial pid namespace and the CPUs see, in x (storage: v->xview_slots). Returns 0, or
 * -1 with x->reason when it cannot be made (no storage, a profile without the members). A
 * view that could not be read to its end is left out of x->complete, and x->reason says
 * why. */
int vmi_xview_collect(struct vmi *v, struct vmi_xview *x);
/* The same over several exits: begin once, then a step per exit (each in a new session of
 * the same guest: vmi_refresh or vmi_open of the same storage) until it returns true; each
 * step looks at about `budget` tasks, pids or IDR nodes. Then j->x and j->rc are the
 * cross-view, and vmi_xview_use makes it this session's (for vmi_xview_get). */
void vmi_xview_begin(struct vmi *v, struct vmi_xview_job *j);
bool vmi_xview_step(struct vmi *v, struct vmi_xview_job *j, uint32_t budget);
void vmi_xview_use(struct vmi *v, const struct vmi_xview_job *j);
/* The cross-view of this look at the guest: made at the first call after vmi_open or
 * vmi_refresh, then the same. NULL when it cannot be made (*why says why). */
const struct vmi_xview *vmi_xview_get(struct vmi *v, const char **why);
/* Calls fn for each process (thread-group leader) the cross-view found off the tasks list
 * (the pid IDR or a CPU sees it), the first VMI_XVIEW_LEADERS_MAX of them; nothing when
 * there is no complete tasks view. */
void vmi_xview_hidden_leaders(struct vmi *v, void (*fn)(void *ctx, uint64_t task), void *ctx);
/* Is e missing from a view that sees every task: the tasks list (even when the list was
 * cut: then vmi_xview_unconfirmed), or the pid IDR when that was read to its end? The
 * idle tasks, on no list or only on the tasks list, are not. */
bool vmi_xview_hidden(struct vmi *v, const struct vmi_xview *x, const struct vmi_xview_entry *e);
/* A hidden e missing from a tasks list that was cut short: maybe only beyond the cut. */
bool vmi_xview_unconfirmed(const struct vmi_xview *x, const struct vmi_xview_entry *e);

/* Containers (container.c). */
/* The container a process belongs to, from its cgroup path and namespaces. */
void vmi_container_key_of(const struct vmi *v, const struct vmi_process *p,
			  struct vmi_container_key *key);
bool vmi_container_key_equal(const struct vmi_container_key *a, const struct vmi_container_key *b);
/* Walks every process and groups them: out[0..*n). Returns 0, or -1 when there were more
 * containers than cap (the first cap are kept, *n == cap). The walk's own truncation is in
 * w (may be NULL). */
int vmi_containers_collect(struct vmi *v, struct vmi_container *out, size_t cap, size_t *n,
			   struct vmi_walk *w);
/* The same over several VM exits: each step groups at most `budget` tasks, and a later step
 * (in a new session of the same guest) goes on where the last one stood (vmi_walk_resume).
 * The last step groups the hidden tasks and fills in each container. */
struct vmi_ct_collect {
	struct vmi_container *out;
	size_t cap, n;
	int rc; /* -1: more containers than cap */
	bool walked, done;
	struct vmi_walk w;
	struct vmi_walk_mark mark;
	struct vmi_xview_job xview; /* then the hidden tasks, in steps too */
	/* Optional (set after begin): told of every process grouped, with its container's
	 * index, in the order grouped: the tasks list's, then the hidden ones */
	void (*member)(void *ctx, size_t index, const struct vmi_process *p);
	void *member_ctx;
};
void vmi_containers_begin(struct vmi_ct_collect *c, struct vmi_container *out, size_t cap);
/* true once the table is complete (c->out[0..c->n), c->rc, c->w for the walk's truncation) */
bool vmi_containers_step(struct vmi *v, struct vmi_ct_collect *c, uint32_t budget);
/* A later step of a job that collected c (a new session): the hidden tasks it found are
 * this session's cross-view (vmi_xview_get), not made again in one exit. */
void vmi_containers_keep_xview(struct vmi *v, const struct vmi_ct_collect *c);
/* The index in c[0..n) of p's container, or -1. */
int vmi_container_find(const struct vmi_container *c, size_t n, const struct vmi_process *p,
		       const struct vmi *v);

/* The owner of the process at `task` in the cgroup `cgroup` (owner.c): 0 for root. 0, or -1
 * when it cannot be told (a profile without the fields, unreadable memory). */
int vmi_owner_uid(struct vmi *v, uint64_t task, uint64_t cgroup, uint32_t *uid);

/* The container `name` names among c[0..n) (its index in *at): a root-owned container by
 * its id, its name or an id prefix of 3 or more characters; a rootless sandbox only as
 * OWNER/ID, OWNER/NAME or OWNER/prefix. 0; -1 none (why says so, and names a sandbox the
 * plain name would have meant); -2 more than one (why lists them). */
int vmi_container_resolve(const struct vmi_container *c, size_t n, const char *name, size_t *at,
			  char *why, size_t cap);
/* Is p (read now from c->init_task, with VMI_READ_NS | VMI_READ_CGROUP) still c's init?
 * A container found over several exits may have lost its init since, and the init's
 * task_struct may be another process's: its cgroup is the container's only when it is the
 * same pid in the same pid namespace, in the container's cgroup (or one under it). */
bool vmi_container_init_still(const struct vmi_container *c, const struct vmi_process *p);

/* ------------------------------------------------------------------ restrictions */
/* What a task may do that exec and cp give the process they start in its container
 * (restrict.c): the capability sets a new process keeps across execve, no_new_privs and the
 * seccomp filters, newest first as the kernel chains them. Bounded: at most
 * VMI_SECCOMP_FILTERS_MAX filters of at most VMI_SECCOMP_INSNS_MAX instructions each
 * (BPF_MAXINSNS), and VMI_SECCOMP_PATH_MAX instructions along the chain (the kernel's
 * MAX_INSNS_PER_PATH counts 4 more per filter, kernel/seccomp.c). */
#define VMI_SECCOMP_FILTERS_MAX 32u
#define VMI_SECCOMP_INSNS_MAX   4096u
#define VMI_SECCOMP_PATH_MAX    32768u
#define VMI_SECCOMP_MODE_FILTER 2u /* SECCOMP_MODE_FILTER, include/uapi/linux/seccomp.h */

struct vmi_seccomp_filter {
	uint64_t insns; /* kernel address of its struct sock_filter[len] (orig_prog) */
	uint32_t len;   /* instructions */
	bool log;       /* installed with SECCOMP_FILTER_FLAG_LOG */
};

struct vmi_restrictions {
	uint32_t uid;     /* real_cred->uid (kuid) */
	uint64_t user_ns; /* real_cred->user_ns */
	uint32_t userns_inum;
	uint64_t cap_inheritable, cap_bset, cap_ambient; /* bit n: capability n */
	uint64_t cap_permitted, cap_effective;
	bool no_new_privs;
	uint32_t seccomp_mode; /* 0 none, 1 strict, 2 filter */
	uint32_t filters;      /* in filter[], newest first */
	struct vmi_seccomp_filter filter[VMI_SECCOMP_FILTERS_MAX];
};

/* `task`'s restrictions into *r. 0, or -1 with why: the profile lacks the fields, a
 * pointer is not the kernel's, a filter has a user-space listener (its calls would fail
 * with ENOSYS in a copy), the original program was not kept, or a bound above is passed. */
int vmi_task_restrictions(struct vmi *v, uint64_t task, struct vmi_restrictions *r, char *why,
			  size_t cap);

#endif
