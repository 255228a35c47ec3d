/*
 * The requests between CPUs (hv/core/cpus.c), with threads for CPUs: each simulated vCPU
 * runs "guest code" between vcpu_enter_gate() and vcpu_exit_begin() until an NMI (a flag
 * the fake ipi_send_nmi() raises) makes it exit, then takes the exit lock, as
 * vmx_exit_handler() does. The test is the requester, on vCPU 0, under the exit lock.
 *
 * What must hold: after cpus_hold_others() no other vCPU runs guest code until
 * cpus_release_others(); after cpus_invept_all() no vCPU runs guest code with a
 * translation older than the change; a CPU that does not answer makes both fail in bounded
 * time and names itself; every kick is taken as a kick and every other NMI is the guest's.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/cpus.h"
#include "core/ipi.h"
#include "core/monitor.h"
#include "vmx/vmx.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

struct machine machine;
struct vm vm;

#define SIM_CPUS 3u

/* One simulated CPU: its struct vcpu and what the test watches. */
struct sim_cpu {
	struct vcpu vcpu;
	pthread_t thread;
	int nmi;             /* NMIs pending at this CPU (atomic; the fake never merges) */
	int deaf;            /* ignores NMIs: a CPU that never answers (atomic) */
	int wait_for_sipi;   /* enters the guest in wait-for-SIPI (atomic) */
	uint64_t ept_gen;    /* the EPT generation of its last INVEPT (atomic) */
	uint64_t guest_runs; /* guest-code iterations (atomic) */
	uint64_t nmi_exits;
	uint64_t kicks_seen; /* NMI exits vcpu_nmi_is_kick() called a kick */
	uint64_t guest_nmis; /* the other NMI exits */
};

static struct sim_cpu cpus[SIM_CPUS];
/* error-checking: teardown may unlock it after a failed assertion left it held (by this
 * thread; any other owner makes the unlock a harmless EPERM) */
static pthread_mutex_t exit_lock = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
static int stop;              /* the threads end (atomic) */
static int held;              /* set by the test while it holds the others (atomic) */
static uint64_t ept_gen;      /* bumped by the test before each EPT change (atomic) */
static uint64_t ept_required; /* the generation every running vCPU must have seen */
static int violations;        /* guest code ran where it must not (atomic) */
static __thread struct sim_cpu *self_cpu;

/* --- the fakes cpus.c links against */

uint64_t rdtsc(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t vmread(uint64_t field)
{
	if (field == GUEST_ACTIVITY_STATE && self_cpu &&
	    __atomic_load_n(&self_cpu->wait_for_sipi, __ATOMIC_SEQ_CST))
		return GUEST_ACTIVITY_WAIT_SIPI;
	return 0;
}

bool vmwrite_checked(uint64_t field, uint64_t value)
{
	(void)field;
	(void)value;
	return true;
}

void ept_invalidate_local(void)
{
	if (self_cpu)
		__atomic_store_n(&self_cpu->ept_gen, __atomic_load_n(&ept_gen, __ATOMIC_SEQ_CST),
				 __ATOMIC_SEQ_CST);
}

bool ipi_send_nmi(const struct vcpu *target, uint64_t *sent)
{
	struct sim_cpu *c =
		(struct sim_cpu *)((const char *)target - offsetof(struct sim_cpu, vcpu));
	__atomic_add_fetch(sent, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&c->nmi, 1, __ATOMIC_SEQ_CST);
	return true;
}

/* --- a simulated vCPU */

static void run_guest(struct sim_cpu *c)
{
	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		if (__atomic_load_n(&c->nmi, __ATOMIC_SEQ_CST) &&
		    !__atomic_load_n(&c->deaf, __ATOMIC_SEQ_CST))
			return;
		if (__atomic_load_n(&c->wait_for_sipi, __ATOMIC_SEQ_CST)) {
			sched_yield(); /* runs nothing: only a SIPI ends it */
			continue;
		}
		if (__atomic_load_n(&held, __ATOMIC_SEQ_CST) &&
		    !__atomic_load_n(&c->deaf, __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->ept_gen, __ATOMIC_SEQ_CST) <
		    __atomic_load_n(&ept_required, __ATOMIC_SEQ_CST))
			__atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(&c->guest_runs, 1, __ATOMIC_SEQ_CST);
		sched_yield();
	}
}

static void *vcpu_thread(void *arg)
{
	struct sim_cpu *c = arg;
	self_cpu = c;
	while (!__atomic_load_n(&stop, __ATOMIC_SEQ_CST)) {
		vcpu_enter_gate(&c->vcpu);
		run_guest(c);
		vcpu_exit_begin(&c->vcpu);
		pthread_mutex_lock(&exit_lock);
		for (int n = __atomic_exchange_n(&c->nmi, 0, __ATOMIC_SEQ_CST); n > 0; n--) {
			c->nmi_exits++;
			if (vcpu_nmi_is_kick(&c->vcpu))
				c->kicks_seen++;
			else
				c->guest_nmis++;
		}
		pthread_mutex_unlock(&exit_lock);
	}
	vcpu_exit_begin(&c->vcpu);
	return NULL;
}

static int setup(void **state)
{
	(void)state;
	memset(cpus, 0, sizeof(cpus));
	memset(&vm, 0, sizeof(vm));
	machine.tsc_hz = 1000000000u; /* rdtsc() counts nanoseconds */
	stop = held = violations = 0;
	ept_gen = ept_required = 0;
	for (uint32_t k = 0; k < SIM_CPUS; k++) {
		cpus[k].vcpu.id = k;
		vm.vcpu[k] = &cpus[k].vcpu;
	}
	vm.nr_vcpus = SIM_CPUS;
	self_cpu = &cpus[0]; /* the test thread is vCPU 0, in an exit */
	for (uint32_t k = 1; k < SIM_CPUS; k++)
		pthread_create(&cpus[k].thread, NULL, vcpu_thread, &cpus[k]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* A failed assertion leaves the test where it was: the others held, the exit lock
	 * taken. Let go of both, or the vCPU threads wait at the gate forever. */
	(void)pthread_mutex_unlock(&exit_lock);
	for (int i = 0; i < 8; i++)
		cpus_release_others(&cpus[0].vcpu);
	__atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
	for (uint32_t k = 1; k < SIM_CPUS; k++)
		pthread_join(cpus[k].thread, NULL);
	return 0;
}

static void let_guests_run(void)
{
	uint64_t before = __atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST);
	for (int i = 0;
	     i < 100000 && __atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST) < before + 20;
	     i++)
		sched_yield();
}

static void hold_keeps_every_other_cpu_out_of_the_guest(void **state)
{
	(void)state;
	char why[160];
	for (int round = 0; round < 200; round++) {
		let_guests_run();
		pthread_mutex_lock(&exit_lock);
		assert_true(cpus_hold_others(&cpus[0].vcpu, why, sizeof(why)));
		__atomic_store_n(&held, 1, __ATOMIC_SEQ_CST);
		uint64_t runs[SIM_CPUS];
		for (uint32_t k = 1; k < SIM_CPUS; k++)
			runs[k] = __atomic_load_n(&cpus[k].guest_runs, __ATOMIC_SEQ_CST);
		for (int i = 0; i < 200; i++)
			sched_yield();
		for (uint32_t k = 1; k < SIM_CPUS; k++)
			assert_int_equal(__atomic_load_n(&cpus[k].guest_runs, __ATOMIC_SEQ_CST),
					 runs[k]);
		__atomic_store_n(&held, 0, __ATOMIC_SEQ_CST);
		cpus_release_others(&cpus[0].vcpu);
		pthread_mutex_unlock(&exit_lock);
	}
	assert_int_equal(violations, 0);
	let_guests_run(); /* released: the guests run again */
}

static void invept_all_returns_after_every_running_cpu_invalidated(void **state)
{
	(void)state;
	char why[160];
	for (int round = 0; round < 200; round++) {
		let_guests_run();
		pthread_mutex_lock(&exit_lock);
		uint64_t gen = __atomic_add_fetch(&ept_gen, 1, __ATOMIC_SEQ_CST);
		assert_true(cpus_invept_all(&cpus[0].vcpu, why, sizeof(why)));
		/* From here a vCPU in the guest with an older INVEPT is a stale translation. */
		__atomic_store_n(&ept_required, gen, __ATOMIC_SEQ_CST);
		pthread_mutex_unlock(&exit_lock);
	}
	let_guests_run();
	assert_int_equal(violations, 0);
}

static void every_nmi_sent_as_a_kick_is_taken_as_one(void **state)
{
	(void)state;
	char why[160];
	for (int round = 0; round < 50; round++) {
		pthread_mutex_lock(&exit_lock);
		assert_true(cpus_hold_others(&cpus[0].vcpu, why, sizeof(why)));
		cpus_release_others(&cpus[0].vcpu);
		pthread_mutex_unlock(&exit_lock);
	}
	/* The guest's own NMI, after all those kicks: still the guest's. */
	let_guests_run();
	pthread_mutex_lock(&exit_lock);
	uint64_t guest_before = cpus[1].guest_nmis;
	pthread_mutex_unlock(&exit_lock);
	__atomic_add_fetch(&cpus[1].nmi, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 100000; i++) {
		pthread_mutex_lock(&exit_lock);
		bool seen = cpus[1].guest_nmis > guest_before;
		pthread_mutex_unlock(&exit_lock);
		if (seen)
			break;
		sched_yield();
	}
	pthread_mutex_lock(&exit_lock);
	for (uint32_t k = 1; k < SIM_CPUS; k++) {
		struct vcpu *v = &cpus[k].vcpu;
		/* Every kick sent arrived (the fake never loses one) and was taken as a kick. */
		assert_int_equal(__atomic_load_n(&v->kicks_taken, __ATOMIC_SEQ_CST),
				 __atomic_load_n(&v->kicks_sent, __ATOMIC_SEQ_CST));
		assert_int_equal(cpus[k].kicks_seen, v->kicks_taken);
	}
	assert_int_equal(cpus[1].guest_nmis, guest_before + 1);
	pthread_mutex_unlock(&exit_lock);
}

static void a_cpu_that_never_answers_fails_the_request_in_bounded_time(void **state)
{
	(void)state;
	char why[160] = "";
	let_guests_run();
	__atomic_store_n(&cpus[2].deaf, 1, __ATOMIC_SEQ_CST);
	/* let it be in the guest (on a loaded machine 1000 yields were not always enough: the
	 * hold then succeeded) */
	for (int i = 0; i < 1000 || (i < 10000000 &&
				     !__atomic_load_n(&cpus[2].vcpu.in_guest, __ATOMIC_SEQ_CST));
	     i++)
		sched_yield();
	pthread_mutex_lock(&exit_lock);
	uint64_t t0 = rdtsc();
	bool ok = cpus_hold_others(&cpus[0].vcpu, why, sizeof(why));
	uint64_t ms = (rdtsc() - t0) / 1000000u;
	pthread_mutex_unlock(&exit_lock);
	assert_false(ok);
	/* whole milliseconds on both sides: up to one less */
	assert_true(ms + 1u >= CPUS_ANSWER_MS && ms < CPUS_ANSWER_MS + 500u);
	assert_non_null(strstr(why, "CPU 2 did not answer"));
	/* A failed hold holds nothing: the others run on. */
	let_guests_run();
	uint64_t before = __atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST);
	let_guests_run();
	assert_true(__atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST) > before);

	pthread_mutex_lock(&exit_lock);
	ok = cpus_invept_all(&cpus[0].vcpu, why, sizeof(why));
	pthread_mutex_unlock(&exit_lock);
	assert_false(ok);
	assert_non_null(strstr(why, "CPU 2 did not answer"));
	__atomic_store_n(&cpus[2].deaf, 0, __ATOMIC_SEQ_CST);
}

static void a_cpu_in_wait_for_sipi_is_not_waited_for(void **state)
{
	(void)state;
	char why[160];
	__atomic_store_n(&cpus[2].wait_for_sipi, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&cpus[2].nmi, 1, __ATOMIC_SEQ_CST); /* out once, back in WFS */
	for (int i = 0;
	     i < 100000 && !__atomic_load_n(&cpus[2].vcpu.wait_for_sipi, __ATOMIC_SEQ_CST); i++)
		sched_yield();
	assert_int_equal(__atomic_load_n(&cpus[2].vcpu.wait_for_sipi, __ATOMIC_SEQ_CST), 1);
	__atomic_store_n(&cpus[2].deaf, 1, __ATOMIC_SEQ_CST); /* NMIs are blocked there */
	uint64_t kicks = __atomic_load_n(&cpus[2].vcpu.kicks_sent, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&exit_lock);
	assert_true(cpus_hold_others(&cpus[0].vcpu, why, sizeof(why)));
	cpus_release_others(&cpus[0].vcpu);
	pthread_mutex_unlock(&exit_lock);
	assert_int_equal(__atomic_load_n(&cpus[2].vcpu.kicks_sent, __ATOMIC_SEQ_CST), kicks);
	__atomic_store_n(&cpus[2].deaf, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cpus[2].wait_for_sipi, 0, __ATOMIC_SEQ_CST);
}

static void holds_nest_and_a_stopped_guests_hold_outlives_a_verbs(void **state)
{
	(void)state;
	char why[160];
	let_guests_run();
	pthread_mutex_lock(&exit_lock);
	assert_true(cpus_hold_others(&cpus[0].vcpu, why, sizeof(why))); /* the guest stops */
	assert_true(cpus_hold_others(&cpus[0].vcpu, why, sizeof(why))); /* a verb after it */
	cpus_release_others(&cpus[0].vcpu);                             /* the verb is done */
	__atomic_store_n(&held, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&exit_lock); /* which a stopped guest's console CPU never does: the
					     hold alone must keep them out */
	uint64_t runs = __atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2000; i++)
		sched_yield();
	assert_int_equal(__atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST), runs);
	assert_int_equal(violations, 0);
	pthread_mutex_lock(&exit_lock);
	__atomic_store_n(&held, 0, __ATOMIC_SEQ_CST);
	cpus_release_others(&cpus[0].vcpu);
	pthread_mutex_unlock(&exit_lock);
	let_guests_run();
	assert_true(__atomic_load_n(&cpus[1].guest_runs, __ATOMIC_SEQ_CST) > runs);
}

/* Without threads: a vCPU that was out of the guest when the request came (so the requester
 * did not wait for it) invalidates at its entry gate, before any guest code. */
static int setup_still(void **state)
{
	(void)state;
	memset(cpus, 0, sizeof(cpus));
	memset(&vm, 0, sizeof(vm));
	machine.tsc_hz = 1000000000u;
	ept_gen = ept_required = 0;
	for (uint32_t k = 0; k < SIM_CPUS; k++) {
		cpus[k].vcpu.id = k;
		vm.vcpu[k] = &cpus[k].vcpu;
	}
	vm.nr_vcpus = SIM_CPUS;
	return 0;
}

static void a_cpu_out_of_the_guest_invalidates_at_its_entry_gate(void **state)
{
	(void)state;
	char why[160];
	self_cpu = &cpus[0];
	__atomic_add_fetch(&ept_gen, 1, __ATOMIC_SEQ_CST);
	assert_true(cpus_invept_all(&cpus[0].vcpu, why, sizeof(why))); /* nobody in the guest */
	assert_int_equal(cpus[1].ept_gen, 0);                          /* not yet */
	self_cpu = &cpus[1];
	vcpu_enter_gate(&cpus[1].vcpu);
	assert_int_equal(cpus[1].ept_gen, 1); /* before its guest code runs */
	assert_int_equal(cpus[1].vcpu.requests, 0);
	self_cpu = &cpus[0];
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hold_keeps_every_other_cpu_out_of_the_guest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			invept_all_returns_after_every_running_cpu_invalidated, setup, teardown),
		cmocka_unit_test_setup_teardown(every_nmi_sent_as_a_kick_is_taken_as_one, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_cpu_that_never_answers_fails_the_request_in_bounded_time, setup,
			teardown),
		cmocka_unit_test_setup_teardown(a_cpu_in_wait_for_sipi_is_not_waited_for, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			holds_nest_and_a_stopped_guests_hold_outlives_a_verbs, setup, teardown),
		cmocka_unit_test_setup(a_cpu_out_of_the_guest_invalidates_at_its_entry_gate,
				       setup_still),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
