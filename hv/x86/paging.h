/* SPDX-License-Identifier: MIT */
/* IA-32e paging-structure entries, SDM Vol. 3A 4.5 "4-Level Paging and 5-Level Paging",
 * Tables 4-15 to 4-20. Used for the monitor's own (host) page tables. */
#ifndef HV_X86_PAGING_H
#define HV_X86_PAGING_H

#define PAGE_SIZE_4K  0x1000ull
#define PAGE_SIZE_2M  0x200000ull
#define PAGE_SIZE_1G  0x40000000ull
#define PAGE_SHIFT_4K 12

#define PTE_P         (1ull << 0)
#define PTE_RW        (1ull << 1)
#define PTE_US        (1ull << 2)
#define PTE_PWT       (1ull << 3)
#define PTE_PCD       (1ull << 4)
#define PTE_A         (1ull << 5)
#define PTE_D         (1ull << 6)
#define PTE_PS        (1ull << 7) /* in a PDPTE or PDE: maps a 1 GiB or 2 MiB page */
#define PTE_G         (1ull << 8)
#define PTE_NX        (1ull << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

/* SDM Vol. 1 3.3.7.1 "Canonical Addressing": bits 63 down to the linear-address width (48,
 * or 57 with CR4.LA57) all equal. */
static inline int x86_is_canonical(unsigned long long va, int la57)
{
	unsigned int bits = la57 ? 57u : 48u;
	long long s = (long long)(va << (64u - bits)) >> (64u - bits);
	return (unsigned long long)s == va;
}

#endif
