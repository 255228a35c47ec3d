/* SPDX-License-Identifier: MIT */
/* VMX control bits and VMX-related constants. The one place they are defined. */
#ifndef HV_X86_VMX_CONTROLS_H
#define HV_X86_VMX_CONTROLS_H

#define BIT32(n) (1u << (n))
#define BIT64(n) (1ull << (n))

/* SDM 24.6.1 "Pin-Based VM-Execution Controls", Table 24-5 */
#define PIN_BASED_EXT_INTR_MASK        BIT32(0)
#define PIN_BASED_NMI_EXITING          BIT32(3)
#define PIN_BASED_VIRTUAL_NMIS         BIT32(5)
#define PIN_BASED_VMX_PREEMPTION_TIMER BIT32(6)

/* SDM 24.6.2 "Processor-Based VM-Execution Controls", Table 24-6 (primary) */
#define CPU_BASED_INTR_WINDOW_EXITING BIT32(2)
#define CPU_BASED_USE_TSC_OFFSETTING  BIT32(3)
#define CPU_BASED_HLT_EXITING         BIT32(7)
#define CPU_BASED_INVLPG_EXITING      BIT32(9)
#define CPU_BASED_MWAIT_EXITING       BIT32(10)
#define CPU_BASED_RDPMC_EXITING       BIT32(11)
#define CPU_BASED_RDTSC_EXITING       BIT32(12)
#define CPU_BASED_CR3_LOAD_EXITING    BIT32(15)
#define CPU_BASED_CR3_STORE_EXITING   BIT32(16)
#define CPU_BASED_CR8_LOAD_EXITING    BIT32(19)
#define CPU_BASED_CR8_STORE_EXITING   BIT32(20)
#define CPU_BASED_TPR_SHADOW          BIT32(21)
#define CPU_BASED_NMI_WINDOW_EXITING  BIT32(22)
#define CPU_BASED_MOV_DR_EXITING      BIT32(23)
#define CPU_BASED_UNCOND_IO_EXITING   BIT32(24)
#define CPU_BASED_USE_IO_BITMAPS      BIT32(25)
#define CPU_BASED_MONITOR_TRAP_FLAG   BIT32(27)
#define CPU_BASED_USE_MSR_BITMAPS     BIT32(28)
#define CPU_BASED_MONITOR_EXITING     BIT32(29)
#define CPU_BASED_PAUSE_EXITING       BIT32(30)
#define CPU_BASED_ACTIVATE_SECONDARY  BIT32(31)

/* SDM 24.6.2, Table 24-7 (secondary) */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES BIT32(0)
#define SECONDARY_EXEC_ENABLE_EPT               BIT32(1)
#define SECONDARY_EXEC_DESC_TABLE_EXITING       BIT32(2)
#define SECONDARY_EXEC_ENABLE_RDTSCP            BIT32(3)
#define SECONDARY_EXEC_ENABLE_VPID              BIT32(5)
#define SECONDARY_EXEC_WBINVD_EXITING           BIT32(6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST       BIT32(7)
#define SECONDARY_EXEC_ENABLE_INVPCID           BIT32(12)
#define SECONDARY_EXEC_XSAVES                   BIT32(20)
#define SECONDARY_EXEC_PT_USE_GPA               BIT32(24)
#define SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE    BIT32(26)

/* SDM 24.7.1 "VM-Exit Controls", Table 24-10 */
#define VM_EXIT_SAVE_DEBUG_CONTROLS   BIT32(2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE  BIT32(9)
#define VM_EXIT_ACK_INTR_ON_EXIT      BIT32(15)
#define VM_EXIT_SAVE_IA32_PAT         BIT32(18)
#define VM_EXIT_LOAD_IA32_PAT         BIT32(19)
#define VM_EXIT_SAVE_IA32_EFER        BIT32(20)
#define VM_EXIT_LOAD_IA32_EFER        BIT32(21)
#define VM_EXIT_SAVE_PREEMPTION_TIMER BIT32(22)

/* SDM 24.8.1 "VM-Entry Controls", Table 24-12 */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS BIT32(2)
#define VM_ENTRY_IA32E_MODE          BIT32(9)
#define VM_ENTRY_LOAD_IA32_PAT       BIT32(14)
#define VM_ENTRY_LOAD_IA32_EFER      BIT32(15)

/* SDM 24.8.3 "VM-Entry Controls for Event Injection", Table 24-14; also the format of
 * the VM-exit interruption information (24.9.2, Table 24-15) and IDT-vectoring info. */
#define INTR_INFO_VECTOR_MASK       0xFFu
#define INTR_INFO_TYPE_SHIFT        8
#define INTR_INFO_TYPE_MASK         (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_EXT_INTR          (0u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_NMI_INTR          (2u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HARD_EXCEPTION    (3u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SOFT_INTR         (4u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_PRIV_SW_EXCEPTION (5u << INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_SOFT_EXCEPTION    (6u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_DELIVER_CODE      BIT32(11)
#define INTR_INFO_UNBLOCK_NMI       BIT32(12)
#define INTR_INFO_VALID             BIT32(31)

/* SDM 24.4.2 "Guest Non-Register State", Table 24-3 (interruptibility state) */
#define GUEST_INTR_STATE_STI    BIT32(0)
#define GUEST_INTR_STATE_MOV_SS BIT32(1)
#define GUEST_INTR_STATE_SMI    BIT32(2)
#define GUEST_INTR_STATE_NMI    BIT32(3)
/* SDM 24.4.2, activity state */
#define GUEST_ACTIVITY_ACTIVE    0u
#define GUEST_ACTIVITY_HLT       1u
#define GUEST_ACTIVITY_SHUTDOWN  2u
#define GUEST_ACTIVITY_WAIT_SIPI 3u

/* SDM 24.4.1: segment access rights as stored in the VMCS (Table 24-2) */
#define VMX_AR_UNUSABLE    BIT32(16)
#define VMX_AR_TSS_BUSY_64 0x8Bu /* present, type 11 (busy 64-bit TSS) */

/* SDM 27.2.1 basic exit reason: bit 31 set = VM-entry failure */
#define VMX_EXIT_REASONS_FAILED_VMENTRY BIT32(31)

/* SDM 30.4 "VM Instruction Error Numbers" (a few we report by name) */
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD 7u
#define VMXERR_ENTRY_INVALID_HOST_STATE    8u

/* SDM Appendix A.1 "Basic VMX Information" (IA32_VMX_BASIC) */
#define VMX_BASIC_REVISION_MASK 0x7FFFFFFFull
#define VMX_BASIC_TRUE_CTLS     BIT64(55)
/* A.6 "Miscellaneous Data" (IA32_VMX_MISC) */
#define VMX_MISC_PREEMPTION_TIMER_RATE_MASK 0x1Full
#define VMX_MISC_ACTIVITY_HLT               BIT64(6)
#define VMX_MISC_ACTIVITY_WAIT_SIPI         BIT64(8)
/* A.10 "VPID and EPT Capabilities" (IA32_VMX_EPT_VPID_CAP) */
#define VMX_EPT_EXECUTE_ONLY_BIT           BIT64(0)
#define VMX_EPT_PAGE_WALK_4_BIT            BIT64(6)
#define VMX_EPTP_UC_BIT                    BIT64(8)
#define VMX_EPTP_WB_BIT                    BIT64(14)
#define VMX_EPT_2MB_PAGE_BIT               BIT64(16)
#define VMX_EPT_1GB_PAGE_BIT               BIT64(17)
#define VMX_EPT_INVEPT_BIT                 BIT64(20)
#define VMX_EPT_EXTENT_CONTEXT_BIT         BIT64(25)
#define VMX_EPT_EXTENT_GLOBAL_BIT          BIT64(26)
#define VMX_VPID_INVVPID_BIT               BIT64(32)
#define VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT BIT64(41)
#define VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT BIT64(42)

/* SDM 30.3 INVEPT / INVVPID types */
#define VMX_EPT_EXTENT_CONTEXT         1ull
#define VMX_EPT_EXTENT_GLOBAL          2ull
#define VMX_VPID_EXTENT_SINGLE_CONTEXT 1ull
#define VMX_VPID_EXTENT_ALL_CONTEXT    2ull

#endif
