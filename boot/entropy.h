/* SPDX-License-Identifier: MIT */
/*
 * Random bytes for the monitor's per-boot channel key (docs/channel.md), gathered by the
 * loader while the firmware still serves it: the firmware's EFI_RNG_PROTOCOL (UEFI 2.5
 * §37.5), else the CPU's RDSEED or RDRAND (SDM Vol. 1 §7.3.17). Loader only.
 */
#ifndef BOOT_ENTROPY_H
#define BOOT_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"

/* Fills buf with n random bytes from the first source that gives them all. */
enum boot_entropy entropy_fill(uint8_t *buf, size_t n);
/* Clears a secret so the compiler cannot drop the stores. */
void entropy_wipe(void *p, size_t n);

#endif
