/* SPDX-License-Identifier: MIT */
/* The loader's boot signature check (bootcheck.h). */
#include "bootcheck.h"

#include "bootsig.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* In the image's data; hvctl embed-key finds it by its magic and fills it in. */
struct bootkey boot_operator_key __attribute__((used)) = {
	.magic = {'C', 'T', 'R', 'V', 'I', 'S', 'O', 'R', '-', 'B', 'O', 'O', 'T', 'K', 'E', 'Y'},
	.set = 0,
};

static struct bootsig signed_files;
static bool begun;

bool bootcheck_enabled(void)
{
	/* read through volatile: the compiler must not take the initializer's 0 */
	return *(volatile uint8_t *)&boot_operator_key.set == 1;
}

int bootcheck_begin(const char *sig, size_t sig_len, const void *config, size_t config_len,
		    char *why, size_t cap)
{
	const char *bad;
	uint8_t key[CHAN_PUBKEY_LEN], digest[CHAN_DIGEST_LEN];
	begun = false;
	memcpy(key, (const void *)boot_operator_key.key, sizeof(key));
	if (!chan_public_key_valid(key)) {
		fmt_snprintf(why, cap, "the key built into this loader is not a P-256 point");
		return -1;
	}
	if (sig == NULL) {
		fmt_snprintf(why, cap, BOOTSIG_PATH " is missing (sign the ESP: hvctl sign-boot)");
		return -1;
	}
	if (bootsig_parse(sig, sig_len, &signed_files, &bad) != 0) {
		fmt_snprintf(why, cap, BOOTSIG_PATH ": %s", bad);
		return -1;
	}
	if (!bootsig_verify(sig, &signed_files, key)) {
		fmt_snprintf(why, cap,
			     BOOTSIG_PATH " is not signed by the key built into this "
					  "loader");
		return -1;
	}
	chan_sha256(config, config_len, digest);
	if (memcmp(digest, signed_files.config, sizeof(digest)) != 0) {
		fmt_snprintf(why, cap, "\\hv\\hv.cfg was changed after it was signed");
		return -1;
	}
	begun = true;
	return 0;
}

int bootcheck_file(enum bootcheck_file which, const void *data, size_t len, char *why, size_t cap)
{
	uint8_t digest[CHAN_DIGEST_LEN];
	const char *name = which == BOOTCHECK_CORE ? "the monitor core" : "the kernel profile";
	if (!begun) {
		fmt_snprintf(why, cap, "no checked signature");
		return -1;
	}
	if (which == BOOTCHECK_PROFILE && (data == NULL) != !signed_files.has_profile) {
		fmt_snprintf(why, cap, "%s is %s, the signature says otherwise", name,
			     data == NULL ? "not named" : "named");
		return -1;
	}
	if (data == NULL)
		return 0;
	chan_sha256(data, len, digest);
	if (memcmp(digest, which == BOOTCHECK_CORE ? signed_files.core : signed_files.profile,
		   sizeof(digest)) != 0) {
		fmt_snprintf(why, cap, "%s was changed after it was signed", name);
		return -1;
	}
	return 0;
}
