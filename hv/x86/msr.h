/* SPDX-License-Identifier: MIT */
/* Model-specific registers we use, named as SDM Vol. 4 ("Model-Specific Registers")
 * names them. The one place they are defined. */
#ifndef HV_X86_MSR_H
#define HV_X86_MSR_H

#define MSR_IA32_TSC                              0x00000010u
#define MSR_IA32_FEATURE_CONTROL                  0x0000003Au
#define MSR_IA32_TSC_ADJUST                       0x0000003Bu
#define MSR_IA32_APIC_BASE                        0x0000001Bu
#define APIC_BASE_BSP                             (1ull << 8)  /* SDM Vol. 3A 11.4.4 */
#define APIC_BASE_EXTD                            (1ull << 10) /* x2APIC mode (11.12.1) */
#define APIC_BASE_EN                              (1ull << 11)
#define APIC_BASE_ADDRESS_MASK                    0x000FFFFFFFFFF000ull
#define MSR_X2APIC_ICR                            0x00000830u /* Vol. 3A 10.12.9 */
#define MSR_IA32_MISC_ENABLE                      0x000001A0u
#define MISC_ENABLE_MONITOR_FSM                   (1ull << 18) /* Vol. 4 Table 2-2 */
#define MISC_ENABLE_LIMIT_CPUID_MAXVAL            (1ull << 22)
#define FEATURE_CONTROL_LOCKED                    (1ull << 0)
#define FEATURE_CONTROL_VMXON_ENABLED_INSIDE_SMX  (1ull << 1)
#define FEATURE_CONTROL_VMXON_ENABLED_OUTSIDE_SMX (1ull << 2)

#define MSR_IA32_MTRRCAP           0x000000FEu
#define MSR_IA32_TSC_DEADLINE      0x000006E0u
#define MSR_IA32_DS_AREA           0x00000600u
#define MSR_IA32_PEBS_ENABLE       0x000003F1u
#define MSR_IA32_SYSENTER_CS       0x00000174u
#define MSR_IA32_SYSENTER_ESP      0x00000175u
#define MSR_IA32_SYSENTER_EIP      0x00000176u
#define MSR_IA32_DEBUGCTL          0x000001D9u
#define MSR_IA32_MTRR_PHYSBASE0    0x00000200u /* PHYSBASEn = 0x200 + 2n */
#define MSR_IA32_MTRR_PHYSMASK0    0x00000201u /* PHYSMASKn = 0x201 + 2n */
#define MSR_IA32_MTRR_FIX64K_00000 0x00000250u
#define MSR_IA32_MTRR_FIX16K_80000 0x00000258u
#define MSR_IA32_MTRR_FIX16K_A0000 0x00000259u
#define MSR_IA32_MTRR_FIX4K_C0000  0x00000268u /* ..0x26F: FIX4K_C0000..FIX4K_F8000 */
#define MSR_IA32_RTIT_FIRST        0x00000560u /* Intel PT: output base/mask ... */
#define MSR_IA32_RTIT_LAST         0x0000058Fu /* ... RTIT_CTL (0x570), address ranges */
#define MSR_IA32_PAT               0x00000277u
#define MSR_IA32_MTRR_DEF_TYPE     0x000002FFu

#define MSR_IA32_VMX_BASIC               0x00000480u
#define MSR_IA32_VMX_PINBASED_CTLS       0x00000481u
#define MSR_IA32_VMX_PROCBASED_CTLS      0x00000482u
#define MSR_IA32_VMX_EXIT_CTLS           0x00000483u
#define MSR_IA32_VMX_ENTRY_CTLS          0x00000484u
#define MSR_IA32_VMX_MISC                0x00000485u
#define MSR_IA32_VMX_CR0_FIXED0          0x00000486u
#define MSR_IA32_VMX_CR0_FIXED1          0x00000487u
#define MSR_IA32_VMX_CR4_FIXED0          0x00000488u
#define MSR_IA32_VMX_CR4_FIXED1          0x00000489u
#define MSR_IA32_VMX_PROCBASED_CTLS2     0x0000048Bu
#define MSR_IA32_VMX_EPT_VPID_CAP        0x0000048Cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x0000048Du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048Eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x0000048Fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x00000490u

#define MSR_EFER           0xC0000080u
#define EFER_SCE           (1ull << 0)
#define EFER_LME           (1ull << 8)
#define EFER_LMA           (1ull << 10)
#define EFER_NX            (1ull << 11)
#define MSR_STAR           0xC0000081u
#define MSR_LSTAR          0xC0000082u
#define MSR_CSTAR          0xC0000083u
#define MSR_SYSCALL_MASK   0xC0000084u
#define MSR_FS_BASE        0xC0000100u
#define MSR_GS_BASE        0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u

/* SDM 24.6.9 "MSR-Bitmap Address": the bitmaps cover these two MSR ranges only;
 * any other MSR access exits unconditionally. */
#define MSR_BITMAP_LOW_END   0x00002000u
#define MSR_BITMAP_HIGH_BASE 0xC0000000u
#define MSR_BITMAP_HIGH_END  0xC0002000u

#endif
