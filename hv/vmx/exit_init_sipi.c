/* SPDX-License-Identifier: MIT */
/*
 * INIT and SIPI (SDM Vol. 3C 25.2 "Other Causes of VM Exits"): in VMX non-root operation
 * an INIT signal always causes a VM exit instead of resetting the processor, and a SIPI
 * causes one while the vCPU is in the wait-for-SIPI activity state. The monitor emulates
 * both for the application processors, so that every CPU stays in VMX non-root operation
 * whoever wakes it: OVMF restarting its APs at ExitBootServices, Linux starting its
 * secondary CPUs or bringing one back online, or a hostile kernel that wants a CPU of its
 * own (DESIGN §3). The woken code then runs as the guest, with the monitor hidden by EPT.
 *
 * INIT loads the state of SDM Vol. 3A 9.1.1, Table 9-1 ("Following INIT") and enters
 * wait-for-SIPI; SIPI starts the vCPU in real mode at vector << 12 (SDM Vol. 3A 9.4.4.2,
 * "Typical AP Initialization Sequence"), which needs the "unrestricted guest" control
 * (SDM Vol. 3C 26.3.1.1), required when there is more than one CPU.
 *
 * An INIT for the boot CPU, which serves the console, is a platform reset request: the
 * guest is stopped and the console stays up (the monitor does not reset the machine).
 */
#include "core/monitor.h"
#include "vmx/exit_handlers.h"
#include "vmx/init_state.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

/* Bochs 2.7 keeps INIT pending after the INIT exit and delivers it again right after the
 * SIPI (stlintel issue #11, fixed in Bochs 2.8; DESIGN §8), possibly more than once: an
 * INIT exit within 10 ms of the SIPI, before the vCPU executed anything at its start-up
 * address (no other exit since, RIP still 0), is taken as that echo and ignored. A real
 * INIT then would only restart the vCPU where it already is; a later one always counts
 * (an AP spinning at offset 0 of its page must still be resettable). */
#define SIPI_ECHO_WINDOW_MS 10u

static bool init_is_sipi_echo(const struct vcpu *v)
{
	uint64_t window = machine.tsc_hz / 1000u * SIPI_ECHO_WINDOW_MS;
	return v->sipi_started && rdtsc() - v->sipi_tsc < window && vmread(GUEST_RIP) == 0 &&
	       vmread(GUEST_CS_BASE) == (uint64_t)v->sipi_vector << 12;
}

void handle_init_signal(struct vcpu *v)
{
	if (v->id == 0) {
		vmx_stop_guest(v, "INIT signal to the boot CPU (guest reset or reboot)");
		return;
	}
	if (init_is_sipi_echo(v)) {
		v->init_echoes_ignored++; /* it may come more than once: stay "just started" */
		return;
	}
	struct vmcs_init_state s;
	/* The guest's CR0 as it sees it: the bits we own from the shadow, the rest (CD and
	 * NW among them) from the real register (SDM Vol. 3C 25.3, MOV from CR0). */
	uint64_t mask = vmread(CR0_GUEST_HOST_MASK);
	uint64_t cr0 = (vmread(GUEST_CR0) & ~mask) | (vmread(CR0_READ_SHADOW) & mask);
	vmcs_init_state(&s, cr0, cpuid_count(1, 0).eax, &machine.caps);
	vmcs_write_init_state(&s);
	/* Nothing the old context had queued survives INIT: no event to re-inject, no NMI. */
	vmwrite(VM_ENTRY_INTR_INFO_FIELD, 0);
	v->event_injected = true;
	__atomic_store_n(&v->nmi_pending, 0u, __ATOMIC_SEQ_CST);
	for (unsigned int i = 0; i < 16; i++)
		v->regs->gpr[i] = 0;
	v->regs->rdx = s.rdx;
	/* The vCPU's cached translations belong to the old context (SDM Vol. 3C 28.3.3.3). */
	if (machine.secondary_controls & SECONDARY_EXEC_ENABLE_VPID)
		(void)invvpid((machine.caps.ept_vpid & VMX_VPID_INVVPID_SINGLE_BIT)
				      ? INVVPID_SINGLE_CONTEXT
				      : INVVPID_ALL_CONTEXT,
			      v->vpid);
	v->sipi_started = false;
	v->inits++;
}

void handle_sipi(struct vcpu *v)
{
	if (v->id == 0) {
		vmx_stop_guest(v, "unexpected SIPI for the boot CPU");
		return;
	}
	uint8_t vector = (uint8_t)(v->exit_qualification & 0xFFu); /* SDM 27.2.1 Table 27-1 */
	vmcs_write_sipi_state(vector);
	v->sipi_vector = vector;
	v->sipi_started = true;
	v->sipi_tsc = rdtsc();
	v->sipis++;
}
