/* Introspection speed on a real dump (prints, not a test): how many processes per second
 * the library reads, and how many guest memory reads (read_phys calls) each costs, with
 * the caches emptied first (what one console verb on a live guest pays) and for whole
 * verbs as the console runs them, with the monitor's storage (its containers table and the
 * cross-view of ps). The monitor runs a verb inside one VM exit, the guest stopped on every
 * CPU: a verb's longest run here is the longest exit it makes on this CPU, and the longest
 * of all is printed last.
 *
 * usage: vmi_bench --dump FILE --profile FILE [--seconds S]
 * Built and run by tests/bench/vmi_bench.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console/cmd.h"
#include "console/zbody.h"
#include "tools/hvctl/dump.h"
#include "vmi/profile.h"
#include "vmi/report.h"
#include "vmi/vmi.h"

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

static double longest;
static char longest_verb[64];

/* `words` as the console would pass them (argv[0] the verb) */
static void bench_verb(const char *label, verb_fn fn, int argc, char **argv, unsigned int procs,
		       double seconds)
{
	struct reply r;
	uint64_t reads0 = mem.reads;
	unsigned int runs = 0;
	double t0 = now(), t, worst = 0;

	do {
		double one = now();
		reply_init(&r, sink, NULL);
		sink_bytes = 0;
		if (fn(&v, &r, argc, argv) != 0) {
			fprintf(stderr, "vmi_bench: %s failed: %s\n", label, r.message);
			exit(1);
		}
		one = now() - one;
		if (one > worst)
			worst = one;
		runs++;
		t = now() - t0;
	} while (t < seconds);
	printf("%-20s %8.2f ms per run (longest %8.2f), %9.0f processes/s, %7.1f reads/process, "
	       "%zu bytes out\n",
	       label, t / runs * 1e3, worst * 1e3, (double)procs * runs / t,
	       (double)(mem.reads - reads0) / runs / procs, sink_bytes);
	if (worst > longest) {
		longest = worst;
		snprintf(longest_verb, sizeof(longest_verb), "%s", label);
	}
}

enum bench_verb { BENCH_PS, BENCH_CONTAINERS, BENCH_INSPECT };

/* The job of one of them (vmi/report.h) */
union bench_job {
	struct vmi_ps_job ps;
	struct vmi_ct_list_job ct;
	struct vmi_inspect_job inspect;
};

static int steps_start(enum bench_verb verb, void *j, struct reply *r, int argc, char **argv)
{
	switch (verb) {
	case BENCH_PS:
		return vmi_ps_start(j, r, argc, argv);
	case BENCH_CONTAINERS:
		return vmi_ct_list_start(j, r, argc, argv);
	default:
		return vmi_inspect_start(j, r, argc, argv);
	}
}

static bool steps_step(enum bench_verb verb, void *j, struct reply *r)
{
	switch (verb) {
	case BENCH_PS:
		return vmi_ps_step(&v, j, r, VMI_LIVE_TASKS_PER_STEP);
	case BENCH_CONTAINERS:
		return vmi_ct_list_step(&v, j, r, VMI_LIVE_TASKS_PER_STEP);
	default:
		return vmi_inspect_step(&v, j, r, VMI_LIVE_TASKS_PER_STEP);
	}
}

/* `argv` (argc words) as the monitor runs it: VMI_LIVE_TASKS_PER_STEP tasks per VM exit, a
 * new session each (the caches emptied); the longest step is its longest exit. */
static void bench_steps(enum bench_verb verb, int argc, char **argv, double seconds)
{
	char label[48];
	union bench_job j;
	struct reply r;
	unsigned int runs = 0, steps = 0;
	double t0 = now(), t, worst = 0;

	snprintf(label, sizeof(label), "%s%s%s%s (steps)", argv[0], argc > 1 ? " " : "",
		 argc > 1 ? argv[1] : "", argc > 2 ? " --json" : "");
	do {
		reply_init(&r, sink, NULL);
		sink_bytes = 0;
		if (steps_start(verb, &j, &r, argc, argv) != 0) {
			fprintf(stderr, "vmi_bench: %s failed: %s\n", label, r.message);
			exit(1);
		}
		bool done = false;
		steps = 0;
		while (!done) {
			double one = now();
			vmi_refresh(&v);
			done = steps_step(verb, &j, &r);
			one = now() - one;
			if (one > worst)
				worst = one;
			steps++;
		}
		runs++;
		t = now() - t0;
	} while (t < seconds);
	printf("%-20s %8.2f ms per run in %u exits of at most %u tasks: longest exit %.2f ms\n",
	       label, t / runs * 1e3, steps, VMI_LIVE_TASKS_PER_STEP, worst * 1e3);
	if (worst > longest) {
		longest = worst;
		snprintf(longest_verb, sizeof(longest_verb), "%s", label);
	}
}

/* Bytes on the wire: a counting sink, and one through the console's deflate. */
static size_t wire_bytes;
static void wire_count(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	(void)s;
	wire_bytes += n;
}
static void wire_deflate(void *ctx, const char *s, size_t n)
{
	zbody_write(s, n, wire_count, ctx);
}

/* `argv` as the monitor sends it to the console: in steps of VMI_LIVE_TASKS_PER_STEP tasks,
 * plain or compressed (+deflate: a sync flush after each step, as console.c does), with a
 * tagged status line; the bytes on the line. */
static size_t wire_of(enum bench_verb verb, int argc, char **argv, bool deflate)
{
	union bench_job j;
	struct reply r;
	wire_bytes = 0;
	reply_init(&r, deflate ? wire_deflate : wire_count, NULL);
	if (deflate && !zbody_begin()) {
		fprintf(stderr, "vmi_bench: zbody_begin failed\n");
		exit(1);
	}
	if (steps_start(verb, &j, &r, argc, argv) != 0) {
		fprintf(stderr, "vmi_bench: %s failed: %s\n", argv[0], r.message);
		exit(1);
	}
	for (bool done = false; !done;) {
		vmi_refresh(&v);
		done = steps_step(verb, &j, &r);
		if (deflate && !done)
			zbody_flush(wire_count, NULL);
	}
	if (deflate)
		zbody_end(wire_count, NULL);
	wire_bytes += strlen("= ok @abcdefgh\r\n");
	return wire_bytes;
}

/* Bytes on the wire per process of ps and containers in each form (make bench's figures of
 * issue 12), and the time on a 115200-baud line (10 bits a byte). */
static void bench_wire(unsigned int procs)
{
	static char *forms[][4] = {{"ps", NULL},
				   {"ps", "--compact", NULL},
				   {"ps", "--json", NULL},
				   {"containers", NULL},
				   {"containers", "--compact", NULL},
				   {"containers", "--json", NULL}};
	printf("bytes on the wire for %u processes (steps of %u tasks; deflate as the console: a "
	       "flush each step):\n",
	       procs, VMI_LIVE_TASKS_PER_STEP);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		int argc = forms[i][1] == NULL ? 1 : 2;
		enum bench_verb verb = forms[i][0][0] == 'p' ? BENCH_PS : BENCH_CONTAINERS;
		char label[40];
		snprintf(label, sizeof(label), "%s%s%s", forms[i][0], argc > 1 ? " " : "",
			 argc > 1 ? forms[i][1] : "");
		size_t plain = wire_of(verb, argc, forms[i], false);
		size_t packed = wire_of(verb, argc, forms[i], true);
		printf("  %-22s %9zu bytes (%6.1f per process, %6.2f s at 115200) | +deflate %8zu "
		       "(%5.1f per process, %5.2f s; %.1fx)\n",
		       label, plain, (double)plain / procs, plain * 10.0 / 115200, packed,
		       (double)packed / procs, packed * 10.0 / 115200, (double)plain / packed);
	}
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
	v.containers = calloc(VMI_LIVE_CONTAINERS_MAX, sizeof(*v.containers));
	v.containers_cap = VMI_LIVE_CONTAINERS_MAX;
	v.xview_slots = calloc(VMI_LIVE_XVIEW_SLOTS, sizeof(*v.xview_slots));
	v.xview_cap = VMI_LIVE_XVIEW_SLOTS;
	if (v.containers == NULL || v.xview_slots == NULL) {
		perror("vmi_bench");
		return 2;
	}

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
	/* for vmi_bench.sh's comparison with drgn (the same facts per process) */
	printf("vmi_us_per_process %.3f\n", t / runs / procs * 1e6);
	{
		char *ps[] = {"ps", NULL}, *ps_json[] = {"ps", "--json", NULL};
		char *ct[] = {"containers", NULL}, *ct_json[] = {"containers", "--json", NULL};
		char *in_json[] = {"inspect", "1", "--json", NULL};
		char *in_ct_json[] = {"inspect", "tree", "--json", NULL};
		/* hvctl --dump runs them at once; the monitor in steps (only those count below) */
		bench_verb("ps (at once)", vmi_verb_ps, 1, ps, procs, seconds);
		bench_verb("ps --json (at once)", vmi_verb_ps, 2, ps_json, procs, seconds);
		bench_verb("containers (at once)", vmi_verb_containers, 1, ct, procs, seconds);
		bench_verb("containers --json", vmi_verb_containers, 2, ct_json, procs, seconds);
		longest = 0;
		bench_steps(BENCH_PS, 1, ps, seconds);
		bench_steps(BENCH_PS, 2, ps_json, seconds);
		bench_steps(BENCH_CONTAINERS, 1, ct, seconds);
		bench_steps(BENCH_CONTAINERS, 2, ct_json, seconds);
		bench_steps(BENCH_INSPECT, 3, in_json, seconds);
		bench_steps(BENCH_INSPECT, 3, in_ct_json, seconds);
	}
	printf("longest exit         %8.2f ms (%s, %u tasks: the monitor's verbs)\n", longest * 1e3,
	       longest_verb, procs);
	bench_wire(procs);
	dump_close(&d);
	free(v.containers);
	free(v.xview_slots);
	return 0;
}
