/* SPDX-License-Identifier: MIT */
/*
 * Loading hv.elf: a position-independent ELF64 x86-64 image (ET_DYN, linked at 0) whose
 * only relocations are R_X86_64_RELATIVE (System V ABI AMD64 supplement, 4.4). Freestanding
 * and bounds-checked against the file, so the unit tests can feed it damaged images.
 */
#ifndef BOOT_ELFLOAD_H
#define BOOT_ELFLOAD_H

#include <stddef.h>
#include <stdint.h>

#define ELFLOAD_IMAGE_MAX (64u * 1024u * 1024u)
#define ELFLOAD_ERR_MAX   160u

struct elf_image_info {
	uint64_t
		image_size; /* bytes from address 0 to the end of the last segment, 4 KiB aligned */
	uint64_t entry;     /* entry point, relative to the load address */
};

/* Check the file and tell how much memory it needs. 0, or -1 with err filled. */
int elf_inspect(const void *file, size_t len, struct elf_image_info *info, char *err,
		size_t errcap);

/* Place the image at `dest` (which the CPU will see at address `load_base`; both may be
 * the same), zero-fill, apply the relocations. dest_size >= info.image_size. */
int elf_load(const void *file, size_t len, void *dest, uint64_t dest_size, uint64_t load_base,
	     char *err, size_t errcap);

#endif
