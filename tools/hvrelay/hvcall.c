/* SPDX-License-Identifier: MIT */
/* VMCALL from ring 3 with #UD caught (hvcall.h). */
#include "tools/hvrelay/hvcall.h"

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

#include "chan/frame.h"
#include "chan/vmcall.h"

/* Armed only around the one instruction: a SIGILL anywhere else is a real bug and must end
 * the process as it would without us. */
static sigjmp_buf ud_return;
static volatile sig_atomic_t ud_armed;
static bool handler_installed;

static void on_sigill(int sig, siginfo_t *info, void *context)
{
	(void)context;
	/* ILL_ILLOPN: the kernel's code for #UD (arch/x86/kernel/traps.c); a SIGILL sent
	 * with kill() is no answer of the CPU. */
	if (!ud_armed || info->si_code != ILL_ILLOPN) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	ud_armed = 0;
	siglongjmp(ud_return, 1);
}

static void install_handler(void)
{
	struct sigaction sa = {0};

	/* SA_NODEFER: leaving the handler by siglongjmp does not go through sigreturn, so
	 * the kernel would otherwise keep SIGILL blocked, and the next #UD would kill us.
	 * sigsetjmp(..., 0) then need not save the mask (no system call per VMCALL). */
	sa.sa_sigaction = on_sigill;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	handler_installed = true;
}

bool hvcall(struct hvcall_regs *r)
{
	uint64_t rax = r->rax, rbx = r->rbx, rcx = r->rcx, rdx = r->rdx, rsi = r->rsi, rdi = r->rdi;

	if (!handler_installed)
		install_handler();
	if (sigsetjmp(ud_return, 0) != 0)
		return false;
	ud_armed = 1;
	/* VMCALL is 0F 01 C1 (SDM Vol. 2B); "memory": the monitor reads (SEND) or writes
	 * (RECV) the buffer RBX points at. */
	asm volatile("vmcall"
		     : "+a"(rax), "+b"(rbx), "+c"(rcx), "+d"(rdx), "+S"(rsi), "+D"(rdi)
		     :
		     : "memory", "cc");
	ud_armed = 0;
	*r = (struct hvcall_regs){rax, rbx, rcx, rdx, rsi, rdi};
	return true;
}

int64_t hvcall_chan(unsigned function, uint64_t buf, uint64_t len)
{
	struct hvcall_regs r = {.rax = CHAN_VMCALL_MAGIC | function, .rbx = buf, .rcx = len};

	return hvcall(&r) ? (int64_t)r.rax : HVCALL_UD;
}

static const char *const error_names[CHAN_ERR_COUNT] = {
	[CHAN_OK] = "taken", /* chan_error_name says "ok"; a call's 0 is a frame taken */
	[CHAN_ERR_LENGTH] = "length",
	[CHAN_ERR_MAGIC] = "magic",
	[CHAN_ERR_VERSION] = "version",
	[CHAN_ERR_KIND] = "kind",
	[CHAN_ERR_FLAGS] = "flags",
	[CHAN_ERR_FIELDS] = "fields",
	[CHAN_ERR_SIGNATURE] = "signature",
	[CHAN_ERR_BOOT] = "boot",
	[CHAN_ERR_SEQ] = "seq",
	[CHAN_ERR_NO_KEY] = "no-key",
	[CHAN_ERR_OPERATOR] = "operator",
};

static const char *const vmcall_names[] = {
	[CHAN_VMCALL_FAULT - CHAN_VMCALL_FAULT] = "fault",
	[CHAN_VMCALL_BUSY - CHAN_VMCALL_FAULT] = "busy",
	[CHAN_VMCALL_RATE - CHAN_VMCALL_FAULT] = "rate",
	[CHAN_VMCALL_SMALL - CHAN_VMCALL_FAULT] = "small",
};

const char *hvcall_reason_name(unsigned reason)
{
	if (reason < CHAN_ERR_COUNT)
		return error_names[reason];
	if (reason >= CHAN_VMCALL_FAULT &&
	    reason - CHAN_VMCALL_FAULT < sizeof(vmcall_names) / sizeof(vmcall_names[0]))
		return vmcall_names[reason - CHAN_VMCALL_FAULT];
	return "?";
}

const char *hvcall_result_name(int64_t rax)
{
	if (rax == HVCALL_UD)
		return "ud";
	if (rax == 0)
		return "taken";
	if (rax > 0)
		return "frame";
	/* -(BASE + reason), reason below 256 (vmcall.h) */
	if (rax <= -(int64_t)CHAN_VMCALL_ERR_BASE && rax > -(int64_t)(CHAN_VMCALL_ERR_BASE + 0x100))
		return hvcall_reason_name((unsigned)(-rax - CHAN_VMCALL_ERR_BASE));
	return "?";
}
