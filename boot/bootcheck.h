/* SPDX-License-Identifier: MIT */
/*
 * The loader's check of what it starts against the boot signature (bootsig.h) and the key
 * built into it (bootkey.h). Fail closed: once a key is built in, a missing, malformed or
 * wrongly signed hv.sig, or a file whose hash is not the signed one, stops the boot, and
 * allow_unprotected does not apply (a changed hv.cfg may say anything). No EFI calls here:
 * hvboot.c reads the files; the unit tests drive it directly.
 */
#ifndef BOOT_BOOTCHECK_H
#define BOOT_BOOTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootkey.h"

enum bootcheck_file { BOOTCHECK_CORE, BOOTCHECK_PROFILE };

/* The key built into this loader (hvctl embed-key writes it into the image). */
extern struct bootkey boot_operator_key;

/* Is a key built in (then every file is checked)? */
bool bootcheck_enabled(void);
/* hv.sig's text (NULL: not on the ESP) and hv.cfg's bytes: 0 when the signature is the
 * built-in key's and names this hv.cfg; -1 with why. */
int bootcheck_begin(const char *sig, size_t sig_len, const void *config, size_t config_len,
		    char *why, size_t cap);
/* The core or the profile as read (profile: NULL when hv.cfg names none): 0 when its hash
 * is the signed one; -1 with why. */
int bootcheck_file(enum bootcheck_file which, const void *data, size_t len, char *why, size_t cap);

#endif
