/* SPDX-License-Identifier: MIT */
/* hvctl embed-key and sign-boot (bootsign.h). */
#include "bootsign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/bootkey.h"
#include "boot/bootsig.h"
#include "files.h"
#include "keys.h"
#include "lib/hex.h"
#include "request.h"

static int hash_file(const char *path, uint8_t digest[CHAN_DIGEST_LEN])
{
	size_t len;
	char *data = file_read(path, 256u << 20, &len);
	if (data == NULL) {
		fprintf(stderr, "hvctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	chan_sha256(data, len, digest);
	free(data);
	return 0;
}

static int load_key(const char *key_path, uint8_t priv[CHAN_PRIVKEY_LEN])
{
	char why[512];
	if (key_path == NULL) {
		fprintf(stderr, "hvctl: needs --key FILE (the operator's key, hvctl keygen) or "
				"$HVCTL_KEY\n");
		return -1;
	}
	if (keys_load_private(key_path, priv, why, sizeof(why)) != 0) {
		fprintf(stderr, "hvctl: %s\n", why);
		return -1;
	}
	return 0;
}

int hvctl_embed_key(const char *key_path, int argc, char **argv)
{
	uint8_t priv[CHAN_PRIVKEY_LEN];
	struct bootkey k = {.set = 1};
	size_t len;
	if (argc != 2) {
		fprintf(stderr, "usage: hvctl --key FILE embed-key HVBOOT.EFI\n");
		return HVCTL_EXIT_USAGE;
	}
	if (load_key(key_path, priv) != 0)
		return HVCTL_EXIT_USAGE;
	int rc = chan_public_key(priv, k.key);
	mem_wipe(priv, sizeof(priv));
	if (rc != 0)
		return HVCTL_EXIT_USAGE;
	memcpy(k.magic, BOOTKEY_MAGIC, BOOTKEY_MAGIC_LEN);
	char *img = file_read(argv[1], 64u << 20, &len);
	if (img == NULL) {
		fprintf(stderr, "hvctl embed-key: %s: %s\n", argv[1], strerror(errno));
		return HVCTL_EXIT_USAGE;
	}
	/* exactly one place holds the magic: the loader's struct bootkey */
	char *at = NULL;
	unsigned found = 0;
	for (size_t i = 0; i + sizeof(k) <= len; i++)
		if (memcmp(img + i, BOOTKEY_MAGIC, BOOTKEY_MAGIC_LEN) == 0) {
			at = img + i;
			found++;
		}
	if (found != 1) {
		free(img);
		fprintf(stderr,
			"hvctl embed-key: %s holds the key's place %u times, not once: is "
			"it ctrvisor's hvboot.efi?\n",
			argv[1], found);
		return HVCTL_EXIT_USAGE;
	}
	memcpy(at, &k, sizeof(k));
	FILE *f = fopen(argv[1], "r+b");
	int ok = f != NULL && fwrite(img, 1, len, f) == len;
	ok = (f != NULL && fclose(f) == 0) && ok;
	free(img);
	if (!ok) {
		fprintf(stderr, "hvctl embed-key: %s: %s\n", argv[1], strerror(errno));
		return HVCTL_EXIT_USAGE;
	}
	char hex[2 * CHAN_PUBKEY_LEN + 1];
	uint8_t id[CHAN_DIGEST_LEN];
	hex_encode(k.key, sizeof(k.key), hex);
	chan_sha256(k.key, sizeof(k.key), id);
	hex_encode(id, 8, hex);
	printf("%s now checks the boot signature with operator key sha256:%s; sign it for Secure "
	       "Boot after this (sbsign)\n",
	       argv[1], hex);
	return HVCTL_EXIT_OK;
}

int hvctl_sign_boot(const char *key_path, int argc, char **argv)
{
	uint8_t priv[CHAN_PRIVKEY_LEN], cfg[CHAN_DIGEST_LEN], core[CHAN_DIGEST_LEN],
		prof[CHAN_DIGEST_LEN], digest[CHAN_DIGEST_LEN], sig[CHAN_SIG_LEN];
	char body[BOOTSIG_MAX], hex[2 * CHAN_SIG_LEN + 1];
	if (argc != 5) {
		fprintf(stderr,
			"usage: hvctl --key FILE sign-boot HV.CFG CORE PROFILE|none OUT.SIG\n");
		return HVCTL_EXIT_USAGE;
	}
	bool has_profile = strcmp(argv[3], "none") != 0;
	if (hash_file(argv[1], cfg) != 0 || hash_file(argv[2], core) != 0 ||
	    (has_profile && hash_file(argv[3], prof) != 0))
		return HVCTL_EXIT_USAGE;
	size_t n = bootsig_body(body, sizeof(body), cfg, core, has_profile ? prof : NULL);
	if (n == 0 || load_key(key_path, priv) != 0)
		return HVCTL_EXIT_USAGE;
	chan_sha256(body, n, digest);
	int rc = chan_sign(priv, digest, sig);
	mem_wipe(priv, sizeof(priv));
	if (rc != 0)
		return HVCTL_EXIT_USAGE;
	hex_encode(sig, sizeof(sig), hex);
	FILE *f = fopen(argv[4], "w");
	if (f == NULL || fprintf(f, "%ssignature %s\n", body, hex) < 0 || fclose(f) != 0) {
		fprintf(stderr, "hvctl sign-boot: %s: %s\n", argv[4], strerror(errno));
		return HVCTL_EXIT_USAGE;
	}
	printf("signed %s, %s and %s in %s\n", argv[1], argv[2], argv[3], argv[4]);
	return HVCTL_EXIT_OK;
}
