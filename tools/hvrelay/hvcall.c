/* SPDX-License-Identifier: MIT */
/* VMCALL from ring 3 with #UD caught (hvcall.h). */
#include "tools/hvrelay/hvcall.h"

#include <setjmp.h>
#include <signal.h>
#include <stddef.h>

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
