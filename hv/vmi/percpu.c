/* SPDX-License-Identifier: MIT */
/*
 * From one vCPU's registers to the kernel's current task, without symbols (DESIGN §5).
 *
 * On x86-64 Linux the per-CPU area of a CPU is addressed through GS: the kernel runs with
 * IA32_GS_BASE = that CPU's per-CPU offset, and `current_task` (6.1; pcpu_hot from 6.2) is
 * a variable of the .data..percpu section, linked at 0, so its address is GS base + the
 * variable's offset from BTF (arch/x86/include/asm/current.h). In user mode SWAPGS has
 * exchanged the two: the kernel's value is in IA32_KERNEL_GS_BASE. A register snapshot
 * taken on the way in or out of the kernel may hold either, and a dump may lack one, so
 * both are tried (the mode's likely one first) and the answer is checked.
 *
 * With PTI (arch/x86/mm/pti.c) a CPU in user mode runs on the user copy of the page tables
 * (CR3 bit 12 set, PTI_USER_PGTABLE_BIT), which maps almost none of the kernel; the kernel
 * copy is the 4 KiB page below it. CR3 with bit 12 cleared is tried first; without PTI
 * bit 12 is an address bit, so CR3 as it is comes next.
 */
#include "lib/fmt.h"
#include "vmi/vmi.h"
#include "vmi/vmi_internal.h"
#include "x86/cr.h"

#define PTI_USER_PGTABLE_BIT (1ull << 12)

int vmi_percpu_locate(struct vmi *v, const struct vmi_cpu *cpu)
{
	const struct vmi_profile *p = v->prof;
	uint64_t tables[2] = {vmi_cr3_table(cpu->cr3) & ~PTI_USER_PGTABLE_BIT,
			      vmi_cr3_table(cpu->cr3)};
	uint64_t bases[2];
	size_t ntables = tables[0] == tables[1] ? 1 : 2;
	bool any_base = false;

	if (cpu->user_mode) {
		bases[0] = cpu->kernel_gs_base;
		bases[1] = cpu->gs_base;
	} else {
		bases[0] = cpu->gs_base;
		bases[1] = cpu->kernel_gs_base;
	}
	v->la57 = (cpu->cr4 & X86_CR4_LA57) != 0;
	if (tables[1] == 0) {
		vmi_set_error(v, "CR3 is 0: the CPU state holds no page tables");
		return -1;
	}

	for (size_t t = 0; t < ntables; t++) {
		v->kernel_cr3 = tables[t];
		for (size_t b = 0; b < 2; b++) {
			uint64_t task;

			if (!vmi_is_kernel_ptr(v, bases[b]))
				continue;
			any_base = true;
			if (vmi_read_kptr(v, bases[b] + p->percpu_current_task, &task) != 0)
				continue;
			if (!vmi_task_plausible(v, task))
				continue;
			v->percpu_base = bases[b];
			v->current_task = task;
			return 0;
		}
	}
	/* The current task may be one the kernel is just taking out of the tasks list (the
	 * end of do_exit: list_del_rcu poisons its links), so it looks implausible for that
	 * moment. A task a previous session found (init_task) still is a way in. */
	for (size_t t = 0; t < ntables && any_base && cpu->known_task != 0; t++) {
		v->kernel_cr3 = tables[t];
		if (vmi_task_plausible(v, cpu->known_task)) {
			v->percpu_base = bases[0];
			v->current_task = cpu->known_task;
			return 0;
		}
	}
	v->kernel_cr3 = 0;
	if (!any_base)
		vmi_set_error(v,
			      "no per-CPU base: GS base 0x%llx and KERNEL_GS_BASE 0x%llx are not "
			      "kernel addresses",
			      (unsigned long long)cpu->gs_base,
			      (unsigned long long)cpu->kernel_gs_base);
	else
		vmi_set_error(v,
			      "no task at per-CPU base + 0x%llx (GS base 0x%llx, KERNEL_GS_BASE "
			      "0x%llx, CR3 0x%llx): wrong profile for this kernel?",
			      (unsigned long long)p->percpu_current_task,
			      (unsigned long long)cpu->gs_base,
			      (unsigned long long)cpu->kernel_gs_base,
			      (unsigned long long)cpu->cr3);
	return -1;
}

void vmi_oncpu_read(struct vmi *v, const struct vmi_cpu *cpu, struct vmi_oncpu *out)
{
	const struct vmi_profile *p = v->prof;
	uint64_t bases[2] = {cpu->user_mode ? cpu->kernel_gs_base : cpu->gs_base,
			     cpu->user_mode ? cpu->gs_base : cpu->kernel_gs_base};

	out->state = VMI_CPU_UNKNOWN;
	out->task = 0;
	out->pid = out->tgid = -1;
	out->exiting = false;
	out->comm[0] = '\0';
	out->why = "neither GS base is a kernel address";
	for (size_t b = 0; b < 2; b++) {
		uint64_t task;
		uint32_t pid, tgid;
		bool exiting = false;

		if (!vmi_is_kernel_ptr(v, bases[b]))
			continue;
		if (vmi_read_kptr(v, bases[b] + p->percpu_current_task, &task) != 0) {
			out->why = "its per-CPU current_task is unreadable";
			continue;
		}
		if (!vmi_task_plausible(v, task) && !(exiting = vmi_task_exiting(v, task))) {
			out->why = "its per-CPU current_task is no plausible task";
			continue;
		}
		if (vmi_read_u32(v, task + p->task_pid, &pid) != 0 ||
		    vmi_read_u32(v, task + p->task_tgid, &tgid) != 0)
			continue;
		out->state = VMI_CPU_RUNNING;
		out->exiting = exiting;
		out->why = NULL;
		out->task = task;
		out->pid = (int32_t)pid;
		out->tgid = (int32_t)tgid;
		if (vmi_read_kernel(v, task + p->task_comm, out->comm, sizeof(out->comm)) != 0)
			out->comm[0] = '\0';
		out->comm[sizeof(out->comm) - 1] = '\0';
		return;
	}
}
