/* SPDX-License-Identifier: MIT */
/* Control-register and RFLAGS bits, SDM Vol. 3A 2.5 "Control Registers" and 2.3 "System
 * Flags and Fields in the EFLAGS Register". */
#ifndef HV_X86_CR_H
#define HV_X86_CR_H

#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)

#define X86_CR4_VME        (1ull << 0)
#define X86_CR4_PAE        (1ull << 5)
#define X86_CR4_PGE        (1ull << 7)
#define X86_CR4_OSFXSR     (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP       (1ull << 11)
#define X86_CR4_LA57       (1ull << 12)
#define X86_CR4_VMXE       (1ull << 13)
#define X86_CR4_SMXE       (1ull << 14)
#define X86_CR4_PCIDE      (1ull << 17)
#define X86_CR4_OSXSAVE    (1ull << 18)
#define X86_CR4_SMEP       (1ull << 20)
#define X86_CR4_SMAP       (1ull << 21)
#define X86_CR4_PKE        (1ull << 22)

#define X86_EFLAGS_CF    (1ull << 0)
#define X86_EFLAGS_FIXED (1ull << 1) /* always 1 */
#define X86_EFLAGS_ZF    (1ull << 6)
#define X86_EFLAGS_TF    (1ull << 8)
#define X86_EFLAGS_IF    (1ull << 9)
#define X86_EFLAGS_DF    (1ull << 10)
#define X86_EFLAGS_RF    (1ull << 16)
#define X86_EFLAGS_VM    (1ull << 17)

/* XCR0 bits, SDM Vol. 1 13.3 "Enabling the XSAVE Feature Set" */
#define XFEATURE_MASK_FP  (1ull << 0)
#define XFEATURE_MASK_SSE (1ull << 1)
#define XFEATURE_MASK_YMM (1ull << 2)

/* Exception vectors, SDM Vol. 3A 6.3.1 Table 6-1 */
#define X86_VECTOR_DE  0
#define X86_VECTOR_DB  1
#define X86_VECTOR_NMI 2
#define X86_VECTOR_BP  3
#define X86_VECTOR_UD  6
#define X86_VECTOR_DF  8
#define X86_VECTOR_GP  13
#define X86_VECTOR_PF  14
#define X86_VECTOR_MC  18

#endif
