/*
 * hv/platform/acpi_sleep.c: the sleep registers and \_S5's SLP_TYP from an RSDP, through
 * the XSDT (or RSDT) to the FADT and the DSDT, in fake physical memory laid out as the
 * lab's labacpi.efi lays out its tables; and the verdict on a write: only S5 (or no
 * SLP_EN) passes, so S3 — which firmware resumes without the monitor — is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/acpi_sleep.h"

#define MEM_SIZE 0x10000u
#define RSDP     0x1000u
#define XSDT     0x2000u
#define FADT     0x3000u
#define DSDT     0x4000u

static uint8_t mem[MEM_SIZE];

static bool read_mem(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	(void)ctx;
	if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
		return false;
	memcpy(buf, mem + pa, len);
	return true;
}

static void put32(uint32_t at, uint32_t v)
{
	memcpy(mem + at, &v, 4);
}

static void put64(uint32_t at, uint64_t v)
{
	memcpy(mem + at, &v, 8);
}

static void header(uint32_t at, const char *sig, uint32_t len)
{
	memcpy(mem + at, sig, 4);
	put32(at + 4, len);
}

static const uint8_t lab_aml[] = {0x08, '_',  'S',  '3',  '_',  0x12, 0x06, 0x04,
				  0x01, 0x01, 0x00, 0x00, 0x08, '_',  'S',  '5',
				  '_',  0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};

/* RSDP rev 2 -> XSDT with a decoy table and the FADT (244 bytes, PM1a at 0xB004) -> DSDT. */
static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	memcpy(mem + RSDP, "RSD PTR ", 8);
	mem[RSDP + 15] = 2;
	put32(RSDP + 16, 0);
	put64(RSDP + 24, XSDT);
	header(XSDT, "XSDT", 36 + 16);
	put64(XSDT + 36, 0x5000); /* an APIC table first */
	header(0x5000, "APIC", 44);
	put64(XSDT + 44, FADT);
	header(FADT, "FACP", 244);
	put32(FADT + 40, DSDT);
	put32(FADT + 64, 0xB004);
	header(DSDT, "DSDT", 36 + sizeof(lab_aml));
	memcpy(mem + DSDT + 36, lab_aml, sizeof(lab_aml));
	return 0;
}

static void the_labs_tables_give_pm1a_and_s5(void **state)
{
	(void)state;
	struct acpi_sleep s;
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	assert_int_equal(s.pm1_cnt[0], 0xB004);
	assert_int_equal(s.pm1_cnt[1], 0);
	assert_int_equal(s.sleep_ctl, 0);
	assert_true(s.s5_known);
	assert_int_equal(s.s5_slp_typ[0], 0);
}

static void s3_is_refused_and_s5_and_plain_writes_pass(void **state)
{
	(void)state;
	struct acpi_sleep s;
	uint8_t typ;
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	/* Linux's S3: SLP_TYP 1 with SLP_EN (the control: without the check it would go). */
	assert_false(acpi_sleep_write_allowed(
		&s, ACPI_SLEEP_PM1A, (1u << PM1_CNT_SLP_TYP_SHIFT) | PM1_CNT_SLP_EN, &typ));
	assert_int_equal(typ, 1);
	/* The same value without SLP_EN (Linux writes SLP_TYP first), SCI_EN: pass. */
	assert_true(
		acpi_sleep_write_allowed(&s, ACPI_SLEEP_PM1A, 1u << PM1_CNT_SLP_TYP_SHIFT, &typ));
	assert_true(acpi_sleep_write_allowed(&s, ACPI_SLEEP_PM1A, 1u, &typ));
	/* S5 (power off): pass. */
	assert_true(acpi_sleep_write_allowed(&s, ACPI_SLEEP_PM1A, PM1_CNT_SLP_EN, &typ));
	/* Unknown \_S5: every SLP_EN write is refused. */
	s.s5_known = false;
	assert_false(acpi_sleep_write_allowed(&s, ACPI_SLEEP_PM1A, PM1_CNT_SLP_EN, &typ));
}

static void ports_map_to_their_register_and_byte(void **state)
{
	(void)state;
	struct acpi_sleep s;
	unsigned int byte = 9;
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	assert_int_equal(acpi_sleep_reg_of(&s, 0xB004, &byte), ACPI_SLEEP_PM1A);
	assert_int_equal(byte, 0);
	assert_int_equal(acpi_sleep_reg_of(&s, 0xB005, &byte), ACPI_SLEEP_PM1A);
	assert_int_equal(byte, 1); /* SLP_EN lives in this byte: a byte write reaches it */
	assert_int_equal(acpi_sleep_reg_of(&s, 0xB006, &byte), ACPI_SLEEP_NONE);
	assert_int_equal(acpi_sleep_reg_of(&s, 0, &byte), ACPI_SLEEP_NONE);
}

static void rsdt_x_blocks_and_a_root_prefixed_s5_with_byte_values(void **state)
{
	(void)state;
	struct acpi_sleep s;
	mem[RSDP + 15] = 0; /* ACPI 1.0: RSDT with 32-bit entries */
	put32(RSDP + 16, 0x6000);
	header(0x6000, "RSDT", 36 + 4);
	put32(0x6000 + 36, FADT);
	header(FADT, "FACP", 276);
	mem[FADT + 172] = 1; /* X_PM1a_CNT_BLK in I/O space wins */
	put64(FADT + 172 + 4, 0x404);
	mem[FADT + 244] = 1; /* SLEEP_CONTROL_REG */
	put64(FADT + 244 + 4, 0x500);
	static const uint8_t aml[] = {0x10, 0x08, 0x08, '\\', '_',  'S',  '5',  '_', 0x12,
				      0x08, 0x04, 0x0A, 0x07, 0x0A, 0x05, 0x00, 0x00};
	header(DSDT, "DSDT", 36 + sizeof(aml));
	memcpy(mem + DSDT + 36, aml, sizeof(aml));
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	assert_int_equal(s.pm1_cnt[0], 0x404);
	assert_int_equal(s.sleep_ctl, 0x500);
	assert_true(s.s5_known);
	assert_int_equal(s.s5_slp_typ[0], 7);
	assert_int_equal(s.s5_slp_typ[1], 5);
}

static void broken_tables_give_an_error_not_a_crash(void **state)
{
	(void)state;
	struct acpi_sleep s;
	assert_false(acpi_sleep_find(read_mem, NULL, 0, &s));
	put64(RSDP + 24, 0xFFFFFFF0u); /* XSDT outside memory */
	assert_false(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	assert_true(strlen(s.error) > 0);
	setup(NULL);
	header(XSDT, "XSDT", 0xFFFFFFFFu); /* absurd length: the walk is bounded */
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s) || strlen(s.error) > 0);
	setup(NULL);
	header(DSDT, "DSDT", 0xFFFFFFFFu); /* DSDT longer than memory: S5 not found, no crash */
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	setup(NULL);
	mem[DSDT + 36 + 18] = 0xC0; /* _S5_ with a multi-byte PkgLength: not parsed */
	assert_true(acpi_sleep_find(read_mem, NULL, RSDP, &s));
	assert_false(s.s5_known);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(the_labs_tables_give_pm1a_and_s5, setup),
		cmocka_unit_test_setup(s3_is_refused_and_s5_and_plain_writes_pass, setup),
		cmocka_unit_test_setup(ports_map_to_their_register_and_byte, setup),
		cmocka_unit_test_setup(rsdt_x_blocks_and_a_root_prefixed_s5_with_byte_values,
				       setup),
		cmocka_unit_test_setup(broken_tables_give_an_error_not_a_crash, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
