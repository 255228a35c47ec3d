/* libFuzzer: hvctl's reader of QEMU ELF dumps (tools/hvctl/dump.c) on arbitrary files,
 * then the introspection library started on whatever CPU state and memory it accepted. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/vmi_fake.h"
#include "tools/hvctl/dump.h"
#include "vmi/vmi.h"

static struct dump d;
static struct vmi v;
static struct fake f; /* only for its profile */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct vmi_mem mem = {.read_phys = dump_read_phys, .ctx = &d};

	if (f.ram == NULL)
		fake_init(&f, false);
	if (dump_parse(data, size, &d, err, sizeof(err)) != 0) {
		assert(memchr(err, 0, sizeof(err)) != NULL && err[0] != '\0');
		return 0;
	}
	assert(d.nranges > 0 && d.ncpus > 0 && d.ncpus <= DUMP_CPUS_MAX);
	for (size_t i = 0; i < d.nranges; i++)
		assert(d.ranges[i].offset + d.ranges[i].size <= size);
	for (size_t i = 0; i < d.ncpus; i++) {
		memset(&v, 0, sizeof(v));
		(void)vmi_open(&v, &mem, &f.prof, &d.cpus[i].cpu);
	}
	return 0;
}
