/* SPDX-License-Identifier: MIT */
/* The one nanosleep every injected program and the resident helper use (inject/engine.h). */
#include "inject/engine.h"
#include "inject/linux_abi.h"

enum inject_step inject_sleep_call(struct inject_env *env, uint32_t off, uint32_t ms,
				   struct inject_call *call)
{
	uint64_t ts[2] = {ms / 1000u, (uint64_t)(ms % 1000u) * 1000000u};
	*call = INJECT_CALL(LINUX_NR_nanosleep, env->scratch + off, 0);
	return inject_write_user(env, env->scratch + off, ts, sizeof(ts)) < 0 ? INJECT_STEP_FAIL
									      : INJECT_STEP_CALL;
}
