/* SPDX-License-Identifier: MIT */
/*
 * VMCS field encodings, SDM Appendix B "Field Encoding in VMCS". Names follow the SDM
 * (and Linux KVM's vmx.h, which spells them the same way). The one place they are defined.
 */
#ifndef HV_X86_VMCS_H
#define HV_X86_VMCS_H

/* B.1.1 16-bit control fields */
#define VIRTUAL_PROCESSOR_ID 0x0000u
/* B.1.2 16-bit guest-state fields */
#define GUEST_ES_SELECTOR   0x0800u
#define GUEST_CS_SELECTOR   0x0802u
#define GUEST_SS_SELECTOR   0x0804u
#define GUEST_DS_SELECTOR   0x0806u
#define GUEST_FS_SELECTOR   0x0808u
#define GUEST_GS_SELECTOR   0x080Au
#define GUEST_LDTR_SELECTOR 0x080Cu
#define GUEST_TR_SELECTOR   0x080Eu
/* B.1.3 16-bit host-state fields */
#define HOST_ES_SELECTOR 0x0C00u
#define HOST_CS_SELECTOR 0x0C02u
#define HOST_SS_SELECTOR 0x0C04u
#define HOST_DS_SELECTOR 0x0C06u
#define HOST_FS_SELECTOR 0x0C08u
#define HOST_GS_SELECTOR 0x0C0Au
#define HOST_TR_SELECTOR 0x0C0Cu

/* B.2.1 64-bit control fields */
#define IO_BITMAP_A            0x2000u
#define IO_BITMAP_B            0x2002u
#define MSR_BITMAP             0x2004u
#define VM_EXIT_MSR_STORE_ADDR 0x2006u
#define VM_EXIT_MSR_LOAD_ADDR  0x2008u
#define VM_ENTRY_MSR_LOAD_ADDR 0x200Au
#define TSC_OFFSET             0x2010u
#define EPT_POINTER            0x201Au
#define XSS_EXIT_BITMAP        0x202Cu
/* B.2.2 64-bit read-only data field */
#define GUEST_PHYSICAL_ADDRESS 0x2400u
/* B.2.3 64-bit guest-state fields */
#define VMCS_LINK_POINTER           0x2800u
#define GUEST_IA32_DEBUGCTL         0x2802u
#define GUEST_IA32_PAT              0x2804u
#define GUEST_IA32_EFER             0x2806u
#define GUEST_IA32_PERF_GLOBAL_CTRL 0x2808u
#define GUEST_PDPTR0                0x280Au
#define GUEST_PDPTR1                0x280Cu
#define GUEST_PDPTR2                0x280Eu
#define GUEST_PDPTR3                0x2810u
/* B.2.4 64-bit host-state fields */
#define HOST_IA32_PAT  0x2C00u
#define HOST_IA32_EFER 0x2C02u

/* B.3.1 32-bit control fields */
#define PIN_BASED_VM_EXEC_CONTROL     0x4000u
#define CPU_BASED_VM_EXEC_CONTROL     0x4002u
#define EXCEPTION_BITMAP              0x4004u
#define PAGE_FAULT_ERROR_CODE_MASK    0x4006u
#define PAGE_FAULT_ERROR_CODE_MATCH   0x4008u
#define CR3_TARGET_COUNT              0x400Au
#define VM_EXIT_CONTROLS              0x400Cu
#define VM_EXIT_MSR_STORE_COUNT       0x400Eu
#define VM_EXIT_MSR_LOAD_COUNT        0x4010u
#define VM_ENTRY_CONTROLS             0x4012u
#define VM_ENTRY_MSR_LOAD_COUNT       0x4014u
#define VM_ENTRY_INTR_INFO_FIELD      0x4016u
#define VM_ENTRY_EXCEPTION_ERROR_CODE 0x4018u
#define VM_ENTRY_INSTRUCTION_LEN      0x401Au
#define TPR_THRESHOLD                 0x401Cu
#define SECONDARY_VM_EXEC_CONTROL     0x401Eu
/* B.3.2 32-bit read-only data fields */
#define VM_INSTRUCTION_ERROR     0x4400u
#define VM_EXIT_REASON           0x4402u
#define VM_EXIT_INTR_INFO        0x4404u
#define VM_EXIT_INTR_ERROR_CODE  0x4406u
#define IDT_VECTORING_INFO_FIELD 0x4408u
#define IDT_VECTORING_ERROR_CODE 0x440Au
#define VM_EXIT_INSTRUCTION_LEN  0x440Cu
#define VMX_INSTRUCTION_INFO     0x440Eu
/* B.3.3 32-bit guest-state fields */
#define GUEST_ES_LIMIT              0x4800u
#define GUEST_CS_LIMIT              0x4802u
#define GUEST_SS_LIMIT              0x4804u
#define GUEST_DS_LIMIT              0x4806u
#define GUEST_FS_LIMIT              0x4808u
#define GUEST_GS_LIMIT              0x480Au
#define GUEST_LDTR_LIMIT            0x480Cu
#define GUEST_TR_LIMIT              0x480Eu
#define GUEST_GDTR_LIMIT            0x4810u
#define GUEST_IDTR_LIMIT            0x4812u
#define GUEST_ES_AR_BYTES           0x4814u
#define GUEST_CS_AR_BYTES           0x4816u
#define GUEST_SS_AR_BYTES           0x4818u
#define GUEST_DS_AR_BYTES           0x481Au
#define GUEST_FS_AR_BYTES           0x481Cu
#define GUEST_GS_AR_BYTES           0x481Eu
#define GUEST_LDTR_AR_BYTES         0x4820u
#define GUEST_TR_AR_BYTES           0x4822u
#define GUEST_INTERRUPTIBILITY_INFO 0x4824u
#define GUEST_ACTIVITY_STATE        0x4826u
#define GUEST_SYSENTER_CS           0x482Au
#define VMX_PREEMPTION_TIMER_VALUE  0x482Eu
/* B.3.4 32-bit host-state field */
#define HOST_IA32_SYSENTER_CS 0x4C00u

/* B.4.1 natural-width control fields */
#define CR0_GUEST_HOST_MASK 0x6000u
#define CR4_GUEST_HOST_MASK 0x6002u
#define CR0_READ_SHADOW     0x6004u
#define CR4_READ_SHADOW     0x6006u
/* B.4.2 natural-width read-only data fields */
#define EXIT_QUALIFICATION   0x6400u
#define GUEST_LINEAR_ADDRESS 0x640Au
/* B.4.3 natural-width guest-state fields */
#define GUEST_CR0                    0x6800u
#define GUEST_CR3                    0x6802u
#define GUEST_CR4                    0x6804u
#define GUEST_ES_BASE                0x6806u
#define GUEST_CS_BASE                0x6808u
#define GUEST_SS_BASE                0x680Au
#define GUEST_DS_BASE                0x680Cu
#define GUEST_FS_BASE                0x680Eu
#define GUEST_GS_BASE                0x6810u
#define GUEST_LDTR_BASE              0x6812u
#define GUEST_TR_BASE                0x6814u
#define GUEST_GDTR_BASE              0x6816u
#define GUEST_IDTR_BASE              0x6818u
#define GUEST_DR7                    0x681Au
#define GUEST_RSP                    0x681Cu
#define GUEST_RIP                    0x681Eu
#define GUEST_RFLAGS                 0x6820u
#define GUEST_PENDING_DBG_EXCEPTIONS 0x6822u
#define GUEST_SYSENTER_ESP           0x6824u
#define GUEST_SYSENTER_EIP           0x6826u
/* B.4.4 natural-width host-state fields */
#define HOST_CR0               0x6C00u
#define HOST_CR3               0x6C02u
#define HOST_CR4               0x6C04u
#define HOST_FS_BASE           0x6C06u
#define HOST_GS_BASE           0x6C08u
#define HOST_TR_BASE           0x6C0Au
#define HOST_GDTR_BASE         0x6C0Cu
#define HOST_IDTR_BASE         0x6C0Eu
#define HOST_IA32_SYSENTER_ESP 0x6C10u
#define HOST_IA32_SYSENTER_EIP 0x6C12u
#define HOST_RSP               0x6C14u
#define HOST_RIP               0x6C16u

#endif
