/* The verified boot chain: what `hvctl embed-key` and `hvctl sign-boot` write is what the
 * loader's check (boot/bootcheck.c) takes, and every change a guest could make on the ESP
 * is refused. Files in a temporary directory; the "loader image" is a file holding the
 * loader's own struct bootkey (as hvboot.efi does), read back into boot_operator_key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "boot/bootcheck.h"
#include "boot/bootsig.h"
#include "tools/hvctl/bootsign.h"
#include "tools/hvctl/keys.h"

static char dir[64], key[128], other[128], cfg[128], core[128], prof[128], sig[128], img[128];

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *get(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	*len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	return buf;
}

static int run(int (*cmd)(const char *, int, char **), const char *k, int argc, ...)
{
	char *argv[8];
	va_list ap;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	return cmd(k, argc, argv);
}

static int setup(void **state)
{
	uint8_t pub[CHAN_PUBKEY_LEN];
	char why[256];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_bootsig.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/op.key", dir);
	snprintf(other, sizeof(other), "%s/other.key", dir);
	snprintf(cfg, sizeof(cfg), "%s/hv.cfg", dir);
	snprintf(core, sizeof(core), "%s/hv.elf", dir);
	snprintf(prof, sizeof(prof), "%s/profile.json", dir);
	snprintf(sig, sizeof(sig), "%s/hv.sig", dir);
	snprintf(img, sizeof(img), "%s/hvboot.efi", dir);
	assert_int_equal(keys_generate(key, pub, why, sizeof(why)), 0);
	assert_int_equal(keys_generate(other, pub, why, sizeof(why)), 0);
	put(cfg, "core = \\hv\\hv.elf\nallow_unprotected = no\n");
	put(core, "\x7f"
		  "ELF the monitor");
	put(prof, "{\"profile\": 1}");
	/* a loader image: some code, the built-in key's place, more code */
	FILE *f = fopen(img, "wb");
	assert_non_null(f);
	fputs("MZ code code", f);
	fwrite(&boot_operator_key, sizeof(boot_operator_key), 1, f);
	fputs("more code", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[256];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	memset(&boot_operator_key.key, 0, sizeof(boot_operator_key.key));
	boot_operator_key.set = 0;
	return 0;
}

/* The loader reads its key from its own image: here, from the file embed-key changed. */
static void load_image_key(void)
{
	size_t len;
	char *data = get(img, &len);
	char *at = memmem(data, len, BOOTKEY_MAGIC, BOOTKEY_MAGIC_LEN);
	assert_non_null(at);
	memcpy(&boot_operator_key, at, sizeof(boot_operator_key));
}

/* What the loader does: hv.sig and hv.cfg, then the core and the profile. */
static int loader_check(const char *profile_path, char *why)
{
	size_t sl, cl, kl, pl;
	static char s[BOOTSIG_MAX + 1], c[4096], k[4096], p[4096];
	char *d = get(sig, &sl);
	memcpy(s, d, sl);
	d = get(cfg, &cl);
	memcpy(c, d, cl);
	d = get(core, &kl);
	memcpy(k, d, kl);
	if (bootcheck_begin(s, sl, c, cl, why, 256) != 0)
		return -1;
	if (bootcheck_file(BOOTCHECK_CORE, k, kl, why, 256) != 0)
		return -2;
	if (profile_path == NULL)
		return bootcheck_file(BOOTCHECK_PROFILE, NULL, 0, why, 256) != 0 ? -3 : 0;
	d = get(profile_path, &pl);
	memcpy(p, d, pl);
	return bootcheck_file(BOOTCHECK_PROFILE, p, pl, why, 256) != 0 ? -3 : 0;
}

static void sign_all(const char *with)
{
	assert_int_equal(run(hvctl_sign_boot, with, 5, "sign-boot", cfg, core, prof, sig), 0);
}

static void test_signed_files_boot(void **state)
{
	char why[256];
	(void)state;
	assert_false(bootcheck_enabled()); /* as built: no key, nothing checked */
	assert_int_equal(run(hvctl_embed_key, key, 2, "embed-key", img), 0);
	load_image_key();
	assert_true(bootcheck_enabled());
	sign_all(key);
	assert_int_equal(loader_check(prof, why), 0);
}

static void test_a_changed_config_is_refused_whatever_it_says(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(run(hvctl_embed_key, key, 2, "embed-key", img), 0);
	load_image_key();
	sign_all(key);
	put(cfg, "core = \\hv\\hv.elf\nallow_unprotected = yes\n");
	assert_int_equal(loader_check(prof, why), -1);
	assert_non_null(strstr(why, "hv.cfg was changed"));
}

static void test_a_changed_core_or_profile_is_refused(void **state)
{
	char why[256];
	(void)state;
	assert_int_equal(run(hvctl_embed_key, key, 2, "embed-key", img), 0);
	load_image_key();
	sign_all(key);
	put(core, "\x7f"
		  "ELF the monitoR");
	assert_int_equal(loader_check(prof, why), -2);
	assert_non_null(strstr(why, "monitor core was changed"));
	put(core, "\x7f"
		  "ELF the monitor");
	put(prof, "{\"profile\": 2}");
	assert_int_equal(loader_check(prof, why), -3);
	assert_int_equal(loader_check(NULL, why), -3); /* nor is one left out */
}

static void test_another_key_or_a_forged_or_missing_signature_is_refused(void **state)
{
	char why[256];
	size_t len;
	(void)state;
	assert_int_equal(run(hvctl_embed_key, key, 2, "embed-key", img), 0);
	load_image_key();
	sign_all(other); /* the guest's own key */
	assert_int_equal(loader_check(prof, why), -1);
	assert_non_null(strstr(why, "not signed by the key built into"));
	sign_all(key);
	char *s = get(sig, &len);
	char copy[BOOTSIG_MAX];
	memcpy(copy, s, len);
	copy[len - 2] = copy[len - 2] == '0' ? '1' : '0'; /* the signature's last digit */
	FILE *f = fopen(sig, "wb");
	fwrite(copy, 1, len, f);
	fclose(f);
	assert_int_equal(loader_check(prof, why), -1);
	assert_int_equal(bootcheck_begin(NULL, 0, "x", 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "missing"));
	/* a forged signature over hashes of the changed files: still the wrong key */
	put(cfg, "allow_unprotected = yes\n");
	sign_all(other);
	assert_int_equal(loader_check(prof, why), -1);
}

static void test_the_file_form_is_strict(void **state)
{
	struct bootsig s;
	const char *why;
	uint8_t d[CHAN_DIGEST_LEN] = {1, 2, 3};
	char body[BOOTSIG_MAX], text[BOOTSIG_MAX + 200];
	(void)state;
	size_t n = bootsig_body(body, sizeof(body), d, d, NULL);
	assert_true(n > 0);
	snprintf(text, sizeof(text), "%ssignature %0128d\n", body, 0);
	assert_int_equal(bootsig_parse(text, strlen(text), &s, &why), 0);
	assert_false(s.has_profile);
	assert_int_equal(s.signed_len, n);
	snprintf(text, sizeof(text), "%ssignature %0128d\nextra\n", body, 0);
	assert_int_equal(bootsig_parse(text, strlen(text), &s, &why), -1);
	snprintf(text, sizeof(text), "%ssignature %0127d\n", body, 0);
	assert_int_equal(bootsig_parse(text, strlen(text), &s, &why), -1);
	body[30] = 'X'; /* in the config hash */
	snprintf(text, sizeof(text), "%ssignature %0128d\n", body, 0);
	assert_int_equal(bootsig_parse(text, strlen(text), &s, &why), -1);
	assert_int_equal(bootsig_parse("junk", 4, &s, &why), -1);
}

static void test_embed_key_wants_one_place(void **state)
{
	(void)state;
	put(img, "no place for a key here");
	assert_int_equal(run(hvctl_embed_key, key, 2, "embed-key", img), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signed_files_boot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_changed_config_is_refused_whatever_it_says,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_changed_core_or_profile_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_another_key_or_a_forged_or_missing_signature_is_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_the_file_form_is_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_embed_key_wants_one_place, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
