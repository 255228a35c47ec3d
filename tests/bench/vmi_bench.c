/* Introspection speed on a real dump (prints, not a test): how many processes per second
 * the library reads, and how many guest memory reads (read_phys calls) each costs, with
 * the caches emptied first (what one console verb on a live guest pays) and for whole
 * verbs (ps --json, containers --json) as the console runs them.
 *
 * usage: vmi_bench --dump FILE --profile FILE [--seconds S]
 * Built and run by tests/bench/vmi_bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/cmd.h"
#include "tools/hvctl/dump.h"
#include "vmi/profile.h"
#include "vmi/report.h"
#include "vmi/vmi.h"

#define CONTAINERS_MAX 1024

static struct vmi v;
static struct vmi_profile prof;
static struct dump d;
static struct vmi_mem mem;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		exit(2);
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		exit(2);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static size_t sink_bytes;

static void sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	(void)s;
	sink_bytes += n;
}

/* One pass: every process with every fact, caches emptied first. */
static unsigned int read_all(void)
{
	struct vmi_process p;
	struct vmi_walk w;
	uint64_t task;
	unsigned int n = 0;

	vmi_refresh(&v);
	vmi_walk_begin(&v, &w);
	while (vmi_walk_next(&v, &w, &task)) {
		if (vmi_process_read(&v, task, VMI_READ_ALL, &p) == 0)
			n++;
	}
	if (w.truncated)
		fprintf(stderr, "vmi_bench: walk truncated: %s\n", w.reason);
	return n;
}

typedef int (*verb_fn)(struct vmi *, struct reply *, int, char **);

static void bench_verb(const char *name, verb_fn fn, unsigned int procs, double seconds)
{
	char *argv[] = {(char *)name, "--json", NULL};
	struct reply r;
	uint64_t reads0 = mem.reads;
	unsigned int runs = 0;
	double t0 = now(), t;

	do {
		reply_init(&r, sink, NULL);
		sink_bytes = 0;
		if (fn(&v, &r, 2, argv) != 0) {
			fprintf(stderr, "vmi_bench: %s failed: %s\n", name, r.message);
			exit(1);
		}
		runs++;
		t = now() - t0;
	} while (t < seconds);
	printf("%-16s %8.2f ms per run, %10.0f processes/s, %7.1f reads/process, %zu bytes out\n",
	       name, t / runs * 1e3, (double)procs * runs / t,
	       (double)(mem.reads - reads0) / runs / procs, sink_bytes);
}

int main(int argc, char **argv)
{
	const char *dump_path = NULL, *profile_path = NULL;
	double seconds = 2.0, t0, t;
	struct profile_error perr;
	char err[512];
	size_t len;
	char *json;
	unsigned int procs = 0, runs = 0;
	uint64_t reads0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--dump") == 0)
			dump_path = argv[i + 1];
		else if (strcmp(argv[i], "--profile") == 0)
			profile_path = argv[i + 1];
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[i + 1]);
	}
	if (dump_path == NULL || profile_path == NULL) {
		fprintf(stderr, "usage: vmi_bench --dump FILE --profile FILE [--seconds S]\n");
		return 2;
	}
	json = slurp(profile_path, &len);
	if (profile_parse(json, len, &prof, &perr) != 0) {
		fprintf(stderr, "vmi_bench: %s: %s\n", profile_path, perr.message);
		return 2;
	}
	if (dump_open(dump_path, &d, err, sizeof(err)) != 0) {
		fprintf(stderr, "vmi_bench: %s\n", err);
		return 2;
	}
	mem.read_phys = dump_read_phys;
	mem.ctx = &d;
	v.containers = calloc(CONTAINERS_MAX, sizeof(*v.containers));
	v.containers_cap = CONTAINERS_MAX;

	t0 = now();
	if (vmi_open(&v, &mem, &prof, &d.cpus[0].cpu) != 0) {
		fprintf(stderr, "vmi_bench: %s\n", v.error);
		return 1;
	}
	t = now() - t0;
	printf("vmi_open         %8.3f ms, %llu reads (page tables, per-CPU area, init_task, pid "
	       "1)\n",
	       t * 1e3, (unsigned long long)mem.reads);

	/* Warm the host's page cache of the dump file: we measure introspection, not disk. */
	procs = read_all();
	reads0 = mem.reads;
	t0 = now();
	do {
		read_all();
		runs++;
		t = now() - t0;
	} while (t < seconds);
	printf("processes        %u (tasks list from init_task)\n", procs);
	printf("read all facts   %8.2f ms per pass, %10.0f processes/s, %7.1f reads/process "
	       "(caches emptied each pass)\n",
	       t / runs * 1e3, (double)procs * runs / t,
	       (double)(mem.reads - reads0) / runs / procs);
	bench_verb("ps --json", vmi_verb_ps, procs, seconds);
	bench_verb("containers --json", vmi_verb_containers, procs, seconds);
	dump_close(&d);
	free(v.containers);
	return 0;
}
