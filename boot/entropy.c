/* SPDX-License-Identifier: MIT */
/* Random bytes for the monitor's channel key (entropy.h). */
#include <efi.h>
#include <efilib.h>

#include <stdbool.h>

#include "boot/entropy.h"

static EFI_GUID rng_protocol_guid = EFI_RNG_PROTOCOL_GUID;

void entropy_wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = 0;
}

static enum boot_entropy from_firmware(uint8_t *buf, size_t n)
{
	EFI_RNG_PROTOCOL *rng = NULL;

	if (EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &rng_protocol_guid, NULL,
					(void **)&rng)) ||
	    rng == NULL)
		return BOOT_ENTROPY_NONE;
	/* NULL algorithm: the firmware's default (UEFI 2.5 §37.5.1 GetRNG) */
	if (EFI_ERROR(uefi_call_wrapper(rng->GetRNG, 4, rng, NULL, n, buf)))
		return BOOT_ENTROPY_NONE;
	return BOOT_ENTROPY_RNG_PROTOCOL;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

/* One 64-bit word: CF=1 says it is valid; the SDM (Vol. 1 §7.3.17.1) advises retrying a
 * few times when the DRNG is momentarily out of data. */
static bool rd_word(bool seed, uint64_t *out)
{
	for (int tries = 0; tries < 100; tries++) {
		uint8_t ok;

		if (seed)
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok)::"cc");
		else
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok)::"cc");
		if (ok)
			return true;
	}
	return false;
}

static enum boot_entropy from_cpu(uint8_t *buf, size_t n)
{
	uint32_t r[4];
	bool seed, rand;

	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	cpuid(1, 0, r);
	rand = (r[2] >> 30) & 1; /* CPUID.01H:ECX.RDRAND[bit 30] */
	seed = false;
	if (max_leaf >= 7) {
		cpuid(7, 0, r);
		seed = (r[1] >> 18) & 1; /* CPUID.(EAX=07H,ECX=0):EBX.RDSEED[bit 18] */
	}
	if (!seed && !rand)
		return BOOT_ENTROPY_NONE;
	for (size_t i = 0; i < n; i += 8) {
		uint64_t w;
		size_t k = n - i < 8 ? n - i : 8;

		if (!rd_word(seed, &w)) {
			entropy_wipe(buf, n);
			return BOOT_ENTROPY_NONE;
		}
		CopyMem(buf + i, &w, k);
		entropy_wipe(&w, sizeof(w));
	}
	return seed ? BOOT_ENTROPY_RDSEED : BOOT_ENTROPY_RDRAND;
}

enum boot_entropy entropy_fill(uint8_t *buf, size_t n)
{
	enum boot_entropy s = from_firmware(buf, n);

	return s != BOOT_ENTROPY_NONE ? s : from_cpu(buf, n);
}
