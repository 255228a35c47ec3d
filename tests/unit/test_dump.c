/* tools/hvctl/dump.c: QEMU dump-guest-memory ELF cores, built here in memory: guest RAM
 * from PT_LOAD (p_paddr), CPU state from the QEMU and NT_PRSTATUS notes, and damaged files
 * refused with a message that says what is wrong. */
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tools/hvctl/dump.h"

#define IMG_MAX 65536

struct img {
	uint8_t b[IMG_MAX];
	size_t len;
	Elf64_Ehdr *eh;
};

static struct img img;
static struct dump d;
static char err[256];

static size_t put(const void *p, size_t n)
{
	size_t at = img.len;

	assert_true(img.len + n <= IMG_MAX);
	if (n > 0)
		memcpy(img.b + img.len, p, n);
	img.len += n;
	return at;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* One note: header, name padded to 4, desc padded to 4. */
static size_t note(uint8_t *out, const char *name, uint32_t type, const uint8_t *desc,
		   uint32_t descsz)
{
	Elf64_Nhdr nh = {
		.n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = descsz, .n_type = type};
	size_t n = 0, namesz = (nh.n_namesz + 3u) & ~3u;

	memcpy(out, &nh, sizeof(nh));
	n += sizeof(nh);
	memset(out + n, 0, namesz);
	memcpy(out + n, name, nh.n_namesz);
	n += namesz;
	memset(out + n, 0, (descsz + 3u) & ~3u);
	memcpy(out + n, desc, descsz);
	return n + ((descsz + 3u) & ~3u);
}

/* QEMUCPUState: version 1, size, ..., cs at 152, gs at 248, cr[] at 392, kgs at 432. */
static uint32_t qemu_state(uint8_t *s, uint32_t size, uint32_t cs, uint64_t gs, uint64_t cr3,
			   uint64_t cr4, uint64_t kgs)
{
	memset(s, 0, 440);
	put32(s, 1);
	put32(s + 4, size);
	put32(s + 152, cs);
	put64(s + 248 + 16, gs);
	put64(s + 392 + 24, cr3);
	put64(s + 392 + 32, cr4);
	if (size >= 440)
		put64(s + 432, kgs);
	return size;
}

static uint32_t prstatus(uint8_t *s, uint64_t cs, uint64_t gs)
{
	memset(s, 0, 336);
	put64(s + 112 + 17 * 8, cs);
	put64(s + 112 + 22 * 8, gs);
	return 336;
}

/* A dump with RAM [0, 0x2000) and [0x100000, 0x101000), and the given notes. */
static void build(const uint8_t *notes, size_t notes_len)
{
	Elf64_Ehdr eh = {0};
	Elf64_Phdr ph[3] = {{0}};
	size_t phoff, off;

	memset(&img, 0, sizeof(img));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 3;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	put(&eh, sizeof(eh));
	phoff = put(ph, sizeof(ph));

	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = put(notes, notes_len);
	ph[0].p_filesz = ph[0].p_memsz = notes_len;
	ph[1].p_type = PT_LOAD;
	ph[1].p_paddr = 0;
	ph[1].p_filesz = ph[1].p_memsz = 0x2000;
	ph[1].p_offset = off = img.len;
	img.len += 0x2000;
	for (size_t i = 0; i < 0x2000; i++)
		img.b[off + i] = (uint8_t)i;
	ph[2].p_type = PT_LOAD;
	ph[2].p_paddr = 0x100000;
	ph[2].p_filesz = ph[2].p_memsz = 0x1000;
	ph[2].p_offset = off = img.len;
	img.len += 0x1000;
	memset(img.b + off, 0xab, 0x1000);
	memcpy(img.b + phoff, ph, sizeof(ph));
	img.eh = (Elf64_Ehdr *)(void *)img.b;
}

static void build_standard(void)
{
	uint8_t notes[2048], desc[440];
	size_t n = 0;

	n += note(notes + n, "CORE", NT_PRSTATUS, desc, prstatus(desc, 0x10, 0x1111));
	n += note(notes + n, "QEMU", 0, desc,
		  qemu_state(desc, 440, 0x10, 0xffff888000100000ull, 0x1234000, 0x3020,
			     0x7f0000001000ull));
	build(notes, n);
}

static Elf64_Phdr *phdr(unsigned int i)
{
	return (Elf64_Phdr *)(void *)(img.b + img.eh->e_phoff + i * sizeof(Elf64_Phdr));
}

static void test_reads_guest_ram_by_physical_address(void **state)
{
	uint8_t buf[16];

	(void)state;
	build_standard();
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.nranges, 2);
	assert_int_equal(dump_read_phys(&d, 0x1ff0, buf, 16), 0);
	assert_int_equal(buf[0], 0xf0);
	assert_int_equal(dump_read_phys(&d, 0x100ff0, buf, 16), 0);
	assert_int_equal(buf[15], 0xab);
	/* a hole, a read running past a range, beyond everything */
	assert_int_equal(dump_read_phys(&d, 0x3000, buf, 1), -1);
	assert_int_equal(dump_read_phys(&d, 0x1ff8, buf, 16), -1);
	assert_int_equal(dump_read_phys(&d, 0xffffffffffffff00ull, buf, 16), -1);
}

static void test_cpu_state_from_the_qemu_note(void **state)
{
	(void)state;
	build_standard();
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.ncpus, 1);
	assert_true(d.cpus[0].has_qemu_state);
	assert_true(d.cpus[0].has_kernel_gs);
	assert_true(d.cpus[0].has_prstatus);
	assert_int_equal(d.cpus[0].cpu.cr3, 0x1234000);
	assert_int_equal(d.cpus[0].cpu.cr4, 0x3020);
	assert_int_equal(d.cpus[0].cpu.gs_base, 0xffff888000100000ull);
	assert_int_equal(d.cpus[0].cpu.kernel_gs_base, 0x7f0000001000ull);
	assert_false(d.cpus[0].cpu.user_mode);
}

static void test_old_qemu_note_without_kernel_gs_base(void **state)
{
	uint8_t notes[2048], desc[440];
	size_t n;

	(void)state;
	n = note(notes, "QEMU", 0, desc, qemu_state(desc, 432, 0x33, 0, 0x5000, 0, 0xdead));
	build(notes, n);
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), 0);
	assert_false(d.cpus[0].has_kernel_gs);
	assert_int_equal(d.cpus[0].cpu.kernel_gs_base, 0);
	assert_true(d.cpus[0].cpu.user_mode); /* CS RPL 3 */
}

static void test_prstatus_only_gives_gs_but_no_cr3(void **state)
{
	uint8_t notes[2048], desc[440];
	size_t n;

	(void)state;
	n = note(notes, "CORE", NT_PRSTATUS, desc, prstatus(desc, 0x33, 0xffff888000002000ull));
	build(notes, n);
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), 0);
	assert_false(d.cpus[0].has_qemu_state);
	assert_int_equal(d.cpus[0].cpu.gs_base, 0xffff888000002000ull);
	assert_true(d.cpus[0].cpu.user_mode);
	assert_int_equal(d.cpus[0].cpu.cr3, 0);
}

static void test_two_vcpus_pair_notes_in_order(void **state)
{
	uint8_t notes[4096], desc[440];
	size_t n = 0;

	(void)state;
	n += note(notes + n, "CORE", NT_PRSTATUS, desc, prstatus(desc, 0x10, 1));
	n += note(notes + n, "CORE", NT_PRSTATUS, desc, prstatus(desc, 0x10, 2));
	n += note(notes + n, "QEMU", 0, desc, qemu_state(desc, 440, 0x10, 0, 0xa000, 0, 0));
	n += note(notes + n, "QEMU", 0, desc, qemu_state(desc, 440, 0x33, 0, 0xb000, 0, 0));
	build(notes, n);
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), 0);
	assert_int_equal(d.ncpus, 2);
	assert_int_equal(d.cpus[0].cpu.cr3, 0xa000);
	assert_int_equal(d.cpus[1].cpu.cr3, 0xb000);
	assert_true(d.cpus[1].cpu.user_mode);
}

static void expect_error(const char *what)
{
	assert_int_equal(dump_parse(img.b, img.len, &d, err, sizeof(err)), -1);
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, what);
}

static void test_refuses_what_is_not_an_x86_64_core(void **state)
{
	(void)state;
	build_standard();
	img.b[0] = 'X';
	expect_error("not an ELF file");
	build_standard();
	img.eh->e_ident[EI_CLASS] = ELFCLASS32;
	expect_error("64-bit");
	build_standard();
	img.eh->e_type = ET_EXEC;
	expect_error("not an ELF core");
	build_standard();
	img.len = 10;
	expect_error("too short");
}

static void test_refuses_headers_and_segments_outside_the_file(void **state)
{
	(void)state;
	build_standard();
	img.eh->e_phoff = img.len - 8;
	expect_error("program headers lie outside");
	build_standard();
	img.eh->e_phnum = 0xffff;
	expect_error("program headers lie outside");
	build_standard();
	img.len -= 0x800; /* the last PT_LOAD is cut short: a truncated dump */
	expect_error("truncated dump");
	build_standard();
	phdr(1)->p_offset = 0xffffffffffffff00ull;
	expect_error("outside the file");
	build_standard();
	phdr(0)->p_filesz = img.len;
	expect_error("PT_NOTE lies outside");
}

static void test_refuses_notes_running_past_their_segment(void **state)
{
	Elf64_Nhdr *nh;

	(void)state;
	build_standard();
	nh = (Elf64_Nhdr *)(void *)(img.b + phdr(0)->p_offset);
	nh->n_descsz = 0xfffffff0u;
	expect_error("runs past its segment");
	build_standard();
	nh = (Elf64_Nhdr *)(void *)(img.b + phdr(0)->p_offset);
	nh->n_namesz = 0xfffffff0u;
	expect_error("runs past its segment");
}

static void test_refuses_a_dump_without_ram_or_cpu(void **state)
{
	(void)state;
	build_standard();
	phdr(1)->p_type = PT_NULL;
	phdr(2)->p_type = PT_NULL;
	expect_error("no guest memory");
	build(NULL, 0);
	expect_error("no CPU state");
}

static void test_short_qemu_note_is_ignored(void **state)
{
	uint8_t notes[2048], desc[440];
	size_t n;

	(void)state;
	memset(desc, 0, sizeof(desc));
	n = note(notes, "QEMU", 0, desc, 100);
	build(notes, n);
	expect_error("no CPU state");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_guest_ram_by_physical_address),
		cmocka_unit_test(test_cpu_state_from_the_qemu_note),
		cmocka_unit_test(test_old_qemu_note_without_kernel_gs_base),
		cmocka_unit_test(test_prstatus_only_gives_gs_but_no_cr3),
		cmocka_unit_test(test_two_vcpus_pair_notes_in_order),
		cmocka_unit_test(test_refuses_what_is_not_an_x86_64_core),
		cmocka_unit_test(test_refuses_headers_and_segments_outside_the_file),
		cmocka_unit_test(test_refuses_notes_running_past_their_segment),
		cmocka_unit_test(test_refuses_a_dump_without_ram_or_cpu),
		cmocka_unit_test(test_short_qemu_note_is_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
