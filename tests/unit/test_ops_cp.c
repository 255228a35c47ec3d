/* hv/inject/ops_cp.c: cp in and out of a container as injected-call programs. The engine
 * is replaced by this file: it feeds each program the result a kernel would return and
 * keeps the scratch area as a host buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "inject/linux_abi.h"
#include "ops_harness.h"

static int setup(void **state)
{
	(void)state;
	harness_reset();
	q.ct.init_pid = 4242;
	snprintf(q.ct.name, sizeof(q.ct.name), "tree");
	snprintf(q.path, sizeof(q.path), "/etc/passwd");
	return 0;
}

/* Root of the container, then the file under it with RESOLVE_IN_ROOT. */
static void open_both(uint64_t file_flags)
{
	expect_call(LINUX_NR_openat);
	assert_int_equal((int64_t)call.arg[0], LINUX_AT_FDCWD);
	assert_string_equal(scratch_string(call.arg[1]), "/proc/4242/root");
	assert_int_equal(call.arg[2], LINUX_O_PATH | LINUX_O_DIRECTORY | LINUX_O_CLOEXEC);
	feed(5);
	expect_call(LINUX_NR_openat2);
	assert_int_equal(call.arg[0], 5);
	assert_string_equal(scratch_string(call.arg[1]), "/etc/passwd");
	uint64_t how[3];
	memcpy(how, scratch_string(call.arg[2]), sizeof(how));
	assert_int_equal(how[0], file_flags | LINUX_O_CLOEXEC);
	assert_int_equal(how[2], LINUX_RESOLVE_IN_ROOT | LINUX_RESOLVE_NO_MAGICLINKS);
	assert_int_equal(call.arg[3], LINUX_OPEN_HOW_SIZE);
}

static void expect_closes(int first, int second, enum inject_step end)
{
	expect_call(LINUX_NR_close);
	assert_int_equal(call.arg[0], first);
	feed(0);
	if (second >= 0) {
		expect_call(LINUX_NR_close);
		assert_int_equal(call.arg[0], second);
		feed(0);
	}
	assert_int_equal(step, end);
}

static void test_cp_out_reads_the_file_to_its_end_and_closes_both(void **state)
{
	(void)state;
	begin(OPS_CP_OUT);
	open_both(LINUX_O_RDONLY);
	feed(6);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 6);
	assert_int_equal(call.arg[2], INJECT_DATA_MAX + 1u); /* one more: to see "too big" */
	memcpy(scratch + INJECT_SCRATCH_DATA, "root:x:0:0\n", 11);
	feed(11);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[1], SCRATCH_VA + INJECT_SCRATCH_DATA + 11);
	memcpy(scratch + INJECT_SCRATCH_DATA + 11, "lab:x\n", 6);
	feed(6);
	expect_call(LINUX_NR_read);
	feed(0);
	expect_closes(6, 5, INJECT_STEP_DONE);
	assert_int_equal(q.data_len, 17);
	assert_memory_equal(q.data, "root:x:0:0\nlab:x\n", 17);
	assert_string_equal(q.op.error, "");
}

static void test_cp_out_over_the_limit_fails_after_closing(void **state)
{
	(void)state;
	begin(OPS_CP_OUT);
	open_both(LINUX_O_RDONLY);
	feed(6);
	feed(INJECT_DATA_MAX);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[2], 1);
	feed(1);
	expect_closes(6, 5, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "larger than cp's limit"));
}

static void test_cp_out_of_a_missing_file_says_so_and_closes_the_root(void **state)
{
	(void)state;
	begin(OPS_CP_OUT);
	open_both(LINUX_O_RDONLY);
	feed(-LINUX_ENOENT);
	expect_closes(5, -1, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "tree:/etc/passwd: no such file or directory"));
}

static void test_cp_out_without_the_container_root_opens_nothing_more(void **state)
{
	(void)state;
	begin(OPS_CP_OUT);
	expect_call(LINUX_NR_openat);
	feed(-LINUX_ENOENT);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "container's root"));
}

static void test_cp_in_writes_everything_through_short_writes(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 5000; i++)
		q.data[i] = (uint8_t)(i * 7);
	q.data_len = 5000;
	begin(OPS_CP_IN);
	/* The data is in the scratch area before anything is opened. */
	assert_memory_equal(scratch + INJECT_SCRATCH_DATA, q.data, 5000);
	open_both(LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC);
	feed(7);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[0], 7);
	assert_int_equal(call.arg[2], 5000);
	feed(4096);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[1], SCRATCH_VA + INJECT_SCRATCH_DATA + 4096);
	assert_int_equal(call.arg[2], 904);
	feed(904);
	expect_closes(7, 5, INJECT_STEP_DONE);
}

static void test_cp_in_write_error_fails_after_closing(void **state)
{
	(void)state;
	q.data_len = 10;
	begin(OPS_CP_IN);
	open_both(LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_TRUNC);
	feed(7);
	feed(-LINUX_ENOSPC);
	expect_closes(7, 5, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "no space left"));
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cp_out_reads_the_file_to_its_end_and_closes_both),
		T(test_cp_out_over_the_limit_fails_after_closing),
		T(test_cp_out_of_a_missing_file_says_so_and_closes_the_root),
		T(test_cp_out_without_the_container_root_opens_nothing_more),
		T(test_cp_in_writes_everything_through_short_writes),
		T(test_cp_in_write_error_fails_after_closing),
	};
	return cmocka_run_group_tests_name("ops_cp", tests, NULL, NULL);
}
