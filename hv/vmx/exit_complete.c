/* SPDX-License-Identifier: MIT */
/* Completing an exit: skipping the instruction, injecting events into the guest (not to
 * be confused with hv/inject/, which injects system calls into guest processes). */
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

void vmx_advance_rip(struct vcpu *v)
{
	(void)v;
	/* SDM 27.2.4 "Information for VM Exits Due to Instruction Execution": the length
	 * of the instruction that caused the exit. */
	vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(VM_EXIT_INSTRUCTION_LEN));
	/* Skipping an instruction ends STI / MOV-SS blocking, as executing it would. */
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
		vmwrite(GUEST_INTERRUPTIBILITY_INFO,
			intr & ~(uint64_t)(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	/* SDM 24.8.3 "VM-Entry Controls for Event Injection", Table 24-14: a hardware
	 * exception, delivered at the next VM entry with RIP left at the faulting
	 * instruction. */
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | vector;
	/* SDM 26.2.1.3 "VM-Entry Control Fields": with unrestricted guest and CR0.PE = 0
	 * (real mode: an AP after INIT-SIPI) "deliver error code" must be 0, or VM entry
	 * fails; real mode pushes no error code anyway. */
	if (!(vmread(GUEST_CR0) & X86_CR0_PE))
		has_error = false;
	if (has_error) {
		info |= INTR_INFO_DELIVER_CODE;
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmwrite(VM_ENTRY_INTR_INFO_FIELD, info);
	v->event_injected = true;
}

void vmx_inject_gp0(struct vcpu *v)
{
	vmx_inject_exception(v, X86_VECTOR_GP, true, 0);
}

void vmx_inject_ud(struct vcpu *v)
{
	vmx_inject_exception(v, X86_VECTOR_UD, false, 0);
}

/* Deliver one queued NMI if nothing else is being injected and the guest is not
 * blocking NMIs; otherwise ask for an NMI-window exit (SDM 24.6.2, 25.2 "Other Causes of
 * VM Exits": NMI-window exiting needs virtual NMIs). */
void vmx_queue_pending_nmi(struct vcpu *v)
{
	if (__atomic_load_n(&v->nmi_pending, __ATOMIC_SEQ_CST) == 0)
		return;
	uint64_t proc = vmread(CPU_BASED_VM_EXEC_CONTROL);
	uint64_t intr = vmread(GUEST_INTERRUPTIBILITY_INFO);
	bool blocked =
		(intr & (GUEST_INTR_STATE_NMI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_STI)) !=
		0;
	if (!v->event_injected && !blocked) {
		vmwrite(VM_ENTRY_INTR_INFO_FIELD,
			INTR_INFO_VALID | INTR_TYPE_NMI_INTR | X86_VECTOR_NMI);
		v->event_injected = true;
		/* Atomic: the host NMI handler may add one meanwhile (core/cpus.c). */
		uint32_t left = __atomic_sub_fetch(&v->nmi_pending, 1u, __ATOMIC_SEQ_CST);
		if (left == 0 && (proc & CPU_BASED_NMI_WINDOW_EXITING))
			vmwrite(CPU_BASED_VM_EXEC_CONTROL,
				proc & ~(uint64_t)CPU_BASED_NMI_WINDOW_EXITING);
		return;
	}
	if (!(proc & CPU_BASED_NMI_WINDOW_EXITING))
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc | CPU_BASED_NMI_WINDOW_EXITING);
}
