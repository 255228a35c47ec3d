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
 *   lab-probe truth [SEQ] GUEST-TRUTH-BEGIN...  every process and container, as the guest
 *                         ...GUEST-TRUTH-END     itself sees them (format: "truth" below)
 *   lab-probe spawn N                           N extra sleeping processes (benchmarks)
 *   lab-probe idle N [UID]                      a host daemon with N extra threads
 *   lab-probe pciw DEV FN OFF VALUE  GUEST-PCIW ...  a PCI configuration write on bus 0
 *                         through 0xCF8/0xCFC, the dword before and after; put back when it
 *                         took (the monitor must refuse moving the ACPI PM1 block)
 *
 * Built with: gcc -static -O2 -Wall -Wextra -Werror (tools/lab/mkinitrd.sh); `reserved` and
 * the form of `truth` are checked on the host by tools/lab/test-lab-probe.sh.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
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
	fprintf(stderr, "usage: lab-probe cpuid | tsc | reserved | com2 N | truth [SEQ] | spawn N |"
			" idle N [UID] | pciw DEV FN OFF VALUE | as UID PROG [ARGS...]\n");
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
 * reads return the monitor's fixed view. Each byte waits (bounded) for the line status
 * register to say the transmitter is empty, as a driver would: without the monitor every
 * byte then really goes out on the wire, so the check that none arrives can fail.
 * /dev/port's offset is the port number (Linux: drivers/char/mem.c, read_port/write_port).
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
		for (int spin = 0; spin < 100000; spin++) {
			unsigned char lsr;
			if (pread(fd, &lsr, 1, COM2_BASE + 5) != 1 || (lsr & 0x20))
				break; /* THRE: the holding register takes a byte */
		}
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

/* ------------------------------------------------------------------------------- truth */

/*
 * `lab-probe truth [SEQ]`: the guest's own view of its processes and containers, which the
 * introspection tests compare with what the monitor (live) or hvctl (on a dump) reads from
 * guest memory. One block on stdout, written with a single write(2) so that nothing another
 * process writes to the console lands inside it (a tty write holds the tty's write lock for
 * the whole call; kernel messages do not take it, and the lab boots with `quiet`):
 *
 *   GUEST-TRUTH-BEGIN seq=<SEQ> uptime=<s> self=<pid> settled=<0|1>
 *   CONTAINER id=<id> pid=<pid> status=<status> bundle=<path> hostname=<name> cgroup=<path>
 *   CONTAINER-PS id=<id> pids=<pid>,<pid>,...
 *   PROC pid=<pid> ppid=<pid> comm=<comm> uid=<uid> state=<c> threads=<n> kthread=<0|1>
 *        start=<ticks> nspid=<pid> ns_pid=<ino> ns_mnt=<ino> ns_uts=<ino> ns_ipc=<ino>
 *        ns_net=<ino> ns_cgroup=<ino> cgroup=<path> cmdline=<arg>,<arg>,... name=<name>
 *   ERROR what=<what> detail=<detail>
 *   GUEST-TRUTH-END seq=<SEQ> procs=<PROC lines> containers=<CONTAINER lines> errors=<n>
 *
 * (PROC is one line; it is wrapped here only.) Every line is "TAG key=value key=value...":
 * values never contain spaces, so splitting a line on spaces and each word at its first '='
 * gives the fields; fields may be added at the end of a line later, so parse by name.
 *
 * Encoding of text values (comm, name, bundle, hostname, cgroup, each cmdline argument,
 * detail):
 * every byte outside 0x21..0x7e, and '%' and ',', is written as %XX (two uppercase hex
 * digits); all other bytes as they are. Python: urllib.parse.unquote_to_bytes(v).
 *
 *   seq       the SEQ argument (default 0): /init prints seq=0 once the containers run and
 *             seq=1, 2... each time /tmp/print-truth appears; a reader wants the last one.
 *   uptime    /proc/uptime when the pass over /proc began.
 *   self      the pid of the lab-probe that printed the block. It has no PROC line: it is
 *             gone by the time anyone compares (the crun processes it ran are too).
 *   settled   1 if, before the block was taken, two passes 0.1 s apart saw the same
 *             processes (pid, ppid, comm): the containers' workloads had finished forking
 *             and exec'ing. 0 if that did not happen within 3 s (the block is still valid,
 *             just taken while something was starting or exiting).
 *   CONTAINER one per container `crun list --format=json` knows, sorted by id: id, pid
 *             (host pid of the container's init; 0 if not running), status and bundle as
 *             crun reports them; hostname is uname()'s nodename read inside the container's
 *             uts namespace (setns), cgroup the "0::" line of /proc/<pid>/cgroup: both "-"
 *             when the container has no running init.
 *   CONTAINER-PS  the host pids `crun ps --format=json <id>` prints, in its order (empty:
 *             "pids="); one line per CONTAINER line.
 *   PROC      one per /proc/<pid> (thread-group leaders: pid = tgid), ascending pid,
 *             kernel threads included:
 *     ppid, state (one letter), threads (num_threads), start (start time in clock ticks,
 *             USER_HZ=100, since boot: task->start_boottime)  from /proc/<pid>/stat;
 *     comm    task->comm exactly (up to 15 bytes), from the first line of /proc/<pid>/sched
 *             ("<comm> (<pid>, #threads: <n>)"; CONFIG_SCHED_DEBUG, which Debian has);
 *             without that file: name cut to 15 bytes (wrong only for workqueue workers);
 *     name    what /proc/<pid>/stat and ps show, which is comm except for kernel threads:
 *             their full name (rcu_tasks_kthread, whose comm is "rcu_tasks_kthre") and, for
 *             workqueue workers, comm plus "-" or "+" and the last work's queue
 *             (kworker/0:1-events); last on the line;
 *     kthread 1 if PF_KTHREAD (0x00200000) is set in /proc/<pid>/stat's flags (field 9),
 *             else 0 (kernel threads also have an empty cmdline and, but for kthreadd
 *             itself, ppid 2; the flag is what the kernel uses);
 *     uid     the real uid, first field of "Uid:" in /proc/<pid>/status;
 *     nspid   the last field of "NSpid:" in /proc/<pid>/status: the pid inside the
 *             process's own pid namespace (= pid for host processes);
 *     ns_*    the inode number in /proc/<pid>/ns/{pid,mnt,uts,ipc,net,cgroup} ("pid:[N]");
 *             ns_pid is the namespace of the process's pid, not pid_for_children;
 *     cgroup  the cgroup v2 path, the "0::" line of /proc/<pid>/cgroup, as seen from the
 *             initial cgroup namespace (e.g. /lab/busy; "/" for the root);
 *     cmdline /proc/<pid>/cmdline (mm->arg_start..arg_end): one trailing NUL dropped, every
 *             other NUL written as ',' (so "sleep\0100\0" -> "sleep,100"); empty for kernel
 *             threads and zombies (also for a single empty argument); cut at 128 KiB.
 *     A value that cannot be read (the process exited half-way, or a zombie has no
 *     namespaces) is "-". A process that is gone before its stat file is read is left out.
 *   ERROR     something the block could not learn (crun failed...): a test must fail on it.
 *
 * What the lab guest runs (tools/lab/guest/init, tools/lab/mkbundles.py): pid 1 (/init),
 * the host daemons `sleep 1000000` and `lab-probe idle 3 1000` (uid 1000, 4 threads), and
 * the containers (crun ids = names; hostname lab-<name>; cgroup /lab/<name>; own pid, mnt,
 * uts, ipc, net and cgroup namespaces): sleeper (uid 1001: sh + sleep), busy (sh alone,
 * CPU-bound but capped at 10 % by cpu.max, counting in /tmp/counter, which the host sees as
 * /containers/busy/rootfs/tmp/counter) and tree (sh with children sleep, sh, sleep; the
 * middle sh has a sleep child); with lab.spawn=N also N `lab-spawn` processes, children of
 * pid 1. tools/lab/truth.py parses and checks a block.
 *
 * Consistency: after the settle step the crun queries run, then one pass over /proc reads
 * everything into memory, then the block is formatted and written. The block is that one
 * pass, not an atomic snapshot: a process that starts or exits during the pass may be
 * missing or listed although gone, and its fields are read a few syscalls apart. In the
 * lab nothing starts or exits then (the workloads run builtins, /init waits for the block);
 * what /init's heartbeat runs afterwards, one `sleep 2` (cmdline "sleep,2") and now and
 * then a `lab-probe com2 N`, children of pid 1, is what a later view of the guest (a dump,
 * the live monitor) may hold and the block cannot. Fields that change by themselves (state,
 * and the busy container's "R") are as read in the pass.
 */

#define PF_KTHREAD       0x00200000u
#define CMDLINE_MAX      (128u * 1024u)
#define TRUTH_CONTAINERS 64
#define NS_COUNT         6

static const char *const ns_names[NS_COUNT] = {"pid", "mnt", "uts", "ipc", "net", "cgroup"};

struct proc_info {
	int pid;
	int ppid;
	char comm[64]; /* task->comm */
	char name[64]; /* the name /proc/<pid>/stat shows */
	char state;
	long threads;
	unsigned int flags;
	unsigned long long start;
	long uid;   /* -1: unknown */
	long nspid; /* -1: unknown */
	unsigned long long ns[NS_COUNT];
	bool ns_ok[NS_COUNT];
	char *cgroup;  /* NULL: unknown */
	char *cmdline; /* raw bytes, NULL: unknown */
	size_t cmdline_len;
};

struct container_info {
	char *id;
	char *status;
	char *bundle;
	long pid;
	char hostname[65]; /* "" when unknown */
	char *cgroup;
	int *ps;
	size_t nps;
	bool ps_ok;
};

struct truth {
	FILE *out;
	unsigned int errors;
};

/* Writes bytes as one value: see the encoding above. */
static void put_encoded(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == '%' || c == ',')
			fprintf(f, "%%%02X", c);
		else
			fputc(c, f);
	}
}

static void put_str(FILE *f, const char *s)
{
	if (s)
		put_encoded(f, s, strlen(s));
	else
		fputc('-', f);
}

static void truth_error(struct truth *t, const char *what, const char *detail)
{
	fprintf(t->out, "ERROR what=%s detail=", what);
	put_str(t->out, detail);
	fputc('\n', t->out);
	t->errors++;
}

/* Reads a whole file (relative to dfd) into a NUL-terminated malloc'd buffer, at most max
 * bytes; NULL on error. /proc files report size 0, so read until EOF. */
static char *read_file_at(int dfd, const char *name, size_t max, size_t *len_out)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (len < max) {
		ssize_t r;

		if (len == cap) {
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *nbuf = realloc(buf, ncap + 1);

			if (!nbuf)
				break;
			buf = nbuf;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

/* The start of the line after the one at line; NULL after the last. */
static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

/* /proc/<pid>/stat: "pid (comm) state ppid ...". comm may hold spaces and parentheses, so
 * it ends at the last ')'. */
static bool parse_stat(const char *buf, struct proc_info *p)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	size_t n;

	if (!open || !close || close < open)
		return false;
	n = (size_t)(close - open - 1);
	if (n >= sizeof(p->name))
		n = sizeof(p->name) - 1;
	memcpy(p->name, open + 1, n);
	p->name[n] = '\0';
	/* Fields 3 (state), 4 (ppid), 9 (flags), 20 (num_threads), 22 (starttime). */
	return sscanf(close + 1,
		      " %c %d %*d %*d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld %*d"
		      " %llu",
		      &p->state, &p->ppid, &p->flags, &p->threads, &p->start) == 5;
}

/*
 * task->comm from the first line of /proc/<pid>/sched, "<comm> (<pid>, #threads: <n>)"
 * (kernel/sched/debug.c prints p->comm itself, where /proc/<pid>/stat and comm show a
 * kernel thread's full name). comm may hold " (" itself: the marker with our pid, at most
 * 15 bytes in, is where it ends.
 */
static bool parse_sched_comm(const char *buf, int pid, char *out, size_t len)
{
	char marker[48];
	const char *m;
	size_t n;

	snprintf(marker, sizeof(marker), " (%d, #threads: ", pid);
	m = strstr(buf, marker);
	if (!m || m - buf > 15)
		return false;
	n = (size_t)(m - buf);
	if (n >= len)
		return false;
	memcpy(out, buf, n);
	out[n] = '\0';
	return true;
}

static void parse_status(const char *buf, struct proc_info *p)
{
	for (const char *line = buf; line && *line; line = next_line(line)) {
		if (strncmp(line, "Uid:", 4) == 0) {
			p->uid = strtol(line + 4, NULL, 10);
		} else if (strncmp(line, "NSpid:", 6) == 0) {
			const char *q = line + 6;
			char *end;

			/* The last number on the line: the innermost namespace's pid. */
			for (;;) {
				long v = strtol(q, &end, 10);

				if (end == q)
					break;
				p->nspid = v;
				q = end;
			}
		}
	}
}

/* "pid:[4026531836]" -> 4026531836 */
static bool read_ns_inode(int dfd, const char *name, unsigned long long *ino)
{
	char path[32], link[64];
	ssize_t n;
	const char *b;

	snprintf(path, sizeof(path), "ns/%s", name);
	n = readlinkat(dfd, path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	b = strchr(link, '[');
	if (!b)
		return false;
	*ino = strtoull(b + 1, NULL, 10);
	return true;
}

/* The "0::<path>" line of a /proc/<pid>/cgroup text, malloc'd; NULL if absent. */
static char *cgroup_v2_path(const char *buf)
{
	for (const char *line = buf; line && *line; line = next_line(line)) {
		if (strncmp(line, "0::", 3) == 0) {
			size_t n = strcspn(line + 3, "\n");

			return strndup(line + 3, n);
		}
	}
	return NULL;
}

static char *read_cgroup_at(int dfd)
{
	char *buf = read_file_at(dfd, "cgroup", 64 * 1024, NULL);
	char *path = buf ? cgroup_v2_path(buf) : NULL;

	free(buf);
	return path;
}

/* Reads everything about one process; false if it is gone before its stat was read. */
static bool read_proc(int procfd, int pid, struct proc_info *p)
{
	char name[16], *buf;
	int dfd;
	bool ok;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->uid = -1;
	p->nspid = -1;
	snprintf(name, sizeof(name), "%d", pid);
	/* One directory fd for all reads: if the pid were reused meanwhile the reads would
	 * fail (ESRCH) rather than describe another process. */
	dfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	buf = read_file_at(dfd, "stat", 4096, NULL);
	ok = buf && parse_stat(buf, p);
	free(buf);
	if (!ok) {
		close(dfd);
		return false;
	}
	buf = read_file_at(dfd, "sched", 256, NULL);
	if (!buf || !parse_sched_comm(buf, pid, p->comm, sizeof(p->comm))) {
		/* set_task_comm() keeps TASK_COMM_LEN - 1 = 15 bytes */
		snprintf(p->comm, sizeof(p->comm), "%.15s", p->name);
	}
	free(buf);
	buf = read_file_at(dfd, "status", 64 * 1024, NULL);
	if (buf)
		parse_status(buf, p);
	free(buf);
	for (int i = 0; i < NS_COUNT; i++)
		p->ns_ok[i] = read_ns_inode(dfd, ns_names[i], &p->ns[i]);
	p->cgroup = read_cgroup_at(dfd);
	p->cmdline = read_file_at(dfd, "cmdline", CMDLINE_MAX, &p->cmdline_len);
	close(dfd);
	return true;
}

static void put_proc(FILE *f, const struct proc_info *p)
{
	fprintf(f, "PROC pid=%d ppid=%d comm=", p->pid, p->ppid);
	put_str(f, p->comm);
	if (p->uid >= 0)
		fprintf(f, " uid=%ld", p->uid);
	else
		fputs(" uid=-", f);
	fprintf(f, " state=%c threads=%ld kthread=%d start=%llu", p->state, p->threads,
		(p->flags & PF_KTHREAD) ? 1 : 0, p->start);
	if (p->nspid >= 0)
		fprintf(f, " nspid=%ld", p->nspid);
	else
		fputs(" nspid=-", f);
	for (int i = 0; i < NS_COUNT; i++) {
		if (p->ns_ok[i])
			fprintf(f, " ns_%s=%llu", ns_names[i], p->ns[i]);
		else
			fprintf(f, " ns_%s=-", ns_names[i]);
	}
	fputs(" cgroup=", f);
	put_str(f, p->cgroup);
	fputs(" cmdline=", f);
	if (!p->cmdline) {
		fputc('-', f);
	} else {
		size_t len = p->cmdline_len;

		if (len && p->cmdline[len - 1] == '\0')
			len--;
		for (size_t i = 0, start = 0; i <= len; i++) {
			if (i == len || p->cmdline[i] == '\0') {
				if (start)
					fputc(',', f);
				put_encoded(f, p->cmdline + start, i - start);
				start = i + 1;
			}
		}
	}
	fputs(" name=", f);
	put_str(f, p->name);
	fputc('\n', f);
}

static int int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* All numeric entries of /proc, ascending; NULL on error. */
static int *list_pids(size_t *count)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	size_t n = 0, cap = 256;
	int *pids = malloc(cap * sizeof(*pids));

	if (!dir || !pids) {
		if (dir)
			closedir(dir);
		free(pids);
		return NULL;
	}
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long v = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || v <= 0)
			continue;
		if (n == cap) {
			int *np = realloc(pids, cap * 2 * sizeof(*pids));

			if (!np)
				break;
			pids = np;
			cap *= 2;
		}
		pids[n++] = (int)v;
	}
	closedir(dir);
	qsort(pids, n, sizeof(*pids), int_cmp);
	*count = n;
	return pids;
}

/* ---- crun */

/* Runs argv (found on $PATH) with stdin from /dev/null and returns its stdout, malloc'd and
 * NUL-terminated; NULL and a reason in why if it could not run or did not exit 0. Its
 * stderr goes where ours goes (the console): crun's own message is the best diagnosis. */
static char *run_capture(char *const argv[], char *why, size_t whylen)
{
	int fds[2], status;
	pid_t pid;
	char *buf;
	size_t len = 0, cap = 4096;

	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe:%s", errno_word(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork:%s", errno_word(errno));
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		execvp(argv[0], argv);
		fprintf(stderr, "lab-probe: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	buf = malloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (buf && len == cap) {
			char *nb = realloc(buf, cap * 2 + 1);

			if (!nb) {
				free(buf);
				buf = NULL;
			} else {
				buf = nb;
				cap *= 2;
			}
		}
		if (!buf) {
			/* Out of memory: drain so the child does not block, then fail. */
			char sink[4096];

			r = read(fds[0], sink, sizeof(sink));
		} else {
			r = read(fds[0], buf + len, cap - len);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf)
			len += (size_t)r;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!buf) {
		snprintf(why, whylen, "out-of-memory");
		return NULL;
	}
	buf[len] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			snprintf(why, whylen, "exit-status-%d", WEXITSTATUS(status));
		else
			snprintf(why, whylen, "signal-%d", WTERMSIG(status));
		free(buf);
		return NULL;
	}
	return buf;
}

/* A tokenizer for the little JSON crun prints (arrays of flat objects, arrays of numbers):
 * enough to read it, not a validator. */
enum json_tok { J_END, J_ERR, J_PUNCT, J_STRING, J_NUMBER, J_LITERAL };

struct json {
	const char *p;
	char punct;     /* J_PUNCT: one of [ ] { } : , */
	char str[4096]; /* J_STRING: the decoded string (ASCII escapes only) */
	long long num;  /* J_NUMBER */
};

static enum json_tok json_next(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
	if (!*j->p)
		return J_END;
	if (strchr("[]{}:,", *j->p)) {
		j->punct = *j->p++;
		return J_PUNCT;
	}
	if (*j->p == '"') {
		size_t n = 0;

		j->p++;
		while (*j->p && *j->p != '"') {
			char c = *j->p++;

			if (c == '\\') {
				static const char from[] = "ntrbf", to[] = "\n\t\r\b\f";
				const char *k;

				c = *j->p++;
				if (c == '\0')
					return J_ERR;
				if (c == 'u') {
					char hex[5] = {0};
					unsigned long v;

					for (int i = 0; i < 4 && *j->p; i++)
						hex[i] = *j->p++;
					v = strtoul(hex, NULL, 16);
					/* crun's ids and paths are ASCII: else '?' */
					c = v < 0x80 ? (char)v : '?';
				} else if ((k = strchr(from, c)) != NULL) {
					c = to[k - from];
				} /* else \" \\ \/: the character itself */
			}
			if (n + 1 >= sizeof(j->str))
				return J_ERR;
			j->str[n++] = c;
		}
		if (*j->p != '"')
			return J_ERR;
		j->p++;
		j->str[n] = '\0';
		return J_STRING;
	}
	if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
		char *end;

		j->num = strtoll(j->p, &end, 10);
		/* Skip a fraction or exponent: crun prints none. */
		while (*end && !strchr(" \n\t\r,]}", *end))
			end++;
		j->p = end;
		return J_NUMBER;
	}
	if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) == 0) {
		j->p += 4;
		return J_LITERAL;
	}
	if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		return J_LITERAL;
	}
	return J_ERR;
}

static bool json_punct(struct json *j, char c)
{
	return json_next(j) == J_PUNCT && j->punct == c;
}

/* `crun list --format=json`: [ {"id": "...", "pid": N, "status": "...", "bundle": "...",
 * "created": "...", "owner": "..."}, ... ] (crun 1.8.1: libcrun_write_json_containers_list).
 * Returns the number of containers, or -1 if the text is not that. */
static int parse_crun_list(const char *text, struct container_info *c, int max)
{
	struct json j = {.p = text};
	int n = 0;
	enum json_tok t;

	if (!json_punct(&j, '['))
		return -1;
	t = json_next(&j);
	if (t == J_PUNCT && j.punct == ']')
		return 0;
	for (;;) {
		struct container_info ci = {.pid = 0};

		if (t != J_PUNCT || j.punct != '{')
			return -1;
		t = json_next(&j);
		while (!(t == J_PUNCT && j.punct == '}')) {
			char key[32];

			if (t != J_STRING)
				return -1;
			/* A longer key is none of the ones we want: cut it. */
			size_t klen = strnlen(j.str, sizeof(key) - 1);

			memcpy(key, j.str, klen);
			key[klen] = '\0';
			if (!json_punct(&j, ':'))
				return -1;
			t = json_next(&j);
			if (t == J_STRING && strcmp(key, "id") == 0)
				ci.id = strdup(j.str);
			else if (t == J_STRING && strcmp(key, "status") == 0)
				ci.status = strdup(j.str);
			else if (t == J_STRING && strcmp(key, "bundle") == 0)
				ci.bundle = strdup(j.str);
			else if (t == J_NUMBER && strcmp(key, "pid") == 0)
				ci.pid = (long)j.num;
			else if (t != J_STRING && t != J_NUMBER && t != J_LITERAL)
				return -1;
			t = json_next(&j);
			if (t == J_PUNCT && j.punct == ',')
				t = json_next(&j);
		}
		if (!ci.id)
			return -1;
		if (n < max)
			c[n++] = ci;
		t = json_next(&j);
		if (t == J_PUNCT && j.punct == ']')
			return n;
		if (t != J_PUNCT || j.punct != ',')
			return -1;
		t = json_next(&j);
	}
}

/* `crun ps --format=json ID`: [ N, N, ... ] (crun 1.8.1 src/ps.c). */
static bool parse_crun_ps(const char *text, struct container_info *c)
{
	struct json j = {.p = text};
	enum json_tok t;
	size_t cap = 0;

	if (!json_punct(&j, '['))
		return false;
	for (t = json_next(&j); !(t == J_PUNCT && j.punct == ']'); t = json_next(&j)) {
		if (t == J_PUNCT && j.punct == ',')
			continue;
		if (t != J_NUMBER)
			return false;
		if (c->nps == cap) {
			int *np = realloc(c->ps, (cap ? cap * 2 : 16) * sizeof(*np));

			if (!np)
				return false;
			c->ps = np;
			cap = cap ? cap * 2 : 16;
		}
		c->ps[c->nps++] = (int)j.num;
	}
	return true;
}

/* uname()'s nodename inside the uts namespace of pid: what `hostname` prints in there. */
static bool ns_hostname(long pid, char *out, size_t len, char *why, size_t whylen)
{
	char path[64];
	struct utsname u;
	int self, target;
	bool ok = false;

	self = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%ld/ns/uts", pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (self < 0 || target < 0) {
		snprintf(why, whylen, "open-ns:%s", errno_word(errno));
	} else if (setns(target, CLONE_NEWUTS) < 0) {
		snprintf(why, whylen, "setns:%s", errno_word(errno));
	} else {
		ok = uname(&u) == 0;
		if (ok)
			snprintf(out, len, "%s", u.nodename);
		/* Back home: our own later reads must not happen in the container's namespace
		 * (nothing else of ours depends on it, but stay honest). */
		if (setns(self, CLONE_NEWUTS) < 0) {
			fprintf(stderr, "lab-probe: cannot return to own uts namespace: %s\n",
				strerror(errno));
			exit(1);
		}
		if (!ok)
			snprintf(why, whylen, "uname:%s", errno_word(errno));
	}
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return ok;
}

static int container_cmp(const void *a, const void *b)
{
	return strcmp(((const struct container_info *)a)->id,
		      ((const struct container_info *)b)->id);
}

static int collect_containers(struct truth *t, struct container_info *c, int max)
{
	char why[128];
	char *list_argv[] = {"crun", "list", "--format=json", NULL};
	char *text = run_capture(list_argv, why, sizeof(why));
	int n;

	if (!text) {
		truth_error(t, "crun-list", why);
		return 0;
	}
	n = parse_crun_list(text, c, max);
	free(text);
	if (n < 0) {
		truth_error(t, "crun-list", "unparsable-output");
		return 0;
	}
	qsort(c, (size_t)n, sizeof(*c), container_cmp);
	for (int i = 0; i < n; i++) {
		char *ps_argv[] = {"crun", "ps", "--format=json", c[i].id, NULL};

		text = run_capture(ps_argv, why, sizeof(why));
		if (!text) {
			truth_error(t, "crun-ps", why);
		} else if (!(c[i].ps_ok = parse_crun_ps(text, &c[i]))) {
			truth_error(t, "crun-ps", "unparsable-output");
		}
		free(text);
		if (c[i].pid > 0) {
			char path[32];
			int dfd;

			if (!ns_hostname(c[i].pid, c[i].hostname, sizeof(c[i].hostname), why,
					 sizeof(why)))
				truth_error(t, "container-hostname", why);
			snprintf(path, sizeof(path), "/proc/%ld", c[i].pid);
			dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				c[i].cgroup = read_cgroup_at(dfd);
				close(dfd);
			}
			if (!c[i].cgroup)
				truth_error(t, "container-cgroup", c[i].id);
		}
	}
	return n;
}

static void put_containers(FILE *f, const struct container_info *c, int n)
{
	for (int i = 0; i < n; i++) {
		fputs("CONTAINER id=", f);
		put_str(f, c[i].id);
		fprintf(f, " pid=%ld status=", c[i].pid);
		put_str(f, c[i].status);
		fputs(" bundle=", f);
		put_str(f, c[i].bundle);
		fputs(" hostname=", f);
		put_str(f, c[i].hostname[0] ? c[i].hostname : NULL);
		fputs(" cgroup=", f);
		put_str(f, c[i].cgroup);
		fputc('\n', f);
	}
	for (int i = 0; i < n; i++) {
		fputs("CONTAINER-PS id=", f);
		put_str(f, c[i].id);
		fputs(" pids=", f);
		for (size_t k = 0; k < c[i].nps; k++)
			fprintf(f, "%s%d", k ? "," : "", c[i].ps[k]);
		fputc('\n', f);
	}
}

/*
 * Waits until the process list is quiet: two passes over /proc, SETTLE_INTERVAL_US apart,
 * that see the same (pid, ppid, comm) everywhere. A container's init returns from
 * `crun run --detach` while its workload is still forking and exec'ing children (a child
 * runs as "sh" until its exec makes it "sleep"); the block must not catch that half-way.
 * Gives up after SETTLE_TRIES and says so (settled=0): the kernel's own workers may come
 * and go at any time.
 */
#define SETTLE_INTERVAL_US 100000
#define SETTLE_TRIES       30

static uint64_t proc_signature(int procfd, int self)
{
	size_t n = 0;
	int *pids = list_pids(&n);
	uint64_t h = FNV1A64_OFFSET_BASIS;

	for (size_t i = 0; pids && i < n; i++) {
		char name[16], *buf;
		struct proc_info p = {0};

		if (pids[i] == self)
			continue;
		snprintf(name, sizeof(name), "%d/stat", pids[i]);
		buf = read_file_at(procfd, name, 4096, NULL);
		if (!buf || !parse_stat(buf, &p)) {
			free(buf);
			continue;
		}
		free(buf);
		h = (h ^ (uint64_t)pids[i]) * FNV1A64_PRIME;
		h = (h ^ (uint64_t)p.ppid) * FNV1A64_PRIME;
		h ^= fnv1a64((const unsigned char *)p.name, strlen(p.name));
		h *= FNV1A64_PRIME;
	}
	free(pids);
	return h;
}

static bool settle(int procfd, int self)
{
	uint64_t prev = proc_signature(procfd, self);

	for (int i = 0; i < SETTLE_TRIES; i++) {
		uint64_t cur;

		usleep(SETTLE_INTERVAL_US);
		cur = proc_signature(procfd, self);
		if (cur == prev)
			return true;
		prev = cur;
	}
	return false;
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		buf += w;
		len -= (size_t)w;
	}
	return true;
}

static int cmd_truth(const char *seq_arg)
{
	static struct container_info containers[TRUTH_CONTAINERS];
	struct truth t = {0};
	char *block = NULL, uptime[32] = "-";
	size_t block_len = 0, npids = 0, nprocs = 0;
	unsigned long seq = 0;
	struct proc_info *procs;
	int ncont, procfd, *pids, self = getpid();
	bool settled;

	if (seq_arg) {
		char *end;

		errno = 0;
		seq = strtoul(seq_arg, &end, 10);
		if (errno || end == seq_arg || *end)
			return usage();
	}
	/* The body is formatted in memory, the BEGIN line (which needs nothing) added last. */
	t.out = open_memstream(&block, &block_len);
	if (!t.out) {
		perror("lab-probe: open_memstream");
		return 1;
	}

	procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	settled = procfd >= 0 && settle(procfd, self);
	ncont = collect_containers(&t, containers, TRUTH_CONTAINERS);

	/* The one pass over /proc. */
	pids = list_pids(&npids);
	procs = calloc(npids ? npids : 1, sizeof(*procs));
	if (procfd < 0 || !pids || !procs) {
		truth_error(&t, "proc", errno_word(errno));
		npids = 0;
	}
	{
		char *up = read_file_at(AT_FDCWD, "/proc/uptime", 64, NULL);

		if (up)
			sscanf(up, "%31s", uptime);
		free(up);
	}
	for (size_t i = 0; i < npids; i++) {
		if (pids[i] == self)
			continue;
		if (read_proc(procfd, pids[i], &procs[nprocs]))
			nprocs++;
	}
	if (procfd >= 0)
		close(procfd);

	put_containers(t.out, containers, ncont);
	for (size_t i = 0; i < nprocs; i++)
		put_proc(t.out, &procs[i]);
	fprintf(t.out, "GUEST-TRUTH-END seq=%lu procs=%zu containers=%d errors=%u\n", seq, nprocs,
		ncont, t.errors);
	if (fclose(t.out) != 0 || !block) {
		perror("lab-probe: formatting the truth block");
		return 1;
	}

	{
		char begin[128];
		int blen = snprintf(begin, sizeof(begin),
				    "GUEST-TRUTH-BEGIN seq=%lu uptime=%s self=%d settled=%d\n", seq,
				    uptime, self, settled ? 1 : 0);
		char *all = malloc((size_t)blen + block_len);

		if (!all) {
			perror("lab-probe: malloc");
			return 1;
		}
		memcpy(all, begin, (size_t)blen);
		memcpy(all + blen, block, block_len);
		if (!write_all(STDOUT_FILENO, all, (size_t)blen + block_len)) {
			perror("lab-probe: write");
			return 1;
		}
		free(all);
	}
	free(block);
	/* The process exits now: the rest is the kernel's to free. */
	return t.errors ? 1 : 0;
}

/* ------------------------------------------------------------------------ spawn / idle */

static bool parse_count(const char *arg, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(arg, &end, 10);
	return !errno && end != arg && !*end && *out <= max;
}

/*
 * `lab-probe spawn N`: N children that sleep forever (pause), then the parent exits, so
 * they become children of pid 1 like any daemon. fork without exec: a thousand of them
 * start in a fraction of a second even under TCG, and cost little memory (shared pages).
 * Their comm is "lab-spawn", their cmdline the parent's ("lab-probe,spawn,N").
 */
static int cmd_spawn(const char *arg)
{
	unsigned long n;

	if (!parse_count(arg, 100000, &n))
		return usage();
	fflush(stdout);
	for (unsigned long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			fprintf(stderr, "lab-probe: spawn: fork %lu of %lu: %s\n", i + 1, n,
				strerror(errno));
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_NAME, "lab-spawn", 0, 0, 0);
			for (;;)
				pause();
		}
	}
	return 0;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * `lab-probe idle N [UID]`: a host daemon (run it with &) that sleeps forever with N extra
 * threads, as UID (gid = UID too) when given: gives the truth a multi-threaded process and
 * a non-root one, so thread counts and uids are checked against something other than 1 and 0.
 */
static int cmd_idle(const char *nthreads, const char *uid_arg)
{
	unsigned long n, uid;

	if (!parse_count(nthreads, 64, &n))
		return usage();
	if (uid_arg) {
		if (!parse_count(uid_arg, 65534, &uid))
			return usage();
		if (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0) {
			fprintf(stderr, "lab-probe: idle: cannot become uid %lu: %s\n", uid,
				strerror(errno));
			return 1;
		}
	}
	for (unsigned long i = 0; i < n; i++) {
		pthread_t th;
		int err = pthread_create(&th, NULL, idle_thread, NULL);

		if (err) {
			fprintf(stderr, "lab-probe: idle: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	for (;;)
		pause();
}

/* ------------------------------------------------------------------------------- pciw */

static uint32_t pci_cf8(unsigned long dev, unsigned long fn, unsigned long off)
{
	return 0x80000000u | (uint32_t)(dev << 11) | (uint32_t)(fn << 8) | (uint32_t)(off & 0xFCu);
}

static int cmd_pciw(char **argv)
{
	unsigned long v[4];
	for (int i = 0; i < 4; i++) {
		char *end;
		errno = 0;
		v[i] = strtoul(argv[i], &end, 0);
		if (errno || end == argv[i] || *end)
			return usage();
	}
	if (v[0] > 31 || v[1] > 7 || v[2] > 0xFC || v[3] > 0xFFFFFFFFul)
		return usage();
	/* Configuration mechanism #1 needs 32-bit accesses to 0xCF8: /dev/port writes bytes. */
	if (iopl(3) < 0) {
		printf("GUEST-PCIW-ERROR iopl errno=%d\n", errno);
		return 1;
	}
	uint32_t at = pci_cf8(v[0], v[1], v[2]);
	outl(at, 0xCF8);
	uint32_t before = inl(0xCFC);
	outl(at, 0xCF8);
	outl((uint32_t)v[3], 0xCFC);
	outl(at, 0xCF8);
	uint32_t after = inl(0xCFC);
	if (after != before) { /* the control took: put it back */
		outl(at, 0xCF8);
		outl(before, 0xCFC);
	}
	printf("GUEST-PCIW dev=%lu fn=%lu off=0x%lx before=0x%x wrote=0x%lx after=0x%x\n", v[0],
	       v[1], v[2], before, v[3], after);
	return 0;
}

/* as UID PROG ARGS...: PROG run as uid and gid UID with no supplementary group (what an
 * unprivileged user of the guest runs; busybox's setpriv cannot change ids). */
static int cmd_as(char **argv)
{
	char *end;
	unsigned long uid = strtoul(argv[0], &end, 10);
	if (*end != '\0' || uid == 0 || uid > 65535)
		return usage();
	if (setgroups(0, NULL) < 0 || setresgid((gid_t)uid, (gid_t)uid, (gid_t)uid) < 0 ||
	    setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) < 0) {
		fprintf(stderr, "lab-probe as: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "lab-probe as: %s: %s\n", argv[1], strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "as") == 0)
		return cmd_as(argv + 2);
	if (argc == 2 && strcmp(argv[1], "cpuid") == 0)
		return cmd_cpuid();
	if (argc == 2 && strcmp(argv[1], "tsc") == 0)
		return cmd_tsc();
	if (argc == 2 && strcmp(argv[1], "reserved") == 0)
		return cmd_reserved();
	if (argc == 3 && strcmp(argv[1], "com2") == 0)
		return cmd_com2(argv[2]);
	if ((argc == 2 || argc == 3) && strcmp(argv[1], "truth") == 0)
		return cmd_truth(argc == 3 ? argv[2] : NULL);
	if (argc == 3 && strcmp(argv[1], "spawn") == 0)
		return cmd_spawn(argv[2]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "idle") == 0)
		return cmd_idle(argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 6 && strcmp(argv[1], "pciw") == 0)
		return cmd_pciw(argv + 2);
	return usage();
}
