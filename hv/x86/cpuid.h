/* SPDX-License-Identifier: MIT */
/* CPUID leaves and feature bits we use, SDM Vol. 2A "CPUID", Tables 3-8 to 3-11. */
#ifndef HV_X86_CPUID_H
#define HV_X86_CPUID_H

#define CPUID_1_ECX_DS_CPL         (1u << 4)
#define CPUID_1_ECX_MONITOR        (1u << 3)
#define CPUID_1_ECX_PDCM           (1u << 15) /* IA32_PERF_CAPABILITIES (PEBS format) */
#define CPUID_1_ECX_TSC_DEADLINE   (1u << 24)
#define CPUID_1_EDX_DS             (1u << 21) /* Debug Store: BTS and PEBS */
#define CPUID_1_ECX_VMX            (1u << 5)
#define CPUID_1_ECX_SMX            (1u << 6)
#define CPUID_1_ECX_XSAVE          (1u << 26)
#define CPUID_1_ECX_OSXSAVE        (1u << 27)
#define CPUID_1_ECX_HYPERVISOR     (1u << 31) /* reserved for hypervisors; always 0 on metal */
#define CPUID_7_EBX_INVPCID        (1u << 10)
#define CPUID_7_EBX_INTEL_PT       (1u << 25)
#define CPUID_7_ECX_OSPKE          (1u << 4)
#define CPUID_7_ECX_WAITPKG        (1u << 5)
#define CPUID_7_ECX_RDPID          (1u << 22)
#define CPUID_D1_EAX_XSAVES        (1u << 3)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)
#define CPUID_80000001_EDX_RDTSCP  (1u << 27)

/* Hypervisor leaves: 0x40000000-0x4FFFFFFF are "reserved for hypervisor use" by
 * convention (no physical CPU returns meaningful data there). */
#define CPUID_HV_VENDOR_LEAF   0x40000000u
#define CPUID_HV_FEATURES_LEAF 0x40000001u
#define CPUID_HV_LAST_LEAF     0x4FFFFFFFu

#endif
