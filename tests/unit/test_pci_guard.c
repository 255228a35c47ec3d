/*
 * hv/platform/pci_guard.c over a fake bus 0 shaped like the lab's (Bochs i440FX + PIIX4:
 * the host bridge at 0:0.0, the PIIX4 at 0:1, its PM function 0:1.3 with PMBA at 0x40 =
 * 0xB001, IDE's I/O BARs elsewhere). The attack (from a hostile-guest review): the guest
 * rewrites PMBA through 0xCF8/0xCFC to move the PM1 block to a port the monitor does not
 * watch, then enters S3 there. The control: other configuration writes go through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "platform/pci_guard.h"

static uint32_t space[32][8][64]; /* [device][function][dword] */

static uint32_t fake_read(void *ctx, uint32_t cf8)
{
	(void)ctx;
	if (!(cf8 & PCI_CF8_ENABLE) || ((cf8 >> 16) & 0xFFu) != 0)
		return 0xFFFFFFFFu;
	return space[(cf8 >> 11) & 31u][(cf8 >> 8) & 7u][(cf8 & 0xFCu) / 4u];
}

#define CF8(dev, fn, off) (PCI_CF8_ENABLE | ((dev) << 11) | ((fn) << 8) | (off))

static int setup(void **state)
{
	(void)state;
	memset(space, 0xFF, sizeof(space));
	memset(space[0][0], 0, sizeof(space[0][0]));
	space[0][0][0] = 0x12378086u; /* i440FX */
	for (int fn = 0; fn < 4; fn++)
		memset(space[1][fn], 0, sizeof(space[1][fn]));
	space[1][0][0] = 0x70008086u;
	space[1][0][0x0C / 4] = 0x00800000u; /* multi-function */
	space[1][1][0] = 0x70108086u;
	space[1][1][0x20 / 4] = 0xC001u; /* IDE bus master BAR4 */
	space[1][3][0] = 0x71138086u;
	space[1][3][0x40 / 4] = 0xB001u; /* PMBA */
	space[1][3][0x90 / 4] = 0xB101u; /* SMBBA: after the PM block */
	return 0;
}

static void finds_pmba_of_the_pm_function(void **state)
{
	(void)state;
	struct pci_guard g;
	assert_true(pci_guard_find(fake_read, NULL, 0xB004, &g));
	assert_int_equal(g.cf8, CF8(1u, 3u, 0x40u));
	assert_int_equal(g.value, 0xB001u);
	assert_false(pci_guard_find(fake_read, NULL, 0x6004, &g)); /* nothing places that */
}

static void a_write_that_moves_the_base_is_refused(void **state)
{
	(void)state;
	struct pci_guard g;
	assert_true(pci_guard_find(fake_read, NULL, 0xB004, &g));
	uint32_t at = CF8(1u, 3u, 0x40u);
	assert_false(pci_guard_write_allowed(&g, at, 0xCFC, 4, 0xC001u, 0xB001u));
	assert_false(pci_guard_write_allowed(&g, at, 0xCFD, 1, 0xC0u, 0xB001u));   /* high byte */
	assert_false(pci_guard_write_allowed(&g, at, 0xCFC, 2, 0xB000u, 0xB001u)); /* I/O bit off */
	assert_false(pci_guard_write_allowed(&g, at | 2u, 0xCFC, 4, 0xC001u, 0xB001u));
}

static void other_writes_go_through(void **state)
{
	(void)state;
	struct pci_guard g;
	assert_true(pci_guard_find(fake_read, NULL, 0xB004, &g));
	uint32_t at = CF8(1u, 3u, 0x40u);
	assert_true(pci_guard_write_allowed(&g, at, 0xCFC, 4, 0xB001u, 0xB001u)); /* same */
	assert_true(pci_guard_write_allowed(&g, CF8(1u, 3u, 0x90u), 0xCFC, 4, 0xC101u, 0xB101u));
	assert_true(pci_guard_write_allowed(&g, at & ~PCI_CF8_ENABLE, 0xCFC, 4, 0xC001u, 0));
	assert_true(pci_guard_write_allowed(&g, CF8(1u, 1u, 0x40u), 0xCFC, 4, 0xC001u, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(finds_pmba_of_the_pm_function, setup),
		cmocka_unit_test_setup(a_write_that_moves_the_base_is_refused, setup),
		cmocka_unit_test_setup(other_writes_go_through, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
