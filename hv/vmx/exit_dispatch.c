/* SPDX-License-Identifier: MIT */
/*
 * Every VM exit comes here (from vmx_entry.asm): count it, run the handler the table
 * names for its basic reason, finish the pending work that does not depend on the
 * reason (re-injecting an interrupted event, NMIs, the console), and return to VMRESUME.
 *
 * Several CPUs: handlers run under one lock (exit_lock), so the shared state they touch
 * (EPT, the entry trap, the injection engine, the console's counters) sees one CPU at a
 * time. Only the boot CPU (vm.vcpu[0]) serves the console and drives the injection engine
 * (core/monitor.h); the others never poll the UART and have no preemption timer.
 */
#include <stdarg.h>

#include "console/console.h"
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/spinlock.h"
#include "vmx/cr_policy.h"
#include "vmx/msr_policy.h"
#include "vmx/exit_handlers.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/exit_reason.h"
#include "x86/msr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

static struct spinlock exit_lock;

/* The dispatch table (reason -> handler). A reason without an entry is unexpected with our
 * controls: reported with the guest state, and the guest stopped. */
static const exit_handler_fn exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = handle_exception_nmi,
	[EXIT_REASON_TRIPLE_FAULT] = handle_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = handle_init_signal,
	[EXIT_REASON_SIPI_SIGNAL] = handle_sipi,
	[EXIT_REASON_NMI_WINDOW] = handle_nmi_window,
	[EXIT_REASON_CPUID] = handle_cpuid,
	[EXIT_REASON_GETSEC] = handle_getsec,
	[EXIT_REASON_INVD] = handle_invd,
	[EXIT_REASON_VMCALL] = handle_vmx_instruction,
	[EXIT_REASON_VMCLEAR] = handle_vmx_instruction,
	[EXIT_REASON_VMLAUNCH] = handle_vmx_instruction,
	[EXIT_REASON_VMPTRLD] = handle_vmx_instruction,
	[EXIT_REASON_VMPTRST] = handle_vmx_instruction,
	[EXIT_REASON_VMREAD] = handle_vmx_instruction,
	[EXIT_REASON_VMRESUME] = handle_vmx_instruction,
	[EXIT_REASON_VMWRITE] = handle_vmx_instruction,
	[EXIT_REASON_VMOFF] = handle_vmx_instruction,
	[EXIT_REASON_VMON] = handle_vmx_instruction,
	[EXIT_REASON_INVEPT] = handle_vmx_instruction,
	[EXIT_REASON_INVVPID] = handle_vmx_instruction,
	[EXIT_REASON_VMFUNC] = handle_vmx_instruction,
	[EXIT_REASON_CR_ACCESS] = handle_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = handle_io,
	[EXIT_REASON_MSR_READ] = handle_rdmsr,
	[EXIT_REASON_MSR_WRITE] = handle_wrmsr,
	[EXIT_REASON_EPT_VIOLATION] = handle_ept_violation,
	[EXIT_REASON_MONITOR_TRAP_FLAG] = handle_monitor_trap_flag,
	[EXIT_REASON_EPT_MISCONFIG] = handle_ept_misconfig,
	[EXIT_REASON_PREEMPTION_TIMER] = handle_preemption_timer,
	[EXIT_REASON_XSETBV] = handle_xsetbv,
};

/* An exit that interrupted the delivery of an event (SDM 27.2.3 "Information for VM
 * Exits During Event Delivery") must deliver that event again at the next entry, unless
 * the handler injected something itself. */
static void reinject_interrupted_event(struct vcpu *v, uint32_t idt_info)
{
	if (!(idt_info & INTR_INFO_VALID) || v->event_injected)
		return;
	/* Bits 30:12 are reserved in the VM-entry field (bit 12 of the IDT-vectoring
	 * field is undefined). */
	vmwrite(VM_ENTRY_INTR_INFO_FIELD,
		idt_info & (INTR_INFO_VALID | 0x7FFu | INTR_INFO_DELIVER_CODE));
	if (idt_info & INTR_INFO_DELIVER_CODE)
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, vmread(IDT_VECTORING_ERROR_CODE));
	uint32_t type = idt_info & INTR_INFO_TYPE_MASK;
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXCEPTION ||
	    type == INTR_TYPE_PRIV_SW_EXCEPTION)
		vmwrite(VM_ENTRY_INSTRUCTION_LEN, vmread(VM_EXIT_INSTRUCTION_LEN));
	v->event_injected = true;
}

/* "Blocking by SMI" (SDM Vol. 3C 24.4.2, Table 24-3) must be 0 outside SMM (26.3.1.5); the
 * guest never runs in SMM under us. Bochs 2.7 saves it set after some exits (INIT/SIPI on
 * an AP among them) and the next entry then fails (its issue #10, DESIGN §8). */
static void clear_smi_blocking(void)
{
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & GUEST_INTR_STATE_SMI)
		vmwrite(GUEST_INTERRUPTIBILITY_INFO, intr & ~(uint64_t)GUEST_INTR_STATE_SMI);
}

static void poll_console_and_rearm_timer(void)
{
	console_poll();
	/* Poll more often while a conversation is going on: the UART's receive FIFO holds
	 * only 16 bytes. */
	vmwrite(VMX_PREEMPTION_TIMER_VALUE, console_busy() ? machine.preemption_timer_value_busy
							   : machine.preemption_timer_value);
}

__attribute__((noreturn)) static void serve_console_forever(struct vcpu *v)
{
	if (v->id != 0) {
		/* An AP whose guest context cannot go on parks here; the boot CPU and its
		 * console go on. */
		log_printf("ctrvisor: vcpu %u stopped: %s\r\n", v->id, v->stop_reason);
		spin_unlock(&exit_lock);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	log_printf("ctrvisor: guest stopped: %s. The console stays up.\r\n", v->stop_reason);
	/* The other CPUs run the same guest: stop them too (they wait for the exit lock,
	 * which this CPU keeps from now on). */
	char why[160];
	if (!cpus_hold_others(v, why, sizeof(why)))
		log_printf("ctrvisor: %s\r\n", why);
	for (;;) {
		console_poll();
		for (unsigned int i = 0; i < 2000u; i++)
			cpu_relax();
	}
}

/* What another CPU needs to find this vCPU's current task (struct vcpu .guest_snapshot).
 * VM exits do not touch IA32_KERNEL_GS_BASE (SDM 27.5 lists what they load): RDMSR gives
 * the guest's. */
static void snapshot_guest(struct vcpu *v)
{
	v->guest_snapshot.cr3 = vmread(GUEST_CR3);
	v->guest_snapshot.cr4 = vmread(GUEST_CR4);
	v->guest_snapshot.gs_base = vmread(GUEST_GS_BASE);
	v->guest_snapshot.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	v->guest_snapshot.ss_ar_bytes = vmread(GUEST_SS_AR_BYTES);
	v->guest_snapshot.cr0 = vmread(GUEST_CR0);
	v->guest_snapshot.idtr_base = vmread(GUEST_IDTR_BASE);
	v->guest_snapshot.idtr_limit = vmread(GUEST_IDTR_LIMIT);
	v->guest_snapshot.gdtr_base = vmread(GUEST_GDTR_BASE);
	v->guest_snapshot.gdtr_limit = vmread(GUEST_GDTR_LIMIT);
	v->guest_snapshot.valid = true;
}

static void count_work(struct vcpu *v, uint32_t basic, uint64_t tsc)
{
	__atomic_store_n(&v->exit_work_tsc, v->exit_work_tsc + tsc, __ATOMIC_RELAXED);
	if (basic < EXIT_REASON_MAX)
		v->exit_work_tsc_by_reason[basic] += tsc;
	if (tsc > v->exit_work_tsc_max) {
		v->exit_work_tsc_max = tsc;
		v->exit_work_max_reason = basic;
	}
}

void vmx_exit_handler(struct guest_regs *regs)
{
	struct vcpu *v = this_vcpu();
	snapshot_guest(v);
	vcpu_exit_begin(v); /* before the lock: the lock holder may be waiting for this */
	spin_lock(&exit_lock);
	uint64_t work_from = rdtsc();
	v->regs = regs;
	v->event_injected = false;
	uint32_t reason = (uint32_t)vmread(VM_EXIT_REASON);
	v->exit_reason = reason;
	v->exits_total++;

	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		/* SDM 26.7 "VM-Entry Failures During or After Loading Guest State": the
		 * exit reason has bit 31 set; nothing of the guest ran. */
		vmx_stop_guest(v, "VM entry failed, exit reason 0x%x qualification 0x%llx", reason,
			       (unsigned long long)vmread(EXIT_QUALIFICATION));
		serve_console_forever(v);
	}

	uint32_t basic = reason & 0xFFFFu;
	exit_handler_fn handler = basic < EXIT_REASON_MAX ? exit_handlers[basic] : 0;
	if (basic < EXIT_REASON_MAX)
		v->exits_by_reason[basic]++;
	else
		v->exits_unknown_reason++;
	v->exit_qualification = vmread(EXIT_QUALIFICATION);
	uint32_t idt_info = (uint32_t)vmread(IDT_VECTORING_INFO_FIELD);

	if (handler)
		handler(v);
	else
		handle_unexpected(v);
	if (v->guest_stopped)
		serve_console_forever(v);

	if (basic != EXIT_REASON_SIPI_SIGNAL && basic != EXIT_REASON_INIT_SIGNAL)
		v->sipi_started = false; /* it ran: a later INIT is a real one */
	if (v->id == 0)
		exit_hooks_tick(v);
	cr_policy_load_if_stale(v); /* a pin since this vCPU's last exit */
	entry_msr_pin_if_requested(v);
	reinject_interrupted_event(v, idt_info);
	vmx_queue_pending_nmi(v);
	if (!vm.hidden)
		ept_hide_monitor();
	if (v->id == 0)
		poll_console_and_rearm_timer();
	clear_smi_blocking();
	count_work(v, basic, rdtsc() - work_from);
	spin_unlock(&exit_lock);
	vcpu_enter_gate(v);
	/* A guest NMI taken in VMX root operation since vmx_queue_pending_nmi() above (in the
	 * gate, or while held) gets its injection or its NMI window now; one that comes in the
	 * last instructions before VMRESUME waits for the next exit (at most 10 ms). */
	vmx_queue_pending_nmi(v);
}

void handle_unexpected(struct vcpu *v)
{
	const char *name = exit_reason_name(v->exit_reason & 0xFFFFu);
	vmx_stop_guest(v, "unexpected VM exit %u (%s)", v->exit_reason & 0xFFFFu,
		       name ? name : "unknown");
}

void vmx_stop_guest(struct vcpu *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(v->stop_reason, sizeof(v->stop_reason), fmt, ap);
	va_end(ap);
	log_printf("\r\nctrvisor: %s\r\n", v->stop_reason);
	vmx_dump_guest_state(v);
	v->guest_stopped = true;
}

void vmx_dump_guest_state(struct vcpu *v)
{
	const struct guest_regs *r = v->regs;
	log_printf("ctrvisor: guest: rip=0x%llx rsp=0x%llx rflags=0x%llx cs=0x%llx cr0=0x%llx "
		   "cr3=0x%llx "
		   "cr4=0x%llx efer=0x%llx\r\n",
		   (unsigned long long)vmread(GUEST_RIP), (unsigned long long)vmread(GUEST_RSP),
		   (unsigned long long)vmread(GUEST_RFLAGS),
		   (unsigned long long)vmread(GUEST_CS_SELECTOR),
		   (unsigned long long)vmread(GUEST_CR0), (unsigned long long)vmread(GUEST_CR3),
		   (unsigned long long)vmread(GUEST_CR4),
		   (unsigned long long)vmread(GUEST_IA32_EFER));
	log_printf("ctrvisor: guest: interruptibility=0x%llx activity=%llu entry_controls=0x%llx "
		   "cs_ar=0x%llx ss_ar=0x%llx tr_ar=0x%llx\r\n",
		   (unsigned long long)vmread(GUEST_INTERRUPTIBILITY_INFO),
		   (unsigned long long)vmread(GUEST_ACTIVITY_STATE),
		   (unsigned long long)vmread(VM_ENTRY_CONTROLS),
		   (unsigned long long)vmread(GUEST_CS_AR_BYTES),
		   (unsigned long long)vmread(GUEST_SS_AR_BYTES),
		   (unsigned long long)vmread(GUEST_TR_AR_BYTES));
	log_printf("ctrvisor: exit: reason=0x%x qualification=0x%llx intr_info=0x%llx "
		   "idt_vectoring=0x%llx "
		   "instr_error=%llu gpa=0x%llx gla=0x%llx\r\n",
		   v->exit_reason, (unsigned long long)v->exit_qualification,
		   (unsigned long long)vmread(VM_EXIT_INTR_INFO),
		   (unsigned long long)vmread(IDT_VECTORING_INFO_FIELD),
		   (unsigned long long)vmread(VM_INSTRUCTION_ERROR),
		   (unsigned long long)vmread(GUEST_PHYSICAL_ADDRESS),
		   (unsigned long long)vmread(GUEST_LINEAR_ADDRESS));
	if (r) {
		log_printf("ctrvisor: rax=%llx rbx=%llx rcx=%llx rdx=%llx rsi=%llx rdi=%llx "
			   "rbp=%llx\r\n",
			   (unsigned long long)r->rax, (unsigned long long)r->rbx,
			   (unsigned long long)r->rcx, (unsigned long long)r->rdx,
			   (unsigned long long)r->rsi, (unsigned long long)r->rdi,
			   (unsigned long long)r->rbp);
		log_printf("ctrvisor: r8=%llx r9=%llx r10=%llx r11=%llx r12=%llx r13=%llx r14=%llx "
			   "r15=%llx\r\n",
			   (unsigned long long)r->r8, (unsigned long long)r->r9,
			   (unsigned long long)r->r10, (unsigned long long)r->r11,
			   (unsigned long long)r->r12, (unsigned long long)r->r13,
			   (unsigned long long)r->r14, (unsigned long long)r->r15);
	}
}

/* VMRESUME itself failed (vmx_entry.asm): the VMCS is broken; report and stop. */
__attribute__((noreturn)) void vmx_resume_failed(uint64_t rflags)
{
	struct vcpu *v = this_vcpu();
	/* Out of the guest for good, and back under the exit lock that serve_console_forever()
	 * expects (it was released before the entry gate). */
	__atomic_store_n(&v->in_guest, 0u, __ATOMIC_SEQ_CST);
	spin_lock(&exit_lock);
	log_printf("\r\nctrvisor: VMRESUME failed (rflags=0x%llx, VM-instruction error %llu)\r\n",
		   (unsigned long long)rflags, (unsigned long long)vmread(VM_INSTRUCTION_ERROR));
	v->regs = 0;
	vmx_dump_guest_state(v);
	v->guest_stopped = true;
	fmt_snprintf(v->stop_reason, sizeof(v->stop_reason), "VMRESUME failed");
	serve_console_forever(v);
}
