/* SPDX-License-Identifier: MIT */
/*
 * The introspection verbs on the live console: ps, containers, inspect. The guest is
 * stopped while a verb runs (it runs at a VM exit on this CPU, and holds every other CPU
 * out of the guest: core/cpus.h), so what it reads is one consistent moment of guest
 * memory; ps, containers and inspect read a bounded number of tasks per exit and go on at the next
 * ones (console_start_job), the guest running in between. The output code is shared with `hvctl
 * --dump` (vmi/report.c).
 */
#include "console/verbs_vmi.h"

#include "console/console.h"
#include "core/cpus.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/ept_claims.h"
#include "protect/protect.h"
#include "x86/ept.h"
#include "vmi/kimage.h"
#include "vmi/report.h"
#include "vmi/vmi.h"
#include "vmx/vmx.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

/* UEFI memory types that are RAM the guest owns (UEFI 2.x Table 7-6): loader and boot
 * services code/data, runtime services code/data, conventional, ACPI reclaim, persistent.
 * Everything else (MMIO, reserved, ACPI NVS) is never read: reads there can have side
 * effects, and the monitor's own pages are reserved too. */
static bool efi_type_is_ram(uint32_t t)
{
	return (t >= 1 && t <= 7) || t == 9 || t == 14;
}

static bool page_is_guest_ram(uint64_t pa)
{
	if (pa >= machine.core_base && pa < machine.core_base + machine.core_size)
		return false;
	for (uint32_t i = 0; i < machine.mem_count; i++) {
		const struct boot_mem_range *m = &machine.mem[i];
		if (pa >= m->base && pa - m->base < m->pages * PAGE_SIZE_4K)
			return efi_type_is_ram(m->efi_type);
	}
	return false;
}

/* [gpa, gpa + n) lies in guest RAM, page by page (and does not wrap). */
bool live_guest_ram(uint64_t gpa, size_t n)
{
	if (gpa + n < gpa)
		return false;
	for (uint64_t page = gpa & ~(PAGE_SIZE_4K - 1); page < gpa + n; page += PAGE_SIZE_4K) {
		if (!page_is_guest_ram(page))
			return false;
	}
	return true;
}

/* Guest-physical == host-physical (identity EPT), and the host maps all RAM. */
static int live_read_phys(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	(void)ctx;
	if (n == 0)
		return 0;
	if (!live_guest_ram(gpa, n))
		return -1;
	memcpy(buf, (const void *)(uintptr_t)gpa, n);
	return 0;
}

/* Every page of [gpa, gpa + n) is one the guest could write itself: its own page, writable
 * in EPT after every claim on it (mm/ept_claims.h). The monitor writes through its own
 * mapping, which no EPT entry checks: without this, a guest kernel that maps a page it may
 * not write (a kernel page table kernel protection tracks, the read-only rodata) into a
 * process could have the monitor write it on that process's behalf, unseen. */
static bool guest_writable(uint64_t gpa, size_t n)
{
	for (uint64_t page = gpa & ~(PAGE_SIZE_4K - 1); page < gpa + n; page += PAGE_SIZE_4K) {
		uint64_t hpa, perms;
		uint8_t memtype;
		ept_claims_effective(&vm.ept_claims, page, &hpa, &perms, &memtype);
		if (hpa != page || !(perms & EPT_WRITE))
			return false;
	}
	return true;
}

/* Writes go only to guest RAM, like reads, and only where the guest itself could write;
 * the injection engine writes its scratch area in a hijacked process this way, the channel
 * its frames to the relay. */
int live_write_phys(uint64_t gpa, const void *buf, size_t n)
{
	if (n == 0)
		return 0;
	if (!live_guest_ram(gpa, n) || protect_range_protected(gpa, n) || !guest_writable(gpa, n))
		return -1; /* never kernel text, rodata or the IDT for the guest's asking */
	memcpy((void *)(uintptr_t)gpa, buf, n);
	return 0;
}

static struct vmi_mem live_mem = {.read_phys = live_read_phys};
static struct vmi live;
static struct vmi_container live_containers[VMI_LIVE_CONTAINERS_MAX];
static struct vmi_xview_entry live_xview[VMI_LIVE_XVIEW_SLOTS];

int live_user_access(uint64_t cr3, bool la57, uint64_t va, void *buf, size_t n, bool write)
{
	return vmi_user_access(&live_mem, live_write_phys, cr3, la57, va, buf, n, write);
}

/* init_task as the last session found it: the way in when the current task is one
 * being torn down at this very exit (vmi_percpu_locate). */
static uint64_t last_init_task;

/* Open a session on the guest as it is at this exit. */
int live_vmi_open(struct vmi *session, struct reply *r)
{
	char why[PROTO_MESSAGE_MAX];
	if (live_vmi_open_why(session, why, sizeof(why)) < 0)
		return reply_fail(r, PROTO_FAILED, "%s", why);
	return 0;
}

int live_vmi_open_why(struct vmi *session, char *why, size_t cap)
{
	if (!vm.profile_loaded) {
		fmt_snprintf(why, cap, "introspection unavailable: %s", vm.profile_status);
		return -1;
	}
	/* CPL is SS.DPL (SDM Vol. 3A 5.5); in user mode the kernel's per-CPU base waits in
	 * IA32_KERNEL_GS_BASE, which VM exits do not touch: rdmsr gives the guest's. */
	uint64_t ss_ar = vmread(GUEST_SS_AR_BYTES);
	struct vmi_cpu cpu = {
		.cr3 = vmread(GUEST_CR3),
		.cr4 = vmread(GUEST_CR4),
		.gs_base = vmread(GUEST_GS_BASE),
		.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE),
		.user_mode = ((ss_ar >> 5) & 3) == 3,
		.known_task = last_init_task,
	};
	if (vmi_open(session, &live_mem, &vm.profile, &cpu) < 0) {
		fmt_snprintf(why, cap, "introspection failed: %s", session->error);
		return -1;
	}
	last_init_task = session->init_task;
	if (vmi_profile_fits(session, why, cap) < 0)
		return -1;
	if (cap > 0)
		why[0] = '\0'; /* vmi_profile_fits leaves "kernel R" there on success */
	/* Sessions of the injection engine and the trap live for many exits. */
	(void)vmi_pin_kernel_tables(session);
	return 0;
}

static struct vmi_oncpu live_oncpu[HV_CPUS_MAX];

static struct vmi_cpu snapshot_cpu(const struct vcpu *o)
{
	/* CPL is SS.DPL (SDM Vol. 3A 5.5). */
	return (struct vmi_cpu){
		.cr3 = o->guest_snapshot.cr3,
		.cr4 = o->guest_snapshot.cr4,
		.gs_base = o->guest_snapshot.gs_base,
		.kernel_gs_base = o->guest_snapshot.kernel_gs_base,
		.user_mode = ((o->guest_snapshot.ss_ar_bytes >> 5) & 3) == 3,
	};
}

/* What every vCPU runs, from the registers each left at its last exit; they are all held
 * (live_hold), so those are what they run now. */
static void read_oncpu(void)
{
	uint32_t n = vm.nr_vcpus;
	for (uint32_t k = 0; k < n; k++) {
		const struct vcpu *o = vm.vcpu[k];
		struct vmi_oncpu *out = &live_oncpu[k];
		out->cpu = k;
		if (__atomic_load_n(&o->wait_for_sipi, __ATOMIC_SEQ_CST)) {
			out->state = VMI_CPU_STOPPED;
			continue;
		}
		if (!o->guest_snapshot.valid) {
			out->state = VMI_CPU_UNKNOWN;
			out->why = "no VM exit yet";
			continue;
		}
		struct vmi_cpu cpu = snapshot_cpu(o);
		vmi_oncpu_read(&live, &cpu, out);
	}
	live.oncpu = live_oncpu;
	live.oncpu_count = n;
}

/* A verb reads one moment of the guest: this CPU is in a VM exit, and every other CPU is
 * held out of the guest (core/cpus.h) until live_release(). */
static int live_hold(struct reply *r)
{
	char why[160];
	if (!cpus_hold_others(this_vcpu(), why, sizeof(why)))
		return reply_fail(r, PROTO_FAILED,
				  "the guest could not be stopped for a consistent read: %s", why);
	return 0;
}

static void live_release(void)
{
	cpus_release_others(this_vcpu());
}

/* init_pid_ns at run time, from the profile's symbol and the slide LSTAR gives (the
 * entry MSRs are pinned once the kernel is locked); 0 when either is missing. */
static uint64_t live_init_pid_ns(void)
{
	struct kimage ki;
	char why[PROFILE_ERR_MAX];

	if (!vm.profile_loaded ||
	    !kimage_locate(&vm.profile, rdmsr(MSR_LSTAR), &ki, why, sizeof(why)))
		return 0;
	return kimage_symbol(&vm.profile, &ki, KSYM_INIT_PID_NS);
}

static int live_open(struct reply *r)
{
	live.containers = live_containers;
	live.containers_cap = VMI_LIVE_CONTAINERS_MAX;
	live.xview_slots = live_xview;
	live.xview_cap = VMI_LIVE_XVIEW_SLOTS;
	live.init_pid_ns = live_init_pid_ns();
	if (live.xview_seed == 0)
		live.xview_seed = rdtsc() ^ (machine.core_base << 7); /* the set's hash secret */
	live.oncpu = NULL;
	live.oncpu_count = 0;
	if (live_vmi_open(&live, r) < 0)
		return -1;
	read_oncpu();
	return 0;
}

/* An operation's containers, collected over several exits before it starts
 * (live_find_then, live_list_then): owned by the boot CPU's exits, one at a time (the
 * console runs one job). */
static struct {
	bool list;
	char name[CONSOLE_LINE_MAX + 1];
	struct vmi_container *out;
	size_t cap, *n;
	uint64_t *cgroup;
	int (*then)(struct reply *r);
	struct vmi_ct_collect ct;
} find_job;

/* The collect done: the named container (or the list) into the caller's storage. 0, or -1
 * with reply_fail. */
static int find_job_result(struct reply *r)
{
	size_t n = find_job.ct.rc < 0 ? VMI_LIVE_CONTAINERS_MAX : find_job.ct.n;
	if (find_job.list) {
		*find_job.n = n < find_job.cap ? n : find_job.cap;
		memcpy(find_job.out, live_containers, *find_job.n * sizeof(find_job.out[0]));
		return 0;
	}
	size_t at = 0;
	char why[PROTO_MESSAGE_MAX];
	if (vmi_container_resolve(live_containers, n, find_job.name, &at, why, sizeof(why)) < 0)
		return reply_fail(
			r, PROTO_FAILED, "%s%s", why,
			strncmp(why, "no such", 7) == 0
				? " (\"containers\" lists those with processes; a stopped "
				  "one leaves none to see)"
				: "");
	struct vmi_process p;
	const struct vmi_container *ct = &live_containers[at];
	*find_job.out = *ct;
	*find_job.cgroup = 0;
	if (ct->init_task == 0 ||
	    vmi_process_read(&live, ct->init_task, VMI_READ_NS | VMI_READ_CGROUP, &p) != 0)
		return 0; /* the operation refuses a cgroup it cannot read */
	/* The collect took several exits: the init it found may have ended since. */
	if (!vmi_container_init_still(ct, &p))
		return reply_fail(r, PROTO_FAILED,
				  "container %s changed while it was looked up (its init, pid %d, "
				  "is gone or moved): run it again",
				  ct->name, (int)ct->init_pid);
	*find_job.cgroup = p.cgroup_ptr;
	return 0;
}

static bool find_job_step(struct reply *r, void *ctx)
{
	(void)ctx;
	if (live_hold(r) < 0)
		return true;
	if (live_open(r) < 0) {
		live_release();
		return true;
	}
	if (!vmi_containers_step(&live, &find_job.ct, VMI_LIVE_TASKS_PER_STEP)) {
		live_release();
		return false;
	}
	int rc = find_job_result(r);
	live_release();
	if (rc == 0 && find_job.then(r) == CMD_DEFERRED)
		console_job_hand_over();
	return true;
}

static int find_job_begin(int (*then)(struct reply *r))
{
	find_job.then = then;
	vmi_containers_begin(&find_job.ct, live_containers, VMI_LIVE_CONTAINERS_MAX);
	console_start_job(find_job_step, NULL);
	return CMD_DEFERRED;
}

int live_find_then(struct reply *r, const char *name, struct vmi_container *out, uint64_t *cgroup,
		   int (*then)(struct reply *r))
{
	size_t len = strnlen(name, sizeof(find_job.name));
	if (len == sizeof(find_job.name))
		return reply_fail(r, PROTO_BAD_ARGUMENT, "container name too long");
	find_job.list = false;
	memcpy(find_job.name, name, len + 1);
	find_job.out = out;
	find_job.cgroup = cgroup;
	return find_job_begin(then);
}

int live_list_then(struct reply *r, struct vmi_container *out, size_t cap, size_t *n,
		   int (*then)(struct reply *r))
{
	(void)r;
	find_job.list = true;
	find_job.out = out;
	find_job.cap = cap;
	find_job.n = n;
	return find_job_begin(then);
}

/* The verb in progress over several exits (console_start_job: one at a time; a request
 * that comes meanwhile is answered busy): owned by the boot CPU's exits */
static struct {
	enum { LIVE_PS, LIVE_CONTAINERS, LIVE_INSPECT } verb;
	union {
		struct vmi_ps_job ps;
		struct vmi_ct_list_job ct;
		struct vmi_inspect_job inspect;
	} u;
} live_job;

/* The next step of live_job, on the held guest in a new session. */
static bool live_job_step(struct reply *r, void *ctx)
{
	(void)ctx;
	if (live_hold(r) < 0)
		return true;
	bool done = live_open(r) < 0;
	if (!done) {
		switch (live_job.verb) {
		case LIVE_PS:
			done = vmi_ps_step(&live, &live_job.u.ps, r, VMI_LIVE_TASKS_PER_STEP);
			break;
		case LIVE_CONTAINERS:
			done = vmi_ct_list_step(&live, &live_job.u.ct, r, VMI_LIVE_TASKS_PER_STEP);
			break;
		case LIVE_INSPECT:
			done = vmi_inspect_step(&live, &live_job.u.inspect, r,
						VMI_LIVE_TASKS_PER_STEP);
			break;
		}
	}
	live_release();
	return done;
}

/* A verb's start said rc: the job runs from the next exits on, or the request failed. */
static int live_job_begin(int rc)
{
	if (rc < 0)
		return -1;
	console_start_job(live_job_step, NULL);
	return CMD_DEFERRED;
}

int verb_ps(struct reply *r, int argc, char **argv)
{
	live_job.verb = LIVE_PS;
	return live_job_begin(vmi_ps_start(&live_job.u.ps, r, argc, argv));
}

int verb_containers(struct reply *r, int argc, char **argv)
{
	live_job.verb = LIVE_CONTAINERS;
	return live_job_begin(vmi_ct_list_start(&live_job.u.ct, r, argc, argv));
}

int verb_inspect(struct reply *r, int argc, char **argv)
{
	live_job.verb = LIVE_INSPECT;
	return live_job_begin(vmi_inspect_start(&live_job.u.inspect, r, argc, argv));
}
