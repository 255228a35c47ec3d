/* SPDX-License-Identifier: MIT */
/*
 * The hand-over from hvboot.efi to the core (hv.elf). The loader fills it, calls
 * hv_start(); the core copies what it keeps before returning, so the block itself may
 * live in loader memory that the firmware later reclaims.
 */
#ifndef HV_BOOTINFO_H
#define HV_BOOTINFO_H

#include <stdint.h>

#define BOOT_INFO_MAGIC   0x4f464e4952544356ull /* "VCTRINFO" */
#define BOOT_INFO_VERSION 6u
#define BOOT_MEM_MAX      512u
#define BOOT_ERR_MAX      256u

/* Where the loader's random bytes for the channel came from (boot/entropy.c): bits of
 * boot_info.channel_entropy_source (0: none; the monitor then makes no key) */
enum boot_entropy {
	BOOT_ENTROPY_RNG_PROTOCOL, /* the firmware's EFI_RNG_PROTOCOL (UEFI 2.5 §37.5) */
	BOOT_ENTROPY_RDSEED,       /* SDM Vol. 1 §7.3.17 */
	BOOT_ENTROPY_RDRAND,
	BOOT_ENTROPY_COUNT
};
/* boot_info.channel_seed: BOOT_CHANNEL_RANDOM_LEN bytes of the firmware's RNG (zero when
 * it has none), as many of RDSEED or RDRAND, then the TSC and the EFI time (unique) */
#define BOOT_CHANNEL_RANDOM_LEN 64u
#define BOOT_CHANNEL_SEED_LEN   160u

/* One UEFI memory descriptor, reduced (UEFI 2.x 7.2 EFI_MEMORY_DESCRIPTOR). */
struct boot_mem_range {
	uint64_t base;
	uint64_t pages; /* 4 KiB pages */
	uint64_t attribute;
	uint32_t efi_type;
	uint32_t reserved;
};

struct boot_info {
	uint64_t magic;
	uint32_t version;
	uint32_t size;         /* sizeof(struct boot_info), checks both sides agree */
	uint64_t core_base;    /* physical start of the core's region (EfiReservedMemoryType) */
	uint64_t core_size;    /* bytes: image followed by the core's heap */
	uint64_t image_size;   /* bytes of the loaded image, page aligned */
	uint64_t tsc_hz;       /* measured by the loader against the firmware's Stall() */
	uint64_t acpi_rsdp;    /* 0 when not found */
	uint64_t profile_addr; /* the kernel profile file (ISF JSON) in loader memory, or 0 */
	uint64_t profile_size; /* its length in bytes; the core copies it */
	uint16_t console_port; /* 16550 base I/O port owned by the monitor */
	uint8_t protect;       /* kernel protection: 0 enforce, 1 detect, 2 off (hv.cfg) */
	uint8_t allow_tracing; /* 1: ftrace and kprobe changes to kernel text are accepted */
	uint8_t helper_manual; /* 1: the resident helper only on the console's request (hv.cfg) */
	uint8_t operator_key_set; /* 1: operator_key holds hv.cfg's operator_key */
	uint8_t operator_key[65]; /* the channel's operator key (docs/channel.md): public */
	/* Random bytes for the monitor's per-boot channel key, and where they came from
	 * (boot/entropy.h; 0: none). Secret: the core wipes them after use, the loader too
	 * after hv_start() returns, before its memory goes back to the firmware. */
	uint8_t channel_entropy_source; /* bits (1 << enum boot_entropy) */
	uint8_t channel_seed[BOOT_CHANNEL_SEED_LEN];
	uint32_t console_baud;
	uint32_t mem_count;
	uint32_t integrity_period_s; /* guest seconds between integrity checks, 0: none */
	uint64_t ap_entry; /* out: the core's entry for the other CPUs (hv_ap_entry_fn), set by
			    * hv_start() before it launches the boot CPU */
	struct boot_mem_range mem[BOOT_MEM_MAX];
	char error[BOOT_ERR_MAX]; /* filled by the core when hv_start() fails: what and what to do
				   */
};

/* Results of hv_start() */
enum hv_start_status {
	HV_START_OK = 0, /* the caller now runs as the guest */
	HV_START_BAD_BOOT_INFO,
	HV_START_NO_VMX,          /* CPUID.1:ECX.VMX = 0 */
	HV_START_VMX_DISABLED,    /* IA32_FEATURE_CONTROL locked with VMX off */
	HV_START_MISSING_FEATURE, /* EPT, unrestricted guest, ... not offered */
	HV_START_NO_MEMORY,
	HV_START_VMX_FAILED,    /* VMXON/VMCLEAR/VMPTRLD/VMWRITE failed */
	HV_START_LAUNCH_FAILED, /* VMLAUNCH failed; error holds the VM-instruction error */
};

/* The core's entry point (ELF e_entry), called with the SysV ABI. */
typedef int(__attribute__((sysv_abi)) * hv_start_fn)(struct boot_info *bi);

/* The entry for every other CPU (boot_info.ap_entry), called by the loader on that CPU
 * (EFI MP services) after hv_start() succeeded, one CPU at a time, with ids 1, 2, ... in
 * turn. It virtualizes the calling CPU and returns 0 to its caller as the guest, or an
 * hv_start_status with `error` (cap bytes) saying what failed. */
typedef int(__attribute__((sysv_abi)) * hv_ap_entry_fn)(uint32_t id, char *error, uint64_t cap);

#endif
