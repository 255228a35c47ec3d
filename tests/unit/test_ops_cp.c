/* hv/inject/ops_cp.c: cp's file work, as the helper does it inside the container with the
 * container's restrictions, stepped by hand with the results a kernel would give: only a
 * regular file is ever opened for reading or writing, never through a final link, never a
 * FIFO or a device; a swap between the two looks is refused; every descriptor is closed on
 * every path. The helper's way there is ops_exec.c's (test_ops_programs.c). */
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

#define S_IFIFO 0010000u
#define S_IFCHR 0020000u
#define S_IFREG 0100000u
#define S_IFLNK 0120000u

static int setup(void **state)
{
	(void)state;
	harness_reset();
	snprintf(q.ct.name, sizeof(q.ct.name), "tree");
	snprintf(q.u.cp.path, sizeof(q.u.cp.path), "/etc/passwd");
	return 0;
}

static void fbegin(enum ops_kind kind)
{
	q.kind = kind;
	ops_prepare(&q);
	step = ops_cp_file_next(&q, &env, 0, &call);
}

static void ffeed(int64_t result)
{
	step = ops_cp_file_next(&q, &env, result, &call);
}

/* An openat2 of the path in the container (its root is the helper's), `flags` and
 * RESOLVE_NO_MAGICLINKS. */
static void expect_open(uint64_t flags)
{
	expect_call(LINUX_NR_openat2);
	assert_int_equal((int64_t)call.arg[0], LINUX_AT_FDCWD);
	assert_string_equal(scratch_string(call.arg[1]), "/etc/passwd");
	uint64_t how[3];
	memcpy(how, scratch + (call.arg[2] - SCRATCH_VA), sizeof(how));
	assert_int_equal(how[0], flags | LINUX_O_CLOEXEC);
	assert_int_equal(how[2], LINUX_RESOLVE_NO_MAGICLINKS);
	assert_int_equal(call.arg[3], LINUX_OPEN_HOW_SIZE);
}

/* fstat of `fd` answered with a file of that type and inode. */
static void answer_fstat(int64_t fd, uint32_t mode, uint64_t ino)
{
	expect_call(LINUX_NR_fstat);
	assert_int_equal(call.arg[0], fd);
	uint8_t st[144] = {0};
	uint64_t dev = 0x803;
	memcpy(st, &dev, 8);
	memcpy(st + 8, &ino, 8);
	memcpy(st + 24, &mode, 4);
	memcpy(scratch + (call.arg[1] - SCRATCH_VA), st, sizeof(st));
	ffeed(0);
}

static void expect_close(int64_t fd)
{
	expect_call(LINUX_NR_close);
	assert_int_equal(call.arg[0], fd);
	ffeed(0);
}

static const uint64_t rw_flags = LINUX_O_NOFOLLOW | LINUX_O_NONBLOCK | LINUX_O_NOCTTY;

/* The O_PATH look finds a regular file (fd 5, closed), then it is opened (fd 6). */
static void open_regular(uint64_t flags)
{
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(5);
	answer_fstat(5, S_IFREG | 0644, 77);
	expect_close(5);
	expect_open(flags | rw_flags);
	ffeed(6);
	answer_fstat(6, S_IFREG | 0644, 77);
}

static void test_cp_out_reads_a_regular_file_to_its_end(void **state)
{
	(void)state;
	fbegin(OPS_CP_OUT);
	open_regular(LINUX_O_RDONLY);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[0], 6);
	assert_int_equal(call.arg[2], INJECT_DATA_MAX + 1);
	memcpy(scratch + INJECT_SCRATCH_DATA, "root:x:0:0\n", 11);
	ffeed(11);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[1], SCRATCH_VA + INJECT_SCRATCH_DATA + 11);
	ffeed(0);
	expect_close(6);
	assert_int_equal(step, INJECT_STEP_DONE);
	assert_int_equal(q.u.cp.data_len, 11);
	assert_memory_equal(q.u.cp.data, "root:x:0:0\n", 11);
}

/* Each of these is refused after the O_PATH look, which opened nothing: no FIFO waits for a
 * writer, no device is opened, a final link is not followed. */
static void refused_type(enum ops_kind kind, uint32_t mode, const char *says)
{
	fbegin(kind);
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(5);
	answer_fstat(5, mode, 90);
	expect_close(5);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, says));
	assert_non_null(strstr(q.op.error, "cp copies regular files only"));
}

static void test_cp_refuses_a_fifo_a_device_and_a_final_link(void **state)
{
	(void)state;
	refused_type(OPS_CP_OUT, S_IFIFO | 0644, "tree:/etc/passwd is a FIFO");
	setup(NULL);
	refused_type(OPS_CP_IN, S_IFIFO | 0644, "is a FIFO");
	setup(NULL);
	refused_type(OPS_CP_IN, S_IFCHR | 0600, "is a character device");
	setup(NULL);
	refused_type(OPS_CP_OUT, S_IFLNK | 0777, "symbolic link");
}

static void test_cp_refuses_a_file_swapped_between_the_looks(void **state)
{
	(void)state;
	fbegin(OPS_CP_OUT);
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(5);
	answer_fstat(5, S_IFREG | 0644, 77);
	expect_close(5);
	expect_open(LINUX_O_RDONLY | rw_flags);
	ffeed(6);
	answer_fstat(6, S_IFREG | 0644, 78); /* another file now */
	expect_close(6);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "changed while it was being opened"));
	assert_int_equal(q.u.cp.data_len, 0);
}

static void test_cp_out_over_the_limit_fails_after_closing(void **state)
{
	(void)state;
	fbegin(OPS_CP_OUT);
	open_regular(LINUX_O_RDONLY);
	ffeed(INJECT_DATA_MAX);
	expect_call(LINUX_NR_read);
	assert_int_equal(call.arg[2], 1);
	ffeed(1);
	expect_close(6);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "larger than cp's limit"));
}

static void test_cp_out_of_a_missing_file_says_so(void **state)
{
	(void)state;
	fbegin(OPS_CP_OUT);
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(-LINUX_ENOENT);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "tree:/etc/passwd"));
	assert_non_null(strstr(q.op.error, "no such file"));
}

static void test_cp_in_creates_a_new_file_exclusively(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 5000; i++)
		q.u.cp.data[i] = (uint8_t)(i * 7);
	q.u.cp.data_len = 5000;
	fbegin(OPS_CP_IN);
	/* The data is in the scratch area before anything is opened. */
	assert_memory_equal(scratch + INJECT_SCRATCH_DATA, q.u.cp.data, 5000);
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(-LINUX_ENOENT);
	/* O_EXCL: whatever appears at the path in between is not opened */
	expect_open(LINUX_O_WRONLY | LINUX_O_CREAT | LINUX_O_EXCL | rw_flags);
	ffeed(7);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[0], 7);
	assert_int_equal(call.arg[2], 5000);
	ffeed(4096);
	expect_call(LINUX_NR_write);
	assert_int_equal(call.arg[1], SCRATCH_VA + INJECT_SCRATCH_DATA + 4096);
	assert_int_equal(call.arg[2], 904);
	ffeed(904);
	expect_close(7);
	assert_int_equal(step, INJECT_STEP_DONE);
}

static void test_cp_in_over_a_regular_file_and_a_write_error(void **state)
{
	(void)state;
	q.u.cp.data_len = 10;
	fbegin(OPS_CP_IN);
	open_regular(LINUX_O_WRONLY);
	expect_call(LINUX_NR_ftruncate); /* cut only now that it is the file looked at */
	assert_int_equal(call.arg[0], 6);
	ffeed(0);
	expect_call(LINUX_NR_write);
	ffeed(-LINUX_ENOSPC);
	expect_close(6);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "no space left"));
}

/* A container whose seccomp filter answers openat2 with ENOSYS: refused, never a plain
 * openat (which would follow /proc/PID/fd-style links). */
static void test_cp_refuses_when_openat2_is_filtered(void **state)
{
	(void)state;
	fbegin(OPS_CP_OUT);
	expect_open(LINUX_O_PATH | LINUX_O_NOFOLLOW);
	ffeed(-LINUX_ENOSYS);
	assert_int_equal(step, INJECT_STEP_FAIL);
	assert_non_null(strstr(q.op.error, "refuses openat2"));
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cp_out_reads_a_regular_file_to_its_end),
		T(test_cp_refuses_a_fifo_a_device_and_a_final_link),
		T(test_cp_refuses_a_file_swapped_between_the_looks),
		T(test_cp_out_over_the_limit_fails_after_closing),
		T(test_cp_out_of_a_missing_file_says_so),
		T(test_cp_in_creates_a_new_file_exclusively),
		T(test_cp_in_over_a_regular_file_and_a_write_error),
		T(test_cp_refuses_when_openat2_is_filtered),
	};
	return cmocka_run_group_tests_name("ops_cp", tests, NULL, NULL);
}
