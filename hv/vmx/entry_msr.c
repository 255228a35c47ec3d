/* SPDX-License-Identifier: MIT */
/*
 * The system-call entry MSRs (DESIGN §7): STAR, LSTAR, CSTAR, SFMASK (SDM Vol. 3A 5.8.8
 * "Fast System Calls in 64-Bit Mode") and SYSENTER_CS/ESP/EIP (5.8.7). A rootkit that
 * points LSTAR at its own stub sees every system call first, and the entry trap never
 * fires. Their writes exit (msr_policy.c) and are carried out as the processor would,
 * until a subsystem pins them on a vCPU (entry_msr_pin: kernel protection, at its lock):
 * from then on that vCPU accepts only the value it had (Linux's syscall_init() writes the
 * same values again on resume and when a CPU comes online) and refuses any other (#GP).
 * SYSENTER_ESP is per CPU (the CPU's entry stack), which is why the values are recorded per
 * vCPU; a vCPU pinned before it ever ran has nothing recorded and refuses nothing.
 */
#include "core/monitor.h"
#include "vmx/msr_policy.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/cr.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"

/* The slot of an entry MSR in struct vcpu's pin arrays, or -1. */
int entry_msr_slot(uint32_t msr)
{
	switch (msr) {
	case MSR_STAR:
		return 0;
	case MSR_LSTAR:
		return 1;
	case MSR_CSTAR:
		return 2;
	case MSR_SYSCALL_MASK:
		return 3;
	case MSR_IA32_SYSENTER_CS:
		return 4;
	case MSR_IA32_SYSENTER_ESP:
		return 5;
	case MSR_IA32_SYSENTER_EIP:
		return 6;
	}
	return -1;
}

/* SYSENTER_* live in the VMCS guest-state area while the guest runs (SDM Vol. 3C 24.4.1;
 * saved at every exit, loaded at every entry: 27.3.1, 26.3.2.1); the others stay in the
 * processor (VMX transitions do not switch them, and the monitor never uses SYSCALL). */
static uint32_t vmcs_field(uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS:
		return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:
		return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:
		return GUEST_SYSENTER_EIP;
	}
	return 0;
}

static uint64_t current_value(uint32_t msr)
{
	uint32_t field = vmcs_field(msr);
	return field ? vmread(field) : rdmsr(msr);
}

enum msr_result entry_msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	int i = entry_msr_slot(msr);
	if (i < 0)
		return MSR_GP;
	if (v->entry_msr_pinned && value != v->entry_msr_pin[i]) {
		v->entry_msr_refused++;
		return MSR_GP;
	}
	/* A non-canonical LSTAR/CSTAR/SYSENTER_EIP/ESP is the processor's to refuse (SDM Vol. 2B
	 * WRMSR): written here it would raise #GP in VMX root operation, or fail the next VM
	 * entry (SDM Vol. 3C 26.3.1.1). Canonical for the monitor's own paging (HOST_CR4). */
	if (msr != MSR_STAR && msr != MSR_SYSCALL_MASK && msr != MSR_IA32_SYSENTER_CS &&
	    !x86_is_canonical(value, (vmread(HOST_CR4) & X86_CR4_LA57) != 0))
		return MSR_GP;
	uint32_t field = vmcs_field(msr);
	if (field)
		vmwrite(field, msr == MSR_IA32_SYSENTER_CS ? (value & 0xFFFFFFFFull) : value);
	else
		wrmsr(msr, value);
	return MSR_DONE;
}

/* Raised by entry_msr_pin_all; a vCPU whose own is older pins at its next exit. Written
 * under the exit lock. */
static uint32_t pin_generation;

void entry_msr_pin_all(void)
{
	__atomic_add_fetch(&pin_generation, 1, __ATOMIC_RELEASE);
}

void entry_msr_pin_if_requested(struct vcpu *v)
{
	uint32_t g = __atomic_load_n(&pin_generation, __ATOMIC_ACQUIRE);
	if (v->entry_msr_generation != g) {
		v->entry_msr_generation = g;
		entry_msr_pin(v);
	}
}

void entry_msr_pin(struct vcpu *v)
{
	static const uint32_t msrs[ENTRY_MSR_COUNT] = {
		MSR_STAR,
		MSR_LSTAR,
		MSR_CSTAR,
		MSR_SYSCALL_MASK,
		MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP,
	};
	for (unsigned int i = 0; i < ENTRY_MSR_COUNT; i++)
		v->entry_msr_pin[i] = current_value(msrs[i]);
	v->entry_msr_pinned = true;
}
