/* SPDX-License-Identifier: MIT */
/*
 * RDMSR/WRMSR exits. The MSR bitmap intercepts nothing but the VMX capability MSRs;
 * MSRs outside the two ranges the bitmap covers always exit (SDM 25.1.3). For all of
 * them the guest gets what a CPU without such an MSR gives: #GP(0). Linux's "safe" MSR
 * accessors expect exactly that (DESIGN §8).
 */
#include "vmx/exit_handlers.h"
#include "vmx/vmx.h"

void handle_rdmsr(struct vcpu *v)
{
	vmx_inject_gp0(v);
}

void handle_wrmsr(struct vcpu *v)
{
	vmx_inject_gp0(v);
}
