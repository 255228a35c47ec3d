/* libFuzzer: hv.elf files. The loader refuses or loads within the image it measured. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/elfload.h"

#define FUZZ_IMAGE_MAX (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the loader expects an 8-byte-aligned file, as AllocatePool gives */
	uint8_t *file = aligned_alloc(16, (size + 16) & ~(size_t)15);
	memcpy(file, data, size);
	struct elf_image_info info;
	char err[ELFLOAD_ERR_MAX];
	if (elf_inspect(file, size, &info, err, sizeof(err)) == 0 &&
	    info.image_size <= FUZZ_IMAGE_MAX) {
		assert(info.image_size % 4096 == 0);
		assert(info.entry < info.image_size);
		uint8_t *dest = malloc(info.image_size);
		(void)elf_load(file, size, dest, info.image_size, 0x100000, err, sizeof(err));
		free(dest);
	}
	free(file);
	return 0;
}
