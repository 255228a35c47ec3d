/* Reading a QEMU `dump-guest-memory` ELF core (see dump.h). The file is untrusted input:
 * every header, offset and size is checked against the file before use. */
#include "dump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fmt.h"

/* QEMUCPUState of target/i386/arch_dump.c (QEMU 7.2): version 1; fields past cr[] are
 * optional and present when `size` covers them (kernel_gs_base since QEMU 5.0). */
#define QEMU_NOTE_NAME     "QEMU"
#define QEMU_STATE_MIN     432u /* up to and including cr[5] */
#define QEMU_OFF_SIZE      4u
#define QEMU_OFF_SEGMENTS  152u /* after version, size, 16 GPRs, rip, rflags */
#define QEMU_SEGMENT_SIZE  24u  /* selector, limit, flags, pad (u32 each), base (u64) */
#define QEMU_SEG_CS        0u   /* cs, ds, es, fs, gs, ss, ldt, tr, gdt, idt */
#define QEMU_SEG_GS        4u
#define QEMU_SEG_BASE      16u
#define QEMU_OFF_CR        392u
#define QEMU_OFF_KERNEL_GS 432u

/* x86_64_elf_prstatus of QEMU's target/i386/arch_dump.c (as Linux's elf_prstatus): the
 * user_regs_struct at 112: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
 * orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs. */
#define PRSTATUS_OFF_REGS    112u
#define PRSTATUS_REG_CS      17u
#define PRSTATUS_REG_GS_BASE 22u
#define PRSTATUS_SIZE_MIN    (PRSTATUS_OFF_REGS + 27u * 8u)

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Is [off, off + len) inside a file of `size` bytes? */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static void take_qemu_state(struct dump_cpu *c, const uint8_t *desc, uint32_t descsz)
{
	uint32_t size = get32(desc + QEMU_OFF_SIZE);
	const uint8_t *seg = desc + QEMU_OFF_SEGMENTS;

	if (size > descsz)
		size = descsz;
	c->cpu.user_mode = (get32(seg + QEMU_SEG_CS * QEMU_SEGMENT_SIZE) & 3u) == 3u;
	c->cpu.gs_base = get64(seg + QEMU_SEG_GS * QEMU_SEGMENT_SIZE + QEMU_SEG_BASE);
	c->cpu.cr3 = get64(desc + QEMU_OFF_CR + 3u * 8u);
	c->cpu.cr4 = get64(desc + QEMU_OFF_CR + 4u * 8u);
	c->has_qemu_state = true;
	if (size >= QEMU_OFF_KERNEL_GS + 8u) {
		c->cpu.kernel_gs_base = get64(desc + QEMU_OFF_KERNEL_GS);
		c->has_kernel_gs = true;
	}
}

static void take_prstatus(struct dump_cpu *c, const uint8_t *desc)
{
	const uint8_t *regs = desc + PRSTATUS_OFF_REGS;

	c->has_prstatus = true;
	if (c->has_qemu_state)
		return; /* the QEMU note has all of this and more */
	c->cpu.gs_base = get64(regs + PRSTATUS_REG_GS_BASE * 8u);
	c->cpu.user_mode = (get64(regs + PRSTATUS_REG_CS * 8u) & 3u) == 3u;
}

static int parse_notes(struct dump *d, const uint8_t *p, uint64_t len, char *err, size_t cap)
{
	size_t nprstatus = 0, nqemu = 0;
	uint64_t pos = 0;

	/* Each note: Elf64_Nhdr, name and desc, each padded to 4 bytes. */
	while (len - pos >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name_off, desc_off, next;
		const char *name;

		memcpy(&nh, p + pos, sizeof(nh));
		name_off = pos + sizeof(nh);
		desc_off = name_off + (((uint64_t)nh.n_namesz + 3u) & ~3ull);
		next = desc_off + (((uint64_t)nh.n_descsz + 3u) & ~3ull);
		if (desc_off > len || next > len || nh.n_descsz > len - desc_off)
			return fmt_fail(err, cap, "note at offset %llu runs past its segment",
					(unsigned long long)pos);
		name = (const char *)(p + name_off);
		if (nh.n_namesz == 5 && memcmp(name, "CORE", 5) == 0 && nh.n_type == NT_PRSTATUS &&
		    nh.n_descsz >= PRSTATUS_SIZE_MIN) {
			if (nprstatus < DUMP_CPUS_MAX)
				take_prstatus(&d->cpus[nprstatus], p + desc_off);
			nprstatus++;
		} else if (nh.n_namesz == 5 && memcmp(name, QEMU_NOTE_NAME, 5) == 0 &&
			   nh.n_descsz >= QEMU_STATE_MIN) {
			if (nqemu < DUMP_CPUS_MAX)
				take_qemu_state(&d->cpus[nqemu], p + desc_off, nh.n_descsz);
			nqemu++;
		}
		pos = next;
	}
	/* QEMU writes every vCPU's PRSTATUS first, then every vCPU's QEMU note, both in
	 * CPU order: the i-th of each belongs to vCPU i. */
	d->ncpus = nqemu > nprstatus ? nqemu : nprstatus;
	if (d->ncpus > DUMP_CPUS_MAX)
		d->ncpus = DUMP_CPUS_MAX;
	return 0;
}

int dump_parse(const uint8_t *data, size_t size, struct dump *d, char *err, size_t cap)
{
	Elf64_Ehdr eh;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	d->data = data;
	d->size = size;
	if (size < sizeof(eh))
		return fmt_fail(err, cap, "too short for an ELF header");
	memcpy(&eh, data, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return fmt_fail(err, cap, "not an ELF file (QEMU dump-guest-memory writes ELF)");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return fmt_fail(err, cap, "not a 64-bit little-endian x86-64 ELF file");
	if (eh.e_type != ET_CORE)
		return fmt_fail(err, cap, "not an ELF core file (e_type %u)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return fmt_fail(err, cap, "program headers lie outside the file");

	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_filesz > 0) {
			if (!in_file(ph.p_offset, ph.p_filesz, size))
				return fmt_fail(err, cap,
						"PT_LOAD %u (guest 0x%llx) lies outside the file: "
						"truncated "
						"dump?",
						i, (unsigned long long)ph.p_paddr);
			if (ph.p_paddr + ph.p_filesz < ph.p_paddr)
				return fmt_fail(err, cap, "PT_LOAD %u wraps around", i);
			if (d->nranges == DUMP_RANGES_MAX)
				return fmt_fail(err, cap, "more than %u PT_LOAD segments",
						DUMP_RANGES_MAX);
			d->ranges[d->nranges].gpa = ph.p_paddr;
			d->ranges[d->nranges].size = ph.p_filesz;
			d->ranges[d->nranges].offset = ph.p_offset;
			d->nranges++;
		} else if (ph.p_type == PT_NOTE) {
			if (!in_file(ph.p_offset, ph.p_filesz, size))
				return fmt_fail(err, cap, "PT_NOTE lies outside the file");
			if (parse_notes(d, data + ph.p_offset, ph.p_filesz, err, cap) != 0)
				return -1;
		}
	}
	if (d->nranges == 0)
		return fmt_fail(err, cap, "no guest memory (no PT_LOAD segment)");
	if (d->ncpus == 0)
		return fmt_fail(err, cap, "no CPU state (no NT_PRSTATUS or QEMU note)");
	return 0;
}

int dump_read_phys(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	struct dump *d = ctx;

	for (size_t k = 0; k < d->nranges; k++) {
		size_t i = (d->last + k) % d->nranges;
		const struct dump_range *r = &d->ranges[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size && n <= r->size - (gpa - r->gpa)) {
			memcpy(buf, d->data + r->offset + (gpa - r->gpa), n);
			d->last = i;
			return 0;
		}
	}
	return -1;
}

int dump_open(const char *path, struct dump *d, char *err, size_t cap)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (fd < 0)
		return fmt_fail(err, cap, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		return fmt_fail(err, cap, "%s is not a regular, non-empty file", path);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		int e = errno;

		close(fd);
		return fmt_fail(err, cap, "cannot map %s: %s", path, strerror(e));
	}
	if (dump_parse(map, (size_t)st.st_size, d, err, cap) != 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		munmap(map, (size_t)st.st_size);
		close(fd);
		return fmt_fail(err, cap, "%s: %s", path, why);
	}
	d->fd = fd;
	d->map = map;
	return 0;
}

void dump_close(struct dump *d)
{
	if (d->map != NULL)
		munmap(d->map, d->size);
	if (d->fd >= 0)
		close(d->fd);
	d->map = NULL;
	d->fd = -1;
}
