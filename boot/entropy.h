/* SPDX-License-Identifier: MIT */
/*
 * Random bytes for the monitor's per-boot channel key (docs/channel.md), gathered by the
 * loader while the firmware still serves it, from every source there is: the firmware's
 * EFI_RNG_PROTOCOL (UEFI 2.5 §37.5) and the CPU's RDSEED or RDRAND (SDM Vol. 1 §7.3.17),
 * each checked for the failures seen on real parts (words of all zeros or all ones, or
 * repeating: some CPUs' RDRAND returned all ones with CF set). The core hashes all of it
 * into its key (HMAC_DRBG), so one good source is enough. Unique, not secret: the TSC and
 * the firmware's clock, for the boot id. Loader only.
 */
#ifndef BOOT_ENTROPY_H
#define BOOT_ENTROPY_H

#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"

/* Fills bi->channel_seed (the sources' bytes, then the TSC and the firmware time) and
 * bi->channel_entropy_source (a mask of BOOT_ENTROPY_* bits that delivered). */
void entropy_fill(struct boot_info *bi);

#endif
