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

/* The target's memory as it could reach it itself (SDM Vol. 3A 4.6): user-half
 * addresses, pages user-accessible at every level, and writable at every level for a
 * write (a page shared copy-on-write after a fork is read-only there: written through its
 * physical address, the other process would see the write too). */
static int user_access(struct inject_env *env, uint64_t va, void *buf, size_t n, bool write)
{
	uint8_t *p = buf;
	uint64_t pgd = env->pgd_pa;
	unsigned need = VMI_RIGHT_USER | (write ? VMI_RIGHT_WRITE : 0u);
	while (n > 0) {
		uint64_t pa, size;
		unsigned rights;
		size_t chunk = PAGE_SIZE_4K - (va & (PAGE_SIZE_4K - 1));
		if (chunk > n)
			chunk = n;
		if (va >= USER_VA_END || !vmi_user_half(va, engine.vmi.la57) ||
		    vmi_translate_rights(engine.vmi.mem, pgd, engine.vmi.la57, va, &pa, &size,
					 &rights) < 0 ||
		    (rights & need) != need)
			return -1;
		if (write ? live_write_phys(pa, p, chunk) < 0
			  : engine.vmi.mem->read_phys(engine.vmi.mem->ctx, pa, p, chunk) < 0)
			return -1;
		va += chunk;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

int inject_write_user(struct inject_env *env, uint64_t va, const void *buf, size_t n)
{
	return user_access(env, va, (void *)buf, n, true);
}

int inject_read_user(struct inject_env *env, uint64_t va, void *buf, size_t n)
{
	return user_access(env, va, buf, n, false);
}
