/* SPDX-License-Identifier: MIT */
/*
 * \hv\hv.cfg: the loader's configuration, `key = value` lines, `#` starts a comment line.
 * Freestanding: compiled into hvboot.efi and into the host unit tests.
 *
 *   core = \hv\hv.elf           the monitor core (default shown)
 *   kernel = \boot\vmlinuz      required: the Linux kernel (EFI stub) on this volume
 *   initrd = \boot\initrd.img   optional
 *   cmdline = console=ttyS0     optional kernel command line
 *   console = 0x2f8             required: the monitor console's UART (port or COM1-COM4)
 *   baud = 115200               optional, default 115200
 *   memory_mb = 48              optional: the monitor's memory (4-1024 MiB), default 48
 *   profile = \hv\profile.json  optional: the guest kernel's profile (introspection)
 *   allow_unprotected = no      optional: yes = boot the kernel even if the monitor fails
 *   protect = enforce           optional: kernel protection (DESIGN §7): enforce (default),
 *                               detect (alert, never block or repair) or off
 *   allow_tracing = no          optional: yes = accept ftrace and kprobe changes to kernel text
 *   integrity_period = 5        optional: seconds of guest time between integrity checks
 *                               (0: only before operations; at most 3600)
 *   helper = auto               optional: auto (default) = the monitor starts the resident
 *                               helper with the first operation that needs a host task and
 *                               keeps it; manual = only `helper start` on the console does
 *   operator_key = 04...        optional: the operator's public key for the channel
 *                               (docs/channel.md; `hvctl keygen` makes it): an uncompressed
 *                               P-256 point, 130 hex digits. Public: the guest may read it.
 *                               Without it the channel takes no request.
 */
#ifndef BOOT_HVCFG_H
#define BOOT_HVCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVCFG_PATH_MAX         256u
#define HVCFG_CMDLINE_MAX      1024u
#define HVCFG_LINE_MAX         1200u
#define HVCFG_FILE_MAX         (64u * 1024u)
#define HVCFG_MESSAGE_MAX      200u
#define HVCFG_OPERATOR_KEY_LEN 65u /* = CHAN_PUBKEY_LEN (chan/sig.h) */

struct hv_config {
	char core[HVCFG_PATH_MAX];
	char kernel[HVCFG_PATH_MAX];
	char initrd[HVCFG_PATH_MAX];  /* empty: none */
	char profile[HVCFG_PATH_MAX]; /* empty: none (introspection verbs then say so) */
	char cmdline[HVCFG_CMDLINE_MAX];
	uint16_t console_port;
	uint32_t baud;
	uint32_t memory_mb;
	bool allow_unprotected;
	uint8_t protect; /* enum hvcfg_protect */
	bool allow_tracing;
	uint32_t integrity_period_s;
	bool helper_manual;
	bool operator_key_set;
	uint8_t operator_key[HVCFG_OPERATOR_KEY_LEN]; /* SEC 1 uncompressed point (0x04, X, Y) */
};

enum hvcfg_protect { HVCFG_PROTECT_ENFORCE, HVCFG_PROTECT_DETECT, HVCFG_PROTECT_OFF };

struct hvcfg_error {
	unsigned int line; /* 0: about the file as a whole */
	char message[HVCFG_MESSAGE_MAX];
};

/* Parse `len` bytes. Returns 0 and fills *cfg, or -1 with *err saying what is wrong and
 * where. Never reads past len; the text need not be NUL-terminated. */
int hvcfg_parse(const char *text, size_t len, struct hv_config *cfg, struct hvcfg_error *err);

#endif
