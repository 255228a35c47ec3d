/* See ops_harness.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ops_harness.h"

uint8_t scratch[INJECT_SCRATCH_SIZE];
struct ops_request q;
struct inject_env env;
struct inject_call call;
enum inject_step step;

int inject_write_user(struct inject_env *e, uint64_t va, const void *buf, size_t n)
{
	(void)e;
	if (va < SCRATCH_VA || va + n > SCRATCH_VA + sizeof(scratch))
		return -1;
	memcpy(scratch + (va - SCRATCH_VA), buf, n);
	return 0;
}

int inject_read_user(struct inject_env *e, uint64_t va, void *buf, size_t n)
{
	(void)e;
	if (va < SCRATCH_VA || va + n > SCRATCH_VA + sizeof(scratch))
		return -1;
	memcpy(buf, scratch + (va - SCRATCH_VA), n);
	return 0;
}

void inject_forget(uint32_t ctx)
{
	(void)ctx;
}

void harness_reset(void)
{
	memset(&q, 0, sizeof(q));
	memset(scratch, 0, sizeof(scratch));
	memset(&call, 0, sizeof(call));
	env = (struct inject_env){.scratch = SCRATCH_VA, .tgid = 1, .tid = 1, .nspid = 1};
}

void begin(enum ops_kind kind)
{
	q.kind = kind;
	ops_prepare(&q);
	step = q.op.next(&q.op, &env, 0, &call);
}

void feed(int64_t result)
{
	step = q.op.next(&q.op, &env, result, &call);
}

void expect_call(uint64_t nr)
{
	assert_int_equal(step, INJECT_STEP_CALL);
	assert_int_equal(call.nr, nr);
}

const char *scratch_string(uint64_t va)
{
	assert_true(va >= SCRATCH_VA && va < SCRATCH_VA + sizeof(scratch));
	return (const char *)scratch + (va - SCRATCH_VA);
}

/* No wake port in these tests: a helper start parks without one (inject/ops_exec.c). */
const char *wake_port_device(void)
{
	return NULL;
}
