/* hv/vmi: the introspection library on a synthetic guest (tests/unit/vmi_fake.c) built in
 * fake physical memory: page walks (4/5-level, 2 MiB/1 GiB pages, PCID and PTI bits),
 * finding the current task through either GS base, the tasks walk, per-process facts,
 * containers, the verbs' output, and hostile memory: every corruption ends the walk or the
 * fact cleanly, with a flag or a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vmi/report.h"
#include "vmi/vmi.h"
#include "vmi_fake.h"
#include "x86/paging.h"

#define CONTAINERS_CAP 16

static struct fake f;
static struct fake_world w;
static struct vmi v;
static struct vmi_container containers[CONTAINERS_CAP];

static int setup_world(void **state)
{
	(void)state;
	fake_init(&f, false);
	fake_world(&f, &w);
	memset(&v, 0, sizeof(v));
	v.containers = containers;
	v.containers_cap = CONTAINERS_CAP;
	return 0;
}

static int setup_world_la57(void **state)
{
	(void)state;
	fake_init(&f, true);
	fake_world(&f, &w);
	memset(&v, 0, sizeof(v));
	v.containers = containers;
	v.containers_cap = CONTAINERS_CAP;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_free(&f);
	return 0;
}

static void open_ok(void)
{
	int rc = vmi_open(&v, &f.mem, &f.prof, &f.cpu);

	if (rc != 0)
		fail_msg("vmi_open: %s", v.error);
}

/* ------------------------------------------------------------------ reply capture */

struct capture {
	char text[1 << 20];
	size_t len;
};
static struct capture cap;

static void capture_write(void *ctx, const char *s, size_t n)
{
	struct capture *c = ctx;

	assert_true(c->len + n < sizeof(c->text));
	memcpy(c->text + c->len, s, n);
	c->len += n;
	c->text[c->len] = '\0';
}

typedef int (*verb_fn)(struct vmi *, struct reply *, int, char **);

/* Runs a verb as the console would (argv from words); returns its rc, output in cap. */
static int run(verb_fn fn, struct reply *r, const char *w0, const char *w1, const char *w2)
{
	char *argv[4] = {(char *)w0, (char *)w1, (char *)w2, NULL};
	int argc = w1 == NULL ? 1 : w2 == NULL ? 2 : 3;

	argv[argc] = NULL;
	cap.len = 0;
	cap.text[0] = '\0';
	reply_init(r, capture_write, &cap);
	return fn(&v, r, argc, argv);
}

/* run with up to 7 words (NULL-terminated) */
static int runv(verb_fn fn, struct reply *r, const char *const *words)
{
	char *argv[8];
	int argc = 0;
	while (argc < 7 && words[argc] != NULL) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	cap.len = 0;
	cap.text[0] = '\0';
	reply_init(r, capture_write, &cap);
	return fn(&v, r, argc, argv);
}
#define WORDS(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ------------------------------------------------------------------ page walk */

static void test_pagewalk_4level_4k_2m_1g(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096), pa;

	(void)state;
	fake_map(&f, root, 0x0000123456789000ull, 0x3000, PAGE_SIZE_4K);
	fake_map(&f, root, 0x0000000040200000ull, 0x400000, PAGE_SIZE_2M);
	fake_map(&f, root, 0x0000008000000000ull, 0x40000000, PAGE_SIZE_1G);
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x0000123456789abcull, &pa), 0);
	assert_int_equal(pa, 0x3abc);
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x00000000402fedcbull, &pa), 0);
	assert_int_equal(pa, 0x4fedcb);
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x000000803456789aull, &pa), 0);
	assert_int_equal(pa, 0x7456789a);
	/* a neighbour that is not mapped */
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x000012345678a000ull, &pa), -1);
}

static void test_pagewalk_5level(void **state)
{
	uint64_t root, pa;

	(void)state;
	fake_free(&f);
	fake_init(&f, true);
	root = fake_palloc(&f, 4096, 4096);
	/* an address only 5-level paging can hold (bit 48 set, canonical in 57 bits) */
	fake_map(&f, root, 0x0001234567890000ull, 0x5000, PAGE_SIZE_4K);
	assert_int_equal(vmi_translate(&f.mem, root, true, 0x0001234567890123ull, &pa), 0);
	assert_int_equal(pa, 0x5123);
	/* the same address is not canonical with 4-level paging */
	assert_false(vmi_canonical(0x0001234567890123ull, false));
	assert_true(vmi_canonical(0x0001234567890123ull, true));
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x0001234567890123ull, &pa), -1);
}

static void test_pagewalk_ignores_pcid_and_high_cr3_bits(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096), pa;

	(void)state;
	fake_map(&f, root, 0x7000, 0x9000, PAGE_SIZE_4K);
	/* PCID 0xabc in bits 11:0, the no-flush hint in bit 63 */
	assert_int_equal(vmi_translate(&f.mem, root | 0xabcu | (1ull << 63), false, 0x7010, &pa),
			 0);
	assert_int_equal(pa, 0x9010);
}

static void test_pagewalk_rejects_noncanonical_and_bad_tables(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096), pa;
	uint64_t *pml4 = (uint64_t *)(void *)(f.ram + root);

	(void)state;
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x0000800000000000ull, &pa), -1);
	/* PS in a PML4 entry is reserved: a fault, not a 512 GiB page */
	pml4[1] = 0x8000000000ull | PTE_P | PTE_PS;
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x0000008000000000ull, &pa), -1);
	/* a table outside guest RAM */
	pml4[2] = 0x7ffff000000ull | PTE_P;
	assert_int_equal(vmi_translate(&f.mem, root, false, 0x0000010000000000ull, &pa), -1);
	/* CR3 itself outside RAM */
	assert_int_equal(vmi_translate(&f.mem, 0xfff0000000ull, false, 0x1000, &pa), -1);
}

/* The 4-level entry of `level` (4: PML4 ... 1: PT) on the way to va. */
static uint64_t *entry_on_way(uint64_t root, uint64_t va, int level)
{
	uint64_t table = root & PTE_ADDR_MASK;
	for (int l = 4;; l--) {
		uint64_t *e = (uint64_t *)(void *)(f.ram + table +
						   ((va >> (12 + 9 * (l - 1))) & 0x1ff) * 8);
		if (l == level)
			return e;
		table = *e & PTE_ADDR_MASK;
	}
}

/* SDM Vol. 3A 4.6: rights are what every level grants */
static void test_pagewalk_rights_are_every_levels(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096), pa, size;
	unsigned rights;
	const uint64_t va = 0x00007f0000001000ull;

	(void)state;
	fake_map(&f, root, va, 0x3000, PAGE_SIZE_4K);
	assert_int_equal(vmi_translate_rights(&f.mem, root, false, va, &pa, &size, &rights), 0);
	assert_int_equal(rights, VMI_RIGHT_USER | VMI_RIGHT_WRITE);
	/* read-only leaf (a page shared copy-on-write after fork) */
	*entry_on_way(root, va, 1) &= ~PTE_RW;
	assert_int_equal(vmi_translate_rights(&f.mem, root, false, va, &pa, &size, &rights), 0);
	assert_int_equal(rights, VMI_RIGHT_USER);
	/* supervisor-only at the PDPT level: not user memory, whatever the leaf says */
	*entry_on_way(root, va, 1) |= PTE_RW;
	*entry_on_way(root, va, 3) &= ~PTE_US;
	assert_int_equal(vmi_translate_rights(&f.mem, root, false, va, &pa, &size, &rights), 0);
	assert_int_equal(rights, VMI_RIGHT_WRITE);
	/* and read-only at the PD level too */
	*entry_on_way(root, va, 2) &= ~PTE_RW;
	assert_int_equal(vmi_translate_rights(&f.mem, root, false, va, &pa, &size, &rights), 0);
	assert_int_equal(rights, 0);
	assert_int_equal(pa, 0x3000);
}

/* A process's memory is read as the process could: a kernel-half address, or a page not
 * user-accessible at some level, is not its memory (ps showed kernel memory as a cmdline). */
static void test_read_user_refuses_kernel_half_and_supervisor_pages(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096);
	const uint64_t user = 0x00007f0000002000ull, kernel = 0xffff888000100000ull;
	char buf[16];

	(void)state;
	open_ok();
	fake_map(&f, root, user, 0x5000, PAGE_SIZE_4K);
	fake_map(&f, root, kernel, 0x6000, PAGE_SIZE_4K);
	*entry_on_way(root, kernel, 1) |= PTE_US; /* even marked user: the kernel half */
	memcpy(f.ram + 0x5000, "user bytes", 11);
	memcpy(f.ram + 0x6000, "kernel bytes", 13);
	assert_int_equal(vmi_read_user(&v, root, user, buf, 11), 11);
	assert_string_equal(buf, "user bytes");
	assert_int_equal(vmi_read_user(&v, root, kernel, buf, 13), 0);
	/* a run that crosses into the kernel half stops at its end */
	fake_map(&f, root, 0x00007ffffffff000ull, 0x7000, PAGE_SIZE_4K);
	assert_int_equal(vmi_read_user(&v, root, 0x00007ffffffffff8ull, buf, 16), 8);
	/* supervisor-only leaf in the user half */
	*entry_on_way(root, user, 1) &= ~PTE_US;
	vmi_refresh(&v);
	assert_int_equal(vmi_read_user(&v, root, user, buf, 11), 0);
}

/* ------------------------------------------------------------------ finding the kernel */

static void test_open_finds_init_task_from_current(void **state)
{
	(void)state;
	open_ok();
	assert_int_equal(v.current_task, w.sh);
	assert_int_equal(v.init_task, w.init_task);
	assert_int_equal(v.percpu_base, f.percpu);
	assert_int_equal(v.kernel_cr3, f.pgd);
	assert_int_equal(v.host_ns[VMI_NS_PID], w.host_pid_ns);
}

static void test_open_user_mode_pti_kernel_gs_base(void **state)
{
	(void)state;
	/* Captured in user mode: CR3 is the PTI user copy (bit 12) with a PCID, GS base is the
	 * process's, the kernel's is in KERNEL_GS_BASE. The user copy maps no kernel memory. */
	f.cpu.cr3 = f.pgd | (1ull << 12) | 0x801u;
	f.cpu.user_mode = true;
	f.cpu.gs_base = 0x00007f0012345000ull;
	f.cpu.kernel_gs_base = f.percpu;
	open_ok();
	assert_int_equal(v.kernel_cr3, f.pgd);
	assert_int_equal(v.percpu_base, f.percpu);
}

static void test_open_tries_the_other_gs_base(void **state)
{
	(void)state;
	/* Kernel mode claimed, but the registers were caught right after SWAPGS. */
	f.cpu.gs_base = 0;
	f.cpu.kernel_gs_base = f.percpu;
	open_ok();
	assert_int_equal(v.percpu_base, f.percpu);
	/* and the other way round */
	f.cpu.user_mode = true;
	f.cpu.gs_base = f.percpu;
	f.cpu.kernel_gs_base = 0;
	open_ok();
	assert_int_equal(v.percpu_base, f.percpu);
}

static void test_open_with_a_thread_that_is_not_its_groups_leader_current(void **state)
{
	uint64_t size = f.prof.task_struct_size, th;

	(void)state;
	/* A second thread of sh: its tasks links are a stale copy of sh's (only leaders are
	 * on the list); its leader is sh, with the same tgid. */
	th = fake_kalloc(&f, size);
	memcpy(f.ram + fake_pa(th), f.ram + fake_pa(w.sh), size);
	fake_w32(&f, th + f.prof.task_pid, 4242);
	fake_w64(&f, th + f.prof.task_group_leader, w.sh);
	fake_set_current(&f, th);
	open_ok();
	assert_int_equal(v.current_task, th);
	assert_int_equal(v.init_task, w.init_task);
	/* Not plausible when its leader has another tgid. */
	fake_w32(&f, th + f.prof.task_tgid, 7777);
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
}

static void test_open_through_a_known_task_when_current_is_not_plausible(void **state)
{
	(void)state;
	/* The current task is being torn down (here: not a task at all): without a known
	 * task the open fails; with the init_task of an earlier session it succeeds. */
	fake_set_current(&f, fake_kalloc(&f, 16384));
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
	assert_non_null(strstr(v.error, "no task at per-CPU base"));
	f.cpu.known_task = w.init_task;
	open_ok();
	assert_int_equal(v.init_task, w.init_task);
	/* A bogus known task does not help. */
	f.cpu.known_task = fake_kalloc(&f, 16384);
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
}

/* A known init_task (the previous session's) is taken at one look: the list is not gone
 * round from the current task (here it could not be: broken past init; the control finds
 * no pid 0 then). */
static void test_open_takes_the_known_init_task_at_once(void **state)
{
	(void)state;
	uint64_t second = fake_r64(&f, w.init + f.prof.task_tasks) - f.prof.task_tasks;
	uint64_t third_list = fake_r64(&f, second + f.prof.task_tasks);
	assert_true(third_list != w.init_task + f.prof.task_tasks);
	fake_w64(&f, third_list + 8, 0xffff888000001000ull); /* does not point back */
	fake_set_current(&f, w.init);
	f.cpu.known_task = 0;
	open_ok();
	assert_int_equal(v.init_task, w.init); /* control: where it stood */
	f.cpu.known_task = w.init_task;
	open_ok();
	assert_int_equal(v.init_task, w.init_task);
	/* a known task that is not pid 0 is not taken */
	f.cpu.known_task = w.sh;
	open_ok();
	assert_int_equal(v.init_task, w.init);
	/* nor a pid-0 task on a list of its own alone (a rootkit's self-linked fake) */
	uint64_t fake0 = fake_task(&f, &(struct fake_task){.pid = 0, .tgid = 0, .comm = "fake"});
	uint64_t node = fake0 + f.prof.task_tasks, next = fake_r64(&f, node),
		 prev = fake_r64(&f, node + 8);
	fake_w64(&f, prev, next); /* out of the real list, onto itself */
	fake_w64(&f, next + 8, prev);
	fake_w64(&f, node, node);
	fake_w64(&f, node + 8, node);
	f.cpu.known_task = fake0;
	open_ok();
	assert_int_equal(v.init_task, w.init);
}

static void test_open_without_pti_keeps_cr3_bit_12(void **state)
{
	uint64_t pgd2;

	(void)state;
	/* No PTI: a pgd on an odd page; clearing bit 12 would give an unrelated page. */
	pgd2 = fake_palloc(&f, 8192, 8192) + 4096;
	memcpy(f.ram + pgd2, f.ram + f.pgd, 4096);
	f.cpu.cr3 = pgd2;
	open_ok();
	assert_int_equal(v.kernel_cr3, pgd2);
}

static void test_open_fails_clearly_without_gs_base(void **state)
{
	(void)state;
	f.cpu.gs_base = 0;
	f.cpu.kernel_gs_base = 0x1234;
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
	assert_non_null(strstr(v.error, "no per-CPU base"));
}

static void test_open_fails_clearly_on_a_wrong_profile(void **state)
{
	(void)state;
	f.prof.percpu_current_task += 0x100; /* nothing there */
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
	assert_non_null(strstr(v.error, "wrong profile"));
}

static void test_open_refuses_offsets_beyond_snapshot(void **state)
{
	(void)state;
	f.prof.task_cgroups = VMI_TASK_SNAPSHOT_MAX;
	f.prof.task_struct_size = 0;
	assert_int_equal(vmi_open(&v, &f.mem, &f.prof, &f.cpu), -1);
	assert_non_null(strstr(v.error, "beyond"));
}

static void test_open_from_a_secondary_idle_task(void **state)
{
	uint64_t idle;
	uint64_t list;

	(void)state;
	/* pid 0 of CPU 1: not on the tasks list (kernel/fork.c), parent pid 1 */
	idle = fake_kalloc(&f, f.prof.task_struct_size);
	fake_wbytes(&f, idle + f.prof.task_comm, "swapper/1", 10);
	fake_w64(&f, idle + f.prof.task_real_parent, w.init);
	/* dup_task_struct copied its parent's list_head: it points into the list, not back */
	list = w.init + f.prof.task_tasks;
	fake_w64(&f, idle + f.prof.task_tasks, fake_r64(&f, list));
	fake_w64(&f, idle + f.prof.task_tasks + 8, fake_r64(&f, list + 8));
	fake_set_current(&f, idle);
	open_ok();
	assert_int_equal(v.current_task, idle);
	assert_int_equal(v.init_task, w.init_task);
}

/* Takes `task` off the tasks list as release_task does (list_del_rcu: prev poisoned). */
static void unlink_task(uint64_t task)
{
	uint64_t list = task + f.prof.task_tasks;
	uint64_t next = fake_r64(&f, list), prev = fake_r64(&f, list + 8);
	fake_w64(&f, prev, next);
	fake_w64(&f, next + 8, prev);
	fake_w64(&f, list + 8, 0xdead000000000122ull);
}

static void test_oncpu_names_a_released_task_that_still_runs(void **state)
{
	struct vmi_oncpu o;

	(void)state;
	open_ok();
	vmi_oncpu_read(&v, &f.cpu, &o);
	assert_int_equal(o.state, VMI_CPU_RUNNING);
	assert_int_equal(o.task, w.sh);
	assert_false(o.exiting);
	/* sh reaps itself (a thread, or a child of a parent that ignores SIGCHLD): exit_notify
	 * set EXIT_DEAD, release_task took it off the list, do_task_dead runs it once more. */
	unlink_task(w.sh);
	vmi_refresh(&v);
	vmi_oncpu_read(&v, &f.cpu, &o);
	assert_int_equal(o.state, VMI_CPU_UNKNOWN); /* not in do_exit: no task to name */
	assert_non_null(o.why);
	fake_w32(&f, w.sh + f.prof.task_flags, VMI_PF_EXITING);
	fake_w32(&f, w.sh + f.prof.task_exit_state, VMI_EXIT_DEAD);
	vmi_refresh(&v);
	vmi_oncpu_read(&v, &f.cpu, &o);
	assert_int_equal(o.state, VMI_CPU_RUNNING);
	assert_int_equal(o.task, w.sh);
	assert_true(o.exiting);
	assert_null(o.why);
	/* An exit state that is no exit state is not taken. */
	fake_w32(&f, w.sh + f.prof.task_exit_state, 0x30);
	vmi_refresh(&v);
	vmi_oncpu_read(&v, &f.cpu, &o);
	assert_int_equal(o.state, VMI_CPU_UNKNOWN);
	/* Nor a GS base that is no kernel address. */
	struct vmi_cpu user = f.cpu;
	user.gs_base = user.kernel_gs_base = 0x1000;
	vmi_oncpu_read(&v, &user, &o);
	assert_int_equal(o.state, VMI_CPU_UNKNOWN);
	assert_string_equal(o.why, "neither GS base is a kernel address");
}

/* ------------------------------------------------------------------ the walk */

static void test_walk_visits_every_task_from_init_task(void **state)
{
	static const int32_t expect[] = {0, 1, 2, 3, 50, 100, 101, 200, 300, 400, 500, 600};
	struct vmi_walk walk;
	uint64_t task;
	size_t n = 0;

	(void)state;
	open_ok();
	vmi_walk_begin(&v, &walk);
	while (vmi_walk_next(&v, &walk, &task)) {
		uint32_t pid;

		assert_true(n < sizeof(expect) / sizeof(expect[0]));
		assert_int_equal(vmi_read_u32(&v, task + f.prof.task_pid, &pid), 0);
		assert_int_equal((int32_t)pid, expect[n]);
		n++;
	}
	assert_int_equal(n, sizeof(expect) / sizeof(expect[0]));
	assert_false(walk.truncated);
	/* done stays done */
	assert_false(vmi_walk_next(&v, &walk, &task));
}

static size_t walk_count(struct vmi_walk *walk)
{
	uint64_t task;
	size_t n = 0;

	vmi_walk_begin(&v, walk);
	while (vmi_walk_next(&v, walk, &task))
		n++;
	return n;
}

static void test_walk_self_loop_is_cut_with_reason(void **state)
{
	struct vmi_walk walk;
	uint64_t list;

	(void)state;
	open_ok();
	/* sh (pid 50) points to itself */
	list = w.sh + f.prof.task_tasks;
	fake_w64(&f, list, list);
	assert_int_equal(walk_count(&walk), 5); /* 0 1 2 3 50 */
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "does not point back"));
}

static void test_walk_loop_back_into_the_middle_is_cut(void **state)
{
	struct vmi_walk walk;

	(void)state;
	open_ok();
	/* 600 -> 50 instead of -> init_task: a cycle that avoids the head */
	fake_w64(&f, fake_r64(&f, w.init_task + f.prof.task_tasks + 8), w.sh + f.prof.task_tasks);
	assert_int_equal(walk_count(&walk), 12);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "does not point back"));
}

static void test_walk_pointer_outside_memory_is_cut(void **state)
{
	struct vmi_walk walk;

	(void)state;
	open_ok();
	fake_w64(&f, w.kthreadd + f.prof.task_tasks, FAKE_DIRECT_MAP + FAKE_RAM_SIZE + 0x1000);
	assert_int_equal(walk_count(&walk), 3);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "outside guest memory"));
}

static void test_walk_noncanonical_pointer_is_cut(void **state)
{
	struct vmi_walk walk;

	(void)state;
	open_ok();
	fake_w64(&f, w.init + f.prof.task_tasks, 0x8000123400000000ull);
	assert_int_equal(walk_count(&walk), 2);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "not a kernel address"));
}

/* pids of the next n tasks of the walk (-1 past its end) */
static void expect_next_pids(struct vmi_walk *walk, const int32_t *pids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t task;
		uint32_t pid;
		if (pids[i] < 0) {
			assert_false(vmi_walk_next(&v, walk, &task));
			continue;
		}
		assert_true(vmi_walk_next(&v, walk, &task));
		assert_int_equal(vmi_read_u32(&v, task + f.prof.task_pid, &pid), 0);
		assert_int_equal((int32_t)pid, pids[i]);
	}
}

/* Walks up to and including the task of pid `upto`, marks it, and opens a new session (the
 * guest runs between two exits). */
static void walk_and_mark(struct vmi_walk *walk, struct vmi_walk_mark *m, int32_t upto)
{
	uint64_t task;
	uint32_t pid = 0;
	vmi_walk_begin(&v, walk);
	while (vmi_walk_next(&v, walk, &task)) {
		assert_int_equal(vmi_read_u32(&v, task + f.prof.task_pid, &pid), 0);
		if ((int32_t)pid == upto)
			break;
	}
	assert_int_equal((int32_t)pid, upto);
	assert_int_equal(vmi_walk_mark(&v, walk, m), 0);
	vmi_refresh(&v);
}

static void test_walk_resumes_after_the_marked_task(void **state)
{
	static const int32_t rest[] = {50, 100, 101, 200, 300, 400, 500, 600, -1};
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	(void)state;
	open_ok();
	walk_and_mark(&walk, &m, 3);
	assert_int_equal(vmi_walk_resume(&v, &walk, &m), 0);
	expect_next_pids(&walk, rest, sizeof(rest) / sizeof(rest[0]));
	assert_false(walk.truncated);
	/* a mark before the first task: from the start */
	struct vmi_walk fresh;
	vmi_walk_begin(&v, &fresh);
	assert_int_equal(vmi_walk_mark(&v, &fresh, &m), 0);
	assert_int_equal(vmi_walk_resume(&v, &fresh, &m), 0);
	assert_int_equal(walk_count(&fresh), 12);
}

static void test_walk_resumes_after_a_marked_task_that_exited(void **state)
{
	static const int32_t rest[] = {3, 50, 100, 101, 200, 300, 400, 500, 600, -1};
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	(void)state;
	open_ok();
	walk_and_mark(&walk, &m, 2);
	unlink_task(w.kthreadd); /* reaped while the guest ran */
	assert_int_equal(vmi_walk_resume(&v, &walk, &m), 1);
	expect_next_pids(&walk, rest, sizeof(rest) / sizeof(rest[0]));
	assert_false(walk.truncated);
}

static void test_walk_resume_sees_a_reused_task_struct_as_another_task(void **state)
{
	static const int32_t rest[] = {777, 100, 101, 200};
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	(void)state;
	open_ok();
	walk_and_mark(&walk, &m, 50);
	/* sh exited; its task_struct is a new task's now, linked where it was (for the test) */
	fake_w32(&f, w.sh + f.prof.task_pid, 777);
	fake_w32(&f, w.sh + f.prof.task_tgid, 777);
	fake_w64(&f, w.sh + f.prof.task_start_boottime, 9000000000ull);
	assert_int_equal(vmi_walk_resume(&v, &walk, &m), 1);
	expect_next_pids(&walk, rest, sizeof(rest) / sizeof(rest[0]));
}

/* A hostile guest that, between every two steps, makes the marked task another one and
 * init (pid 1) the latest task of all: every resume goes round again and returns init once
 * more. The steps of every round count: the walk ends at its bound. */
static void test_walk_resumed_forever_still_ends_at_its_bound(void **state)
{
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	uint64_t task, steps = 0, returned = 0;
	(void)state;
	open_ok();
	vmi_walk_begin(&v, &walk);
	while (!walk.done && steps < 4ull * VMI_TASKS_MAX) {
		for (int i = 0; i < 3 && vmi_walk_next(&v, &walk, &task); i++)
			returned++;
		if (walk.done)
			break;
		assert_int_equal(vmi_walk_mark(&v, &walk, &m), 0);
		fake_w64(&f, walk.cur + f.prof.task_start_boottime, m.start_ns + 1);
		fake_w64(&f, w.init + f.prof.task_start_boottime, walk.latest_start_ns + 1000);
		vmi_refresh(&v);
		(void)vmi_walk_resume(&v, &walk, &m);
		steps++;
	}
	assert_true(walk.done);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "more than 65536 tasks"));
	assert_true(returned <= VMI_TASKS_MAX);
}

/* An honest guest where the marked task exits after the walk returned a later one that
 * forked before it but was linked first (the start time is taken before the list's lock):
 * going round again, the walk returns nothing twice. */
static void test_walk_resume_returns_no_task_twice(void **state)
{
	static const int32_t rest[] = {100, 101, 200, 300, 400, 500, 600, -1};
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	(void)state;
	open_ok();
	/* rcu_gp (3) is linked before sh (50) but started after it */
	fake_w64(&f, w.sh + f.prof.task_start_boottime, 600000000ull);
	walk_and_mark(&walk, &m, 50);
	unlink_task(w.sh);
	assert_int_equal(vmi_walk_resume(&v, &walk, &m), 1);
	expect_next_pids(&walk, rest, sizeof(rest) / sizeof(rest[0]));
}

static void test_walk_resume_on_a_broken_list_is_truncated(void **state)
{
	struct vmi_walk walk;
	struct vmi_walk_mark m;
	(void)state;
	open_ok();
	walk_and_mark(&walk, &m, 50);
	unlink_task(w.sh);
	fake_w64(&f, w.init + f.prof.task_tasks, 0x8000123400000000ull);
	assert_int_equal(vmi_walk_resume(&v, &walk, &m), -1);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "not a kernel address"));
	uint64_t task;
	assert_false(vmi_walk_next(&v, &walk, &task));
}

static void test_walk_stops_at_the_bound(void **state)
{
	struct vmi_walk walk;
	const uint32_t n = VMI_TASKS_MAX + 10;
	uint64_t base, head;

	(void)state;
	open_ok();
	/* A consistent list longer than the bound. Only list_heads are read by the walk, so
	 * the "tasks" may overlap: task i's list_head is 16 bytes after task i-1's. */
	base = fake_kalloc(&f, (uint64_t)n * 16u + f.prof.task_struct_size);
	head = w.init_task + f.prof.task_tasks;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t list = base + f.prof.task_tasks + (uint64_t)i * 16u;

		fake_w64(&f, list, i + 1 < n ? list + 16 : head);
		fake_w64(&f, list + 8, i > 0 ? list - 16 : head);
	}
	fake_w64(&f, head, base + f.prof.task_tasks);
	fake_w64(&f, head + 8, base + f.prof.task_tasks + (uint64_t)(n - 1) * 16u);
	assert_int_equal(walk_count(&walk), VMI_TASKS_MAX);
	assert_true(walk.truncated);
	assert_non_null(strstr(walk.reason, "more than 65536 tasks"));
}

/* ------------------------------------------------------------------ a process */

static void test_process_facts(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	assert_int_equal(vmi_process_read(&v, w.sh, VMI_READ_ALL, &p), 0);
	assert_int_equal(p.pid, 50);
	assert_int_equal(p.tgid, 50);
	assert_int_equal(p.ppid, 1);
	assert_int_equal(p.nspid, 50);
	assert_int_equal(p.uid, 1000);
	assert_int_equal(p.threads, 4);
	assert_int_equal(p.state, 'S');
	assert_false(p.kthread);
	assert_int_equal(p.start_ns, 5123456789ull);
	assert_string_equal(p.comm, "sh");
	/* the arguments cross a page boundary in the process's own page tables */
	assert_string_equal(p.cmdline, "sh -c sleep 1000");
	assert_string_equal(p.cgroup, "/");
	assert_string_equal(p.hostname, "lab-host");
	assert_int_equal(p.ns[VMI_NS_PID], 0xEFFFFFFCu);
	assert_int_equal(p.ns[VMI_NS_USER], 0xEFFFFFFDu);
	assert_int_equal(p.ns[VMI_NS_UTS], 0xEFFFFFFEu);
	assert_int_equal(p.ns[VMI_NS_IPC], 0xEFFFFFFFu);
	assert_int_equal(p.ns[VMI_NS_CGROUP], 0xEFFFFFFBu);
	assert_int_equal(p.ns[VMI_NS_TIME], 0xEFFFFFFAu);
	assert_int_equal(p.ns[VMI_NS_MNT], 4026531841u);
	assert_int_equal(p.ns[VMI_NS_NET], 4026531840u);
	assert_int_equal(p.missing, 0);
}

static void test_process_in_a_container(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	assert_int_equal(vmi_process_read(&v, w.web_child, VMI_READ_ALL, &p), 0);
	assert_int_equal(p.pid, 101);
	assert_int_equal(p.nspid, 2);
	assert_int_equal(p.ppid, 100);
	assert_int_equal(p.ns[VMI_NS_PID], w.web_pid_ns);
	assert_int_equal(p.ns[VMI_NS_PID_FOR_CHILDREN], w.web_pid_ns);
	assert_string_equal(p.hostname, "web");
	assert_string_equal(p.cgroup, "/lab/web");
	assert_string_equal(p.cmdline, "httpd -f");
	assert_false(p.frozen);
}

static void test_process_kernel_thread_and_init_task(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	assert_int_equal(vmi_process_read(&v, w.init_task, VMI_READ_ALL, &p), 0);
	assert_int_equal(p.pid, 0);
	assert_int_equal(p.ppid, 0); /* its own real_parent */
	assert_true(p.kthread);
	assert_int_equal(p.state, 'R');
	assert_string_equal(p.cmdline, "");
	assert_int_equal(p.missing, 0);
	assert_int_equal(vmi_process_read(&v, w.kthreadd, VMI_READ_ALL, &p), 0);
	assert_true(p.kthread);
	assert_int_equal(p.ppid, 0);
}

static void test_kernel_thread_names_as_proc_shows_them(void **state)
{
	struct fake_task t = {0};
	struct vmi_process p;
	uint64_t kthread, worker, name, kworker;
	char noterm[VMI_NAME_MAX + 8];

	(void)state;
	f.prof.task_worker_private = 0x190;
	f.prof.kthread_data = 0x18;
	f.prof.kthread_full_name = 0x68;
	f.prof.worker_current_work = 0x10;
	f.prof.worker_pool = 0x48;
	f.prof.worker_desc = 0x74;
	/* a kthread whose name did not fit in comm: kthread->full_name */
	kthread = fake_kalloc(&f, 0x80);
	name = fake_kalloc(&f, 64);
	fake_wbytes(&f, name, "rcu_tasks_rude_kthread", 23);
	fake_w64(&f, kthread + f.prof.kthread_full_name, name);
	fake_w64(&f, w.kthreadd + f.prof.task_worker_private, kthread);
	/* a workqueue worker: comm, then '-' (idle) or '+' (busy) and its workqueue */
	t.pid = t.tgid = 700;
	t.comm = "kworker/0:1";
	t.flags = VMI_PF_KTHREAD | VMI_PF_WQ_WORKER;
	t.real_parent = w.kthreadd;
	kworker = fake_task(&f, &t);
	kthread = fake_kalloc(&f, 0x80);
	worker = fake_kalloc(&f, 0xa0);
	fake_w64(&f, kworker + f.prof.task_worker_private, kthread);
	fake_w64(&f, kthread + f.prof.kthread_data, worker);
	fake_w64(&f, worker + f.prof.worker_pool, FAKE_DIRECT_MAP + 0x1000);
	fake_wbytes(&f, worker + f.prof.worker_desc, "events", 7);
	open_ok();
	assert_int_equal(vmi_process_read(&v, w.kthreadd, 0, &p), 0);
	assert_string_equal(p.comm, "rcu_tasks_rude_kthread");
	assert_int_equal(vmi_process_read(&v, kworker, 0, &p), 0);
	assert_string_equal(p.comm, "kworker/0:1-events");
	fake_w64(&f, worker + f.prof.worker_current_work, FAKE_DIRECT_MAP + 0x2000);
	assert_int_equal(vmi_process_read(&v, kworker, 0, &p), 0);
	assert_string_equal(p.comm, "kworker/0:1+events");
	/* hostile: a full_name with no NUL in reach, a worker with no pool: comm stays */
	memset(noterm, 'z', sizeof(noterm));
	fake_wbytes(&f, name, noterm, sizeof(noterm));
	assert_int_equal(vmi_process_read(&v, w.kthreadd, 0, &p), 0);
	assert_string_equal(p.comm, "kthreadd");
	fake_w64(&f, worker + f.prof.worker_pool, 0);
	assert_int_equal(vmi_process_read(&v, kworker, 0, &p), 0);
	assert_string_equal(p.comm, "kworker/0:1");
}

static void test_process_zombie(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	assert_int_equal(vmi_process_read(&v, w.zombie, VMI_READ_ALL, &p), 0);
	assert_int_equal(p.state, 'Z');
	assert_false(p.kthread); /* no mm, but a zombie, not a kernel thread */
	/* no nsproxy: only pid and user namespaces, as /proc shows; not "missing" */
	assert_int_equal(p.ns[VMI_NS_MNT], 0);
	assert_int_equal(p.ns[VMI_NS_PID], 4026532503u);
	assert_int_equal(p.missing & VMI_MISSING_NS, 0);
}

static void test_state_letters_as_proc(void **state)
{
	(void)state;
	assert_int_equal(vmi_state_letter(0x0, 0), 'R');
	assert_int_equal(vmi_state_letter(0x1, 0), 'S');
	assert_int_equal(vmi_state_letter(0x2, 0), 'D');
	assert_int_equal(vmi_state_letter(0x104, 0), 'T'); /* TASK_STOPPED = WAKEKILL|STOPPED */
	assert_int_equal(vmi_state_letter(0x8, 0), 't');
	assert_int_equal(vmi_state_letter(0x80, 0x10), 'X');
	assert_int_equal(vmi_state_letter(0x80, 0x20), 'Z');
	assert_int_equal(vmi_state_letter(0x40, 0), 'P');
	assert_int_equal(vmi_state_letter(0x402, 0), 'I');  /* TASK_IDLE */
	assert_int_equal(vmi_state_letter(0x1000, 0), 'D'); /* TASK_RTLOCK_WAIT */
}

static void test_process_unreadable_task(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	assert_int_equal(vmi_process_read(&v, FAKE_DIRECT_MAP + FAKE_RAM_SIZE, VMI_READ_ALL, &p),
			 -1);
	assert_int_equal(vmi_process_read(&v, 0x1000, VMI_READ_ALL, &p), -1);
}

static void test_process_hostile_pointers(void **state)
{
	struct vmi_process p;

	(void)state;
	open_ok();
	/* cred non-canonical, signal outside memory, nsproxy's net pointer NULL, mm's pgd
	 * not a kernel address, comm without a NUL */
	fake_w64(&f, w.sh + f.prof.task_real_cred, 0x8000000000001000ull);
	fake_w64(&f, w.sh + f.prof.task_signal, FAKE_DIRECT_MAP + FAKE_RAM_SIZE + 64);
	fake_w64(&f, fake_r64(&f, w.sh + f.prof.task_nsproxy) + f.prof.nsproxy_net_ns, 0);
	fake_w64(&f, fake_r64(&f, w.sh + f.prof.task_mm) + f.prof.mm_pgd, 0x1234);
	fake_wbytes(&f, w.sh + f.prof.task_comm, "ABCDEFGHIJKLMNOP", 16);
	assert_int_equal(vmi_process_read(&v, w.sh, VMI_READ_ALL, &p), 0);
	assert_int_equal(p.pid, 50);
	assert_true(p.missing & VMI_MISSING_UID);
	assert_true(p.missing & VMI_MISSING_THREADS);
	assert_true(p.missing & VMI_MISSING_CMDLINE);
	assert_true(p.missing & VMI_MISSING_NS);
	assert_int_equal(p.ns[VMI_NS_NET], 0);
	assert_int_equal(p.ns[VMI_NS_USER], 0);
	assert_int_equal(p.ns[VMI_NS_UTS], 0xEFFFFFFEu);
	assert_string_equal(p.comm, "ABCDEFGHIJKLMNO");
	assert_int_equal(p.ppid, 1);
}

static void test_process_huge_cmdline_is_truncated(void **state)
{
	struct vmi_process p;
	uint64_t mm;

	(void)state;
	open_ok();
	mm = fake_r64(&f, w.sh + f.prof.task_mm);
	fake_w64(&f, mm + f.prof.mm_arg_end, FAKE_USER_ARGS + (1ull << 40));
	assert_int_equal(vmi_process_read(&v, w.sh, VMI_READ_CMDLINE, &p), 0);
	assert_true(p.missing & VMI_TRUNCATED_CMDLINE);
	assert_true(strlen(p.cmdline) < VMI_CMDLINE_MAX);
	assert_int_equal(strncmp(p.cmdline, "sh -c sleep 1000", 16), 0);
}

/* ------------------------------------------------------------------ cgroups */

static void test_cgroup_parent_cycle_is_cut(void **state)
{
	char path[VMI_PATH_MAX];
	bool frozen;
	uint64_t kn_web, kn_lab;

	(void)state;
	open_ok();
	kn_web = fake_cgroup_kn(&f, w.cg_web);
	kn_lab = fake_r64(&f, kn_web + f.prof.kernfs_node_parent);
	fake_w64(&f, kn_lab + f.prof.kernfs_node_parent, kn_web); /* lab <-> web */
	assert_int_equal(vmi_cgroup_path(&v, w.cg_web, path, sizeof(path), &frozen),
			 VMI_MISSING_CGROUP);
	assert_string_equal(path, "");
}

static void test_cgroup_overlong_name_is_truncated(void **state)
{
	char path[VMI_PATH_MAX], name[600];
	bool frozen;
	uint64_t str, kn;

	(void)state;
	open_ok();
	memset(name, 'x', sizeof(name)); /* and no NUL at all */
	str = fake_kalloc(&f, sizeof(name));
	fake_wbytes(&f, str, name, sizeof(name));
	kn = fake_cgroup_kn(&f, w.cg_web);
	fake_w64(&f, kn + f.prof.kernfs_node_name, str);
	assert_int_equal(vmi_cgroup_path(&v, w.cg_web, path, sizeof(path), &frozen),
			 VMI_TRUNCATED_CGROUP);
	assert_int_equal(strlen(path), VMI_PATH_MAX - 1);
	assert_int_equal(strncmp(path, "/lab/xxx", 8), 0);
}

static void test_cgroup_frozen_flag(void **state)
{
	char path[VMI_PATH_MAX];
	bool frozen;

	(void)state;
	open_ok();
	assert_int_equal(vmi_cgroup_path(&v, w.cg_paused, path, sizeof(path), &frozen), 0);
	assert_string_equal(path, "/lab/paused");
	assert_true(frozen);
	assert_int_equal(vmi_cgroup_path(&v, w.cg_root, path, sizeof(path), &frozen), 0);
	assert_string_equal(path, "/");
	assert_false(frozen);
}

/* ------------------------------------------------------------------ containers */

static const struct vmi_container *find_ct(size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(containers[i].id, id) == 0)
			return &containers[i];
	}
	return NULL;
}

static void test_containers_grouped_and_named(void **state)
{
	const struct vmi_container *c;
	struct vmi_walk walk;
	char nsname[32];
	size_t n;

	(void)state;
	open_ok();
	assert_int_equal(vmi_containers_collect(&v, containers, CONTAINERS_CAP, &n, &walk), 0);
	assert_false(walk.truncated);
	assert_int_equal(n, 5);

	c = find_ct(n, "web");
	assert_non_null(c);
	assert_int_equal(c->key.runtime, VMI_RT_CGROUPFS);
	assert_string_equal(c->name, "web");
	assert_int_equal(c->init_pid, 100);
	assert_int_equal(c->init_nspid, 1);
	assert_int_equal(c->processes, 2);
	assert_string_equal(c->hostname, "web");
	assert_string_equal(c->cgroup, "/lab/web");
	assert_int_equal(c->state, VMI_CT_RUNNING);
	assert_int_equal(c->ns[VMI_NS_NET], 4026532205u);

	c = find_ct(n, FAKE_DOCKER_ID);
	assert_non_null(c);
	assert_int_equal(c->key.runtime, VMI_RT_DOCKER);
	assert_string_equal(c->name, "0123456789ab");
	assert_string_equal(c->cgroup, "/system.slice/docker-" FAKE_DOCKER_ID ".scope");
	assert_int_equal(c->init_pid, 200);

	c = find_ct(n, "paused");
	assert_non_null(c);
	assert_int_equal(c->state, VMI_CT_PAUSED);

	c = find_ct(n, "gone");
	assert_non_null(c);
	assert_int_equal(c->state, VMI_CT_STOPPED);
	assert_int_equal(c->live, 0);

	snprintf(nsname, sizeof(nsname), "pidns-%u", w.nsonly_pid_ns);
	c = find_ct(n, nsname);
	assert_non_null(c);
	assert_int_equal(c->key.runtime, VMI_RT_NAMESPACES);
	assert_int_equal(c->init_pid, 500);
}

static void test_a_containers_init_checked_again_before_its_cgroup_is_used(void **state)
{
	const struct vmi_container *c;
	struct vmi_process p;
	size_t n;

	(void)state;
	open_ok();
	assert_int_equal(vmi_containers_collect(&v, containers, CONTAINERS_CAP, &n, NULL), 0);
	c = find_ct(n, "web");
	assert_non_null(c);
	assert_int_equal(vmi_process_read(&v, c->init_task, VMI_READ_NS | VMI_READ_CGROUP, &p), 0);
	assert_true(vmi_container_init_still(c, &p));
	/* its task_struct reused by another process (another pid) */
	struct vmi_process q = p;
	q.tgid = 4242;
	assert_false(vmi_container_init_still(c, &q));
	/* the same pid number in another pid namespace */
	q = p;
	q.ns[VMI_NS_PID]++;
	assert_false(vmi_container_init_still(c, &q));
	/* moved to another cgroup, or to one whose name only starts the same */
	q = p;
	snprintf(q.cgroup, sizeof(q.cgroup), "/lab/other");
	assert_false(vmi_container_init_still(c, &q));
	snprintf(q.cgroup, sizeof(q.cgroup), "/lab/web2");
	assert_false(vmi_container_init_still(c, &q));
	/* a cgroup under the container's stays the container's */
	snprintf(q.cgroup, sizeof(q.cgroup), "/lab/web/sub");
	assert_true(vmi_container_init_still(c, &q));
	/* a docker container's init in a cgroup under the runtime's */
	c = find_ct(n, FAKE_DOCKER_ID);
	assert_non_null(c);
	assert_int_equal(vmi_process_read(&v, c->init_task, VMI_READ_NS | VMI_READ_CGROUP, &p), 0);
	assert_true(vmi_container_init_still(c, &p));
}

static void test_container_patterns(void **state)
{
	static const struct {
		const char *path;
		bool in;
		enum vmi_runtime rt;
	} cases[] = {
		{"/system.slice/docker-" FAKE_DOCKER_ID ".scope", true, VMI_RT_DOCKER},
		{"/docker/" FAKE_DOCKER_ID, true, VMI_RT_DOCKER},
		{"/kubepods.slice/kubepods-pod1.slice/cri-containerd-" FAKE_DOCKER_ID ".scope",
		 true, VMI_RT_CONTAINERD},
		{"/machine.slice/libpod-" FAKE_DOCKER_ID ".scope/container", true, VMI_RT_PODMAN},
		{"/libpod_parent/libpod-" FAKE_DOCKER_ID, true, VMI_RT_PODMAN},
		{"/kubepods/crio-" FAKE_DOCKER_ID ".scope", true, VMI_RT_CRIO},
		{"/crio-" FAKE_DOCKER_ID, true, VMI_RT_CRIO},
		{"/machine.slice/libpod-conmon-" FAKE_DOCKER_ID ".scope", false, VMI_RT_PODMAN},
		{"/system.slice/docker-0123.scope", false, VMI_RT_DOCKER},
		{"/system.slice/docker.service", false, VMI_RT_DOCKER},
		{"/" FAKE_DOCKER_ID, false, VMI_RT_DOCKER},
	};
	struct vmi_process p;
	struct vmi_container_key key;

	(void)state;
	open_ok();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		memcpy(p.ns, v.host_ns, sizeof(p.ns)); /* host namespaces: only the path counts */
		snprintf(p.cgroup, sizeof(p.cgroup), "%s", cases[i].path);
		vmi_container_key_of(&v, &p, &key);
		if (key.in_container != cases[i].in)
			fail_msg("%s: in_container %d", cases[i].path, key.in_container);
		if (cases[i].in) {
			assert_int_equal(key.runtime, cases[i].rt);
			assert_string_equal(key.id, FAKE_DOCKER_ID);
		}
	}
}

static void test_containers_table_overflow_is_reported(void **state)
{
	size_t n;

	(void)state;
	open_ok();
	assert_int_equal(vmi_containers_collect(&v, containers, 2, &n, NULL), -1);
	assert_int_equal(n, 2);
}

/* ------------------------------------------------------------------ the verbs */

static void test_verb_ps_text(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(run(vmi_verb_ps, &r, "ps", NULL, NULL), 0);
	assert_int_equal(r.error, PROTO_OK);
	assert_non_null(strstr(cap.text, "    PID    PPID   UID S  THR"));
	assert_non_null(strstr(
		cap.text, "     50       1  1000 S    4      5.123 -            sh              "
			  "sh -c sleep 1000\r\n"));
	assert_non_null(strstr(cap.text, "    101     100     0 S    1      7.000 web          "
					 "httpd           httpd -f\r\n"));
	assert_non_null(strstr(cap.text, "[kthreadd]"));
	assert_null(strstr(cap.text, "warning"));
}

static void test_verb_ps_json(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(run(vmi_verb_ps, &r, "ps", "--json", NULL), 0);
	assert_int_equal(strncmp(cap.text, "{\"processes\":[{\"pid\":0,", 23), 0);
	assert_non_null(strstr(cap.text, "\"pid\":101,\"tgid\":101,\"thread_id\":101,\"ppid\":100,"
					 "\"nspid\":2,\"uid\":0,\"comm\":\"httpd\","
					 "\"cmdline\":\"httpd -f\",\"state\":\"S\""));
	assert_non_null(strstr(cap.text, "\"container\":\"web\""));
	assert_non_null(
		strstr(cap.text, "],\"count\":12,\"truncated\":false,\"reason\":null}\r\n"));
	/* one line */
	assert_ptr_equal(strchr(cap.text, '\n'), cap.text + cap.len - 1);
}

/* ps as the monitor runs it: a few tasks per exit, the guest running in between (a new
 * session each step); `between` runs after each step. The output into cap. */
static void ps_stepped(bool json, uint32_t budget, void (*between)(uint32_t step))
{
	struct vmi_ps_job j;
	struct reply r;
	char *argv[] = {"ps", json ? "--json" : NULL, NULL};
	cap.len = 0;
	cap.text[0] = '\0';
	reply_init(&r, capture_write, &cap);
	assert_int_equal(vmi_ps_start(&j, &r, json ? 2 : 1, argv), 0);
	uint32_t steps = 0;
	vmi_refresh(&v);
	while (!vmi_ps_step(&v, &j, &r, budget)) {
		assert_true(++steps < 100);
		if (between)
			between(steps);
		vmi_refresh(&v);
	}
	assert_int_equal(r.error, PROTO_OK);
}

static void test_verb_ps_in_steps_is_the_same_listing(void **state)
{
	static char whole[1 << 16];
	struct reply r;

	(void)state;
	open_ok();
	for (int json = 0; json < 2; json++) {
		assert_int_equal(run(vmi_verb_ps, &r, "ps", json ? "--json" : NULL, NULL), 0);
		assert_true(cap.len < sizeof(whole));
		memcpy(whole, cap.text, cap.len + 1);
		ps_stepped(json, 1, NULL);
		assert_string_equal(cap.text, whole);
		ps_stepped(json, 5, NULL);
		assert_string_equal(cap.text, whole);
	}
}

static void test_verb_containers_in_steps_is_the_same_listing(void **state)
{
	static char whole[1 << 16];
	struct reply r;

	(void)state;
	open_ok();
	for (int json = 0; json < 2; json++) {
		assert_int_equal(
			run(vmi_verb_containers, &r, "containers", json ? "--json" : NULL, NULL),
			0);
		assert_true(cap.len < sizeof(whole));
		memcpy(whole, cap.text, cap.len + 1);
		for (uint32_t budget = 1; budget <= 3; budget += 2) {
			struct vmi_ct_list_job j;
			char *argv[] = {"containers", json ? "--json" : NULL, NULL};
			cap.len = 0;
			cap.text[0] = '\0';
			reply_init(&r, capture_write, &cap);
			assert_int_equal(vmi_ct_list_start(&j, &r, json ? 2 : 1, argv), 0);
			uint32_t steps = 0;
			vmi_refresh(&v);
			while (!vmi_ct_list_step(&v, &j, &r, budget)) {
				assert_true(++steps < 100);
				vmi_refresh(&v);
			}
			assert_true(steps >= 12 / budget - 1);
			assert_string_equal(cap.text, whole);
		}
	}
}

static void test_verb_inspect_in_steps_is_the_same(void **state)
{
	static char whole[1 << 16];
	static const char *const whats[] = {"web", "0123456", "101", "1", "nosuch"};
	struct reply r;

	(void)state;
	open_ok();
	for (size_t k = 0; k < sizeof(whats) / sizeof(whats[0]); k++) {
		for (int json = 0; json < 2; json++) {
			int rc = run(vmi_verb_inspect, &r, "inspect", whats[k],
				     json ? "--json" : NULL);
			enum proto_error err = r.error;
			assert_true(cap.len < sizeof(whole));
			memcpy(whole, cap.text, cap.len + 1);
			for (uint32_t budget = 1; budget <= 3; budget += 2) {
				struct vmi_inspect_job j;
				char *argv[] = {"inspect", (char *)whats[k], json ? "--json" : NULL,
						NULL};
				cap.len = 0;
				cap.text[0] = '\0';
				reply_init(&r, capture_write, &cap);
				assert_int_equal(vmi_inspect_start(&j, &r, json ? 3 : 2, argv), 0);
				uint32_t steps = 0;
				vmi_refresh(&v);
				while (!vmi_inspect_step(&v, &j, &r, budget)) {
					assert_true(++steps < 100);
					vmi_refresh(&v);
				}
				assert_int_equal(r.error, err);
				assert_int_equal(rc, err == PROTO_OK ? 0 : -1);
				assert_string_equal(cap.text, whole);
			}
		}
	}
}

static bool web_child_gone;

/* httpd (101) exits right after the step that listed web's init (100), its neighbour on
 * the tasks list: the next step goes on from a task that is still there. */
static void exit_web_child(uint32_t step)
{
	(void)step;
	if (!web_child_gone && strstr(cap.text, "\"pid\":100,") != NULL) {
		assert_null(strstr(cap.text, "\"pid\":101,"));
		unlink_task(w.web_child);
		web_child_gone = true;
	}
}

static void test_verb_ps_in_steps_leaves_out_a_process_that_exited(void **state)
{
	(void)state;
	open_ok();
	web_child_gone = false;
	ps_stepped(true, 2, exit_web_child);
	assert_true(web_child_gone);
	assert_null(strstr(cap.text, "\"pid\":101,"));
	assert_non_null(strstr(cap.text, "\"pid\":100,"));
	assert_non_null(strstr(cap.text, "\"pid\":200,"));
	assert_non_null(strstr(cap.text, "],\"count\":11,\"truncated\":false"));
	/* each process once */
	const char *first = strstr(cap.text, "\"pid\":50,");
	assert_non_null(first);
	assert_null(strstr(first + 1, "\"pid\":50,"));
}

static void test_verb_ps_reports_a_cut_walk(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	fake_w64(&f, w.kthreadd + f.prof.task_tasks, 0x8000123400000000ull);
	assert_int_equal(run(vmi_verb_ps, &r, "ps", NULL, NULL), 0);
	assert_non_null(strstr(cap.text, "warning: task list incomplete: task 0x"));
	assert_int_equal(run(vmi_verb_ps, &r, "ps", "--json", NULL), 0);
	assert_non_null(strstr(cap.text, "\"truncated\":true,\"reason\":\"task 0x"));
}

static void test_verb_ps_hostile_strings(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	fake_wbytes(&f, w.sh + f.prof.task_comm, "a\"b\r\n= ok\x01\xff", 12);
	assert_int_equal(run(vmi_verb_ps, &r, "ps", NULL, NULL), 0);
	/* no guest byte can end a line or forge a status line */
	assert_non_null(strstr(cap.text, " a\"b?"
					 "?= ok?"
					 "? "));
	assert_null(strstr(cap.text, "\n= ok"));
	assert_int_equal(run(vmi_verb_ps, &r, "ps", "--json", NULL), 0);
	assert_non_null(strstr(cap.text, "\"comm\":\"a\\\"b\\r\\n= ok\\u0001\\u00ff\""));
}

/* ps --pid, --container, --fields and --compact: only what was asked, the same facts */
static void test_verb_ps_asks_for_less(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--pid", "101")), 0);
	assert_int_equal(count_lines(cap.text), 2); /* the header and pid 101 */
	assert_non_null(strstr(cap.text, "    101     100     0 S    1      7.000 web          "
					 "httpd           httpd -f\r\n"));
	assert_int_equal(runv(vmi_verb_ps, &r,
			      WORDS("ps", "--container", "web", "--fields", "pid,comm,container",
				    "--compact")),
			 0);
	assert_true(starts_with(cap.text, "#pid\tcomm\tcontainer\r\n"));
	assert_non_null(strstr(cap.text, "\r\n101\thttpd\tweb\r\n"));
	assert_null(strstr(cap.text, "\n50\t")); /* pid 50 is not in web */
	assert_non_null(strstr(cap.text, "#count\t2\r\n"));
	assert_int_equal(
		runv(vmi_verb_ps, &r,
		     WORDS("ps", "--fields", "pid,cmdline,start", "--json", "--pid", "101")),
		0);
	assert_true(starts_with(
		cap.text,
		"{\"processes\":[{\"pid\":101,\"cmdline\":\"httpd -f\",\"start_ns\":7000000000}]"));
	assert_non_null(strstr(cap.text, "\"count\":1,"));
	/* the compact default: the text listing's columns, unknown as \N */
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--compact")), 0);
	assert_true(starts_with(
		cap.text, "#pid\tppid\tuid\tstate\tthreads\tstart\tcontainer\tcomm\tcmdline\r\n"));
	assert_non_null(
		strstr(cap.text, "\r\n50\t1\t1000\tS\t4\t5.123\t\\N\tsh\tsh -c sleep 1000\r\n"));
	assert_non_null(strstr(cap.text, "#count\t12\r\n"));
	/* refusals, each saying why */
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--container", "nope")), -1);
	assert_int_equal(r.error, PROTO_FAILED);
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--fields", "pid,pid")), -1);
	assert_non_null(strstr(r.message, "given twice"));
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--fields", "pid,nope")), -1);
	assert_non_null(strstr(r.message, "unknown field \"nope\""));
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--json", "--compact")), -1);
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--pid", "x1")), -1);
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--pid")), -1);
	assert_int_equal(r.error, PROTO_BAD_ARGUMENT);
}

/* A guest string cannot end a compact row or add a column. */
static void test_verb_ps_compact_hostile_strings(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	fake_wbytes(&f, w.sh + f.prof.task_comm, "a\tb\r\n= ok\\\x01", 11);
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--compact", "--fields", "pid,comm")),
			 0);
	assert_non_null(strstr(cap.text, "\r\n50\ta\\tb\\r\\n= ok\\\\\\x01\r\n"));
	assert_null(strstr(cap.text, "\n= ok"));
	/* nor start like a "#" line */
	fake_wbytes(&f, w.sh + f.prof.task_comm, "#count\0", 7);
	assert_int_equal(runv(vmi_verb_ps, &r, WORDS("ps", "--compact", "--fields", "comm,pid")),
			 0);
	assert_non_null(strstr(cap.text, "\r\n\\x23count\t50\r\n"));
	assert_null(strstr(cap.text, "\n#count\t50"));
}

static void test_verb_containers(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(run(vmi_verb_containers, &r, "containers", NULL, NULL), 0);
	assert_non_null(strstr(cap.text, "ID           NAME         STATE"));
	assert_non_null(strstr(cap.text,
			       "web          web          running  cgroupfs       100      1"
			       "     2 web              /lab/web root\r\n"));
	assert_non_null(strstr(cap.text, "0123456789ab 0123456789ab running  docker"));
	assert_non_null(strstr(cap.text, "paused       paused       paused"));
	assert_non_null(strstr(cap.text, "gone         gone         stopped"));
	assert_int_equal(run(vmi_verb_containers, &r, "containers", "--json", NULL), 0);
	assert_non_null(strstr(cap.text,
			       "{\"id\":\"web\",\"name\":\"web\",\"runtime\":\"cgroupfs\","
			       "\"state\":\"running\",\"init_pid\":100,\"init_nspid\":1,"
			       "\"hostname\":\"web\",\"cgroup\":\"/lab/web\""));
	assert_non_null(strstr(cap.text, "\"process_count\":2,\"pids\":[100,101]}"));
	assert_non_null(strstr(cap.text, "\"owner_uid\":0,\"rootless\":false,\"ref\":\"web\""));
	assert_non_null(strstr(cap.text, "\"count\":5,\"truncated\":false"));
}

/* A sandbox an unprivileged user made: a user namespace of its own (owner 1001) in a
 * cgroup named like web's. It is listed as 1001's, named 1001/web only; "web" is still the
 * real one. A cgroup chown'ed to a user (delegated) makes a sandbox too. */
static void test_sandbox_of_a_user_is_told_apart(void **state)
{
	(void)state;
	uint64_t host_user =
		fake_r64(&f, fake_r64(&f, w.init + f.prof.task_real_cred) + f.prof.cred_user_ns);
	uint64_t userns = fake_userns_child(&f, host_user, 1001, 4026532999u);
	/* the fake "web": its init reads the web cgroup's leaf, in namespaces of its own */
	uint64_t cg = fake_cgroup(&f, w.cg_root, "home", 0);
	cg = fake_cgroup(&f, cg, "web", 0);
	struct fake_task t = {0};
	t.pid = t.tgid = 700;
	t.comm = "sleep";
	t.real_parent = w.init;
	t.cred = fake_cred(&f, 1001, userns);
	t.signal = fake_signal(&f, 1);
	t.css_set = fake_css_set(&f, cg);
	uint64_t pidns = fake_ns(&f, FK_PID, 4026533001u, NULL);
	uint64_t mnt = fake_ns(&f, FK_MNT, 4026533002u, NULL);
	uint64_t uts = fake_ns(&f, FK_UTS, 4026533003u, "host");
	t.nsproxy = fake_nsproxy(&f, uts, uts, mnt, pidns, uts, uts, uts);
	int32_t nr[2] = {700, 1};
	uint64_t ns[2] = {fake_r64(&f, fake_r64(&f, w.init + f.prof.task_thread_pid) +
					       f.prof.pid_numbers + f.prof.upid_ns),
			  pidns};
	t.thread_pid = fake_pid(&f, 1, nr, ns);
	fake_task(&f, &t);
	open_ok();
	struct vmi_container c[8];
	size_t n = 0, at = 0;
	assert_int_equal(vmi_containers_collect(&v, c, 8, &n, NULL), 0);
	size_t real = n, fake = n;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].id, "web") == 0 && c[i].init_pid == 100)
			real = i;
		if (c[i].init_pid == 700)
			fake = i;
	}
	assert_true(real < n && fake < n);
	assert_false(c[real].rootless);
	assert_true(c[fake].rootless && c[fake].owner_known);
	assert_int_equal(c[fake].owner_uid, 1001);
	assert_string_equal(c[fake].id, "web");
	char why[200];
	assert_int_equal(vmi_container_resolve(c, n, "web", &at, why, sizeof(why)), 0);
	assert_int_equal(at, real);
	assert_int_equal(vmi_container_resolve(c, n, "1001/web", &at, why, sizeof(why)), 0);
	assert_int_equal(at, fake);
	assert_int_equal(vmi_container_resolve(c, n, "1002/web", &at, why, sizeof(why)), -1);
	/* two of root's named alike: refused, both listed */
	struct vmi_container two[2] = {c[real], c[real]};
	two[1].init_pid = 555;
	snprintf(two[1].cgroup, sizeof(two[1].cgroup), "/other/web");
	assert_int_equal(vmi_container_resolve(two, 2, "web", &at, why, sizeof(why)), -2);
	assert_non_null(strstr(why, "ambiguous"));
	assert_non_null(strstr(why, "pid 100"));
	assert_non_null(strstr(why, "pid 555"));
	/* a plain name only the sandbox has: not found, and the refusal says how it is named */
	snprintf(c[fake].id, sizeof(c[fake].id), "solo");
	snprintf(c[fake].name, sizeof(c[fake].name), "solo");
	assert_int_equal(vmi_container_resolve(c, n, "solo", &at, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "a sandbox of uid 1001 is named 1001/solo"));
	/* a container's own cgroup chown'ed (crun does so for its root in a user namespace):
	 * still root's; a delegated directory above it (root's user namespace, the "lab"
	 * directory chown'ed to 1002): 1002's */
	uint32_t uid = 7;
	fake_cgroup_chown(&f, w.cg_web, 100000);
	assert_int_equal(vmi_owner_uid(&v, w.web_init, w.cg_web, &uid), 0);
	assert_int_equal(uid, 0);
	uint64_t lab_kn =
		fake_r64(&f, fake_r64(&f, w.cg_web + f.prof.cgroup_kn) + f.prof.kernfs_node_parent);
	uint64_t iattr = fake_kalloc(&f, 0x60);
	fake_w32(&f, iattr + f.prof.kernfs_iattrs_ia_uid, 1002);
	fake_w64(&f, lab_kn + f.prof.kernfs_node_iattr, iattr);
	assert_int_equal(vmi_owner_uid(&v, w.web_init, w.cg_web, &uid), 0);
	assert_int_equal(uid, 1002);
}

/* A user's delegated subtree can hold a directory named like a real container's scope:
 * its processes are another container (another path), the user's, and the id alone still
 * names the real one. */
static void test_runtime_id_under_another_path_is_another_container(void **state)
{
	(void)state;
	uint64_t cg = fake_cgroup(&f, w.cg_root, "user.slice", 0);
	cg = fake_cgroup(&f, cg, "user@1001.service", 0);
	fake_cgroup_chown(&f, cg, 1001);
	cg = fake_cgroup(&f, cg, "docker-" FAKE_DOCKER_ID ".scope", 0);
	struct fake_task t = {0};
	t.pid = t.tgid = 710;
	t.comm = "fake";
	t.real_parent = w.init;
	t.cred = fake_r64(&f, w.init + f.prof.task_real_cred);
	t.signal = fake_signal(&f, 1);
	t.css_set = fake_css_set(&f, cg);
	t.nsproxy = fake_r64(&f, w.init + f.prof.task_nsproxy);
	t.thread_pid = fake_r64(&f, w.init + f.prof.task_thread_pid);
	fake_task(&f, &t);
	open_ok();
	struct vmi_container c[8];
	size_t n = 0, at = 0, real = 8, fake = 8;
	assert_int_equal(vmi_containers_collect(&v, c, 8, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].id, FAKE_DOCKER_ID) != 0)
			continue;
		if (c[i].init_pid == 710)
			fake = i;
		else
			real = i;
	}
	assert_true(real < n && fake < n);
	assert_false(c[real].rootless);
	assert_true(c[fake].rootless);
	assert_int_equal(c[fake].owner_uid, 1001);
	char why[200];
	assert_int_equal(vmi_container_resolve(c, n, FAKE_DOCKER_ID, &at, why, sizeof(why)), 0);
	assert_int_equal(at, real);
	assert_int_equal(vmi_container_resolve(c, n, "0123456789ab", &at, why, sizeof(why)), 0);
	assert_int_equal(at, real);
	/* a uid past 32 bits names nobody (no wrap to a small one) */
	assert_int_equal(
		vmi_container_resolve(c, n, "4294968297/" FAKE_DOCKER_ID, &at, why, sizeof(why)),
		-1);
}

static void test_verb_inspect_container_and_process(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "web", NULL), 0);
	assert_non_null(strstr(cap.text, "container:   web\r\n"));
	assert_non_null(strstr(cap.text, "init pid:    100 (1 inside)\r\n"));
	assert_non_null(strstr(cap.text, "httpd -f\r\n"));
	/* by a prefix of a docker id */
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "0123456", "--json"), 0);
	assert_non_null(strstr(cap.text, "{\"container\":{\"id\":\"" FAKE_DOCKER_ID "\""));
	assert_ptr_equal(strstr(cap.text, "{\"container\":"), cap.text);
	assert_non_null(strstr(cap.text, "\"processes\":[{\"pid\":200,"));
	/* by pid */
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "101", NULL), 0);
	assert_non_null(strstr(cap.text, "process:     101\r\n"));
	assert_non_null(strstr(cap.text, "container:   web\r\n"));
	assert_non_null(strstr(cap.text, "pid inside:  2\r\n"));
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "--json", "1"), 0);
	assert_int_equal(strncmp(cap.text, "{\"process\":{\"pid\":1,", 20), 0);
}

static void test_verb_inspect_errors(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "nosuch", NULL), -1);
	assert_int_equal(r.error, PROTO_FAILED);
	assert_string_equal(r.message, "no container or process matches 'nosuch'");
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "99999", NULL), -1);
	assert_string_equal(r.message, "no container or process matches '99999'");
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", NULL, NULL), -1);
	assert_int_equal(r.error, PROTO_BAD_ARGUMENT);
	assert_int_equal(run(vmi_verb_inspect, &r, "inspect", "a", "b"), -1);
	assert_int_equal(r.error, PROTO_BAD_ARGUMENT);
	assert_int_equal(run(vmi_verb_ps, &r, "ps", "--xml", NULL), -1);
	assert_int_equal(r.error, PROTO_BAD_ARGUMENT);
}

static void test_verbs_on_5level_guest(void **state)
{
	struct reply r;

	(void)state;
	open_ok();
	assert_true(v.la57);
	assert_int_equal(run(vmi_verb_containers, &r, "containers", NULL, NULL), 0);
	assert_non_null(strstr(cap.text, "web          web          running"));
	assert_int_equal(run(vmi_verb_ps, &r, "ps", NULL, NULL), 0);
	assert_non_null(strstr(cap.text, "sh -c sleep 1000"));
}

static void test_reads_are_counted_and_cached(void **state)
{
	struct vmi_process p;
	uint64_t before, first, second;

	(void)state;
	open_ok();
	vmi_refresh(&v);
	before = f.mem.reads;
	assert_int_equal(vmi_process_read(&v, w.web_init, VMI_READ_ALL, &p), 0);
	first = f.mem.reads - before;
	assert_int_equal(vmi_process_read(&v, w.web_child, VMI_READ_ALL, &p), 0);
	second = f.mem.reads - before - first;
	assert_true(first > 0);
	/* same namespaces and cgroup: cached translations, inodes and path */
	assert_true(second < first);
	/* A refresh empties every cache: the same read costs what the first did. */
	vmi_refresh(&v);
	before = f.mem.reads;
	assert_int_equal(vmi_process_read(&v, w.web_init, VMI_READ_ALL, &p), 0);
	assert_int_equal(f.mem.reads - before, first);
	/* also when the generation wraps around */
	v.cache_gen = UINT32_MAX;
	vmi_refresh(&v);
	assert_int_equal(v.cache_gen, 1);
	before = f.mem.reads;
	assert_int_equal(vmi_process_read(&v, w.web_init, VMI_READ_ALL, &p), 0);
	assert_int_equal(f.mem.reads - before, first);
}

static void test_a_refreshed_session_sees_a_changed_mapping(void **state)
{
	uint64_t root = fake_palloc(&f, 4096, 4096), va = 0x00007f0000001000ull;
	uint64_t a = fake_palloc(&f, 4096, 4096), b = fake_palloc(&f, 4096, 4096);
	char got[4];

	(void)state;
	open_ok();
	memcpy(f.ram + a, "AAA", 4);
	memcpy(f.ram + b, "BBB", 4);
	/* A process's page moved to another frame between two exits: the cached translation
	 * holds within an exit and is gone after the refresh. */
	fake_map(&f, root, va, a, PAGE_SIZE_4K);
	assert_int_equal(vmi_read_user(&v, root, va, got, 4), 4);
	assert_string_equal(got, "AAA");
	fake_map(&f, root, va, b, PAGE_SIZE_4K);
	assert_int_equal(vmi_read_user(&v, root, va, got, 4), 4);
	assert_string_equal(got, "AAA");
	vmi_refresh(&v);
	assert_int_equal(vmi_read_user(&v, root, va, got, 4), 4);
	assert_string_equal(got, "BBB");
}

#define W(t) cmocka_unit_test_setup_teardown(t, setup_world, teardown)

/* ------------------------------------------------------------------ freezer.c */
#define T_JOBCTL_TRAP_FREEZE (1ull << 23)
#define T_CGRP_FREEZE        (1ull << 2)
#define T_TIF_SIGPENDING     (1ull << 2)

/* A cgroup being frozen with n tasks, each with the freezer's trap pending, off-CPU,
 * runnable (held by cpu.max, say) */
static uint64_t freezing_cgroup(uint64_t *tasks, size_t n, uint64_t *cset)
{
	uint64_t cg = fake_cgroup(&f, w.cg_root, "held", T_CGRP_FREEZE);
	*cset = fake_css_set(&f, cg);
	for (size_t i = 0; i < n; i++) {
		struct fake_task t = {0};
		t.pid = t.tgid = (int32_t)(800 + i);
		t.comm = "sh";
		t.real_parent = w.init;
		t.css_set = *cset;
		t.jobctl = T_JOBCTL_TRAP_FREEZE;
		t.tif = T_TIF_SIGPENDING; /* signal_wake_up */
		tasks[i] = fake_task(&f, &t);
	}
	return cg;
}

/* A container whose cgroup.freeze is 1 is paused even before the kernel reports it frozen
 * (crun list says paused from the same file; a pause that ended on the trap rule must be
 * unpausable at once) */
static void test_a_container_freezing_is_paused(void **state)
{
	(void)state;
	struct vmi_container c[8];
	size_t n = 0;
	fake_w64(&f, w.cg_web + f.prof.cgroup_flags, T_CGRP_FREEZE);
	open_ok();
	assert_int_equal(vmi_containers_collect(&v, c, 8, &n, NULL), 0);
	size_t web = n;
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].id, "web") == 0)
			web = i;
	assert_true(web < n);
	assert_false(c[web].frozen);
	assert_true(c[web].freeze_set);
	assert_int_equal(c[web].state, VMI_CT_PAUSED);
}

static void test_freeze_pending_on_every_task_off_cpu_is_a_yes(void **state)
{
	(void)state;
	uint64_t tasks[3], cset, cg = freezing_cgroup(tasks, 3, &cset);
	struct vmi_freeze_look look;
	open_ok();
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 1);
	assert_int_equal(look.tasks, 3);
	assert_int_equal(look.runnable, 3);
	assert_null(look.why);
	/* exactly as many tasks as a look takes */
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 3, &look), 1);
	/* one in the freezer's trap already (TASK_INTERRUPTIBLE | TASK_FREEZABLE), one a
	 * zombie, one exiting: still a yes */
	fake_w32(&f, tasks[0] + f.prof.task_state, 0x2001);
	fake_w32(&f, tasks[1] + f.prof.task_exit_state, VMI_EXIT_ZOMBIE);
	fake_w32(&f, tasks[2] + f.prof.task_flags, VMI_PF_EXITING);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 1);
	assert_int_equal(look.runnable, 0); /* none of them still to run into the trap */
	/* a kernel thread is left alone by the freezer */
	fake_w32(&f, tasks[2] + f.prof.task_flags, VMI_PF_KTHREAD);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 1);
}

static void test_a_task_that_may_run_first_is_a_no(void **state)
{
	(void)state;
	uint64_t tasks[2], cset, cg = freezing_cgroup(tasks, 2, &cset);
	struct vmi_freeze_look look;
	open_ok();
	/* on a CPU now: it may run instructions of its own before the IPI brings it in */
	fake_w32(&f, tasks[1] + f.prof.task_on_cpu, 1);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_int_equal(look.holdout_pid, 801);
	assert_non_null(strstr(look.why, "on a CPU"));
	fake_w32(&f, tasks[1] + f.prof.task_on_cpu, 0);
	/* no trap pending (forked before the freeze reached it, say) */
	fake_w64(&f, tasks[1] + f.prof.task_jobctl, 0);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_non_null(strstr(look.why, "no freeze trap"));
	fake_w64(&f, tasks[1] + f.prof.task_jobctl, T_JOBCTL_TRAP_FREEZE);
	/* uninterruptible sleep: it finishes kernel work before it sees the trap */
	fake_w32(&f, tasks[0] + f.prof.task_state, 0x0002);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_int_equal(look.holdout_pid, 800);
	/* stopped, traced, or interruptible with another bit (0x102: TASK_WAKEKILL |
	 * TASK_UNINTERRUPTIBLE is killable): all a no */
	static const uint32_t no_states[] = {0x4, 0x8, 0x102};
	for (size_t i = 0; i < sizeof(no_states) / sizeof(no_states[0]); i++) {
		fake_w32(&f, tasks[0] + f.prof.task_state, no_states[i]);
		vmi_refresh(&v);
		assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
		assert_non_null(strstr(look.why, "sleeps where"));
	}
	fake_w32(&f, tasks[0] + f.prof.task_state, 0);
	/* runnable without TIF_SIGPENDING: the freeze's wake-up not done yet, or a uprobe's
	 * single step cleared it; it could go back to user mode */
	fake_w64(&f, tasks[0] + f.prof.task_thread_info + f.prof.thread_info_flags, 0);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_non_null(strstr(look.why, "no signal pending"));
	fake_w64(&f, tasks[0] + f.prof.task_thread_info + f.prof.thread_info_flags,
		 T_TIF_SIGPENDING);
	/* an io_uring worker: asleep between work items it runs without a look at signals */
	fake_w32(&f, tasks[0] + f.prof.task_flags, 0x10);
	fake_w32(&f, tasks[0] + f.prof.task_state, 0x1);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_non_null(strstr(look.why, "io_uring"));
	fake_w32(&f, tasks[0] + f.prof.task_flags, 0);
	fake_w32(&f, tasks[0] + f.prof.task_state, 0);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 1);
	/* the freeze itself withdrawn (someone wrote cgroup.freeze 0) */
	fake_w32(&f, tasks[0] + f.prof.task_state, 0);
	fake_w64(&f, cg + f.prof.cgroup_flags, 0);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_non_null(strstr(look.why, "not set"));
}

static void test_a_task_on_the_migration_list_counts_too(void **state)
{
	(void)state;
	uint64_t tasks[1], cset, cg = freezing_cgroup(tasks, 1, &cset);
	struct fake_task t = {0};
	struct vmi_freeze_look look;
	t.pid = t.tgid = 900;
	t.comm = "moving";
	t.real_parent = w.init;
	uint64_t moving = fake_task(&f, &t); /* no trap, on cset->mg_tasks (still its css_set) */
	fake_w64(&f, moving + f.prof.task_cgroups, cset);
	uint64_t head = cset + f.prof.css_set_mg_tasks, node = moving + f.prof.task_cg_list;
	fake_w64(&f, node, head);
	fake_w64(&f, node + 8, head);
	fake_w64(&f, head, node);
	fake_w64(&f, head + 8, node);
	open_ok();
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), 0);
	assert_int_equal(look.holdout_pid, 900);
	assert_int_equal(look.tasks, 2);
}

static void test_what_cannot_be_told_is_no_answer(void **state)
{
	(void)state;
	uint64_t tasks[4], cset, cg = freezing_cgroup(tasks, 4, &cset);
	struct vmi_freeze_look look;
	open_ok();
	/* more tasks than a look takes */
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 3, &look), -1);
	assert_non_null(strstr(look.why, "more tasks"));
	/* child cgroups: their tasks are not on these lists */
	fake_w32(&f, cg + f.prof.cgroup_nr_descendants, 1);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), -1);
	fake_w32(&f, cg + f.prof.cgroup_nr_descendants, 0);
	assert_non_null(strstr(look.why, "child cgroups"));
	/* a task list that never comes back to its head (a rootkit's, or torn): bounded */
	uint64_t node = tasks[3] + f.prof.task_cg_list, next = fake_r64(&f, node);
	fake_w64(&f, node, node);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 64, &look), -1);
	assert_non_null(strstr(look.why, "more tasks"));
	fake_w64(&f, node, next);
	/* a node of another css_set's (a head reached through a move to mg_tasks, say) */
	uint64_t other = fake_css_set(&f, cg);
	fake_w64(&f, tasks[1] + f.prof.task_cgroups, other);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 64, &look), -1);
	assert_non_null(strstr(look.why, "not the css_set's"));
	fake_w64(&f, tasks[1] + f.prof.task_cgroups, cset);
	/* a css_set list that does not end (its first link pointing to itself) */
	uint64_t links = cg + f.prof.cgroup_cset_links;
	uint64_t first = fake_r64(&f, links);
	fake_w64(&f, first, first);
	vmi_refresh(&v);
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 1u << 20, &look), -1);
	assert_non_null(strstr(look.why, "css_set list does not end"));
	/* a profile without the fields */
	struct vmi_profile prof = f.prof;
	prof.freeze_known = false;
	v.prof = &prof;
	assert_int_equal(vmi_cgroup_freeze_pending(&v, cg, 16, &look), -1);
	assert_non_null(strstr(look.why, "profile"));
	v.prof = &f.prof;
	/* not a kernel pointer */
	assert_int_equal(vmi_cgroup_freeze_pending(&v, 0x1000, 16, &look), -1);
	assert_non_null(strstr(look.why, "cannot be read"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		W(test_pagewalk_4level_4k_2m_1g),
		W(test_pagewalk_5level),
		W(test_pagewalk_ignores_pcid_and_high_cr3_bits),
		W(test_pagewalk_rejects_noncanonical_and_bad_tables),
		W(test_pagewalk_rights_are_every_levels),
		W(test_read_user_refuses_kernel_half_and_supervisor_pages),
		W(test_open_finds_init_task_from_current),
		W(test_open_user_mode_pti_kernel_gs_base),
		W(test_open_tries_the_other_gs_base),
		W(test_open_through_a_known_task_when_current_is_not_plausible),
		W(test_open_takes_the_known_init_task_at_once),
		W(test_open_with_a_thread_that_is_not_its_groups_leader_current),
		W(test_open_without_pti_keeps_cr3_bit_12),
		W(test_open_fails_clearly_without_gs_base),
		W(test_open_fails_clearly_on_a_wrong_profile),
		W(test_open_refuses_offsets_beyond_snapshot),
		W(test_open_from_a_secondary_idle_task),
		W(test_oncpu_names_a_released_task_that_still_runs),
		W(test_walk_visits_every_task_from_init_task),
		W(test_walk_self_loop_is_cut_with_reason),
		W(test_walk_loop_back_into_the_middle_is_cut),
		W(test_walk_pointer_outside_memory_is_cut),
		W(test_walk_noncanonical_pointer_is_cut),
		W(test_walk_stops_at_the_bound),
		W(test_walk_resumes_after_the_marked_task),
		W(test_walk_resumes_after_a_marked_task_that_exited),
		W(test_walk_resume_sees_a_reused_task_struct_as_another_task),
		W(test_walk_resume_on_a_broken_list_is_truncated),
		W(test_walk_resumed_forever_still_ends_at_its_bound),
		W(test_walk_resume_returns_no_task_twice),
		W(test_verb_ps_in_steps_is_the_same_listing),
		W(test_verb_ps_in_steps_leaves_out_a_process_that_exited),
		W(test_verb_containers_in_steps_is_the_same_listing),
		W(test_verb_inspect_in_steps_is_the_same),
		W(test_process_facts),
		W(test_process_in_a_container),
		W(test_process_kernel_thread_and_init_task),
		W(test_kernel_thread_names_as_proc_shows_them),
		W(test_process_zombie),
		W(test_state_letters_as_proc),
		W(test_process_unreadable_task),
		W(test_process_hostile_pointers),
		W(test_process_huge_cmdline_is_truncated),
		W(test_cgroup_parent_cycle_is_cut),
		W(test_cgroup_overlong_name_is_truncated),
		W(test_cgroup_frozen_flag),
		W(test_a_container_freezing_is_paused),
		W(test_freeze_pending_on_every_task_off_cpu_is_a_yes),
		W(test_a_task_that_may_run_first_is_a_no),
		W(test_a_task_on_the_migration_list_counts_too),
		W(test_what_cannot_be_told_is_no_answer),
		W(test_containers_grouped_and_named),
		W(test_container_patterns),
		W(test_containers_table_overflow_is_reported),
		W(test_verb_ps_text),
		W(test_verb_ps_json),
		W(test_verb_ps_reports_a_cut_walk),
		W(test_verb_ps_hostile_strings),
		W(test_verb_ps_asks_for_less),
		W(test_verb_ps_compact_hostile_strings),
		W(test_verb_containers),
		W(test_sandbox_of_a_user_is_told_apart),
		W(test_runtime_id_under_another_path_is_another_container),
		W(test_verb_inspect_container_and_process),
		W(test_verb_inspect_errors),
		cmocka_unit_test_setup_teardown(test_verbs_on_5level_guest, setup_world_la57,
						teardown),
		W(test_reads_are_counted_and_cached),
		W(test_a_refreshed_session_sees_a_changed_mapping),
		W(test_a_containers_init_checked_again_before_its_cgroup_is_used),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
