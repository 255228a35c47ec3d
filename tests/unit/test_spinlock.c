/*
 * The ticket lock (hv/lib/spinlock.h), with threads for CPUs: mutual exclusion under
 * contention, and first come, first served (a CPU that asked first gets the lock first,
 * however often a later one asks again).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/spinlock.h"

#define THREADS 2 /* as many as the test machine has CPUs: a preempted waiter stalls the queue */
#define ROUNDS  20000

static struct spinlock lock;
static uint64_t counter; /* plain: only ever changed under the lock */

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		spin_lock(&lock);
		uint64_t c = counter;
		__asm__ volatile("pause" ::: "memory"); /* widen the window a race would need */
		counter = c + 1;
		spin_unlock(&lock);
	}
	return NULL;
}

static void test_mutual_exclusion(void **state)
{
	(void)state;
	pthread_t t[THREADS];
	counter = 0;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(counter, (uint64_t)THREADS * ROUNDS);
	assert_int_equal(lock.next, lock.owner); /* free, every ticket served */
}

/* The waiter: takes the lock once and notes when it got it. */
static uint32_t served_at; /* counter value when the waiter got the lock */
static int waiter_in;

static void *waiter(void *arg)
{
	(void)arg;
	spin_lock(&lock);
	served_at = (uint32_t)counter;
	__atomic_store_n(&waiter_in, 1, __ATOMIC_SEQ_CST);
	spin_unlock(&lock);
	return NULL;
}

/* The main thread holds the lock while the waiter queues; then it releases and at once
 * asks again, in a loop, as a CPU taking exit after exit does. The waiter must get the
 * lock right after the first release. */
static void test_first_come_first_served(void **state)
{
	(void)state;
	pthread_t t;
	counter = 0;
	waiter_in = 0;
	spin_lock(&lock);
	uint32_t before = __atomic_load_n(&lock.next, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_create(&t, NULL, waiter, NULL), 0);
	while (__atomic_load_n(&lock.next, __ATOMIC_SEQ_CST) == before)
		; /* the waiter has its ticket */
	counter = 1;
	spin_unlock(&lock);
	for (int i = 0; i < 1000 && !__atomic_load_n(&waiter_in, __ATOMIC_SEQ_CST); i++) {
		spin_lock(&lock);
		counter++;
		spin_unlock(&lock);
	}
	pthread_join(t, NULL);
	assert_int_equal(served_at, 1); /* no second critical section of ours came first */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutual_exclusion),
		cmocka_unit_test(test_first_come_first_served),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
