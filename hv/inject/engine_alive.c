/* SPDX-License-Identifier: MIT */
/* The injection engine: whether the operation's tasks still live (engine_internal.h). */
#include "inject/engine_internal.h"

#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "x86/cpu.h"
#include "x86/paging.h"

/* Is `task` still in the tasks list and not exiting? */
/* Does the task of `env` still live? Its own task_struct must still hold its tid and not
 * be exiting (a freed task_struct is soon reused by a new task: the victim loop of the lab
 * gets the same address back every time, so the address alone proves nothing), and its
 * thread group's leader must still be on the tasks list (only leaders are linked). */
bool inject_task_alive(const struct inject_env *env)
{
	const struct vmi_profile *pr = engine.vmi.prof;
	struct vmi_walk w;
	uint64_t t;
	uint32_t pid, tgid, flags;
	if (vmi_read_u32(&engine.vmi, env->task + pr->task_pid, &pid) != 0 ||
	    (int32_t)pid != env->tid ||
	    vmi_read_u32(&engine.vmi, env->task + pr->task_flags, &flags) != 0 ||
	    (flags & VMI_PF_EXITING))
		return false;
	vmi_walk_begin(&engine.vmi, &w);
	while (vmi_walk_next(&engine.vmi, &w, &t)) {
		if (vmi_read_u32(&engine.vmi, t + pr->task_tgid, &tgid) == 0 &&
		    (int32_t)tgid == env->tgid &&
		    vmi_read_u32(&engine.vmi, t + pr->task_pid, &pid) == 0 &&
		    (int32_t)pid == env->tgid)
			return true;
	}
	return w.truncated; /* an unreadable list proves nothing: assume alive */
}

void inject_check_alive(uint64_t now)
{
	bool refreshed = false;
	for (uint32_t i = 0; i < INJECT_CTX_MAX && engine.active; i++) {
		struct inject_ctx *c = &engine.ctx[i];
		if (c->phase == PH_FREE || now - c->seen_tsc < inject_ms_to_tsc(QUIET_MS))
			continue;
		if (!refreshed) {
			vmi_refresh(&engine.vmi);
			refreshed = true;
		}
		if (inject_task_alive(&c->env))
			continue;
		log_printf("ctrvisor: injection: pid %d is gone (call %llu%s in flight)\r\n",
			   (int)c->env.tgid, (unsigned long long)c->call.nr,
			   c->exec_pending ? ", an execve," : "");
		/* Its memory went with it: nothing to clean up there. A process that ran
		 * its execve ends by itself; any other loss ends the operation. */
		if (!c->exec_pending) {
			inject_set_error("pid %d exited during the operation", (int)c->env.tgid);
			engine.aborting = true;
			inject_finish(false);
		}
		if (c->resident)
			inject_helper_gone("died during an operation");
		inject_ctx_end(c);
	}
}
