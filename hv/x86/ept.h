/* SPDX-License-Identifier: MIT */
/* EPT paging-structure entries and the EPT pointer, SDM 28.2.2 "EPT Translation
 * Mechanism" (Tables 28-1 to 28-6) and 24.6.11 "Extended-Page-Table Pointer (EPTP)". */
#ifndef HV_X86_EPT_H
#define HV_X86_EPT_H

#define EPT_READ       (1ull << 0)
#define EPT_WRITE      (1ull << 1)
#define EPT_EXEC       (1ull << 2) /* supervisor-mode execute without MBEC */
#define EPT_RWX        (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT   3 /* bits 5:3 of a leaf: memory type (28.2.6) */
#define EPT_MT_MASK    (7ull << EPT_MT_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE_PAGE (1ull << 7) /* PDPTE maps 1 GiB, PDE maps 2 MiB */
#define EPT_ADDR_MASK  0x000FFFFFFFFFF000ull

/* Memory types, SDM Vol. 3A 11.3 Table 11-2 / 11.11.1 (same encodings for EPT, MTRR, PAT) */
#define MEMTYPE_UC 0u
#define MEMTYPE_WC 1u
#define MEMTYPE_WT 4u
#define MEMTYPE_WP 5u
#define MEMTYPE_WB 6u

/* EPTP, 24.6.11: bits 2:0 memory type for the paging structures, bits 5:3 = walk length - 1 */
#define EPTP_MT_WB  6ull
#define EPTP_WALK_4 (3ull << 3)

/* Exit qualification of an EPT violation, SDM 27.2.1 Table 27-7 */
#define EPT_VIOL_READ           (1ull << 0)
#define EPT_VIOL_WRITE          (1ull << 1)
#define EPT_VIOL_FETCH          (1ull << 2)
#define EPT_VIOL_READABLE       (1ull << 3)
#define EPT_VIOL_WRITABLE       (1ull << 4)
#define EPT_VIOL_EXECUTABLE     (1ull << 5)
#define EPT_VIOL_GLA_VALID      (1ull << 7)
#define EPT_VIOL_NMI_UNBLOCKING (1ull << 12)

#endif
