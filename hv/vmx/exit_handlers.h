/* SPDX-License-Identifier: MIT */
/* The exit handlers the dispatch table (exit_dispatch.c) points at, one family per file. */
#ifndef HV_VMX_EXIT_HANDLERS_H
#define HV_VMX_EXIT_HANDLERS_H

#include "core/vcpu.h"

typedef void (*exit_handler_fn)(struct vcpu *v);

void handle_cpuid(struct vcpu *v); /* exit_cpuid.c */
void handle_rdmsr(struct vcpu *v); /* exit_msr.c */
void handle_wrmsr(struct vcpu *v);
void handle_cr_access(struct vcpu *v); /* exit_cr.c */
void handle_io(struct vcpu *v);        /* exit_io.c */
void handle_xsetbv(struct vcpu *v);    /* exit_xsetbv.c */
void handle_invd(struct vcpu *v);      /* exit_misc.c */
void handle_vmx_instruction(struct vcpu *v);
void handle_getsec(struct vcpu *v);
void handle_triple_fault(struct vcpu *v);
void handle_init_signal(struct vcpu *v);
void handle_sipi(struct vcpu *v);
void handle_preemption_timer(struct vcpu *v);
void handle_monitor_trap_flag(struct vcpu *v);
void handle_exception_nmi(struct vcpu *v); /* exit_nmi.c */
void handle_nmi_window(struct vcpu *v);
void handle_ept_violation(struct vcpu *v); /* exit_ept.c */
void handle_ept_misconfig(struct vcpu *v);
void handle_unexpected(struct vcpu *v); /* exit_dispatch.c */

#endif
