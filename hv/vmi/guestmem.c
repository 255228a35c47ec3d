/* SPDX-License-Identifier: MIT */
/*
 * Reading guest virtual memory: through the kernel's page tables (kernel objects) or a
 * process's (its arguments), one page at a time, with recent translations cached. The
 * cache is emptied by vmi_refresh (a new generation): a running guest changes its page
 * tables.
 */
#include "lib/string.h"
#include "vmi/vmi.h"

#define PAGE_4K 0x1000ull

static struct vmi_tlb_entry *tlb_slot(struct vmi *v, uint64_t table, uint64_t vpage)
{
	return &v->tlb[(vpage ^ (table >> 12) ^ (vpage >> 9)) % VMI_TLB_ENTRIES];
}

static struct vmi_large_tlb_entry *large_slot(struct vmi *v, uint64_t table, uint64_t va)
{
	return &v->large_tlb[((va >> 21) ^ (table >> 12)) % VMI_LARGE_TLB_ENTRIES];
}

/* The physical address of va's 4 KiB page through the tables at `table`. Two caches: 4 KiB
 * translations, and the large pages the walks ended in (Linux maps its direct map, where
 * nearly every kernel object lives, with 2 MiB or 1 GiB pages: one cached walk then serves
 * many objects). */
static int translate_page(struct vmi *v, uint64_t table, uint64_t va, uint64_t *ppage,
			  unsigned need)
{
	uint64_t vpage = va >> 12;
	struct vmi_tlb_entry *e = tlb_slot(v, table, vpage);
	struct vmi_large_tlb_entry *l = large_slot(v, table, va);
	uint64_t pa, size;
	unsigned rights;

	if (e->gen == v->cache_gen && e->cr3 == (table | 1u) && e->vpage == vpage) {
		*ppage = e->ppage;
		return (e->rights & need) == need ? 0 : -1;
	}
	if (l->gen == v->cache_gen && l->cr3 == (table | 1u) && va - l->vbase < l->size) {
		pa = l->pbase + (va - l->vbase);
		rights = l->rights;
	} else {
		if (vmi_translate_rights(v->mem, table, v->la57, va, &pa, &size, &rights) != 0)
			return -1;
		if (size > PAGE_4K) {
			/* keyed by the 2 MiB region looked up; a 1 GiB page fills it per region */
			l->cr3 = table | 1u;
			l->vbase = va & ~(0x200000ull - 1u);
			l->pbase = pa - (va - l->vbase);
			l->size = 0x200000ull;
			l->rights = rights;
			l->gen = v->cache_gen;
		}
	}
	e->cr3 = table | 1u;
	e->vpage = vpage;
	e->ppage = pa & ~(PAGE_4K - 1u);
	e->rights = rights;
	e->gen = v->cache_gen;
	*ppage = e->ppage;
	return (rights & need) == need ? 0 : -1;
}

int vmi_kernel_phys(struct vmi *v, uint64_t va, uint64_t *pa)
{
	uint64_t ppage;

	if (!vmi_is_kernel_ptr(v, va) || translate_page(v, v->kernel_cr3, va, &ppage, 0) != 0)
		return -1;
	*pa = ppage | (va & (PAGE_4K - 1u));
	return 0;
}

/* Reads n bytes at va page by page, each page granting `need` (VMI_RIGHT_*); returns how
 * many were read from the start. */
static size_t read_virt(struct vmi *v, uint64_t table, uint64_t va, void *buf, size_t n,
			unsigned need)
{
	uint8_t *out = buf;
	size_t done = 0;

	while (done < n) {
		uint64_t addr = va + done;
		size_t chunk = (size_t)(PAGE_4K - (addr & (PAGE_4K - 1u)));
		uint64_t ppage;

		if (addr < va)
			break; /* wrapped around the top of the address space */
		if (chunk > n - done)
			chunk = n - done;
		if (translate_page(v, table, addr, &ppage, need) != 0)
			break;
		if (vmi_read_phys(v->mem, ppage | (addr & (PAGE_4K - 1u)), out + done, chunk) != 0)
			break;
		done += chunk;
	}
	return done;
}

bool vmi_is_kernel_ptr(const struct vmi *v, uint64_t va)
{
	return (va >> 63) != 0 && vmi_canonical(va, v->la57);
}

int vmi_read_kernel(struct vmi *v, uint64_t va, void *buf, size_t n)
{
	if (!vmi_is_kernel_ptr(v, va) || va + n < va)
		return -1;
	return read_virt(v, v->kernel_cr3, va, buf, n, 0) == n ? 0 : -1;
}

size_t vmi_read_user(struct vmi *v, uint64_t cr3, uint64_t va, void *buf, size_t n)
{
	if (!vmi_user_half(va, v->la57))
		return 0; /* a kernel address given as a process's memory */
	/* up to the end of the user half at most */
	uint64_t end = 1ull << (v->la57 ? 56u : 47u);
	if (n > end - va)
		n = (size_t)(end - va);
	return read_virt(v, vmi_cr3_table(cr3), va, buf, n, VMI_RIGHT_USER);
}

int vmi_read_kptr(struct vmi *v, uint64_t va, uint64_t *ptr)
{
	uint64_t p;

	if (vmi_read_kernel(v, va, &p, sizeof(p)) != 0 || !vmi_is_kernel_ptr(v, p))
		return -1;
	*ptr = p;
	return 0;
}

int vmi_read_u32(struct vmi *v, uint64_t va, uint32_t *val)
{
	return vmi_read_kernel(v, va, val, sizeof(*val));
}

int vmi_read_u64(struct vmi *v, uint64_t va, uint64_t *val)
{
	return vmi_read_kernel(v, va, val, sizeof(*val));
}

int vmi_read_string(struct vmi *v, uint64_t va, char *buf, size_t cap)
{
	size_t len = 0;

	if (cap == 0)
		return -1;
	buf[0] = '\0';
	if (!vmi_is_kernel_ptr(v, va))
		return -1;
	/* Page by page up to the NUL: the string may end just before an unmapped page. */
	while (len < cap - 1) {
		uint64_t addr = va + len;
		size_t chunk = (size_t)(PAGE_4K - (addr & (PAGE_4K - 1u)));

		if (chunk > cap - 1 - len)
			chunk = cap - 1 - len;
		if (vmi_read_kernel(v, addr, buf + len, chunk) != 0) {
			buf[len] = '\0';
			return -1;
		}
		for (size_t i = 0; i < chunk; i++) {
			if (buf[len + i] == '\0')
				return (int)(len + i);
		}
		len += chunk;
	}
	buf[cap - 1] = '\0';
	return -1; /* no NUL within the bound */
}
