/* SPDX-License-Identifier: MIT */
/*
 * The syscall-entry trap (DESIGN §6, step 1): while armed, every SYSCALL of the guest
 * exits to the monitor at the kernel's entry point, and nothing else does. When disarmed,
 * the guest's syscalls, interrupts and faults cause no exit at all.
 *
 * How: the guest-physical page holding the IA32_LSTAR target is shown to the guest, for
 * instruction fetches only, as a shadow copy in which the entry's first instruction,
 * SWAPGS (0F 01 F8), is replaced by VMCALL (0F 01 C1), the same length. Interrupt and
 * exception stubs on the same page run unchanged from the shadow. A VMCALL exit at RIP ==
 * LSTAR is a syscall entry: the monitor records the calling task, performs the SWAPGS
 * itself and resumes after it. Data reads and writes of the page see (and change) the
 * original: the first one switches the page to its original, not executable; the next
 * fetch switches back to a freshly re-synchronised shadow (EPT execute-only, SDM 28.2.2,
 * when the CPU offers it; else the shadow is also readable).
 */
#ifndef HV_INJECT_SYSCALL_TRAP_H
#define HV_INJECT_SYSCALL_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "console/cmd.h"
#include "core/vcpu.h"

struct syscall_trap_stats {
	bool armed;
	bool execute_only;     /* the shadow is not readable (EPT execute-only) */
	int32_t target_tgid;   /* -1: every task */
	uint64_t lstar;        /* the guest's IA32_LSTAR */
	uint64_t entry_gpa;    /* guest-physical address of the entry instruction */
	uint64_t entries;      /* syscall entries trapped since armed */
	uint64_t cpus_entered; /* bit N: vCPU N trapped one (N < 64) */
	uint64_t target_entries;
	uint64_t unknown_task; /* entries whose task could not be read */
	uint64_t view_switches;
	uint64_t switch_failures; /* view changes some CPU did not confirm (core/cpus.h) */
	uint64_t stale_entries;   /* the shadow run after a disarm, from a stale translation */
};

/* Arm for every task (tgid < 0) or for one process. 0, or -1 with why[cap] saying why. */
int syscall_trap_arm(int32_t tgid, char *why, size_t cap);
void syscall_trap_disarm(void);
struct vmi;
const struct syscall_trap_stats *syscall_trap_stats(void);
/* The task running on this CPU while the kernel's per-CPU base is in IA32_KERNEL_GS_BASE
 * (user mode, or the syscall entry before its SWAPGS; DESIGN §6): current_task at the
 * profile's per-CPU offset, read through `vmi` (refreshed first). */
bool syscall_trap_current_task(struct vmi *vmi, uint64_t *task);

/* Registers the trap's exit hooks (its VMCALL and the EPT violations of its page:
 * vmx/exit_hooks.h); at start, before launch. False if the hook list is full. */
bool syscall_trap_register_hooks(void);

/* The shadow of the entry page made again from the original (kernel protection has just
 * checked and repaired it: a hook written to the original while the shadow was not shown
 * must not live on in the copy). Nothing when the trap is not armed. */
void syscall_trap_refresh(void);

#endif
