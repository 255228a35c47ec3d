/* SPDX-License-Identifier: MIT */
#include "inject/syscall_trap.h"

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/engine.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/palloc.h"
#include "vmi/vmi.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/ept.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

static const uint8_t insn_swapgs[3] = {0x0F, 0x01, 0xF8};
static const uint8_t insn_vmcall[3] = {0x0F, 0x01, 0xC1};

enum trap_view {
	VIEW_SHADOW,   /* fetches see the shadow (entry patched); reads too unless exec-only */
	VIEW_ORIGINAL, /* reads and writes see the original; fetches fault back to the shadow */
};

static struct syscall_trap_stats stats = {.target_tgid = -1};
static struct vmi trap_vmi; /* session for reading the calling task */
static uint8_t *shadow;     /* the monitor's page holding the patched copy */
static uint64_t page_gpa;   /* guest-physical page of the entry */
static uint32_t entry_off;  /* offset of the entry in that page */
static uint8_t page_memtype;
static enum trap_view view;
static uint64_t last_switch_rip;   /* guest RIP of the last view switch */
static uint32_t same_rip_switches; /* consecutive switches at that RIP */

/* An instruction on the entry page that reads the page itself would alternate the views
 * forever with an execute-only shadow: after this many switches at one RIP the shadow is
 * made readable too; after SAME_RIP_DISARM (it writes the page itself) the trap gives up
 * rather than hold the guest. */
#define SAME_RIP_READABLE 4u
#define SAME_RIP_DISARM   64u

const struct syscall_trap_stats *syscall_trap_stats(void)
{
	return &stats;
}

static const uint8_t *original_page(void)
{
	return (const uint8_t *)(uintptr_t)page_gpa; /* identity: gpa == hpa */
}

static void resync_shadow(void)
{
	memcpy(shadow, original_page(), PAGE_SIZE_4K);
	memcpy(shadow + entry_off, insn_vmcall, sizeof(insn_vmcall));
}

void syscall_trap_refresh(void)
{
	if (stats.armed && view == VIEW_SHADOW)
		resync_shadow();
}

/* Switches the entry page's view on every CPU. A failure (a CPU that did not confirm
 * its INVEPT) leaves the new view in place: a stale translation elsewhere shows either
 * view, and both trap the next entry, but the caller hears of it. */
static int show(enum trap_view which, char *why, size_t cap)
{
	int rc;
	if (which == VIEW_SHADOW) {
		resync_shadow();
		uint64_t perms = stats.execute_only ? EPT_EXEC : (EPT_READ | EPT_EXEC);
		rc = ept_claim_change(EPT_OWNER_TRAP, page_gpa, PAGE_SIZE_4K, (int64_t)perms,
				      EPT_REDIRECT_LINEAR, (uint64_t)(uintptr_t)shadow,
				      page_memtype, why, cap);
	} else {
		rc = ept_claim_change(EPT_OWNER_TRAP, page_gpa, PAGE_SIZE_4K,
				      (int64_t)(EPT_READ | EPT_WRITE), EPT_REDIRECT_NONE, 0, 0, why,
				      cap);
	}
	view = which;
	stats.view_switches++;
	return rc;
}

/* A view switch inside an operation: a failure is logged and counted, the trap goes on. */
static void switch_view(enum trap_view which)
{
	char why[160];
	if (show(which, why, sizeof(why)) < 0) {
		stats.switch_failures++;
		log_printf("ctrvisor: syscall trap view switch: %s\r\n", why);
	}
}

int syscall_trap_arm(int32_t tgid, char *why, size_t cap)
{
	if (stats.armed)
		syscall_trap_disarm();
	if (live_vmi_open_why(&trap_vmi, why, cap) < 0)
		return -1;
	/* VMX transitions do not switch IA32_LSTAR and the monitor never uses SYSCALL:
	 * the MSR holds the guest's value (SDM 24.4/24.5 list what VM entries and exits
	 * load; LSTAR is not among them). */
	uint64_t lstar = rdmsr(MSR_LSTAR);
	uint64_t entry_pa;
	if (!vmi_is_kernel_ptr(&trap_vmi, lstar) ||
	    vmi_translate(trap_vmi.mem, trap_vmi.kernel_cr3, trap_vmi.la57, lstar, &entry_pa) < 0)
		return fmt_fail(why, cap,
				"the guest's syscall entry 0x%llx (IA32_LSTAR) is not mapped",
				(unsigned long long)lstar);
	uint64_t pa = entry_pa & ~(PAGE_SIZE_4K - 1);
	uint32_t off = (uint32_t)(entry_pa & (PAGE_SIZE_4K - 1));
	if (off > PAGE_SIZE_4K - sizeof(insn_swapgs) ||
	    (pa < machine.core_base + machine.core_size && pa + PAGE_SIZE_4K > machine.core_base))
		return fmt_fail(why, cap,
				"the syscall entry at gpa 0x%llx cannot be "
				"trapped (crosses a page or lies in the monitor)",
				(unsigned long long)entry_pa);
	uint8_t first[3];
	if (trap_vmi.mem->read_phys(trap_vmi.mem->ctx, entry_pa, first, sizeof(first)) < 0 ||
	    memcmp(first, insn_swapgs, sizeof(first)) != 0)
		return fmt_fail(why, cap,
				"the syscall entry does not start with SWAPGS (%02x %02x %02x): "
				"this kernel's entry is not supported (or it was tampered with)",
				first[0], first[1], first[2]);
	if (shadow == NULL)
		shadow = palloc_page();
	if (shadow == NULL)
		return fmt_fail(why, cap, "no memory for the shadow page");
	if (!mtrr_range_type(&vm.guest_mtrr, pa, PAGE_SIZE_4K, &page_memtype))
		page_memtype = MEMTYPE_WB;

	page_gpa = pa;
	entry_off = off;
	last_switch_rip = 0;
	same_rip_switches = 0;
	stats = (struct syscall_trap_stats){
		.armed = true,
		.execute_only = (machine.caps.ept_vpid & VMX_EPT_EXECUTE_ONLY_BIT) != 0,
		.target_tgid = tgid,
		.lstar = lstar,
		.entry_gpa = entry_pa,
	};
	char view_why[160];
	if (show(VIEW_SHADOW, view_why, sizeof(view_why)) < 0) {
		syscall_trap_disarm();
		return fmt_fail(why, cap, "cannot arm the syscall trap: %s", view_why);
	}
	return 0;
}

void syscall_trap_disarm(void)
{
	if (!stats.armed)
		return;
	/* The trap's claim dropped: the page gets what other owners leave it (mm/ept_claims.h),
	 * not RWX; once every CPU has dropped the shadow's translation, no CPU can execute
	 * its VMCALL (vmx/exit_misc.c still takes one that comes in a race with a failed
	 * invalidation). */
	char why[160];
	if (ept_claim_change(EPT_OWNER_TRAP, page_gpa, PAGE_SIZE_4K, -1, EPT_REDIRECT_NONE, 0, 0,
			     why, sizeof(why)) < 0) {
		stats.switch_failures++;
		log_printf("ctrvisor: syscall trap disarm: %s\r\n", why);
	}
	stats.armed = false;
}

bool syscall_trap_current_task(struct vmi *vmi, uint64_t *task)
{
	vmi_refresh(vmi); /* the guest changed its tables since the last exit */
	return vmi_read_kptr(vmi, rdmsr(MSR_KERNEL_GS_BASE) + vmi->prof->percpu_current_task,
			     task) == 0;
}

/* The task entering the kernel, and its tgid. */
static bool calling_task(uint64_t *task, int32_t *tgid)
{
	uint32_t id;
	if (!syscall_trap_current_task(&trap_vmi, task) ||
	    vmi_read_u32(&trap_vmi, *task + trap_vmi.prof->task_tgid, &id) < 0)
		return false;
	*tgid = (int32_t)id;
	return true;
}

static bool on_vmcall(struct vcpu *v)
{
	if (!stats.armed && stats.lstar != 0 && vmread(GUEST_RIP) == stats.lstar &&
	    (vmread(GUEST_CS_SELECTOR) & 3u) == 0) {
		/* The shadow's VMCALL, run through a translation this CPU kept after a disarm
		 * whose invalidation it did not confirm: drop it and run the real entry. */
		ept_invalidate_local();
		stats.stale_entries++;
		return true;
	}
	if (!stats.armed || vmread(GUEST_RIP) != stats.lstar)
		return false;
	/* CPL 0 here: SYSCALL loaded CS from STAR (SDM Vol. 2B SYSCALL); a VMCALL at this
	 * RIP from user mode cannot happen (user code cannot reach kernel text). */
	stats.entries++;
	if (v->id < 64)
		stats.cpus_entered |= 1ull << v->id;
	int32_t tgid;
	uint64_t task;
	if (!calling_task(&task, &tgid)) {
		stats.unknown_task++;
	} else {
		if (stats.target_tgid < 0 || tgid == stats.target_tgid)
			stats.target_entries++;
		/* The injection engine may redirect this entry (new registers); the
		 * SWAPGS below is the same either way. */
		inject_on_syscall_entry(v, task);
	}

	/* Perform the SWAPGS we replaced (SDM Vol. 2B SWAPGS: exchange IA32_GS_BASE and
	 * IA32_KERNEL_GS_BASE), then continue after it. */
	uint64_t gs = vmread(GUEST_GS_BASE);
	vmwrite(GUEST_GS_BASE, rdmsr(MSR_KERNEL_GS_BASE));
	wrmsr(MSR_KERNEL_GS_BASE, gs);
	vmwrite(GUEST_RIP, stats.lstar + sizeof(insn_swapgs));
	return true;
}

static bool on_ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	(void)v;
	if (!stats.armed || (gpa & ~(PAGE_SIZE_4K - 1)) != page_gpa)
		return false;
	/* Only an access the trap's own view forbids is the trap's; another owner's (kernel
	 * protection's read-only page) goes on to that owner's hook (mm/ept_claims.h). */
	bool fetch = (qualification & EPT_VIOL_FETCH) != 0;
	bool write = (qualification & EPT_VIOL_WRITE) != 0;
	bool ours = fetch ? view == VIEW_ORIGINAL
			  : view == VIEW_SHADOW && (write || stats.execute_only);
	if (!ours)
		return false;
	uint64_t rip = vmread(GUEST_RIP);
	same_rip_switches = rip == last_switch_rip ? same_rip_switches + 1 : 0;
	last_switch_rip = rip;
	if (same_rip_switches >= SAME_RIP_DISARM) {
		log_printf("ctrvisor: syscall trap disarmed: the guest at rip 0x%llx keeps "
			   "accessing the entry page from itself\r\n",
			   (unsigned long long)rip);
		syscall_trap_disarm();
		return true;
	}
	if (same_rip_switches >= SAME_RIP_READABLE && stats.execute_only) {
		/* E.g. the VERW of CLEAR_CPU_BUFFERS on the SYSRET path, which reads its
		 * operand from the entry page on every return (arch/x86/entry/entry_64.S):
		 * from now on the count is of accesses a readable shadow does not cure. */
		stats.execute_only = false;
		same_rip_switches = 0;
		switch_view(VIEW_SHADOW);
		return true;
	}
	if (qualification & EPT_VIOL_FETCH)
		switch_view(VIEW_SHADOW); /* code on the page runs again: the patched copy */
	else
		switch_view(VIEW_ORIGINAL); /* data access: the real bytes; the next fetch
					      comes back */
	return true;
}

static const struct exit_hooks trap_hooks = {
	.name = "syscall-trap",
	.ept_violation = on_ept_violation,
	.vmcall = on_vmcall,
};

bool syscall_trap_register_hooks(void)
{
	return exit_hooks_register(&trap_hooks);
}
