/* SPDX-License-Identifier: MIT */
/*
 * A test-and-test-and-set spin lock for state shared between CPUs (who takes which lock:
 * core/monitor.h). Taken only in VMX root operation or before launch, with interrupts off,
 * never across a VM entry. PAUSE in the wait loop (SDM Vol. 2B PAUSE: it eases the
 * memory-order mis-speculation at the end of a spin-wait loop).
 */
#ifndef HV_LIB_SPINLOCK_H
#define HV_LIB_SPINLOCK_H

#include <stdbool.h>

struct spinlock {
	volatile int locked;
};

static inline bool spin_trylock(struct spinlock *l)
{
	return __atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

static inline void spin_lock(struct spinlock *l)
{
	while (!spin_trylock(l)) {
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__asm__ volatile("pause" ::: "memory");
	}
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
