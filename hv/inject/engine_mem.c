/* SPDX-License-Identifier: MIT */
/* The injection engine: the tasks' user memory (engine_internal.h). */
#include "inject/engine_internal.h"

#include "console/verbs_vmi.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/linux_abi.h"
#include "inject/syscall_trap.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "x86/cpu.h"
#include "x86/paging.h"

/* The target's memory as it could reach it itself (vmi_user_access). */
static int user_access(struct inject_env *env, uint64_t va, void *buf, size_t n, bool write)
{
	return vmi_user_access(engine.vmi.mem, live_write_phys, env->pgd_pa, engine.vmi.la57, va,
			       buf, n, write);
}

int inject_write_user(struct inject_env *env, uint64_t va, const void *buf, size_t n)
{
	return user_access(env, va, (void *)buf, n, true);
}

int inject_read_user(struct inject_env *env, uint64_t va, void *buf, size_t n)
{
	return user_access(env, va, buf, n, false);
}
