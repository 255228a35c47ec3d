/* SPDX-License-Identifier: MIT */
/*
 * The operator's public key built into hvboot.efi (docs/boot-signature.md): with it, the
 * loader starts nothing unless \hv\hv.sig, signed by that key, matches hv.cfg, the core and
 * the profile. It lives in the loader's own image, not on the ESP the guest can write:
 * `hvctl embed-key` writes it into hvboot.efi after the build (found by its magic, once in
 * the file), then UEFI Secure Boot (sbsign, enrolled db key) keeps the loader from being
 * changed. A loader without one boots as before, unchecked, and says so.
 */
#ifndef BOOT_BOOTKEY_H
#define BOOT_BOOTKEY_H

#include <stdint.h>

#include "chan/sig.h"

#define BOOTKEY_MAGIC     "CTRVISOR-BOOTKEY" /* 16 bytes, no NUL in the file */
#define BOOTKEY_MAGIC_LEN 16u

struct bootkey {
	char magic[BOOTKEY_MAGIC_LEN];
	uint8_t set; /* 1: key holds the operator's key */
	uint8_t key[CHAN_PUBKEY_LEN];
} __attribute__((packed));

#endif
