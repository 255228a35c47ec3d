/* hv/vmi/kimage.c: the KASLR slide from IA32_LSTAR, and what is refused. Link-time
 * addresses are those of Debian's 6.1.0-57 kernel; the slide 0x33c00000 is one the lab
 * guest booted with (its init_task at 0xffffffffb661aa40). */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmi/kimage.h"

static struct vmi_profile profile(void)
{
	struct vmi_profile p;
	memset(&p, 0, sizeof(p));
	p.ksym[KSYM_TEXT] = 0xffffffff81000000ull;
	p.ksym[KSYM_STEXT] = 0xffffffff81000000ull;
	p.ksym[KSYM_ENTRY_SYSCALL_64] = 0xffffffff81c00080ull;
	p.ksym[KSYM_ETEXT] = 0xffffffff81e01d32ull;
	p.ksym[KSYM_START_RODATA] = 0xffffffff82000000ull;
	p.ksym[KSYM_END_RODATA] = 0xffffffff828eb000ull;
	p.ksym[KSYM_INIT_TASK] = 0xffffffff82a1aa40ull;
	return p;
}

static void test_slide_follows_from_lstar(void **state)
{
	(void)state;
	struct vmi_profile p = profile();
	struct kimage ki;
	char why[200];
	assert_true(
		kimage_locate(&p, 0xffffffff81c00080ull + 0x33c00000ull, &ki, why, sizeof(why)));
	assert_int_equal(ki.slide, 0x33c00000);
	assert_int_equal(ki.text_start, 0xffffffffb4c00000ull);
	assert_int_equal(ki.rodata_end, 0xffffffff828eb000ull + 0x33c00000ull);
	assert_int_equal(kimage_symbol(&p, &ki, KSYM_INIT_TASK), 0xffffffffb661aa40ull);
	assert_int_equal(kimage_symbol(&p, &ki, KSYM_IDT_TABLE), 0); /* not in this profile */
	/* nokaslr: no slide */
	assert_true(kimage_locate(&p, 0xffffffff81c00080ull, &ki, why, sizeof(why)));
	assert_int_equal(ki.slide, 0);
}

static void test_lstar_that_is_not_the_entry_is_refused(void **state)
{
	(void)state;
	struct vmi_profile p = profile();
	struct kimage ki = {0};
	char why[200];
	/* a rootkit's stub, a module address, user space, a slide not 2 MiB aligned, past
	 * the 1 GiB image area, and the firmware's value before Linux set it */
	static const uint64_t bad[] = {0xffffffff81c00090ull,
				       0xffffffffc0a00000ull,
				       0x0000000000401000ull,
				       0xffffffff81d00080ull,
				       0xffffffff81c00080ull + 0x3f000000ull,
				       0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (kimage_locate(&p, bad[i], &ki, why, sizeof(why)))
			fail_msg("LSTAR 0x%llx accepted", (unsigned long long)bad[i]);
		assert_non_null(strstr(why, "is not entry_SYSCALL_64"));
	}
}

static void test_profile_without_symbols_is_refused_by_name(void **state)
{
	(void)state;
	struct vmi_profile p = profile();
	p.ksym[KSYM_ETEXT] = 0;
	struct kimage ki;
	char why[200];
	assert_false(kimage_locate(&p, 0xffffffff81c00080ull, &ki, why, sizeof(why)));
	assert_non_null(strstr(why, "no kernel symbols (_etext)"));
	p = profile();
	p.ksym[KSYM_START_RODATA] = p.ksym[KSYM_TEXT] - 0x1000; /* out of order */
	assert_false(kimage_locate(&p, 0xffffffff81c00080ull, &ki, why, sizeof(why)));
	assert_non_null(strstr(why, "out of order"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slide_follows_from_lstar),
		cmocka_unit_test(test_lstar_that_is_not_the_entry_is_refused),
		cmocka_unit_test(test_profile_without_symbols_is_refused_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
