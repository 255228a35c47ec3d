/* SPDX-License-Identifier: MIT */
/*
 * Guest virtual -> guest physical, the way the processor walks IA-32e paging structures
 * (SDM Vol. 3A 4.5 "4-Level Paging and 5-Level Paging", Tables 4-14 to 4-20). The tables
 * live in guest memory and are read through vmi_mem, so a hostile guest can point them
 * anywhere: every entry read is bounds-checked by read_phys, and the walk is at most five
 * reads long by construction.
 */
#include "vmi/vmi.h"
#include "x86/paging.h"

/* Bits 51:12 of CR3 locate the PML4/PML5 table (SDM 4.5, Table 4-12); 11:0 are PCID (or
 * PWT/PCD) and 63 is the no-flush hint of MOV to CR3, neither part of the address. */
uint64_t vmi_cr3_table(uint64_t cr3)
{
	return cr3 & PTE_ADDR_MASK;
}

bool vmi_canonical(uint64_t va, bool la57)
{
	/* SDM 4.5: bits 63:48 (4-level) or 63:57 (5-level) equal the highest translated bit. */
	unsigned int top = la57 ? 56u : 47u;
	uint64_t high = va >> top;
	uint64_t ones = ~0ull >> top;

	return high == 0 || high == ones;
}

int vmi_read_phys(struct vmi_mem *m, uint64_t gpa, void *buf, size_t n)
{
	m->reads++;
	if (gpa + n < gpa)
		return -1;
	return m->read_phys(m->ctx, gpa, buf, n);
}

int vmi_translate(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa)
{
	uint64_t size;

	return vmi_translate_size(m, cr3, la57, va, pa, &size);
}

int vmi_translate_size(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa,
		       uint64_t *page_size)
{
	unsigned rights;

	return vmi_translate_rights(m, cr3, la57, va, pa, page_size, &rights);
}

bool vmi_user_half(uint64_t va, bool la57)
{
	return (va >> (la57 ? 56u : 47u)) == 0;
}

int vmi_translate_rights(struct vmi_mem *m, uint64_t cr3, bool la57, uint64_t va, uint64_t *pa,
			 uint64_t *page_size, unsigned *rights)
{
	uint64_t table = vmi_cr3_table(cr3);
	int level = la57 ? 5 : 4;

	*rights = VMI_RIGHT_USER | VMI_RIGHT_WRITE;

	if (!vmi_canonical(va, la57))
		return -1;
	/* Level 5..2 index bits: 56:48, 47:39, 38:30, 29:21; level 1: 20:12. */
	for (; level >= 1; level--) {
		unsigned int shift = 12u + 9u * (unsigned int)(level - 1);
		uint64_t index = (va >> shift) & 0x1ffu;
		uint64_t entry;

		if (vmi_read_phys(m, table + index * 8u, &entry, sizeof(entry)) != 0)
			return -1;
		if ((entry & PTE_P) == 0)
			return -1;
		if ((entry & PTE_US) == 0)
			*rights &= ~VMI_RIGHT_USER;
		if ((entry & PTE_RW) == 0)
			*rights &= ~VMI_RIGHT_WRITE;
		/* PS in a PDPTE maps 1 GiB, in a PDE 2 MiB (SDM Tables 4-16, 4-18); at the
		 * PML5/PML4 level it is reserved, so such an entry is a fault, not a page. */
		if (level >= 4 && (entry & PTE_PS) != 0)
			return -1;
		if ((level == 3 || level == 2) && (entry & PTE_PS) != 0) {
			uint64_t size = 1ull << shift;
			/* Bit 12 of a large-page entry is PAT, not address: the mask drops it. */
			uint64_t base = entry & PTE_ADDR_MASK & ~(size - 1u);

			*pa = base | (va & (size - 1u));
			*page_size = size;
			return 0;
		}
		table = entry & PTE_ADDR_MASK;
	}
	*pa = table | (va & 0xfffu);
	*page_size = 0x1000u;
	return 0;
}

int vmi_user_access(struct vmi_mem *m, int (*write_phys)(uint64_t gpa, const void *buf, size_t n),
		    uint64_t cr3, bool la57, uint64_t va, void *buf, size_t n, bool write)
{
	uint8_t *p = buf;
	unsigned need = VMI_RIGHT_USER | (write ? VMI_RIGHT_WRITE : 0u);
	if (va + n < va)
		return -1;
	while (n > 0) {
		uint64_t pa, size;
		unsigned rights;
		size_t chunk = PAGE_SIZE_4K - (va & (PAGE_SIZE_4K - 1));
		if (chunk > n)
			chunk = n;
		if (va >= VMI_USER_VA_END || !vmi_user_half(va, la57) ||
		    vmi_translate_rights(m, cr3, la57, va, &pa, &size, &rights) < 0 ||
		    (rights & need) != need)
			return -1;
		if (write ? write_phys(pa, p, chunk) < 0 : vmi_read_phys(m, pa, p, chunk) < 0)
			return -1;
		va += chunk;
		p += chunk;
		n -= chunk;
	}
	return 0;
}
