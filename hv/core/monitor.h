/* SPDX-License-Identifier: MIT */
/* What the monitor knows about the machine and the guest VM (its CPUs: core/vcpu.h). */
#ifndef HV_CORE_MONITOR_H
#define HV_CORE_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "bootinfo.h"
#include "core/vcpu.h"
#include "mm/ept.h"
#include "mm/ept_claims.h"
#include "mm/mtrr.h"
#include "platform/acpi_sleep.h"
#include "vmi/profile.h"

#define HV_MAGIC_PREFIX "CTRVISOR-CORE-MAGIC:"
#define HV_MAGIC_LEN    36 /* prefix (20) + 16 hex digits */

/* Sits at the very start of the image (section .hv_header, linker.ld): what `mem`
 * reports and what the guest must never be able to read. */
struct hv_image_header {
	char magic[HV_MAGIC_LEN + 1];
};

/* VMX capabilities read once (SDM Appendix A). */
struct vmx_caps {
	uint64_t basic;
	uint64_t misc;
	uint64_t ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint32_t pin_msr, proc_msr, exit_msr, entry_msr; /* TRUE_* when offered */
	bool has_secondary;
	uint64_t secondary; /* IA32_VMX_PROCBASED_CTLS2 */
};

#define HV_CPUS_MAX 64u /* CPUs the monitor can own; a machine with more fails closed */

/*
 * Who owns what (DESIGN §3). The monitor's state is in three parts:
 *
 *   struct machine  the hardware and what the loader handed over: written only by the
 *                   boot CPU in hv_start(), before any guest code runs; read-only after.
 *   struct vm       the one guest: its memory view (EPT) and what is known of its kernel.
 *   struct vcpu     one per CPU (core/vcpu.h): written only by that CPU.
 *
 * Shared structures that change after launch, and who may touch them:
 *   page allocator (mm/palloc.c)      any CPU, under palloc's lock;
 *   EPT (vm.ept, vm.ept_claims,       changed only in a VM exit, under the exit lock
 *   vm.hidden, sink)                  (vmx/exit_dispatch.c), through an owner's claim
 *                                     (ept_claim_change, mm/ept_claims.h), which returns
 *                                     once every CPU has invalidated (core/cpus.h);
 *                                     only a not-present -> present change (on-demand
 *                                     growth) is flushed on its own CPU alone;
 *   other CPUs' guest execution       stopped with cpus_hold_others() (core/cpus.h), which
 *                                     live introspection uses;
 *   profile (vm.profile*)             written once by hv_start(), read-only after;
 *   console (console/)                served by one CPU, the boot CPU (vm.vcpu[0]): only
 *                                     it polls the UART, parses requests and writes replies;
 *   injection engine, entry trap      owned by the console CPU's exit path (inject/), one
 *   (inject/)                         operation at a time; other CPUs reach them only
 *                                     through the syscall-entry trap, under the engine's lock;
 *   counters                          per vCPU (struct vcpu), summed by readers;
 *   requests, kicks (struct vcpu)     posted by any CPU with atomics (core/cpus.h).
 * The exit lock serializes every VM exit's handling on all CPUs: one exit at a time.
 */
struct machine {
	/* from the loader */
	uint64_t core_base, core_size, image_size;
	uint64_t tsc_hz;
	uint16_t console_port;
	uint32_t console_baud;
	uint64_t acpi_rsdp; /* 0: none found */
	uint32_t mem_count;
	struct boot_mem_range mem[BOOT_MEM_MAX];

	/* the processor (the boot CPU's view; every CPU must match it) */
	unsigned int maxphyaddr;
	bool host_1g_pages;
	struct vmx_caps caps;
	uint32_t secondary_controls; /* as enabled in every VMCS */
	bool tsc_deadline;           /* the TSC-deadline timer exists (CPUID.1:ECX[24]) */
	uint64_t xcr0_supported;     /* XCR0 bits the processor supports (CPUID.0DH.0) */
	struct mtrr_state mtrr;
	struct acpi_sleep sleep; /* the platform's sleep registers (exit_io.c refuses S1-S4) */

	/* host state shared by every CPU */
	uint64_t host_cr3;
	uint64_t preemption_timer_value;      /* idle poll period */
	uint64_t preemption_timer_value_busy; /* while the console is active */
	uint64_t preemption_timer_value_ap;   /* the other CPUs' longest time in the guest */
	uint64_t launch_tsc;                  /* when the boot CPU launched the guest */
};

struct vm {
	/* the guest's memory view */
	struct ept ept;
	struct ept_claims ept_claims; /* who narrows which pages (mm/ept_claims.h) */
	uint64_t ept_mapped_limit;    /* identity map built up to here; beyond, mapped on demand */
	uint64_t sink_page_pa;        /* what the guest sees in place of the monitor's pages */
	bool hidden;                  /* the monitor's pages are out of the guest's view */
	struct mtrr_state guest_mtrr; /* the guest's MTRRs (vmx/mtrr_guest.c); EPT types follow */

	/* introspection: the guest kernel's profile, if one was given and accepted */
	bool profile_loaded;
	struct vmi_profile profile;
	char profile_status[PROFILE_ERR_MAX]; /* why not loaded, for the verbs' errors */

	/* its vCPUs, one per CPU the monitor owns; vcpu[0] is the boot CPU */
	uint32_t nr_vcpus;
	struct vcpu *vcpu[HV_CPUS_MAX];
};

extern struct machine machine;
extern struct vm vm;

/* VM exits of every vCPU so far (core/vcpu.c). */
uint64_t vm_exits_total(void);
/* The monitor's work in VM exits so far, every vCPU's (struct vcpu .exit_work_tsc). */
uint64_t vm_exit_work_tsc(void);
extern struct hv_image_header hv_image_header;

uint64_t monitor_uptime_ms(void);
/* TSC ticks as microseconds (machine.tsc_hz; 0 before it is known). */
uint64_t monitor_tsc_to_us(uint64_t tsc);

#endif
