/* The injection engine (hv/inject/engine*.c) over fake registers: a small simulated kernel
 * runs the synthetic guest's tasks (tests/unit/vmi_fake.c), each entering by SYSCALL, and
 * the engine sees every entry as the syscall-entry trap would show it. The operations'
 * programs are the real ones (hv/inject/ops*.c); what is checked here is the engine's part:
 * which task is hijacked, the scratch area mapped and unmapped, signals blocked and their
 * mask put back, forked processes adopted and ended, registers given back exactly, and
 * failures and timeouts ending with every task back as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/monitor.h"
#include "fake_vmcs.h"
#include "inject/engine.h"
#include "inject/engine_internal.h"
#include "inject/linux_abi.h"
#include "inject/ops.h"
#include "inject/syscall_trap.h"
#include "vmi_fake.h"
#include "vmx/exit_hooks.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

/* ------------------------------------------------------------------ what the engine calls */

struct machine machine;
static struct fake f;
static struct fake_world w;
static uint64_t exits;
static bool trap_armed;

uint64_t vm_exits_total(void)
{
	return exits;
}

uint64_t vm_exit_work_tsc(void)
{
	return exits * 1000u; /* the harness's exits cost a fixed amount */
}

uint64_t monitor_tsc_to_us(uint64_t tsc)
{
	uint64_t per_us = machine.tsc_hz / 1000000u;
	return per_us ? tsc / per_us : 0;
}

void log_printf(const char *fmt, ...)
{
	(void)fmt;
}

bool exit_hooks_register(const struct exit_hooks *h)
{
	(void)h;
	return true;
}

int live_vmi_open_why(struct vmi *session, char *why, size_t cap)
{
	if (vmi_open(session, &f.mem, &f.prof, &f.cpu) == 0)
		return 0;
	snprintf(why, cap, "%s", session->error);
	return -1;
}

int live_write_phys(uint64_t gpa, const void *buf, size_t n)
{
	if (gpa + n > FAKE_RAM_SIZE)
		return -1;
	memcpy(f.ram + gpa, buf, n);
	return 0;
}

static bool arm_fails; /* the trap cannot be armed (an INVEPT some CPU did not confirm) */

/* The engine's VMCALL hook is not driven here (tests call inject_on_sled_vmcall). */
bool syscall_trap_current_task(struct vmi *vmi, uint64_t *task)
{
	(void)vmi;
	*task = 0;
	return false;
}

int syscall_trap_arm(int32_t tgid, char *why, size_t cap)
{
	(void)tgid;
	if (arm_fails) {
		snprintf(why, cap, "cannot");
		return -1;
	}
	trap_armed = true;
	return 0;
}

void syscall_trap_disarm(void)
{
	trap_armed = false;
}

const struct syscall_trap_stats *syscall_trap_stats(void)
{
	static struct syscall_trap_stats st;
	st.armed = trap_armed;
	return &st;
}

/* ------------------------------------------------------------------ the simulated kernel */

#define CODE_VA     0x0000000000401000ull /* every task's own code page */
#define OWN_SYSCALL (CODE_VA + 0x10)      /* its own SYSCALL instruction; NOPs after it */
#define OWN_NR      LINUX_NR_getppid      /* the call each task makes of its own */
#define SCRATCH_AT  0x00007f5500000000ull /* where mmap puts the scratch area */
#define ENTRY_NS    2000u                 /* guest time of one entry and return */
#define SIM_TASKS   8u
#define SIM_FDS     16u
#define EXIT_ZOMBIE 0x10u /* task_struct.exit_state */

enum sim_state {
	SIM_FREE,
	SIM_USER,
	SIM_WAIT,
	SIM_OWN,
	SIM_GONE,
	SIM_FORKED,
	SIM_FORGER,
	SIM_TTY_WAIT, /* in a read of the wake port's tty with no line there */
};

struct sim_task {
	enum sim_state state;
	uint64_t task;
	int32_t pid, parent, wait_for;
	bool reaped;
	int exit_code;
	uint64_t pgd; /* physical: its page tables (a fork shares them here) */
	struct guest_regs regs, own;
	uint64_t blocked;           /* its signal mask */
	bool scratch;               /* the scratch area is mapped in its memory (a fork keeps it) */
	char fd_path[SIM_FDS][128]; /* "" for a free descriptor */
	uint32_t fd_read[SIM_FDS];
	bool session_leader; /* setsid() made it one */
	char cwd[16];
};

static struct sim_task sim[SIM_TASKS];
/* Calls of init's the kernel restarts (SIGSTOP, the freezer, a debugger attaching): the
 * next `restart_naps` naps end with -ERESTART_RESTARTBLOCK (back over the SYSCALL, RAX =
 * restart_syscall), the next `restart_clones` clones with -ERESTARTNOINTR (RAX = clone). */
static int restart_naps, restart_clones;
static uint64_t restart_pending;
static struct sim_task *init_t, *sh_t;
static struct vcpu cpu;
static uint64_t scratch_pa;
static uint64_t code_pa;           /* every task's own code page */
static int freeze_after_naps = -1; /* cgroup.freeze "1": frozen after this many naps */
static bool term_ends_web;         /* SIGTERM to web's init ends web */
static int64_t fail_open_errno;    /* an openat whose path holds fail_open_path fails */
static const char *fail_open_path;
static uint32_t calls_seen[512];
static bool thaw_ignored;       /* a hooked cgroup_freeze_write: "0" accepted, nothing done */
static uint32_t naps_with_trap; /* a nap or a poll while the trap was armed */
static int spurious_events;     /* cgroup.events signalled this many times with no change */
static char written_freeze[8];
static bool done_called, done_ok;
static int done_count;

static uint64_t task_pgd(uint64_t task)
{
	uint64_t mm = fake_r64(&f, task + f.prof.task_mm);
	return fake_r64(&f, mm + f.prof.mm_pgd) - FAKE_DIRECT_MAP;
}

/* A task entering its own call at its own SYSCALL (RCX: the instruction after it). */
static struct sim_task *sim_add(uint64_t task, int32_t pid, uint64_t code_pa)
{
	for (uint32_t i = 0; i < SIM_TASKS; i++) {
		struct sim_task *t = &sim[i];
		if (t->state != SIM_FREE)
			continue;
		memset(t, 0, sizeof(*t));
		t->state = SIM_USER;
		t->task = task;
		t->pid = pid;
		t->parent = -1;
		t->pgd = task_pgd(task);
		if (code_pa)
			fake_map(&f, t->pgd, CODE_VA, code_pa, PAGE_SIZE_4K);
		for (uint32_t k = 0; k < 16; k++)
			t->regs.gpr[k] = 0x1111111111111111ull * (k + 1) + (uint64_t)pid;
		t->regs.rax = OWN_NR;
		t->regs.rcx = OWN_SYSCALL + 2;
		t->own = t->regs;
		for (uint32_t fd = 0; fd < 3; fd++)
			snprintf(t->fd_path[fd], sizeof(t->fd_path[fd]), "/dev/console");
		snprintf(t->cwd, sizeof(t->cwd), "/srv");
		return t;
	}
	fail_msg("more than %u simulated tasks", SIM_TASKS);
	return NULL;
}

static struct sim_task *sim_of_pid(int32_t pid)
{
	for (uint32_t i = 0; i < SIM_TASKS; i++)
		if (sim[i].state != SIM_FREE && sim[i].pid == pid)
			return &sim[i];
	return NULL;
}

/* User memory of the scratch area (the only user memory the programs name). */
static uint8_t *scratch_at(const struct sim_task *t, uint64_t va, size_t n)
{
	assert_true(t->scratch);
	assert_true(va >= SCRATCH_AT && va + n <= SCRATCH_AT + INJECT_SCRATCH_SIZE);
	return f.ram + scratch_pa + (va - SCRATCH_AT);
}

static void mark_gone(uint64_t task)
{
	fake_w32(&f, task + f.prof.task_exit_state, EXIT_ZOMBIE);
	fake_w32(&f, task + f.prof.task_flags, VMI_PF_EXITING);
}

static void sim_exit(struct sim_task *t, int code)
{
	t->state = SIM_GONE;
	t->exit_code = code;
	mark_gone(t->task);
}

static int64_t sim_open(struct sim_task *t, const char *path)
{
	if (fail_open_path && strstr(path, fail_open_path))
		return fail_open_errno;
	for (uint32_t fd = 0; fd < SIM_FDS; fd++) { /* the lowest free one, as POSIX says */
		if (t->fd_path[fd][0] == 0) {
			snprintf(t->fd_path[fd], sizeof(t->fd_path[fd]), "%s", path);
			t->fd_read[fd] = 0;
			return fd;
		}
	}
	return -LINUX_EMFILE;
}

/* The wake port (platform/wake_port.h) as the engine sees it: a device to open, and rings
 * that each put one line in its tty. */
static const char *wake_dev;
static uint32_t rings, tty_lines;

const char *wake_port_device(void)
{
	return wake_dev;
}

void wake_port_ring(void)
{
	rings++;
	tty_lines++;
}

/* A line of the tty into a one-byte canonical read (its newline). */
static int64_t tty_take(struct sim_task *t, uint64_t buf)
{
	tty_lines--;
	*(uint8_t *)scratch_at(t, buf, 1) = '\n';
	return 1;
}

static int64_t sim_read(struct sim_task *t, uint64_t fd, uint64_t buf, uint64_t n)
{
	static const struct {
		const char *file, *text;
	} files[] = {{"cpu.stat", "usage_usec 4242\nuser_usec 4000\n"},
		     {"memory.current", "1048576\n"},
		     {"pids.current", "2\n"}};
	if (fd >= SIM_FDS || t->fd_path[fd][0] == 0)
		return -LINUX_EBADF;
	if (wake_dev && strcmp(t->fd_path[fd], wake_dev) == 0) {
		if (tty_lines > 0)
			return tty_take(t, buf);
		t->state = SIM_TTY_WAIT; /* blocks: no exit until a line comes */
		return 0;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len = strlen(files[i].text);
		if (!strstr(t->fd_path[fd], files[i].file))
			continue;
		if (t->fd_read[fd] > 0 || n < len)
			return 0;
		memcpy(scratch_at(t, buf, len), files[i].text, len);
		t->fd_read[fd] = (uint32_t)len;
		return (int64_t)len;
	}
	return -LINUX_EINVAL;
}

/* The kernel runs the call in t's registers; its result (a blocked wait4 leaves t waiting). */
static int64_t sim_call(struct sim_task *t)
{
	struct guest_regs *r = &t->regs;
	uint64_t nr = r->rax;
	if (nr < 512)
		calls_seen[nr]++;
	switch (nr) {
	case OWN_NR:
		return t->parent >= 0 ? sim[t->parent].pid : 1;
	case LINUX_NR_mmap:
		assert_int_equal(r->rsi, INJECT_SCRATCH_SIZE);
		assert_true(r->r10 & LINUX_MAP_SHARED);
		scratch_pa = fake_palloc(&f, INJECT_SCRATCH_SIZE, PAGE_SIZE_4K);
		for (uint64_t off = 0; off < INJECT_SCRATCH_SIZE; off += PAGE_SIZE_4K)
			fake_map(&f, t->pgd, SCRATCH_AT + off, scratch_pa + off, PAGE_SIZE_4K);
		t->scratch = true;
		return (int64_t)SCRATCH_AT;
	case LINUX_NR_munmap:
		assert_int_equal(r->rdi, SCRATCH_AT);
		assert_int_equal(r->rsi, INJECT_SCRATCH_SIZE);
		t->scratch = false;
		return 0;
	case LINUX_NR_madvise:
		return 0;
	case LINUX_NR_rt_sigprocmask: {
		uint64_t set = r->rsi ? *(uint64_t *)scratch_at(t, r->rsi, 8) : 0;
		if (r->rdx)
			memcpy(scratch_at(t, r->rdx, 8), &t->blocked, 8);
		if (r->rdi == LINUX_SIG_BLOCK)
			t->blocked |= set;
		else if (r->rdi == LINUX_SIG_SETMASK && r->rsi)
			t->blocked = set;
		else if (r->rdi == LINUX_SIG_UNBLOCK)
			t->blocked &= ~set;
		return 0;
	}
	case LINUX_NR_openat:
		return sim_open(t, (const char *)scratch_at(t, r->rsi, 1));
	case LINUX_NR_read:
		return sim_read(t, r->rdi, r->rsi, r->rdx);
	case LINUX_NR_write:
		if (r->rdi < SIM_FDS && strstr(t->fd_path[r->rdi], "cgroup.freeze")) {
			memcpy(written_freeze, scratch_at(t, r->rsi, 1), 1);
			if (written_freeze[0] == '0' && !thaw_ignored)
				fake_w64(&f, w.cg_web + f.prof.cgroup_flags, 0);
		}
		return (int64_t)r->rdx;
	case LINUX_NR_close:
		if (r->rdi >= SIM_FDS || t->fd_path[r->rdi][0] == 0)
			return -LINUX_EBADF;
		t->fd_path[r->rdi][0] = 0;
		return 0;
	case LINUX_NR_close_range:
		for (uint64_t fd = r->rdi; fd < SIM_FDS && fd <= r->rsi; fd++)
			t->fd_path[fd][0] = 0;
		return 0;
	case LINUX_NR_dup2:
		if (r->rdi >= SIM_FDS || r->rsi >= SIM_FDS || t->fd_path[r->rdi][0] == 0)
			return -LINUX_EBADF;
		memcpy(t->fd_path[r->rsi], t->fd_path[r->rdi], sizeof(t->fd_path[0]));
		return (int64_t)r->rsi;
	case LINUX_NR_setsid:
		t->session_leader = true;
		return t->pid;
	case LINUX_NR_chdir:
		snprintf(t->cwd, sizeof(t->cwd), "%s", (const char *)scratch_at(t, r->rdi, 1));
		return 0;
	case LINUX_NR_ioctl: /* the wake port's tty: exclusive, raw */
		assert_true(r->rsi == LINUX_TIOCEXCL || r->rsi == LINUX_TCSETS);
		if (r->rsi == LINUX_TCSETS) {
			const uint8_t *tio = scratch_at(t, r->rdx, LINUX_TERMIOS_SIZE);
			assert_int_equal(tio[LINUX_TERMIOS_CC + LINUX_VMIN], 1);
		}
		return 0;
	case LINUX_NR_restart_syscall:
		calls_seen[LINUX_NR_nanosleep]++; /* the nap resumed: it ends now */
		return 0;
	case LINUX_NR_nanosleep: {
		if (restart_naps > 0 && t == init_t) {
			restart_naps--;
			restart_pending = LINUX_NR_restart_syscall;
			return 0;
		}
		naps_with_trap += trap_armed;
		uint64_t ts[2];
		memcpy(ts, scratch_at(t, r->rdi, 16), 16);
		fake_tsc += ts[0] * 1000000000ull + ts[1];
		if (freeze_after_naps > 0 && written_freeze[0] == '1' && --freeze_after_naps == 0)
			fake_w64(&f, w.cg_web + f.prof.cgroup_flags, 1ull << VMI_CGRP_FROZEN);
		return 0;
	}
	case LINUX_NR_ppoll: { /* on cgroup.events, for its change (POLLPRI) */
		struct {
			int32_t fd;
			int16_t events, revents;
		} pfd;
		uint64_t ts[2];
		assert_int_equal(r->rsi, 1);
		memcpy(&pfd, scratch_at(t, r->rdi, sizeof(pfd)), sizeof(pfd));
		memcpy(ts, scratch_at(t, r->rdx, 16), 16);
		assert_true(pfd.fd >= 0 && (uint32_t)pfd.fd < SIM_FDS &&
			    strstr(t->fd_path[pfd.fd], "cgroup.events") != NULL);
		assert_true(pfd.events & LINUX_POLLPRI);
		naps_with_trap += trap_armed;
		bool change = freeze_after_naps > 0 && written_freeze[0] == '1' &&
			      --freeze_after_naps == 0;
		if (change)
			fake_w64(&f, w.cg_web + f.prof.cgroup_flags, 1ull << VMI_CGRP_FROZEN);
		if (change || spurious_events > 0) {
			spurious_events -= !change && spurious_events > 0;
			fake_tsc += 1000000u; /* the freeze took 1 ms: it wakes then */
			pfd.revents = LINUX_POLLPRI;
			memcpy(scratch_at(t, r->rdi, sizeof(pfd)), &pfd, sizeof(pfd));
			return 1;
		}
		fake_tsc += ts[0] * 1000000000ull + ts[1];
		return 0;
	}
	case LINUX_NR_pread64: /* cgroup.events read again after a signal */
		assert_true(r->rdi < SIM_FDS && strstr(t->fd_path[r->rdi], "cgroup.events"));
		assert_int_equal(r->r10, 0);
		return (int64_t)r->rdx;
	case LINUX_NR_kill:
		if (r->rdi == 100 && r->rsi == 15 && term_ends_web) {
			mark_gone(w.web_init);
			mark_gone(w.web_child);
		}
		return r->rdi == 100 ? 0 : -LINUX_ESRCH;
	case LINUX_NR_prctl:
	case LINUX_NR_rt_sigaction:
	case LINUX_NR_alarm:
		return 0;
	case LINUX_NR_clone: {
		if (restart_clones > 0 && t == init_t) {
			restart_clones--;
			restart_pending = LINUX_NR_clone;
			return 0;
		}
		int32_t pid = 700;
		while (sim_of_pid(pid))
			pid++;
		uint64_t child = fake_task(
			&f, &(struct fake_task){
				    .pid = pid,
				    .tgid = pid,
				    .comm = "init",
				    .real_parent = t->task,
				    .cred = fake_r64(&f, t->task + f.prof.task_real_cred),
				    .signal = fake_signal(&f, 1),
				    .mm = fake_mm(&f, "x", 2), /* its own memory: a copy */
				    .nsproxy = fake_r64(&f, t->task + f.prof.task_nsproxy),
				    .css_set = fake_r64(&f, t->task + f.prof.task_cgroups),
			    });
		struct sim_task *c = sim_add(child, pid, code_pa);
		if (t->scratch) /* MAP_SHARED: the same pages */
			for (uint64_t off = 0; off < INJECT_SCRATCH_SIZE; off += PAGE_SIZE_4K)
				fake_map(&f, c->pgd, SCRATCH_AT + off, scratch_pa + off,
					 PAGE_SIZE_4K);
		c->parent = (int32_t)(t - sim);
		c->regs = *r;
		c->regs.rax = 0; /* the child returns 0 where the parent returns */
		c->blocked = t->blocked;
		c->scratch = t->scratch;
		memcpy(c->fd_path, t->fd_path, sizeof(c->fd_path)); /* its descriptors, copied */
		memcpy(c->cwd, t->cwd, sizeof(c->cwd));
		c->own = c->regs;
		c->state = SIM_FORKED; /* it first runs at the parent's return address */
		return pid;
	}
	case LINUX_NR_wait4: {
		struct sim_task *c = sim_of_pid((int32_t)r->rdi);
		if (!c || c->reaped)
			return -LINUX_ECHILD;
		if (c->state != SIM_GONE) {
			t->state = SIM_WAIT;
			t->wait_for = c->pid;
			return 0;
		}
		c->reaped = true;
		return c->pid;
	}
	case LINUX_NR_exit_group:
		sim_exit(t, (int)r->rdi);
		return 0;
	default:
		fail_msg("the simulated kernel has no call %llu", (unsigned long long)nr);
		return -LINUX_ENOSYS;
	}
}

static uint32_t sled_exits;   /* the engine's sled VMCALLs */
static uint32_t unclaimed_ud; /* VMCALLs the engine did not claim: #UD */

/* t in user mode at va: a SYSCALL there enters next (RCX then points past it); a VMCALL
 * exits to the engine, which sends t on from the RIP it sets (or, not claiming it, gives
 * t #UD: SIGILL); INT3 ends t (SIGTRAP); anything else is the task's own code. */
static void sim_resume(struct sim_task *t, uint64_t va)
{
	for (int hops = 0; hops < 4; hops++) {
		uint8_t insn[3] = {0, 0, 0};
		bool in_scratch = va >= SCRATCH_AT && va + 3 <= SCRATCH_AT + INJECT_SCRATCH_SIZE;
		if (in_scratch && !t->scratch) {
			sim_exit(t, 128 + LINUX_SIGSEGV); /* the area is unmapped: a fetch faults */
			return;
		}
		if (in_scratch)
			memcpy(insn, scratch_at(t, va, 3), 3);
		else if (va == OWN_SYSCALL)
			insn[0] = 0x0F, insn[1] = 0x05;
		if (insn[0] == 0x0F && insn[1] == 0x05) {
			t->regs.rcx = va + 2;
			t->state = SIM_USER;
			return;
		}
		if (insn[0] == 0x0F && insn[1] == 0x01 && insn[2] == 0xC1) {
			cpu.regs = &t->regs;
			fake_vmcs[GUEST_RIP] = va;
			fake_vmcs[GUEST_CS_SELECTOR] = 0x33; /* user mode */
			exits++;
			sled_exits++;
			fake_tsc += ENTRY_NS;
			bool ours = inject_on_sled_vmcall(&cpu, t->task, va);
			inject_tick(&cpu);
			if (!ours) {
				unclaimed_ud++;
				sim_exit(t, 128 + LINUX_SIGILL);
				return;
			}
			va = fake_vmcs[GUEST_RIP];
			continue;
		}
		if (insn[0] == 0xCC)
			sim_exit(t, 128 + LINUX_SIGTRAP);
		else
			t->state = SIM_OWN;
		return;
	}
	fail_msg("pid %d: the engine kept it at its sled", t->pid);
}

/* A task that is not the fork's child (sh: a child of init, the task that forks, but one
 * forked long before) shows the registers the child would show, where the child would
 * show them, while the fork is in flight: at the sled's VMCALL (the fork of a process the
 * operation created) or at the trap's entry of the sled's second SYSCALL (a hijacked
 * task's fork). */
static int forged, forged_taken;

static void sim_forge(struct sim_task *t)
{
	const struct inject_ctx *sig = &engine.spawn_sig;
	uint64_t at = sig->at_sled ? SCRATCH_AT + INJECT_SCRATCH_SLED + INJECT_SLED_RETURN
				   : SCRATCH_AT + INJECT_SCRATCH_SLED + INJECT_SLED_TRAP_RETURN;
	struct guest_regs saved = t->regs;
	t->regs.rax = 0;
	t->regs.rcx = sig->expect_rcx;
	t->regs.rdi = sig->call.arg[0];
	t->regs.rsi = sig->call.arg[1];
	t->regs.rdx = sig->call.arg[2];
	t->regs.r10 = sig->call.arg[3];
	t->regs.r8 = sig->call.arg[4];
	t->regs.r9 = sig->call.arg[5];
	cpu.regs = &t->regs;
	fake_vmcs[GUEST_RIP] = at;
	forged++;
	if (sig->at_sled) {
		forged_taken += inject_on_sled_vmcall(&cpu, t->task, at);
	} else {
		uint32_t calls = engine.op->calls;
		inject_on_syscall_entry(&cpu, t->task);
		forged_taken += engine.op->calls != calls; /* adopted: its first call went out */
	}
	t->regs = saved; /* (on hardware: #UD, or its read of fd 0) it goes on with its own call */
	t->state = SIM_USER;
}

/* Back to user mode at RCX with the call's result. */
static void sim_return(struct sim_task *t, int64_t result)
{
	t->regs.rax = (uint64_t)result;
	sim_resume(t, t->regs.rcx);
}

/* One SYSCALL of t: the trap's exit when it is armed (the engine may change the
 * registers) and the tick of that exit, then the kernel. */
static uint32_t trap_entries;

static void sim_enter(struct sim_task *t)
{
	cpu.regs = &t->regs;
	fake_vmcs[GUEST_RSP] = t->regs.rsp_slot; /* RSP lives in the VMCS, not in the pushed slot */
	fake_tsc += ENTRY_NS;
	if (trap_armed) {
		exits++;
		trap_entries++;
		inject_on_syscall_entry(&cpu, t->task);
		inject_tick(&cpu);
	}
	int64_t result = sim_call(t);
	if (restart_pending) {
		/* the kernel's restart: back over the SYSCALL, RAX the call to make again */
		t->regs.rax = restart_pending;
		restart_pending = 0;
		sim_resume(t, t->regs.rcx - 2);
		return;
	}
	if (t->state == SIM_USER)
		sim_return(t, result);
}

/* Every task in turn until the engine is done and nothing is left to run (or `rounds`). */
static void sim_run(uint32_t rounds)
{
	for (uint32_t n = 0; n < rounds; n++) {
		bool any = false;
		for (uint32_t i = 0; i < SIM_TASKS; i++) {
			struct sim_task *t = &sim[i];
			if (t->state == SIM_WAIT) {
				struct sim_task *c = sim_of_pid(t->wait_for);
				if (c && c->state == SIM_GONE && !c->reaped) {
					c->reaped = true;
					t->state = SIM_USER;
					sim_return(t, c->pid);
				}
				any = true;
			} else if (t->state == SIM_TTY_WAIT) {
				if (tty_lines > 0) {
					t->state = SIM_USER;
					sim_return(t, tty_take(t, t->regs.rsi));
					any = true;
				}
			} else if (t->state == SIM_USER) {
				sim_enter(t);
				any = true;
			} else if (t->state == SIM_FORKED) {
				sim_resume(t, t->regs.rcx);
				any = true;
			} else if (t->state == SIM_FORGER && engine.spawn_from >= 0) {
				sim_forge(t);
			}
		}
		if (!any && !inject_busy())
			return;
		if (!any) { /* nothing runs: time passes (the engine's tick sees it) */
			fake_tsc += 1000000u;
			exits++;
			inject_tick(&cpu);
		}
	}
}

/* ------------------------------------------------------------------ the operations */

static struct ops_request req;

static void on_done(struct inject_op *op, bool ok)
{
	(void)op;
	done_called = true;
	done_ok = ok;
	done_count++;
}

static int setup(void **state)
{
	(void)state;
	fake_vmcs_reset();
	fake_init(&f, false);
	fake_world(&f, &w);
	machine.tsc_hz = 1000000000ull; /* one tick a nanosecond */
	memset(sim, 0, sizeof(sim));
	memset(calls_seen, 0, sizeof(calls_seen));
	memset(&req, 0, sizeof(req));
	memset(written_freeze, 0, sizeof(written_freeze));
	freeze_after_naps = -1;
	restart_naps = restart_clones = 0;
	restart_pending = 0;
	term_ends_web = false;
	thaw_ignored = false;
	fail_open_path = NULL;
	done_called = done_ok = false;
	done_count = 0;
	wake_dev = NULL;
	rings = tty_lines = 0;
	trap_armed = false;
	exits = 0;
	sled_exits = unclaimed_ud = trap_entries = naps_with_trap = 0;
	spurious_events = 0;
	arm_fails = false;
	fake_tsc = 1000000000ull;
	code_pa = fake_palloc(&f, PAGE_SIZE_4K, PAGE_SIZE_4K);
	memset(f.ram + code_pa, 0x90, PAGE_SIZE_4K);
	f.ram[code_pa + 0x10] = 0x0F;
	f.ram[code_pa + 0x11] = 0x05;
	/* sh (uid 1000) first: it enters before init, and is passed over */
	sh_t = sim_add(w.sh, 50, code_pa);
	init_t = sim_add(w.init, 1, code_pa);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_free(&f);
	return 0;
}

/* An operation on web, through a host root task, as the console verbs start one. */
static void start(enum ops_kind kind, uint64_t timeout_ms)
{
	req.kind = kind;
	snprintf(req.ct.name, sizeof(req.ct.name), "web");
	snprintf(req.ct.cgroup, sizeof(req.ct.cgroup), "/lab/web");
	req.ct_cgroup = w.cg_web;
	req.ct.init_pid = 100;
	req.ct.init_task = w.web_init;
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	req.op.timeout_ms = timeout_ms;
	req.op.done = on_done;
	ops_prepare(&req);
	assert_int_equal(inject_start(&req.op), 0);
	struct inject_helper_status st;
	assert_int_equal(trap_armed, !inject_helper_status(&st)); /* a parked helper needs none */
}

/* Init got its own call back: every register as at its entry, then its own call ran. */
static void assert_init_given_back(void)
{
	struct guest_regs want = init_t->own;
	assert_int_equal(init_t->state, SIM_OWN);
	want.rax = 1; /* getppid's result */
	assert_memory_equal(&init_t->regs, &want, sizeof(want));
	assert_int_equal(init_t->blocked, 0);
	assert_false(init_t->scratch);
	assert_int_equal(calls_seen[OWN_NR] >= 2, true); /* init's and sh's own calls ran */
	assert_false(inject_busy());
	assert_false(trap_armed); /* off after every operation: a parked helper needs none */
	assert_int_equal(unclaimed_ud, 0);
	assert_int_equal(done_count, 1);
}

static void test_pause_hijacks_a_host_root_task_and_gives_it_back(void **state)
{
	(void)state;
	freeze_after_naps = 2; /* frozen only in the second wait */
	start(OPS_PAUSE, 5000);
	sim_run(200);
	assert_true(done_called);
	assert_true(done_ok);
	assert_string_equal(req.op.error, "");
	assert_int_equal(req.op.tgid, 1); /* init: root and outside every container */
	assert_string_equal(req.op.comm, "init");
	assert_true(req.op.passed >= 1); /* sh's entry (uid 1000) was let through */
	assert_true(req.state_reached);
	/* after the write; after cgroup.events is opened; after each of two polls */
	assert_int_equal(req.polls, 4);
	assert_string_equal(written_freeze, "1");
	assert_int_equal(calls_seen[LINUX_NR_rt_sigprocmask], 2); /* block all, then put back */
	assert_int_equal(calls_seen[LINUX_NR_mmap], 1);
	assert_int_equal(calls_seen[LINUX_NR_munmap], 1);
	assert_init_given_back();
	assert_int_equal(sh_t->state, SIM_OWN);
	/* mmap, mask, open, write, close, open cgroup.events, 2 polls of it (the first times
	 * out, the second wakes at the change: no read needed), close it, unmask, munmap */
	assert_int_equal(req.op.calls, 11);
	assert_int_equal(calls_seen[LINUX_NR_pread64], 0);
	assert_int_equal(calls_seen[LINUX_NR_nanosleep], 0);
	/* A hijacked task's calls all come back through the trap's entry (the munmap at the
	 * end must come back to its own code): none at the sled's VMCALL. */
	assert_int_equal(naps_with_trap, 2);
	assert_int_equal(sled_exits, 0);
	/* each came back, and is counted under its number */
	uint32_t counted = 0, waits = 0;
	for (uint32_t i = 0; i < req.op.call_stat_count; i++) {
		counted += req.op.call_stats[i].calls;
		if (req.op.call_stats[i].nr == LINUX_NR_ppoll)
			waits += req.op.call_stats[i].calls;
	}
	assert_int_equal(counted, 11);
	assert_int_equal(waits, 2);
}

/* The wait for the freeze is woken by cgroup.events as the freeze completes: the pause
 * takes the freeze's time, not a nap's (OPS_FREEZE_POLL_MS). */
static void test_pause_wakes_when_the_freeze_completes(void **state)
{
	(void)state;
	freeze_after_naps = 1; /* 1 ms into the first wait */
	start(OPS_PAUSE, 5000);
	sim_run(200);
	assert_true(done_ok);
	assert_int_equal(calls_seen[LINUX_NR_ppoll], 1);
	assert_true(req.op.guest_ns < OPS_FREEZE_POLL_MS * 1000000ull);
	assert_init_given_back();
}

/* A kernel that signals cgroup.events with nothing changed wakes the wait at most
 * OPS_FREEZE_WAKES_MAX times (each read again, so the next poll can block); then the wait
 * naps. The pause still ends at its time limit, undone. */
static void test_a_kernel_signalling_no_change_cannot_make_pause_spin(void **state)
{
	(void)state;
	freeze_after_naps = -1;
	spurious_events = 100000;
	start(OPS_PAUSE, 30000);
	sim_run(5000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "did not report frozen"));
	assert_non_null(strstr(req.op.error, "the freeze was undone"));
	assert_int_equal(calls_seen[LINUX_NR_ppoll], OPS_FREEZE_WAKES_MAX);
	assert_int_equal(calls_seen[LINUX_NR_pread64], OPS_FREEZE_WAKES_MAX - 1);
	assert_true(calls_seen[LINUX_NR_nanosleep] > 100); /* 20 ms naps to the 10 s limit */
	assert_init_given_back();
}

/* Without cgroup.events (it cannot be opened), the wait naps between looks. */
static void test_pause_without_cgroup_events_naps(void **state)
{
	(void)state;
	freeze_after_naps = 2;
	fail_open_path = "cgroup.events";
	fail_open_errno = -LINUX_ENOENT;
	start(OPS_PAUSE, 5000);
	sim_run(200);
	assert_true(done_ok);
	assert_int_equal(calls_seen[LINUX_NR_ppoll], 0);
	assert_int_equal(calls_seen[LINUX_NR_nanosleep], 2);
	assert_init_given_back();
}

static void test_pause_not_frozen_in_time_is_undone_and_init_given_back(void **state)
{
	(void)state;
	freeze_after_naps = -1; /* never */
	start(OPS_PAUSE, 30000);
	sim_run(2000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "did not report frozen"));
	assert_non_null(strstr(req.op.error, "the freeze was undone"));
	assert_string_equal(written_freeze, "0");
	assert_init_given_back();
}

/* A pause whose time limit ends before the freeze wait would (10 s) stops waiting in time
 * to undo the freeze: the engine sends no call past the deadline, and cut there the pause
 * would leave the container frozen and cgroup.events open in the task. */
static void test_a_pause_near_its_time_limit_still_undoes_its_freeze(void **state)
{
	(void)state;
	freeze_after_naps = -1; /* never */
	start(OPS_PAUSE, 6000);
	sim_run(2000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_null(strstr(req.op.error, "timed out"));
	assert_non_null(strstr(req.op.error, "did not report frozen"));
	assert_non_null(strstr(req.op.error, "the freeze was undone"));
	assert_string_equal(written_freeze, "0");
	for (uint32_t fd = 0; fd < SIM_FDS; fd++)
		assert_null(strstr(init_t->fd_path[fd], "cgroup"));
	assert_init_given_back();
}

static int vouch_asked;
static bool kernel_changed(struct ops_request *q)
{
	vouch_asked++;
	snprintf(q->op.error, sizeof(q->op.error), "not vouched for: changed");
	return true;
}

static bool kernel_unchanged(struct ops_request *q)
{
	(void)q;
	vouch_asked++;
	return false;
}

/* `kind` run to its end, the kernel's answer to "changed meanwhile?" from `lost`. */
static void run_vouched(enum ops_kind kind, bool (*lost)(struct ops_request *q),
			uint64_t timeout_ms)
{
	freeze_after_naps = 1;
	vouch_asked = 0;
	start(kind, timeout_ms);
	req.vouch_lost = lost;
	sim_run(2000); /* to its end: it returns once the engine is done */
	assert_true(done_called);
}

/* The rootkit that made the pause unvouched for also swallows the undo: the write of "0"
 * succeeds and changes nothing. The reply says the container may stay frozen, as the
 * cgroup's own state shows, not "undone" as the write's result would. */
static void test_an_undo_the_kernel_swallows_is_reported(void **state)
{
	(void)state;
	thaw_ignored = true;
	run_vouched(OPS_PAUSE, kernel_changed, 30000);
	assert_false(done_ok);
	assert_string_equal(written_freeze, "0");
	assert_non_null(strstr(req.op.error, "undo not taken: still frozen after 3 s"));
	assert_int_equal(req.frozen_seen, 1);
	assert_null(strstr(req.op.error, "was undone"));
	assert_init_given_back();
}

static void test_pause_whose_kernel_changed_meanwhile_is_undone(void **state)
{
	(void)state;
	/* The freeze took effect, but the kernel's text was written while the pause ran (a
	 * rootkit's hook put back): a refused pause does not leave its freeze behind. */
	run_vouched(OPS_PAUSE, kernel_changed, 5000);
	assert_false(done_ok);
	assert_int_equal(vouch_asked, 1);
	assert_int_equal(req.vouch, OPS_VOUCH_LOST);
	assert_false(req.state_reached);
	assert_string_equal(req.op.error, "not vouched for: changed; the freeze was undone");
	assert_int_equal(req.frozen_seen, 0);
	assert_string_equal(written_freeze, "0");
	assert_init_given_back();
}

static void test_pause_vouched_for_when_its_freeze_is_seen(void **state)
{
	(void)state;
	run_vouched(OPS_PAUSE, kernel_unchanged, 5000);
	assert_true(done_ok);
	assert_int_equal(vouch_asked, 1);
	assert_int_equal(req.vouch, OPS_VOUCHED);
	assert_string_equal(written_freeze, "1");
	/* an unpause asks nothing: undoing it would freeze the container again */
	teardown(NULL);
	setup(NULL);
	run_vouched(OPS_UNPAUSE, kernel_changed, 5000);
	assert_int_equal(vouch_asked, 0);
	assert_int_equal(req.vouch, OPS_VOUCH_AT_END);
}

/* Only the engine's own processes, at their sled's VMCALL, with the registers of their
 * call in flight, are taken: any other VMCALL is the guest's (#UD). */
static void test_a_vmcall_that_is_not_a_return_is_refused(void **state)
{
	(void)state;
	freeze_after_naps = -1;
	start(OPS_PAUSE, 30000);
	sim_run(6); /* into the naps */
	struct guest_regs keep = init_t->regs;
	uint64_t sled_return = SCRATCH_AT + INJECT_SCRATCH_SLED + INJECT_SLED_RETURN;
	cpu.regs = &sh_t->regs; /* another task, at the same address */
	assert_false(inject_on_sled_vmcall(&cpu, sh_t->task, sled_return));
	cpu.regs = &init_t->regs; /* ours, elsewhere */
	assert_false(inject_on_sled_vmcall(&cpu, init_t->task, sled_return + 3));
	init_t->regs.rdi ^= 1; /* ours, there, but not its call's registers */
	assert_false(inject_on_sled_vmcall(&cpu, init_t->task, sled_return));
	init_t->regs = keep;
	assert_true(inject_busy());
	sim_run(2000); /* the pause goes on to its end: undone, init given back */
	assert_true(done_called);
	assert_non_null(strstr(req.op.error, "the freeze was undone"));
	assert_init_given_back();
}

/* A trap that cannot be armed refuses the operation at its start, before any task is
 * touched (a hijacked task's every call comes back through it). */
static void test_an_operation_is_refused_when_the_trap_cannot_be_armed(void **state)
{
	(void)state;
	arm_fails = true;
	req.kind = OPS_PAUSE;
	req.op.target.kind = INJECT_TARGET_HOST_ROOT;
	req.op.timeout_ms = 5000;
	req.op.done = on_done;
	ops_prepare(&req);
	assert_int_equal(inject_start(&req.op), INJECT_REFUSED);
	assert_string_equal(req.op.error, "cannot");
	assert_false(inject_busy());
	sim_run(20);
	assert_false(done_called);
	assert_int_equal(init_t->state, SIM_OWN); /* its own call ran, untouched */
	assert_int_equal(init_t->blocked, 0);
	assert_false(init_t->scratch);
}

/* exec hostname in web, whose namespace files are gone when the helper opens them (web's
 * init died meanwhile): the helper fails after the forks. */
static void exec_with_namespaces_gone(void)
{
	fail_open_path = "/ns/";
	fail_open_errno = -LINUX_ENOENT;
	req.u.exec.argc = 1;
	snprintf(req.u.exec.argv[0], sizeof(req.u.exec.argv[0]), "hostname");
	for (uint32_t k = 0; k < VMI_NS_COUNT; k++)
		req.ct.ns[k] = 4026532200u + k;
}

/* Only the fork's own child is adopted: another task making its VMCALL with its registers
 * (here a child of the forking task, forked before the operation) is not. */
static void test_only_the_forks_child_is_adopted(void **state)
{
	(void)state;
	exec_with_namespaces_gone();
	forged = forged_taken = 0;
	start(OPS_EXEC, 10000);
	sh_t->state = SIM_FORGER;
	sim_run(2000);
	assert_int_equal(forged, 1);
	assert_int_equal(forged_taken, 0);
	assert_true(done_called);
	assert_int_equal(calls_seen[LINUX_NR_clone], 2); /* the real children were adopted */
	assert_non_null(strstr(req.op.error, "no such file or directory"));
	assert_init_given_back();
}

static void test_stop_waits_for_the_containers_processes(void **state)
{
	(void)state;
	term_ends_web = true;
	req.grace_ms = 10000;
	start(OPS_STOP, 20000);
	sim_run(200);
	assert_true(done_ok);
	assert_true(req.state_reached);
	assert_false(req.killed);
	assert_int_equal(calls_seen[LINUX_NR_kill], 1);
	assert_init_given_back();
}

static void test_stop_escalates_to_sigkill_after_the_grace_period(void **state)
{
	(void)state;
	term_ends_web = false; /* web ignores SIGTERM and SIGKILL alike here */
	req.grace_ms = 300;
	start(OPS_STOP, 10000);
	sim_run(5000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_true(req.killed);
	assert_int_equal(calls_seen[LINUX_NR_kill], 2);
	assert_non_null(strstr(req.op.error, "still live"));
	assert_init_given_back();
}

static void test_stats_reads_the_three_files(void **state)
{
	(void)state;
	start(OPS_STATS, 5000);
	sim_run(200);
	assert_true(done_ok);
	assert_string_equal(req.u.stats.text[0], "usage_usec 4242\nuser_usec 4000\n");
	assert_string_equal(req.u.stats.text[1], "1048576\n");
	assert_string_equal(req.u.stats.text[2], "2\n");
	assert_int_equal(calls_seen[LINUX_NR_openat], 3);
	assert_int_equal(calls_seen[LINUX_NR_close], 3);
	assert_init_given_back();
	for (uint32_t fd = 3; fd < SIM_FDS; fd++)
		assert_int_equal(init_t->fd_path[fd][0], 0); /* nothing left open in init */
}

static void test_a_failing_call_ends_the_operation_with_its_reason(void **state)
{
	(void)state;
	fail_open_path = "memory.current";
	fail_open_errno = -LINUX_EACCES;
	start(OPS_STATS, 5000);
	sim_run(200);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "memory.current: permission denied"));
	assert_init_given_back();
}

static void test_an_entry_that_is_not_the_return_is_left_alone(void **state)
{
	(void)state;
	freeze_after_naps = 1;
	start(OPS_PAUSE, 5000);
	sim_enter(sh_t);
	sim_enter(init_t); /* hijacked: its call became the scratch mmap */
	assert_int_equal(init_t->regs.rax, SCRATCH_AT);
	/* a call of init's that is not the return of ours (as from a signal handler): the
	 * engine leaves it exactly as it is */
	struct guest_regs other = init_t->regs;
	other.rax = LINUX_NR_getpid;
	other.rcx = CODE_VA + 0x40;
	struct guest_regs seen = other;
	cpu.regs = &seen;
	inject_on_syscall_entry(&cpu, init_t->task);
	assert_memory_equal(&seen, &other, sizeof(seen));
	sim_run(200);
	assert_true(done_ok);
	assert_init_given_back();
}

static void test_no_suitable_task_times_out(void **state)
{
	(void)state;
	init_t->state = SIM_OWN; /* init makes no call: only sh (uid 1000) does */
	start(OPS_PAUSE, 100);
	for (int i = 0; i < 100 && inject_busy(); i++) {
		sh_t->state = SIM_USER;
		sh_t->regs = sh_t->own;
		sim_enter(sh_t);
		fake_tsc += 2000000u;
	}
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "no suitable task entered a system call"));
	assert_true(req.op.passed > 0);
	assert_memory_equal(&sh_t->regs.rcx, &sh_t->own.rcx, 8);
	assert_false(inject_busy());
	assert_false(trap_armed);
}

static void test_a_timeout_still_gives_the_task_back(void **state)
{
	(void)state;
	term_ends_web = false; /* stop naps on, waiting for web's processes to go */
	req.grace_ms = 5000;
	start(OPS_STOP, 50); /* shorter than the first nap's return */
	sim_run(2000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "timed out after 50 ms (pid 1 in call 35)"));
	assert_init_given_back();
}

static void test_the_hijacked_task_dying_ends_the_operation(void **state)
{
	(void)state;
	freeze_after_naps = -1;
	start(OPS_PAUSE, 30000);
	sim_run(7); /* mmap, mask, open, write, close, open cgroup.events, into the polls */
	assert_int_equal(calls_seen[LINUX_NR_ppoll], 1);
	sim_exit(init_t, 137); /* SIGKILL from elsewhere */
	sim_run(2000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "pid 1 exited during the operation"));
	assert_false(inject_busy());
}

/* exec: the host task forks, the child forks the helper (which joins the container) and
 * exits; the host task reaps it. Here the helper finds the container's namespace files
 * gone (web's init died meanwhile): it fails, and every process the operation made is
 * adopted, ended by exit_group and reaped, and init gets its own call back. */
static void test_exec_adopts_its_processes_and_ends_them_on_failure(void **state)
{
	(void)state;
	exec_with_namespaces_gone();
	start(OPS_EXEC, 10000);
	sim_run(2000);
	assert_true(done_called);
	assert_false(done_ok);
	assert_non_null(strstr(req.op.error, "no such file or directory"));
	assert_int_equal(calls_seen[LINUX_NR_clone], 2); /* the middle process, the helper */
	assert_int_equal(calls_seen[LINUX_NR_execve], 0);
	uint32_t made = 0;
	for (uint32_t i = 0; i < SIM_TASKS; i++) {
		if (sim[i].state == SIM_FREE || sim[i].pid < 700)
			continue;
		made++;
		assert_int_equal(sim[i].state, SIM_GONE);
	}
	assert_int_equal(made, 2);
	struct sim_task *mid = sim_of_pid(700), *helper = sim_of_pid(701);
	assert_int_equal(mid->exit_code, 0);    /* it did its part: the fork */
	assert_int_equal(helper->exit_code, 1); /* failed */
	assert_true(mid->reaped);               /* by init, its parent */
	assert_init_given_back();
}

/* The next operation's request, as the console makes a new one. */
static void next_request(void)
{
	memset(&req, 0, sizeof(req));
	done_called = false;
	done_count = 0;
}

/* The resident helper: made by an operation, it naps in injected nanosleeps; the next
 * operation needing a host task runs in it at once (no host task has to make a call), and
 * it exits when stopped, the trap off after it. */
static void test_the_resident_helper_takes_work_and_exits_when_stopped(void **state)
{
	(void)state;
	inject_helper_set_linger(60000);
	start(OPS_HELPER, 10000);
	sim_run(50);
	assert_true(done_ok);
	struct inject_helper_status st;
	assert_true(inject_helper_status(&st));
	assert_int_equal(st.tgid, req.op.helper_tgid);
	struct sim_task *helper = sim_of_pid(st.tgid);
	assert_non_null(helper);
	assert_int_equal(helper->state, SIM_USER);
	assert_false(trap_armed); /* its naps come back at its sled's VMCALL */
	assert_init_given_back();
	uint32_t naps = calls_seen[LINUX_NR_nanosleep];
	sim_run(20);
	assert_true(calls_seen[LINUX_NR_nanosleep] > naps);

	/* init makes no call now: the work can only go to the helper */
	next_request();
	start(OPS_STATS, 5000);
	sim_run(50);
	assert_true(done_ok);
	assert_int_equal(req.op.tgid, st.tgid);
	assert_string_equal(req.op.comm, "(helper)");
	assert_string_equal(req.u.stats.text[2], "2\n");
	assert_true(helper->scratch); /* its own area, kept for the next operation */
	assert_int_equal(init_t->state, SIM_OWN);

	assert_int_equal(inject_helper_stop(), 0);
	sim_run(50);
	assert_int_equal(helper->state, SIM_GONE);
	assert_int_equal(helper->exit_code, 0);
	assert_false(inject_helper_status(&st));
	assert_false(trap_armed);
}

/* `helper start` with a wake port: the helper parked, blocked in its read; returned. */
static struct sim_task *helper_parked_on_the_wake_port(struct inject_helper_status *st)
{
	wake_dev = "/dev/ttyS3";
	inject_helper_set_linger(INJECT_LINGER_FOREVER);
	start(OPS_HELPER, 10000);
	sim_run(50);
	assert_true(done_ok);
	assert_true(inject_helper_status(st));
	struct sim_task *helper = sim_of_pid(st->tgid);
	assert_non_null(helper);
	assert_int_equal(helper->state, SIM_TTY_WAIT);
	return helper;
}

/* The helper may live as long as the guest: it keeps nothing of the host task it was forked
 * from. The lab's /init hung when the helper kept a copy of the write end of the pipe its
 * $(...) read (the helper had been forked from that command): init's read never saw an end
 * of file. Init keeps its own descriptors. */
static void test_the_helper_keeps_nothing_of_its_host_task(void **state)
{
	(void)state;
	snprintf(init_t->fd_path[1], sizeof(init_t->fd_path[1]), "pipe:[4242] (write end)");
	snprintf(init_t->fd_path[5], sizeof(init_t->fd_path[5]), "/var/lib/some.lock");
	struct inject_helper_status st;
	struct sim_task *helper = helper_parked_on_the_wake_port(&st);
	assert_int_equal(st.tgid, helper->pid);
	for (uint32_t fd = 0; fd < 3; fd++)
		assert_string_equal(helper->fd_path[fd], "/dev/null");
	assert_string_equal(helper->fd_path[3], "/dev/ttyS3"); /* its wake port, above 2 */
	for (uint32_t fd = 4; fd < SIM_FDS; fd++)
		assert_string_equal(helper->fd_path[fd], "");
	assert_true(helper->session_leader);
	assert_string_equal(helper->cwd, "/");
	/* init's mask during the hijack was all blocked, and the fork copied it: SIGTERM is
	 * unblocked again (a shutdown's SIGTERM ends the helper at once) */
	assert_int_equal(helper->blocked & (1ull << (LINUX_SIGTERM - 1)), 0);
	assert_true(helper->blocked & (1ull << (2 - 1))); /* SIGINT: still blocked */
	assert_string_equal(init_t->fd_path[1], "pipe:[4242] (write end)");
	assert_string_equal(init_t->fd_path[5], "/var/lib/some.lock");
	assert_false(init_t->session_leader);
	assert_string_equal(init_t->cwd, "/srv");
	assert_init_given_back();
	assert_int_equal(inject_helper_stop(), 0);
	sim_run(50);
	assert_int_equal(helper->state, SIM_GONE);
}

/* With a wake port, the helper opens its tty at its start and blocks in reads of it: no
 * exit at all while it waits (not one per nap); an operation rings, the read returns at the
 * sled, and the work runs in it; stopping it rings too. */
static void test_the_helper_blocks_on_the_wake_port_until_rung(void **state)
{
	(void)state;
	struct inject_helper_status st;
	struct sim_task *helper = helper_parked_on_the_wake_port(&st);
	assert_true(st.blocks);
	assert_int_equal(calls_seen[LINUX_NR_ioctl], 2); /* TIOCEXCL, TCSETS (raw) */
	assert_int_equal(calls_seen[LINUX_NR_nanosleep], 0);
	uint32_t exits_parked = sled_exits;
	fake_tsc += 5000000000ull; /* five seconds: it stays blocked, the engine's ticks pass */
	sim_run(50);
	assert_int_equal(sled_exits, exits_parked);
	assert_int_equal(helper->state, SIM_TTY_WAIT);
	assert_int_equal(rings, 0);

	next_request();
	start(OPS_STATS, 5000);
	assert_int_equal(rings, 1);
	sim_run(50);
	assert_true(done_ok);
	assert_int_equal(req.op.tgid, st.tgid);
	assert_string_equal(req.u.stats.text[2], "2\n");
	assert_false(trap_armed); /* it came at the ring: no host task was looked for */
	assert_int_equal(helper->state, SIM_TTY_WAIT); /* blocked again */
	assert_true(inject_helper_status(&st));
	assert_int_equal(st.wakes, 1);

	assert_int_equal(inject_helper_stop(), 0);
	assert_int_equal(rings, 2);
	sim_run(50);
	assert_int_equal(helper->state, SIM_GONE);
	assert_false(inject_helper_status(&st));
}

/* A helper that does not answer its rings (the guest holds its IRQ off, say) is rung a few
 * times, then given up for this wait: the operation finds a host task through the trap. */
static void test_a_deaf_helper_leaves_the_work_to_a_host_task(void **state)
{
	(void)state;
	struct inject_helper_status st;
	struct sim_task *helper = helper_parked_on_the_wake_port(&st);
	next_request();
	start(OPS_STATS, 5000);
	tty_lines = 0; /* every ring lost */
	for (int i = 0; i < 20 && !trap_armed; i++) {
		fake_tsc += 150000000ull; /* 150 ms of ticks */
		exits++;
		inject_tick(&cpu);
		tty_lines = 0;
	}
	assert_true(trap_armed);
	assert_int_equal(rings, HELPER_RINGS_MAX);
	init_t->regs = init_t->own; /* init makes its call again: the host task found */
	init_t->state = SIM_USER;
	done_ok = false;
	sim_run(100);
	assert_true(done_ok);
	assert_int_equal(req.op.tgid, 1); /* init, through the trap */
	assert_int_equal(helper->state, SIM_TTY_WAIT);
	assert_init_given_back();
	/* it hears the next ring (the stop): no longer deaf, it exits */
	assert_int_equal(inject_helper_stop(), 0);
	sim_run(50);
	assert_int_equal(helper->state, SIM_GONE);
	assert_false(inject_helper_status(&st));
}

/* A hijacked task's call the kernel restarts (it moves the return address back over the
 * SYSCALL): it lands on a SYSCALL of the sled and runs again; its first return is not taken
 * for the call's result. Here a nap (restart_syscall) and exec's fork (clone again). */
static void test_a_restarted_call_of_a_hijacked_task_runs_again(void **state)
{
	(void)state;
	freeze_after_naps = 2;
	restart_naps = 1;
	fail_open_path = "cgroup.events"; /* it naps */
	fail_open_errno = -LINUX_ENOENT;
	start(OPS_PAUSE, 5000);
	sim_run(200);
	assert_true(done_ok);
	assert_int_equal(calls_seen[LINUX_NR_restart_syscall], 1);
	assert_init_given_back();
}

static void test_a_restarted_clone_of_a_hijacked_task_forks_once(void **state)
{
	(void)state;
	exec_with_namespaces_gone();
	restart_clones = 1;
	start(OPS_EXEC, 10000);
	sim_run(3000);
	assert_true(done_called);
	/* the first clone restarted, then the host's and mid's forks */
	assert_int_equal(calls_seen[LINUX_NR_clone], 3);
	assert_non_null(strstr(req.op.error, "no such file or directory"));
	assert_init_given_back();
}

/* The helper died and its task_struct was reused by another process, which makes the
 * parked helper's VMCALL with its registers: not the helper (other pid, other memory). */
static void test_a_reused_task_struct_is_not_the_helper(void **state)
{
	(void)state;
	struct inject_helper_status st;
	struct sim_task *helper = helper_parked_on_the_wake_port(&st);
	struct guest_regs forged = helper->regs;
	helper->state = SIM_FREE;
	fake_w32(&f, helper->task + f.prof.task_pid, 4242);
	fake_w32(&f, helper->task + f.prof.task_tgid, 4242);
	fake_w64(&f, helper->task + f.prof.task_mm, fake_mm(&f, "evil", 2));
	next_request();
	start(OPS_STATS, 5000);
	forged.rax = 1;
	cpu.regs = &forged;
	uint64_t at = SCRATCH_AT + INJECT_SCRATCH_SLED + INJECT_SLED_RETURN;
	fake_vmcs[GUEST_RIP] = at;
	fake_vmcs[GUEST_CS_SELECTOR] = 0x33;
	assert_false(inject_on_sled_vmcall(&cpu, helper->task, at));
	assert_false(inject_helper_status(&st)); /* forgotten */
	assert_int_equal(req.op.calls, 0);
	assert_true(trap_armed); /* the operation looks for a host task */
	init_t->regs = init_t->own;
	init_t->state = SIM_USER;
	sim_run(100);
	assert_true(done_ok);
	assert_int_equal(req.op.tgid, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pause_hijacks_a_host_root_task_and_gives_it_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_wakes_when_the_freeze_completes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_a_pause_near_its_time_limit_still_undoes_its_freeze, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_kernel_signalling_no_change_cannot_make_pause_spin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_without_cgroup_events_naps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_pause_not_frozen_in_time_is_undone_and_init_given_back, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_pause_whose_kernel_changed_meanwhile_is_undone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_undo_the_kernel_swallows_is_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pause_vouched_for_when_its_freeze_is_seen,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_vmcall_that_is_not_a_return_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_an_operation_is_refused_when_the_trap_cannot_be_armed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_only_the_forks_child_is_adopted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_helper_blocks_on_the_wake_port_until_rung,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_helper_keeps_nothing_of_its_host_task,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_deaf_helper_leaves_the_work_to_a_host_task,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_restarted_call_of_a_hijacked_task_runs_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_restarted_clone_of_a_hijacked_task_forks_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_reused_task_struct_is_not_the_helper, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_waits_for_the_containers_processes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_stop_escalates_to_sigkill_after_the_grace_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_reads_the_three_files, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_failing_call_ends_the_operation_with_its_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_entry_that_is_not_the_return_is_left_alone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_suitable_task_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_timeout_still_gives_the_task_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_the_hijacked_task_dying_ends_the_operation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_exec_adopts_its_processes_and_ends_them_on_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_the_resident_helper_takes_work_and_exits_when_stopped, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
