/* SPDX-License-Identifier: MIT */
#include "boot/elfload.h"

#include <stdbool.h>

#include "lib/fmt.h"

/* ELF-64 Object File Format, version 1.5, and the x86-64 psABI. */
#define EI_NIDENT           16
#define ELFCLASS64          2
#define ELFDATA2LSB         1
#define ET_DYN              3
#define EM_X86_64           62
#define PT_LOAD             1
#define PT_DYNAMIC          2
#define PF_X                1
#define DT_NULL             0
#define DT_RELA             7
#define DT_RELASZ           8
#define DT_RELAENT          9
#define DT_REL              17
#define R_X86_64_RELATIVE   8
#define DYNAMIC_MAX_ENTRIES 256u

struct elf64_ehdr {
	uint8_t e_ident[EI_NIDENT];
	uint16_t e_type, e_machine;
	uint32_t e_version;
	uint64_t e_entry, e_phoff, e_shoff;
	uint32_t e_flags;
	uint16_t e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	uint32_t p_type, p_flags;
	uint64_t p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct elf64_dyn {
	int64_t d_tag;
	uint64_t d_val;
};

struct elf64_rela {
	uint64_t r_offset, r_info;
	int64_t r_addend;
};

/* [off, off + n) inside [0, limit) without overflow */
static bool within(uint64_t off, uint64_t n, uint64_t limit)
{
	return off <= limit && n <= limit - off;
}

static void copy_bytes(uint8_t *d, const uint8_t *s, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		d[i] = s[i];
}

static void zero_bytes(uint8_t *d, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		d[i] = 0;
}

static const struct elf64_phdr *phdr(const void *file, unsigned int i)
{
	const struct elf64_ehdr *eh = file;
	return (const struct elf64_phdr *)((const uint8_t *)file + eh->e_phoff +
					   (uint64_t)i * sizeof(struct elf64_phdr));
}

int elf_inspect(const void *file, size_t len, struct elf_image_info *info, char *err, size_t errcap)
{
	const struct elf64_ehdr *eh = file;
	if (len < sizeof(*eh) || eh->e_ident[0] != 0x7f || eh->e_ident[1] != 'E' ||
	    eh->e_ident[2] != 'L' || eh->e_ident[3] != 'F')
		return fmt_fail(err, errcap, "not an ELF file");
	if (eh->e_ident[4] != ELFCLASS64 || eh->e_ident[5] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64)
		return fmt_fail(err, errcap, "not an x86-64 ELF64 little-endian file");
	if (eh->e_type != ET_DYN)
		return fmt_fail(err, errcap, "not a position-independent image (ET_DYN)");
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
	    !within(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(struct elf64_phdr), len) ||
	    (eh->e_phoff & 7))
		return fmt_fail(err, errcap, "bad program header table");

	uint64_t end = 0;
	bool entry_ok = false, have_load = false;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *ph = phdr(file, i);
		if (ph->p_type != PT_LOAD)
			continue;
		have_load = true;
		if (ph->p_filesz > ph->p_memsz || !within(ph->p_offset, ph->p_filesz, len) ||
		    !within(ph->p_vaddr, ph->p_memsz, ELFLOAD_IMAGE_MAX))
			return fmt_fail(err, errcap,
					"segment %u lies outside the file or the %u MiB "
					"image limit",
					i, ELFLOAD_IMAGE_MAX >> 20);
		if (ph->p_vaddr + ph->p_memsz > end)
			end = ph->p_vaddr + ph->p_memsz;
		if ((ph->p_flags & PF_X) && eh->e_entry >= ph->p_vaddr &&
		    eh->e_entry < ph->p_vaddr + ph->p_memsz)
			entry_ok = true;
	}
	if (!have_load)
		return fmt_fail(err, errcap, "no loadable segment");
	if (!entry_ok)
		return fmt_fail(err, errcap, "entry point 0x%llx is not in an executable segment",
				(unsigned long long)eh->e_entry);
	info->image_size = (end + 0xFFF) & ~0xFFFull;
	info->entry = eh->e_entry;
	return 0;
}

static int apply_relocations(const void *file, uint8_t *dest, uint64_t image_size,
			     uint64_t load_base, char *err, size_t errcap)
{
	const struct elf64_ehdr *eh = file;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *ph = phdr(file, i);
		if (ph->p_type != PT_DYNAMIC)
			continue;
		if (!within(ph->p_vaddr, ph->p_memsz, image_size) || (ph->p_vaddr & 7))
			return fmt_fail(err, errcap, "bad dynamic segment");
		const struct elf64_dyn *dyn = (const struct elf64_dyn *)(dest + ph->p_vaddr);
		uint64_t n = ph->p_memsz / sizeof(*dyn);
		uint64_t rela = 0, relasz = 0, relaent = sizeof(struct elf64_rela);
		for (uint64_t k = 0; k < n && k < DYNAMIC_MAX_ENTRIES && dyn[k].d_tag != DT_NULL;
		     k++) {
			if (dyn[k].d_tag == DT_RELA)
				rela = dyn[k].d_val;
			else if (dyn[k].d_tag == DT_RELASZ)
				relasz = dyn[k].d_val;
			else if (dyn[k].d_tag == DT_RELAENT)
				relaent = dyn[k].d_val;
			else if (dyn[k].d_tag == DT_REL)
				return fmt_fail(err, errcap, "REL relocations are not supported");
		}
		if (relasz == 0)
			return 0;
		if (relaent != sizeof(struct elf64_rela) || !within(rela, relasz, image_size) ||
		    (rela & 7) || relasz % sizeof(struct elf64_rela))
			return fmt_fail(err, errcap, "bad relocation table");
		const struct elf64_rela *r = (const struct elf64_rela *)(dest + rela);
		for (uint64_t k = 0; k < relasz / sizeof(*r); k++) {
			if ((uint32_t)r[k].r_info != R_X86_64_RELATIVE)
				return fmt_fail(err, errcap,
						"relocation %llu has type %u; only "
						"R_X86_64_RELATIVE is supported",
						(unsigned long long)k,
						(unsigned int)(uint32_t)r[k].r_info);
			if (!within(r[k].r_offset, 8, image_size))
				return fmt_fail(err, errcap,
						"relocation %llu points outside the image",
						(unsigned long long)k);
			uint64_t value = load_base + (uint64_t)r[k].r_addend;
			copy_bytes(dest + r[k].r_offset, (const uint8_t *)&value, 8);
		}
		return 0;
	}
	return 0; /* no dynamic segment: nothing to relocate */
}

int elf_load(const void *file, size_t len, void *dest, uint64_t dest_size, uint64_t load_base,
	     char *err, size_t errcap)
{
	struct elf_image_info info;
	if (elf_inspect(file, len, &info, err, errcap) < 0)
		return -1;
	if (dest_size < info.image_size)
		return fmt_fail(err, errcap, "the image needs %llu bytes, only %llu given",
				(unsigned long long)info.image_size, (unsigned long long)dest_size);
	uint8_t *d = dest;
	zero_bytes(d, info.image_size);
	const struct elf64_ehdr *eh = file;
	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const struct elf64_phdr *ph = phdr(file, i);
		if (ph->p_type == PT_LOAD)
			copy_bytes(d + ph->p_vaddr, (const uint8_t *)file + ph->p_offset,
				   ph->p_filesz);
	}
	return apply_relocations(file, d, info.image_size, load_base, err, errcap);
}
