/* SPDX-License-Identifier: MIT */
/*
 * The boot signature (docs/boot-signature.md): what the operator signed of the ESP, so that
 * hvboot.efi starts nothing a guest changed there. \hv\hv.sig is text:
 *
 *   ctrvisor-boot-signature 1
 *   config <SHA-256 of \hv\hv.cfg, hex>
 *   core <SHA-256 of the core file hv.cfg names>
 *   profile <SHA-256 of the profile hv.cfg names, or "none">
 *   signature <ECDSA P-256 over SHA-256 of the lines above, r then s, hex>
 *
 * with '\n' line ends and nothing else. The key that checks it is built into the loader
 * (boot/bootkey.h), which UEFI Secure Boot checks in turn. Freestanding: the loader reads
 * it, hvctl writes it, the unit tests do both.
 */
#ifndef BOOT_BOOTSIG_H
#define BOOT_BOOTSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan/sig.h"

#define BOOTSIG_PATH "\\hv\\hv.sig"
#define BOOTSIG_MAX  1024u /* bytes: the file is about 390 */

struct bootsig {
	uint8_t config[CHAN_DIGEST_LEN];
	uint8_t core[CHAN_DIGEST_LEN];
	bool has_profile;
	uint8_t profile[CHAN_DIGEST_LEN];
	uint8_t signature[CHAN_SIG_LEN];
	size_t signed_len; /* the bytes the signature covers: the file up to "signature " */
};

/* The lines before the signature's into out (cap bytes, NUL-terminated). Its length, or 0
 * when it does not fit. profile: NULL for "none". */
size_t bootsig_body(char *out, size_t cap, const uint8_t config[CHAN_DIGEST_LEN],
		    const uint8_t core[CHAN_DIGEST_LEN], const uint8_t *profile);
/* Parses the whole file, strictly (the form above, lower-case hex). 0, or -1 with why. */
int bootsig_parse(const char *text, size_t len, struct bootsig *s, const char **why);
/* Is the parsed file's signature that of key over its first s->signed_len bytes? */
bool bootsig_verify(const char *text, const struct bootsig *s, const uint8_t key[CHAN_PUBKEY_LEN]);

#endif
