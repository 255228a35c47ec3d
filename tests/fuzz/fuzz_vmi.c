/* libFuzzer: the introspection library on hostile guest memory. The synthetic guest of
 * tests/unit/vmi_fake.c is built once; each input is a list of patches (u32 offset into
 * the part of RAM the guest uses, u64 value) written over it, plus a byte choosing the CPU
 * state. Then every verb runs, text and JSON. Whatever the patches did, the library must
 * neither crash nor loop nor print a line that breaks the console protocol. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "console/cmd.h"
#include "tests/unit/vmi_fake.h"
#include "vmi/report.h"
#include "vmi/vmi.h"

#define PATCH_SIZE  12u
#define PATCHES_MAX 64u

static struct fake f;
static struct fake_world w;
static struct vmi v;
static struct vmi_container containers[8];
static bool built;
static struct vmi_cpu cpu0;

static void sink(void *ctx, const char *s, size_t n)
{
	bool *at_line_start = ctx;

	for (size_t i = 0; i < n; i++) {
		/* a body line never starts with '=' (it would read as a status line) */
		assert(!(*at_line_start && s[i] == '='));
		*at_line_start = s[i] == '\n';
	}
}

static void run(int (*fn)(struct vmi *, struct reply *, int, char **), const char *a0,
		const char *a1, const char *a2)
{
	char *argv[4] = {(char *)a0, (char *)a1, (char *)a2, NULL};
	int argc = a1 == NULL ? 1 : a2 == NULL ? 2 : 3;
	bool at_line_start = true;
	struct reply r;

	reply_init(&r, sink, &at_line_start);
	fn(&v, &r, argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t saved[PATCHES_MAX];
	uint64_t where[PATCHES_MAX];
	size_t n = 0;

	if (!built) {
		fake_init(&f, false);
		fake_world(&f, &w);
		cpu0 = f.cpu;
		built = true;
	}
	if (size < 1)
		return 0;
	f.cpu = cpu0;
	if (data[0] & 1) { /* as if caught in user mode after SWAPGS */
		f.cpu.user_mode = true;
		f.cpu.kernel_gs_base = f.cpu.gs_base;
		f.cpu.gs_base = 0;
		f.cpu.cr3 |= 1ull << 12;
	}
	for (size_t pos = 1; pos + PATCH_SIZE <= size && n < PATCHES_MAX; pos += PATCH_SIZE) {
		uint32_t off;
		uint64_t val;

		memcpy(&off, data + pos, 4);
		memcpy(&val, data + pos + 4, 8);
		where[n] = 0x100000u + off % (f.brk - 0x100000u - 8u);
		memcpy(&saved[n], f.ram + where[n], 8);
		memcpy(f.ram + where[n], &val, 8);
		n++;
	}

	memset(&v, 0, sizeof(v));
	v.containers = containers;
	v.containers_cap = sizeof(containers) / sizeof(containers[0]);
	if (vmi_open(&v, &f.mem, &f.prof, &f.cpu) == 0) {
		run(vmi_verb_ps, "ps", NULL, NULL);
		run(vmi_verb_ps, "ps", "--json", NULL);
		run(vmi_verb_containers, "containers", NULL, NULL);
		run(vmi_verb_containers, "containers", "--json", NULL);
		run(vmi_verb_inspect, "inspect", "web", NULL);
		run(vmi_verb_inspect, "inspect", "101", "--json");
	} else {
		assert(memchr(v.error, 0, sizeof(v.error)) != NULL && v.error[0] != '\0');
	}

	while (n-- > 0) /* undo, last first (patches may overlap) */
		memcpy(f.ram + where[n], &saved[n], 8);
	return 0;
}
