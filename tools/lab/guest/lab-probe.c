// SPDX-License-Identifier: MIT
/*
 * lab-probe: the lab guest's own view of the machine, printed in lines the end-to-end tests
 * parse (see tools/lab/guest/init). One static binary with sub-commands keeps the initramfs
 * small and every probe in one place.
 *
 *   lab-probe cpuid      GUEST-CPUID ...      what CPUID tells the guest about a hypervisor
 *   lab-probe tsc        <decimal>            RDTSC, to time the boot against the monitor's
 *   lab-probe reserved   GUEST-RESERVED ...   what the guest can read of firmware-reserved
 *                                             ranges (the monitor must be invisible there)
 *   lab-probe com2 N     <16 hex digits>      what the guest sees of the monitor's UART
 *
 * Built with: gcc -static -O2 -Wall -Wextra -Werror (tools/lab/mkinitrd.sh); `reserved` is
 * checked on the host by tools/lab/test-lab-probe.sh.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x86intrin.h>

#define PAGE_SIZE  4096u
#define CHUNK_SIZE (64u * 1024u)
/* Larger "Reserved" ranges are firmware volumes or MMIO windows, not where the core hides. */
#define RESERVED_MAX_SIZE (64ull * 1024 * 1024)
/* /sys/firmware/memmap has one entry per E820 entry: far fewer than this on any firmware. */
#define MEMMAP_MAX_ENTRIES 1024

/* The core's image starts with this (docs/console-protocol.md, `mem`). */
static const char core_magic[] = "CTRVISOR-CORE-MAGIC";
#define CORE_MAGIC_LEN (sizeof(core_magic) - 1)

/* The lab's monitor console: COM2 (docs/console-protocol.md). */
#define COM2_BASE  0x2f8u
#define UART_PORTS 8u

#define FNV1A64_OFFSET_BASIS 0xcbf29ce484222325ull
#define FNV1A64_PRIME        0x100000001b3ull

/* Prefix for /sys/firmware/memmap and /dev/mem, from $LAB_PROBE_ROOT (unset in the guest):
 * lets a host test feed `reserved` a fake memory map and a file as physical memory. */
static const char *probe_root(void)
{
	const char *root = getenv("LAB_PROBE_ROOT");

	return root ? root : "";
}

static int usage(void)
{
	fprintf(stderr, "usage: lab-probe cpuid | tsc | reserved | com2 N\n");
	return 2;
}

/* errno as one word (EPERM, EFAULT...), so a line stays a list of key=value fields. */
static const char *errno_word(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "unknown-errno";
}

/* ------------------------------------------------------------------------------- cpuid */

/* Whether the "flags" line of /proc/cpuinfo lists the word "vmx" (Linux hides the flag when
 * it cannot use VMX, so this can differ from CPUID.1:ECX[5]). */
static int cpuinfo_has_vmx(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!f)
		return 0;
	/* Only the first CPU's flags line: the lab guest is uniprocessor, and an SMP guest has
	 * the same feature set on every CPU. */
	while (getline(&line, &cap, f) >= 0) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		char *colon = strchr(line, ':');
		char *save = NULL;

		for (char *w = colon ? strtok_r(colon + 1, " \t\n", &save) : NULL; w;
		     w = strtok_r(NULL, " \t\n", &save)) {
			if (strcmp(w, "vmx") == 0) {
				found = 1;
				break;
			}
		}
		break;
	}
	free(line);
	fclose(f);
	return found;
}

static int cmd_cpuid(void)
{
	unsigned int eax, ebx, ecx, edx;
	unsigned int hv_eax, hv_ebx, hv_ecx, hv_edx;
	unsigned int l1_eax, l1_ebx, l1_ecx, l1_edx;
	char signature[13];

	/* CPUID.1:ECX[31] is reserved for hypervisors to set (SDM Vol. 2A, CPUID, Table 3-10);
	 * ECX[5] is VMX. */
	__cpuid(1, eax, ebx, ecx, edx);
	/* 0x40000000-0x400000FF are the hypervisor leaves by convention (Linux:
	 * arch/x86/kernel/cpu/hypervisor.c). Without a hypervisor, Intel CPUs answer with the
	 * highest basic leaf's data: printed as is, the tests know. __cpuid, not __get_cpuid,
	 * because the latter refuses leaves above the basic maximum. */
	__cpuid(0x40000000, hv_eax, hv_ebx, hv_ecx, hv_edx);
	__cpuid(0x40000001, l1_eax, l1_ebx, l1_ecx, l1_edx);

	memcpy(signature + 0, &hv_ebx, 4);
	memcpy(signature + 4, &hv_ecx, 4);
	memcpy(signature + 8, &hv_edx, 4);
	for (int i = 0; i < 12; i++) {
		unsigned char c = (unsigned char)signature[i];

		/* Printable without spaces, so the field stays one word. */
		if (c <= 0x20 || c >= 0x7f)
			signature[i] = '.';
	}
	signature[12] = '\0';

	printf("GUEST-CPUID hypervisor_bit=%u vmx_bit=%u max_leaf=0x%x signature=%s "
	       "leaf1=0x%x,0x%x,0x%x,0x%x cpuinfo_vmx=%d\n",
	       (ecx >> 31) & 1u, (ecx >> 5) & 1u, hv_eax, signature, l1_eax, l1_ebx, l1_ecx, l1_edx,
	       cpuinfo_has_vmx());
	return 0;
}

/* --------------------------------------------------------------------------------- tsc */

static int cmd_tsc(void)
{
	printf("%llu\n", (unsigned long long)__rdtsc());
	return 0;
}

/* ---------------------------------------------------------------------------- reserved */

struct memmap_entry {
	unsigned int index;
	uint64_t start;
	uint64_t end; /* inclusive, as /sys/firmware/memmap gives it */
	char type[64];
};

/* Reads one line of a sysfs file into buf, without the newline. */
static bool read_sysfs_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static bool read_sysfs_u64(const char *path, uint64_t *out)
{
	char buf[64];
	char *end;

	if (!read_sysfs_line(path, buf, sizeof(buf)))
		return false;
	errno = 0;
	*out = strtoull(buf, &end, 0);
	return errno == 0 && end != buf;
}

static int memmap_entry_cmp(const void *a, const void *b)
{
	const struct memmap_entry *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* Loads /sys/firmware/memmap/<N>/{start,end,type} (Linux: drivers/firmware/memmap.c), in
 * the order of N, which is the firmware's E820 order. */
static size_t load_memmap(struct memmap_entry *entries, size_t max)
{
	char base[256];
	DIR *dir;
	struct dirent *de;
	size_t n = 0;

	snprintf(base, sizeof(base), "%s/sys/firmware/memmap", probe_root());
	dir = opendir(base);
	if (!dir) {
		fprintf(stderr, "lab-probe: %s: %s\n", base, strerror(errno));
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		struct memmap_entry *e = &entries[n];
		/* base + "/" + d_name (at most 255) + "/start" */
		char path[sizeof(base) + 256 + 8];
		char *end;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (n == max) {
			/* Bound hit: say so rather than silently dropping ranges. */
			fprintf(stderr, "lab-probe: more than %zu memmap entries, rest ignored\n",
			        max);
			break;
		}
		e->index = (unsigned int)strtoul(de->d_name, &end, 10);
		snprintf(path, sizeof(path), "%s/%s/start", base, de->d_name);
		if (!read_sysfs_u64(path, &e->start))
			continue;
		snprintf(path, sizeof(path), "%s/%s/end", base, de->d_name);
		if (!read_sysfs_u64(path, &e->end) || e->end < e->start)
			continue;
		snprintf(path, sizeof(path), "%s/%s/type", base, de->d_name);
		if (!read_sysfs_line(path, e->type, sizeof(e->type)))
			continue;
		n++;
	}
	closedir(dir);
	qsort(entries, n, sizeof(entries[0]), memmap_entry_cmp);
	return n;
}

static bool page_is_zero(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static uint64_t fnv1a64(const unsigned char *p, size_t len)
{
	uint64_t h = FNV1A64_OFFSET_BASIS;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV1A64_PRIME;
	}
	return h;
}

/* Counts occurrences of the core magic in buf[0..len); overlapping ones count too. */
static unsigned long count_magic(const unsigned char *buf, size_t len)
{
	unsigned long hits = 0;
	const unsigned char *p = buf;
	const unsigned char *end = buf + len;

	while ((size_t)(end - p) >= CORE_MAGIC_LEN) {
		const unsigned char *m = memmem(p, (size_t)(end - p), core_magic, CORE_MAGIC_LEN);

		if (!m)
			break;
		hits++;
		p = m + 1;
	}
	return hits;
}

/* Reads exactly len bytes at physical address addr; returns 0 or an errno. */
static int pread_full(int fd, unsigned char *buf, size_t len, uint64_t addr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, buf + done, len - done, (off_t)(addr + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		/* /dev/mem never returns 0 inside a valid range; treat it as an I/O error
		 * rather than spinning. */
		if (r == 0)
			return EIO;
		done += (size_t)r;
	}
	return 0;
}

/*
 * One GUEST-RESERVED line for [start, end_excl). The range is read in 64 KiB chunks; pages
 * are 4 KiB blocks from the start of the range (a last partial page counts as a page). The
 * magic is searched in (last CORE_MAGIC_LEN-1 bytes of the previous chunk) + chunk, so a
 * match across a chunk boundary is found once: every match found ends inside the new chunk.
 * On a failed read, the counts cover what was read before it.
 *
 * What read(2) of /dev/mem allows (Linux 6.1, drivers/char/mem.c and arch/x86/mm/):
 *  - RAM above 1 MiB: EPERM (CONFIG_STRICT_DEVMEM), so only non-RAM ranges are probed;
 *  - ranges a driver claimed busy: EPERM unless iomem=relaxed (CONFIG_IO_STRICT_DEVMEM=y);
 *  - anything above high_memory (the end of the last "System RAM" E820 entry): EFAULT from
 *    valid_phys_addr_range(), before any access. A reserved range above the last RAM entry
 *    (OVMF puts some at the top of RAM) therefore reads as readable=0 error=EFAULT whether
 *    or not a monitor hides it: that line says nothing about the monitor. mmap(2) of
 *    /dev/mem has no such limit.
 */
static void probe_reserved_range(int mem_fd, int open_err, uint64_t start, uint64_t end_excl)
{
	static unsigned char window[CORE_MAGIC_LEN - 1 + CHUNK_SIZE];
	unsigned char *chunk = window + CORE_MAGIC_LEN - 1;
	uint64_t size = end_excl - start;
	uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t zero_pages = 0;
	unsigned long magic_hits = 0;
	uint64_t first_page_hash = 0;
	size_t carry = 0;
	int err = open_err;

	for (uint64_t off = 0; !err && off < size; off += CHUNK_SIZE) {
		size_t len = size - off < CHUNK_SIZE ? (size_t)(size - off) : CHUNK_SIZE;

		err = pread_full(mem_fd, chunk, len, start + off);
		if (err)
			break;
		if (off == 0)
			first_page_hash = fnv1a64(chunk, len < PAGE_SIZE ? len : PAGE_SIZE);
		for (size_t p = 0; p < len; p += PAGE_SIZE) {
			size_t plen = len - p < PAGE_SIZE ? len - p : PAGE_SIZE;

			zero_pages += page_is_zero(chunk + p, plen);
		}
		magic_hits += count_magic(chunk - carry, carry + len);
		/* Keep the tail for the next window: it must sit right before the chunk. */
		carry = len < CORE_MAGIC_LEN - 1 ? len : CORE_MAGIC_LEN - 1;
		memmove(chunk - carry, chunk + len - carry, carry);
	}

	printf("GUEST-RESERVED start=0x%" PRIx64 " end=0x%" PRIx64 " readable=%d pages=%" PRIu64
	       " zero_pages=%" PRIu64 " magic_hits=%lu first_page_fnv1a64=",
	       start, end_excl, err ? 0 : 1, pages, zero_pages, magic_hits);
	if (err)
		printf("- error=%s\n", errno_word(err));
	else
		printf("%016" PRIx64 "\n", first_page_hash);
	fflush(stdout);
}

static int cmd_reserved(void)
{
	static struct memmap_entry entries[MEMMAP_MAX_ENTRIES];
	size_t n = load_memmap(entries, MEMMAP_MAX_ENTRIES);
	unsigned int count = 0;
	char mem_path[256];
	int mem_fd, open_err;

	snprintf(mem_path, sizeof(mem_path), "%s/dev/mem", probe_root());
	mem_fd = open(mem_path, O_RDONLY | O_CLOEXEC);
	open_err = mem_fd < 0 ? errno : 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t size = entries[i].end - entries[i].start + 1;

		if (strcmp(entries[i].type, "Reserved") != 0 || size > RESERVED_MAX_SIZE)
			continue;
		probe_reserved_range(mem_fd, open_err, entries[i].start, entries[i].end + 1);
		count++;
	}
	if (mem_fd >= 0)
		close(mem_fd);
	printf("GUEST-RESERVED-DONE count=%u\n", count);
	return 0;
}

/* -------------------------------------------------------------------------------- com2 */

/*
 * Writes "GUEST-COM2-PROBE-<n>\n" to COM2's THR one byte at a time, then reads back all
 * eight UART registers. With the monitor owning COM2 the guest's port I/O is intercepted
 * (docs/console-protocol.md): the bytes must never reach the monitor's console, and the
 * reads should float (0xff). /dev/port's offset is the port number (Linux:
 * drivers/char/mem.c, read_port/write_port).
 */
static int cmd_com2(const char *arg)
{
	char msg[64];
	char *end;
	unsigned long n;
	int fd, len;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end)
		return usage();
	len = snprintf(msg, sizeof(msg), "GUEST-COM2-PROBE-%lu\n", n);

	fd = open("/dev/port", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "lab-probe: /dev/port: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < len; i++) {
		if (pwrite(fd, &msg[i], 1, COM2_BASE) != 1) {
			fprintf(stderr, "lab-probe: write port 0x%x: %s\n", COM2_BASE,
			        strerror(errno));
			close(fd);
			return 1;
		}
	}

	char out[UART_PORTS * 2 + 1];

	for (unsigned int port = 0; port < UART_PORTS; port++) {
		unsigned char b;

		if (pread(fd, &b, 1, COM2_BASE + port) != 1) {
			fprintf(stderr, "lab-probe: read port 0x%x: %s\n", COM2_BASE + port,
			        strerror(errno));
			close(fd);
			return 1;
		}
		snprintf(out + port * 2, 3, "%02x", b);
	}
	close(fd);
	printf("%s\n", out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "cpuid") == 0)
		return cmd_cpuid();
	if (argc == 2 && strcmp(argv[1], "tsc") == 0)
		return cmd_tsc();
	if (argc == 2 && strcmp(argv[1], "reserved") == 0)
		return cmd_reserved();
	if (argc == 3 && strcmp(argv[1], "com2") == 0)
		return cmd_com2(argv[2]);
	return usage();
}
