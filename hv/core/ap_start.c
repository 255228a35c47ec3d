/* SPDX-License-Identifier: MIT */
/*
 * Virtualizing the other CPUs (DESIGN §3 "Every CPU belongs to the monitor"). The loader
 * runs hv_ap_entry (ap_entry.asm) on each AP through EFI MP services after the boot CPU
 * runs as the guest, one AP at a time. Each AP gets its own struct vcpu (VMXON region,
 * VMCS, host stack, GDT/TSS/IDT, VPID), shares the EPT, the bitmaps and the host page
 * tables, and is launched straight back into its caller as the guest. From then on an
 * INIT or SIPI to it exits to the monitor (vmx/exit_init_sipi.c): the guest can never
 * have a CPU of its own.
 */
#include "core/ap_start.h"

#include "bootinfo.h"
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/msr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

int vmx_launch_context(const struct launch_context *ctx); /* vmx_entry.asm */

static int ap_fail(char *error, uint64_t cap, int rc)
{
	fmt_snprintf(error, cap, "%s", start_error_text());
	return rc;
}

__attribute__((sysv_abi)) int hv_start_ap(uint32_t id, char *error, uint64_t cap,
					  const struct launch_context *ctx)
{
	if (id == 0 || id >= HV_CPUS_MAX || id != vm.nr_vcpus) {
		start_fail(HV_START_BAD_BOOT_INFO,
			   "CPU id %u out of turn (expected %u, at most %u CPUs)", id, vm.nr_vcpus,
			   HV_CPUS_MAX);
		return ap_fail(error, cap, HV_START_BAD_BOOT_INFO);
	}
	int rc = vmx_check_support();
	if (rc != HV_START_OK)
		return ap_fail(error, cap, rc);
	/* Every CPU must be the same VMX implementation as the one the caps were read on
	 * (SDM Vol. 3C A.1: the VMCS revision identifier). */
	if (rdmsr(MSR_IA32_VMX_BASIC) != machine.caps.basic) {
		start_fail(HV_START_MISSING_FEATURE, "CPU %u reports another IA32_VMX_BASIC", id);
		return ap_fail(error, cap, HV_START_MISSING_FEATURE);
	}
	/* An INIT to this CPU is emulated by entering wait-for-SIPI (exit_init_sipi.c): the
	 * processor must support that activity state (SDM Vol. 3C A.6, IA32_VMX_MISC[8]),
	 * or the first INIT would fail VM entry and lose the CPU. */
	if (!(machine.caps.misc & VMX_MISC_ACTIVITY_WAIT_SIPI)) {
		start_fail(
			HV_START_MISSING_FEATURE,
			"the CPU has no wait-for-SIPI activity state (IA32_VMX_MISC[8]): INIT to "
			"CPU %u could not be emulated",
			id);
		return ap_fail(error, cap, HV_START_MISSING_FEATURE);
	}

	/* Interrupts off before the first lock (the allocator's: lib/spinlock.h). */
	uint64_t rflags = read_rflags();
	cli();
	struct vcpu *v = vcpu_alloc(id);
	if (v == NULL) {
		write_rflags(rflags);
		start_fail(HV_START_NO_MEMORY, "no memory for CPU %u's monitor state", id);
		return ap_fail(error, cap, HV_START_NO_MEMORY);
	}
	uint64_t cr0_shadow = read_cr0();
	uint64_t cr4_shadow = read_cr4();
	rc = vmx_enable(v);
	if (rc == HV_START_OK) {
		rc = vmcs_setup(v, cr0_shadow, cr4_shadow);
		if (rc == HV_START_OK) {
			vm.vcpu[id] = v;
			__atomic_store_n(&vm.nr_vcpus, id + 1u, __ATOMIC_SEQ_CST);
			vcpu_enter_gate(v); /* waits if another CPU holds the others */
			int launch = vmx_launch_context(ctx);
			/* Only on failure: the guest resumed at ctx->rip otherwise. The slot
			 * stays (another CPU may be reading it), out of the guest and stopped;
			 * the loader boots nothing now. */
			__atomic_store_n(&v->in_guest, 0u, __ATOMIC_SEQ_CST);
			v->guest_stopped = true;
			fmt_snprintf(v->stop_reason, sizeof(v->stop_reason), "VMLAUNCH failed");
			start_fail(HV_START_LAUNCH_FAILED,
				   "VMLAUNCH on CPU %u failed (%d, VM-instruction error %llu)", id,
				   launch, (unsigned long long)vmread(VM_INSTRUCTION_ERROR));
			rc = HV_START_LAUNCH_FAILED;
		}
		vmx_disable(v);
	}
	write_rflags(rflags);
	log_printf("ctrvisor: CPU %u not virtualized: %s\r\n", id, start_error_text());
	return ap_fail(error, cap, rc);
}
