/* SPDX-License-Identifier: MIT */
/*
 * A ticket spin lock for state shared between CPUs (who takes which lock: core/monitor.h).
 * Taken only in VMX root operation or before launch, with interrupts off, never across a
 * VM entry. First come, first served: a CPU waits for at most one critical section of
 * each other CPU. A test-and-set lock would let a CPU that exits often (a guest task in a
 * system-call loop under the entry trap) take it again and again while another waits;
 * the waiter may be the console's CPU, whose UART holds only 16 received bytes. PAUSE in
 * the wait loop (SDM Vol. 2B PAUSE: it eases the memory-order mis-speculation at the end
 * of a spin-wait loop).
 */
#ifndef HV_LIB_SPINLOCK_H
#define HV_LIB_SPINLOCK_H

#include <stdint.h>

struct spinlock {
	uint32_t next;  /* the next ticket to hand out */
	uint32_t owner; /* the ticket that holds the lock */
};

static inline void spin_lock(struct spinlock *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1u, __ATOMIC_RELAXED);
	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
		__asm__ volatile("pause" ::: "memory");
}

static inline void spin_unlock(struct spinlock *l)
{
	/* Only the holder writes owner. */
	__atomic_store_n(&l->owner, l->owner + 1u, __ATOMIC_RELEASE);
}

#endif
