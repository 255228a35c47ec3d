/* SPDX-License-Identifier: MIT */
/*
 * A kernel profile: the struct member offsets and per-CPU variable offsets introspection
 * needs, for one kernel build (DESIGN §5). Made from the kernel's BTF by tools/mkprofile
 * and stored as a subset of Volatility 3's ISF JSON (guest-profiles/<release>.json);
 * ISF files made by dwarf2json load too. Freestanding: the core and the host tools share
 * it. Every field below is REQUIRED unless marked optional; a profile lacking one is
 * refused with a message naming "struct.member".
 */
#ifndef HV_VMI_PROFILE_H
#define HV_VMI_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILE_RELEASE_MAX 65u
#define PROFILE_ERR_MAX     200u

/*
 * Kernel symbols the monitor uses (DESIGN §7), by link-time address, from the profile's
 * `symbols` section (mkprofile copies the kernel's kallsyms there). OPTIONAL: a profile
 * without them (older ones, dwarf2json's without the symbol) loads, and what needs them
 * (kernel protection, the pid-IDR view) says the profile lacks them. ksym_names[] gives
 * each one's name; mkprofile writes every one of them, static (lower-case) ones included.
 */
enum ksym {
	KSYM_TEXT,                /* _text: the image's first byte */
	KSYM_STEXT,               /* _stext */
	KSYM_ETEXT,               /* _etext */
	KSYM_START_RODATA,        /* __start_rodata */
	KSYM_END_RODATA,          /* __end_rodata */
	KSYM_START_RO_AFTER_INIT, /* __start_ro_after_init (inside rodata) */
	KSYM_END_RO_AFTER_INIT,
	KSYM_START_JUMP_TABLE, /* __start___jump_table: struct jump_entry[] */
	KSYM_STOP_JUMP_TABLE,
	KSYM_START_STATIC_CALL_SITES, /* __start_static_call_sites: struct static_call_site[] */
	KSYM_STOP_STATIC_CALL_SITES,
	KSYM_STATIC_CALL_TEXT_START, /* __static_call_text_start: the trampolines */
	KSYM_STATIC_CALL_TEXT_END,
	KSYM_ENTRY_SYSCALL_64, /* IA32_LSTAR's value: the KASLR slide follows from it */
	KSYM_SYS_CALL_TABLE,
	KSYM_IDT_TABLE,
	KSYM_INIT_TASK,
	KSYM_INIT_PID_NS,
	KSYM_INIT_TOP_PGT, /* init_top_pgt: the kernel's own top-level page table (init_mm) */
	KSYM_COUNT
};
extern const char *const ksym_names[KSYM_COUNT];

struct vmi_profile {
	char release[PROFILE_RELEASE_MAX]; /* uname -r of the kernel it describes, "" if unknown */

	/* link-time addresses (enum ksym), 0 when the profile lacks the symbol */
	uint64_t ksym[KSYM_COUNT];
	uint32_t symbols; /* addresses in the symbols section, per-CPU ones included */

	/* per-CPU: offset of the current task pointer inside the per-CPU area
	 * (symbol current_task in 6.1; pcpu_hot + pcpu_hot.current_task from 6.2) */
	uint64_t percpu_current_task;

	/* struct task_struct */
	uint32_t task_struct_size;
	uint32_t task_tasks;          /* struct list_head tasks */
	uint32_t task_pid;            /* pid_t pid */
	uint32_t task_tgid;           /* pid_t tgid */
	uint32_t task_real_parent;    /* struct task_struct *real_parent */
	uint32_t task_group_leader;   /* struct task_struct *group_leader */
	uint32_t task_comm;           /* char comm[16] */
	uint32_t task_mm;             /* struct mm_struct *mm */
	uint32_t task_real_cred;      /* const struct cred *real_cred */
	uint32_t task_flags;          /* unsigned int flags (PF_KTHREAD = 0x00200000) */
	uint32_t task_state;          /* unsigned int __state (6.1) or long state (older) */
	uint32_t task_state_size;     /* 4 or 8 */
	uint32_t task_start_boottime; /* u64 start_boottime (ns since boot, incl. suspend) */
	uint32_t task_nsproxy;        /* struct nsproxy *nsproxy */
	uint32_t task_cgroups;        /* struct css_set *cgroups */
	uint32_t task_signal;         /* struct signal_struct *signal */
	uint32_t task_thread_pid;     /* struct pid *thread_pid */
	/* struct signal_struct */
	uint32_t signal_nr_threads; /* int nr_threads */
	/* struct mm_struct */
	uint32_t mm_pgd;       /* pgd_t *pgd */
	uint32_t mm_arg_start; /* unsigned long arg_start */
	uint32_t mm_arg_end;   /* unsigned long arg_end */
	/* struct cred */
	uint32_t cred_uid; /* kuid_t uid (a u32 .val at offset 0 of kuid_t) */
	/* struct nsproxy */
	uint32_t nsproxy_uts_ns, nsproxy_ipc_ns, nsproxy_mnt_ns, nsproxy_pid_ns_for_children,
		nsproxy_net_ns, nsproxy_cgroup_ns;
	/* the struct ns_common `ns` member of each namespace struct, and its inum */
	uint32_t uts_namespace_ns, ipc_namespace_ns, mnt_namespace_ns, pid_namespace_ns, net_ns,
		cgroup_namespace_ns;
	uint32_t ns_common_inum; /* unsigned int inum */
	/* struct uts_namespace: struct new_utsname name; new_utsname.nodename[65] */
	uint32_t uts_namespace_name;
	uint32_t new_utsname_nodename;
	uint32_t new_utsname_release; /* char release[65]: to check the profile fits (uname -r) */
	/* struct pid: unsigned int level; struct upid numbers[]; struct upid { int nr; ns } */
	uint32_t pid_level;
	uint32_t pid_numbers;
	uint32_t upid_size;
	uint32_t upid_nr;
	uint32_t upid_ns;
	/* struct css_set: struct cgroup *dfl_cgrp */
	uint32_t css_set_dfl_cgrp;
	/* struct cgroup: struct kernfs_node *kn; unsigned long flags (CGRP_FROZEN bit) */
	uint32_t cgroup_kn;
	uint32_t cgroup_flags;
	/* struct kernfs_node: const char *name; struct kernfs_node *parent */
	uint32_t kernfs_node_name;
	uint32_t kernfs_node_parent;

	/* Added for the introspection library (issue 3 part 3): a profile made from BTF
	 * should always hold them. None of the first four can be at offset 0 (a refcount or
	 * thread_info is there), so 0 means "not in this profile" and the library then
	 * reports the facts they give as unknown instead of reading garbage.
	 * /proc shows Z and X from exit_state, not __state (fs/proc/array.c task_state_index):
	 * struct task_struct: int exit_state */
	uint32_t task_exit_state;
	/* /proc/PID/ns/user is __task_cred(task)->user_ns, i.e. real_cred->user_ns:
	 * struct cred: struct user_namespace *user_ns; struct user_namespace: struct ns_common ns
	 */
	uint32_t cred_user_ns;
	uint32_t user_namespace_ns;
	/* /proc/PID/ns/time and time_for_children (CONFIG_TIME_NS):
	 * struct nsproxy: struct time_namespace *time_ns, *time_ns_for_children;
	 * struct time_namespace: struct ns_common ns */
	uint32_t nsproxy_time_ns, nsproxy_time_ns_for_children;
	uint32_t time_namespace_ns;
	/* The name /proc shows for a kernel thread is not always task->comm
	 * (fs/proc/array.c proc_task_name): a kthread whose name did not fit has it in
	 * kthread->full_name (get_kthread_comm), and a workqueue worker gets "-" or "+" and
	 * its last workqueue's name appended (kernel/workqueue.c wq_worker_comm). OPTIONAL
	 * (0: absent, names are then task->comm, cut at 15 bytes; none can be at offset 0):
	 * struct task_struct: void *worker_private (the struct kthread of a kthread);
	 * struct kthread: void *data (a worker's struct worker), char *full_name;
	 * struct worker: struct work_struct *current_work, struct worker_pool *pool,
	 * char desc[24] */
	uint32_t task_worker_private;
	uint32_t kthread_data, kthread_full_name;
	uint32_t worker_current_work, worker_pool, worker_desc;

	/* The other views of the tasks `ps` compares with the tasks list (xview.c). OPTIONAL
	 * as a group: xview_known says whether the profile has every one (several are
	 * legitimately at offset 0, so 0 cannot mean "absent" here).
	 * struct task_struct: struct hlist_node pid_links[PIDTYPE_MAX]; struct list_head
	 * thread_node; struct signal_struct: struct list_head thread_head; struct pid: struct
	 * hlist_head tasks[PIDTYPE_MAX]; struct pid_namespace: struct idr idr; struct idr:
	 * struct radix_tree_root idr_rt (an xarray); struct xarray: void *xa_head;
	 * struct xa_node: unsigned char shift; void *slots[XA_CHUNK_SIZE] */
	bool xview_known;
	uint32_t task_pid_links, task_thread_node, signal_thread_head, pid_tasks;
	uint32_t pid_namespace_idr, idr_idr_rt, xarray_xa_head, xa_node_shift, xa_node_slots;

	/* What a task may do, as exec and cp give it to the process they start in a container
	 * (vmi/restrict.c). OPTIONAL as a group: restrict_known says whether the profile has
	 * every one (several are at offset 0). struct cred: kernel_cap_t cap_inheritable,
	 * cap_bset, cap_ambient (two u32 to 6.2, one u64 since: 8 bytes, bit n = capability n
	 * either way); struct task_struct: unsigned long atomic_flags (PFA_NO_NEW_PRIVS = bit
	 * 0), struct seccomp seccomp; struct seccomp: int mode, struct seccomp_filter *filter;
	 * struct seccomp_filter: bool log, struct seccomp_filter *prev, struct bpf_prog *prog,
	 * struct notification *notif; struct bpf_prog: struct sock_fprog_kern *orig_prog (kept
	 * with CONFIG_CHECKPOINT_RESTORE); struct sock_fprog_kern: u16 len, struct
	 * sock_filter *filter */
	bool restrict_known;
	/* Who owns a container (owner.c): root, or the unprivileged user whose user namespace
	 * or delegated cgroup it lives in. OPTIONAL as a group (owner_known). struct
	 * user_namespace: struct user_namespace *parent, kuid_t owner; struct kernfs_node:
	 * struct kernfs_iattrs *iattr (NULL: root's, as created); struct kernfs_iattrs: kuid_t
	 * ia_uid (0 offset: the group flag tells) */
	bool owner_known;
	uint32_t user_namespace_parent, user_namespace_owner, kernfs_node_iattr,
		kernfs_iattrs_ia_uid;
	uint32_t cred_cap_inheritable, cred_cap_bset, cred_cap_ambient, cred_cap_permitted,
		cred_cap_effective;
	uint32_t task_atomic_flags, task_seccomp, seccomp_mode, seccomp_filter;
	uint32_t seccomp_filter_log, seccomp_filter_prev, seccomp_filter_prog, seccomp_filter_notif;
	uint32_t bpf_prog_orig_prog, sock_fprog_kern_len, sock_fprog_kern_filter;
	/* Whether every task of a cgroup has the freezer's trap pending and is off every CPU
	 * (vmi/freezer.c). OPTIONAL as a group (freeze_known). struct cgroup: struct list_head
	 * cset_links, int nr_descendants; struct cgrp_cset_link: struct css_set *cset, struct
	 * list_head cset_link; struct css_set: struct list_head tasks, mg_tasks; struct
	 * task_struct: struct list_head cg_list, unsigned long jobctl, int on_cpu, struct
	 * thread_info thread_info (x86: CONFIG_THREAD_INFO_IN_TASK, at 0); struct thread_info:
	 * unsigned long flags (TIF_*). Offsets of 0 are real here (the group flag tells) */
	bool freeze_known;
	uint32_t cgroup_cset_links, cgroup_nr_descendants, cgrp_cset_link_cset,
		cgrp_cset_link_cset_link, css_set_tasks, css_set_mg_tasks, task_cg_list,
		task_jobctl, task_on_cpu, task_thread_info, thread_info_flags;
};

struct profile_error {
	char message[PROFILE_ERR_MAX];
};

/*
 * What a profile must hold, one entry per value profile_parse() looks for: the member
 * `member` of the struct `type` (its byte offset), or the struct's size when member is
 * NULL. tools/mkprofile writes exactly these, and the tests check that each one is
 * required. Per-CPU symbols are not in this table (see profile.c).
 */
#define PROFILE_NEED_PCPU_HOT                                                                      \
	1u /* needed only when there is no current_task symbol                                     \
	      (6.2 to 6.14 keep the current task in pcpu_hot) */
#define PROFILE_NEED_SIZEOF                                                                        \
	2u /* also record the size of the member's base type                                       \
	      (task_struct.__state: 4, or 8 for the older long state) */
#define PROFILE_NEED_OPTIONAL                                                                      \
	4u /* left 0 when the profile lacks it, never refused (the                                 \
	      fields marked "0 means not in this profile" above) */
#define PROFILE_NEED_XVIEW                                                                         \
	8u /* optional as a group (vmi_profile.xview_known): the cross-view of `ps`                \
	    */
#define PROFILE_NEED_RESTRICT                                                                      \
	16u /* optional as a group (vmi_profile.restrict_known): what exec and cp give a           \
	       container's process                                                                 \
	     */
#define PROFILE_NEED_OWNER                                                                         \
	32u /* optional as a group (vmi_profile.owner_known): who owns a container */
#define PROFILE_NEED_FREEZE                                                                        \
	64u /* optional as a group (vmi_profile.freeze_known): a freeze every task will take */
#define PROFILE_NO_SLOT 0xffffu /* value not stored in struct vmi_profile */

struct profile_need {
	const char *type;   /* "task_struct" */
	const char *member; /* "tasks"; NULL: the size of the struct itself */
	const char *alt;    /* the member's name in older kernels ("state"), or NULL */
	uint16_t slot;      /* offsetof(struct vmi_profile, ...) of the uint32_t it fills */
	uint8_t flags;      /* PROFILE_NEED_* */
};

extern const struct profile_need profile_needs[];
extern const size_t profile_needs_count;

/*
 * Parse an ISF JSON profile (ours or dwarf2json's) of `len` bytes (need not be
 * NUL-terminated) into *p. Returns 0, or -1 with err naming what is missing or malformed
 * (e.g. "profile lacks task_struct.tasks"). Bounded in time and nesting depth; uses no
 * memory beyond the caller's structures.
 */
int profile_parse(const char *json, size_t len, struct vmi_profile *p, struct profile_error *err);

#endif
