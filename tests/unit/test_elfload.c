/* boot/elfload.c: placing hv.elf. A small valid image is built here byte by byte; each
 * test damages one thing and expects a refusal that names it, never a crash (ASan). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/elfload.h"

/* Layout of the test image (file offsets = virtual addresses):
 *   0x000 ELF header, 0x040 3 program headers
 *   0x100 .text (PT_LOAD R+X 0x0-0x1000, entry 0x100)
 *   0x1000 data: PT_LOAD RW at 0x1000, filesz 0x100, memsz 0x2000 (bss)
 *   0x1000 dynamic (PT_DYNAMIC): DT_RELA 0x1040, DT_RELASZ 48, DT_RELAENT 24, DT_NULL
 *   0x1040 two RELATIVE relocations: at 0x1080 -> 0x100, at 0x1088 -> 0x1000
 */
#define FILE_SIZE 0x1100u

struct ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
struct dyn {
	int64_t tag;
	uint64_t val;
};
struct rela {
	uint64_t offset, info;
	int64_t addend;
};

static uint8_t *img;

static struct ehdr *eh(void)
{
	return (struct ehdr *)img;
}

static struct phdr *ph(int i)
{
	return (struct phdr *)(img + 0x40) + i;
}

static struct rela *rel(int i)
{
	return (struct rela *)(img + 0x1040) + i;
}

static int setup(void **state)
{
	(void)state;
	img = aligned_alloc(16, FILE_SIZE);
	memset(img, 0, FILE_SIZE);
	memcpy(eh()->ident,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	eh()->type = 3;
	eh()->machine = 62;
	eh()->version = 1;
	eh()->entry = 0x100;
	eh()->phoff = 0x40;
	eh()->ehsize = sizeof(struct ehdr);
	eh()->phentsize = sizeof(struct phdr);
	eh()->phnum = 3;
	*ph(0) = (struct phdr){1, 5, 0, 0, 0, 0x1000, 0x1000, 0x1000};
	*ph(1) = (struct phdr){1, 6, 0x1000, 0x1000, 0x1000, 0x100, 0x2000, 0x1000};
	*ph(2) = (struct phdr){2, 6, 0x1000, 0x1000, 0x1000, 0x40, 0x40, 8};
	struct dyn *d = (struct dyn *)(img + 0x1000);
	d[0] = (struct dyn){7, 0x1040};
	d[1] = (struct dyn){8, 2 * sizeof(struct rela)};
	d[2] = (struct dyn){9, sizeof(struct rela)};
	d[3] = (struct dyn){0, 0};
	*rel(0) = (struct rela){0x1080, 8, 0x100};
	*rel(1) = (struct rela){0x1088, 8, 0x1000};
	memset(img + 0x100, 0xC3, 16);  /* "code" */
	memset(img + 0x10F0, 0xAA, 16); /* data right before the bss */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(img);
	return 0;
}

static char err[ELFLOAD_ERR_MAX];

static void test_valid_image_is_measured(void **state)
{
	(void)state;
	struct elf_image_info info;
	assert_int_equal(elf_inspect(img, FILE_SIZE, &info, err, sizeof(err)), 0);
	assert_int_equal(info.image_size, 0x3000);
	assert_int_equal(info.entry, 0x100);
}

static void test_load_copies_zero_fills_and_relocates(void **state)
{
	(void)state;
	uint8_t *dest = malloc(0x3000);
	memset(dest, 0x55, 0x3000);
	uint64_t base = 0x3c177000;
	assert_int_equal(elf_load(img, FILE_SIZE, dest, 0x3000, base, err, sizeof(err)), 0);
	assert_int_equal(dest[0x100], 0xC3);
	assert_int_equal(dest[0x10F0], 0xAA);
	for (unsigned int i = 0x1100; i < 0x3000; i++)
		assert_int_equal(dest[i], 0); /* bss */
	uint64_t v;
	memcpy(&v, dest + 0x1080, 8);
	assert_int_equal(v, base + 0x100);
	memcpy(&v, dest + 0x1088, 8);
	assert_int_equal(v, base + 0x1000);
	free(dest);
}

static void expect_refused(const char *what)
{
	struct elf_image_info info;
	uint8_t *dest = malloc(0x3000);
	int inspect = elf_inspect(img, FILE_SIZE, &info, err, sizeof(err));
	int load = elf_load(img, FILE_SIZE, dest, 0x3000, 0x100000, err, sizeof(err));
	free(dest);
	assert_true(inspect < 0 || load < 0);
	assert_non_null(strstr(err, what));
}

static void test_not_elf_is_refused(void **state)
{
	(void)state;
	img[1] = 'X';
	expect_refused("not an ELF");
}

static void test_wrong_machine_or_class_is_refused(void **state)
{
	(void)state;
	eh()->machine = 3;
	expect_refused("x86-64");
}

static void test_fixed_address_executable_is_refused(void **state)
{
	(void)state;
	eh()->type = 2;
	expect_refused("ET_DYN");
}

static void test_segment_outside_file_is_refused(void **state)
{
	(void)state;
	ph(1)->filesz = 0x100000;
	ph(1)->memsz = 0x100000;
	expect_refused("outside");
}

static void test_segment_beyond_image_limit_is_refused(void **state)
{
	(void)state;
	ph(1)->vaddr = 0xFFFFFFFFFFFFF000ull; /* would wrap around */
	expect_refused("outside");
}

static void test_filesz_larger_than_memsz_is_refused(void **state)
{
	(void)state;
	ph(1)->memsz = 0x10;
	expect_refused("outside");
}

static void test_entry_outside_code_is_refused(void **state)
{
	(void)state;
	eh()->entry = 0x1010;
	expect_refused("entry point");
}

static void test_program_headers_outside_file_are_refused(void **state)
{
	(void)state;
	eh()->phoff = FILE_SIZE - 8;
	expect_refused("program header");
}

static void test_other_relocation_types_are_refused(void **state)
{
	(void)state;
	rel(1)->info = (5ull << 32) | 1; /* R_X86_64_64 against a symbol */
	expect_refused("only R_X86_64_RELATIVE");
}

static void test_relocation_outside_image_is_refused(void **state)
{
	(void)state;
	rel(0)->offset = 0x2FFC; /* 8 bytes would cross the end */
	expect_refused("outside the image");
}

static void test_relocation_table_outside_image_is_refused(void **state)
{
	(void)state;
	struct dyn *d = (struct dyn *)(img + 0x1000);
	d[1].val = 0x100000;
	expect_refused("bad relocation table");
}

static void test_destination_too_small_is_refused(void **state)
{
	(void)state;
	uint8_t dest[0x1000];
	assert_int_equal(elf_load(img, FILE_SIZE, dest, sizeof(dest), 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "needs"));
}

static void test_truncated_files_never_crash(void **state)
{
	(void)state;
	struct elf_image_info info;
	for (size_t n = 0; n < FILE_SIZE; n += 7) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, img, n);
		uint8_t *dest = malloc(0x3000);
		int rc = elf_inspect(copy, n, &info, err, sizeof(err));
		if (rc == 0)
			(void)elf_load(copy, n, dest, 0x3000, 0, err, sizeof(err));
		free(dest);
		free(copy);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_valid_image_is_measured),
		T(test_load_copies_zero_fills_and_relocates),
		T(test_not_elf_is_refused),
		T(test_wrong_machine_or_class_is_refused),
		T(test_fixed_address_executable_is_refused),
		T(test_segment_outside_file_is_refused),
		T(test_segment_beyond_image_limit_is_refused),
		T(test_filesz_larger_than_memsz_is_refused),
		T(test_entry_outside_code_is_refused),
		T(test_program_headers_outside_file_are_refused),
		T(test_other_relocation_types_are_refused),
		T(test_relocation_outside_image_is_refused),
		T(test_relocation_table_outside_image_is_refused),
		T(test_destination_too_small_is_refused),
		T(test_truncated_files_never_crash),
	};
	return cmocka_run_group_tests_name("elfload", tests, NULL, NULL);
}
