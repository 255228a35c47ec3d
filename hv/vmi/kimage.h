/* SPDX-License-Identifier: MIT */
/*
 * Where the running kernel's image is (DESIGN §7): the KASLR slide, from IA32_LSTAR and
 * the profile's link-time address of entry_SYSCALL_64 (Linux's syscall_init() writes
 * that address to LSTAR on every CPU), and the image's parts at their run-time
 * addresses. Freestanding: the core and the host tools share it.
 *
 * x86-64 KASLR moves the image by a multiple of CONFIG_PHYSICAL_ALIGN (2 MiB in Debian's
 * kernels; arch/x86/boot/compressed/kaslr.c find_random_virt_addr) inside the 1 GiB
 * kernel-image area that starts at __START_KERNEL_map (Documentation/x86/x86_64/mm.rst):
 * a slide that breaks either rule means LSTAR does not hold entry_SYSCALL_64 (a hooked
 * entry, or a profile of another build) and nothing is derived from it.
 */
#ifndef HV_VMI_KIMAGE_H
#define HV_VMI_KIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmi/profile.h"

#define KIMAGE_MAP_START   0xffffffff80000000ull /* __START_KERNEL_map */
#define KIMAGE_MAP_SIZE    0x40000000ull         /* KERNEL_IMAGE_SIZE with KASLR: 1 GiB */
#define KIMAGE_SLIDE_ALIGN 0x200000ull           /* CONFIG_PHYSICAL_ALIGN */

struct kimage {
	int64_t slide;                     /* run-time minus link-time address */
	uint64_t text_start, text_end;     /* _stext .. _etext */
	uint64_t rodata_start, rodata_end; /* __start_rodata .. __end_rodata */
};

/* The image located from `lstar`; false with the reason in `why` (a profile without the
 * symbols, or a slide that breaks the rules above). */
bool kimage_locate(const struct vmi_profile *p, uint64_t lstar, struct kimage *ki, char *why,
		   size_t cap);

/* The run-time address of a profile symbol, or 0 when the profile lacks it. */
uint64_t kimage_symbol(const struct vmi_profile *p, const struct kimage *ki, enum ksym s);

#endif
