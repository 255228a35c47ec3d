/* SPDX-License-Identifier: MIT */
/* Random bytes for the monitor's channel key (entropy.h). */
#include <efi.h>
#include <efilib.h>
#include <stdbool.h>

#include "boot/entropy.h"
#include "lib/hex.h"

#define CPU_TRIES 1000u /* words tried for each one taken (underflow, or a rejected word) */

static EFI_GUID rng_protocol_guid = EFI_RNG_PROTOCOL_GUID;

/* A block that is all one byte value (0x00, 0xff, or any) is no random output. */
static bool looks_stuck(const uint8_t *buf, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (buf[i] != buf[0])
			return false;
	return true;
}

static bool from_firmware(uint8_t *buf, size_t n)
{
	EFI_RNG_PROTOCOL *rng = NULL;

	if (EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &rng_protocol_guid, NULL,
					(void **)&rng)) ||
	    rng == NULL)
		return false;
	/* NULL algorithm: the firmware's default (UEFI 2.5 §37.5.1 GetRNG) */
	if (EFI_ERROR(uefi_call_wrapper(rng->GetRNG, 4, rng, NULL, n, buf)) ||
	    looks_stuck(buf, n)) {
		mem_wipe(buf, n);
		return false;
	}
	return true;
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static bool rd_once(bool seed, uint64_t *out)
{
	uint8_t ok;

	if (seed)
		__asm__ volatile("rdseed %0; setc %1" : "=r"(*out), "=qm"(ok)::"cc");
	else
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok)::"cc");
	return ok != 0;
}

/* n bytes of RDSEED or RDRAND words. CF=0 (the DRNG momentarily out of data, SDM Vol. 1
 * §7.3.17.1) is tried again after a PAUSE; a word of all zeros or all ones, or the same
 * as the one before, is refused (as Linux's rdrand sanity check does): a source that keeps
 * giving such words fails. */
static bool from_cpu_insn(bool seed, uint8_t *buf, size_t n)
{
	uint64_t last = 0, w = 0;
	bool have_last = false;

	for (size_t i = 0; i < n; i += 8) {
		unsigned tries = 0;
		for (;;) {
			if (++tries > CPU_TRIES) {
				mem_wipe(buf, n);
				mem_wipe(&w, sizeof(w));
				mem_wipe(&last, sizeof(last));
				return false;
			}
			if (rd_once(seed, &w) && w != 0 && w != ~0ull && !(have_last && w == last))
				break;
			__asm__ volatile("pause");
		}
		size_t k = n - i < 8 ? n - i : 8;
		CopyMem(buf + i, &w, k);
		last = w;
		have_last = true;
	}
	mem_wipe(&w, sizeof(w));
	mem_wipe(&last, sizeof(last));
	return true;
}

static unsigned from_cpu(uint8_t *buf, size_t n)
{
	uint32_t r[4];
	bool has_seed = false, has_rand;

	cpuid(0, 0, r);
	uint32_t max_leaf = r[0];
	cpuid(1, 0, r);
	has_rand = (r[2] >> 30) & 1; /* CPUID.01H:ECX.RDRAND[bit 30] */
	if (max_leaf >= 7) {
		cpuid(7, 0, r);
		has_seed = (r[1] >> 18) & 1; /* CPUID.(EAX=07H,ECX=0):EBX.RDSEED[bit 18] */
	}
	if (has_seed && from_cpu_insn(true, buf, n))
		return 1u << BOOT_ENTROPY_RDSEED;
	if (has_rand && from_cpu_insn(false, buf, n))
		return 1u << BOOT_ENTROPY_RDRAND;
	return 0;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

void entropy_fill(struct boot_info *bi)
{
	uint8_t *seed = bi->channel_seed;
	unsigned sources = 0;
	EFI_TIME now;

	_Static_assert(sizeof(bi->channel_seed) >=
			       2 * BOOT_CHANNEL_RANDOM_LEN + 8 + sizeof(EFI_TIME),
		       "room for both sources, the TSC and the time");
	mem_wipe(seed, sizeof(bi->channel_seed));
	if (from_firmware(seed, BOOT_CHANNEL_RANDOM_LEN))
		sources |= 1u << BOOT_ENTROPY_RNG_PROTOCOL;
	sources |= from_cpu(seed + BOOT_CHANNEL_RANDOM_LEN, BOOT_CHANNEL_RANDOM_LEN);
	/* unique rather than secret: the boot id then differs even from a broken source's */
	uint64_t tsc = rdtsc();
	CopyMem(seed + 2 * BOOT_CHANNEL_RANDOM_LEN, &tsc, sizeof(tsc));
	if (!EFI_ERROR(uefi_call_wrapper(RT->GetTime, 2, &now, NULL)))
		CopyMem(seed + 2 * BOOT_CHANNEL_RANDOM_LEN + 8, &now, sizeof(now));
	bi->channel_entropy_source = (uint8_t)sources;
}
