/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of hv/vmi; not part of the library's interface (vmi.h). */
#ifndef HV_VMI_VMI_INTERNAL_H
#define HV_VMI_VMI_INTERNAL_H

#include <stdint.h>

#include "vmi/vmi.h"

/* PID_MAX_LIMIT on 64-bit (include/linux/threads.h): no pid or tgid is larger. */
#define VMI_PID_MAX_LIMIT (4 * 1024 * 1024)

void vmi_set_error(struct vmi *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* percpu.c: kernel page tables, per-CPU base and current task into v. */
int vmi_percpu_locate(struct vmi *v, const struct vmi_cpu *cpu);

/* task.c */
/* Does `task` look like a task_struct: readable, pid and tgid in range, comm ended by NUL,
 * and (unless an idle task) linked in a consistent tasks list? */
bool vmi_task_plausible(struct vmi *v, uint64_t task);
/* A task on its way out that may be off every list yet still current on a CPU: exit_notify
 * sets exit_state (EXIT_DEAD for a task that reaps itself, whose release_task unlinks it,
 * tasks.prev becoming LIST_POISON2), then do_task_dead runs it one last time
 * (kernel/exit.c). PF_EXITING set, exit_state EXIT_DEAD or EXIT_ZOMBIE, sane ids. */
bool vmi_task_exiting(struct vmi *v, uint64_t task);
/* init_task from v->current_task; 0 or -1 with v->error set. */
/* init_task: `known` (a previous session's, 0: none) when it still is pid 0 on the tasks
 * list, else found by going round the list from the current task. */
int vmi_find_init_task(struct vmi *v, uint64_t known);

/* Little-endian fields of a buffer read from the guest; out-of-range reads give 0. */
static inline uint64_t vmi_get(const uint8_t *buf, size_t len, uint32_t off, uint32_t size)
{
	uint64_t val = 0;

	if (off > len || size > len - off || size > 8)
		return 0;
	for (uint32_t i = 0; i < size; i++)
		val |= (uint64_t)buf[off + i] << (8u * i);
	return val;
}

/* process.c: the inode of a namespace struct (cached per session). 0 if unreadable. */
uint32_t vmi_ns_inum(struct vmi *v, uint64_t ns_struct, uint32_t ns_member_off, uint32_t kind);

#endif
