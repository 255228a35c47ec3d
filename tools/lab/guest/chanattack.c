/* SPDX-License-Identifier: MIT */
/*
 * chanattack: a hostile relay for the channel's end-to-end test (docs/channel.md, "What it
 * must withstand"). The guest controls the relay: it may reorder, replay, alter or cut the
 * operator's frames and hand the monitor any registers and any buffer. Each attempt must be
 * refused for the right reason, and the untouched frame must still be taken (the control),
 * so that a refusal is known to come from the change alone.
 *
 *   chanattack DIR   DIR holds frame1.bin, frame2.bin, frame3.bin: the operator's requests
 *                    numbered N+1, N+2, N+3 (N: the last the monitor took), made by the test
 *
 * One console line per step, then the sum (the e2e, tests/e2e/relay_checks.py, reads them):
 *   GUEST-CHANATTACK step=NAME rax=R want=WORD ok=0|1 got=WORD   R: RAX, signed, or "ud"
 *   GUEST-CHANATTACK step=drain frames=N last=0|1 ok=0|1          (after each frame taken)
 *   GUEST-CHANATTACK step=random-user calls=N ud=N returned=N WORD=N...
 *   GUEST-CHANATTACK step=random-user-check empty=N unexpected=N ok=0|1
 *   GUEST-CHANATTACK-DONE ok=N of=N
 * WORD: "taken" (0), a reason's name (chan_reason_name), "ud" (#UD: SIGILL). The random
 * calls' WORDs count the refusals by reason (and "taken", a SEND taken: never, its buffer
 * is not ours); a RECV with nothing to hand out is "empty", on the check's line. A step
 * whose frame is missing says skipped=no-frame in place of rax, and ok=0.
 * Only one RECV caller may run: the lab's /init stops hvrelay meanwhile.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "chan/frame.h"
#include "chan/vmcall.h"
#include "tools/hvrelay/hvcall.h"

#define FRAMES          3
#define DRAIN_EVERY_MS  10
#define DRAIN_MAX_MS    20000
#define RATE_RETRIES    50 /* "rate": try again in a moment (vmcall.h), 100 ms apart */
#define RANDOM_CALLS    2000
#define RANDOM_SEED     0x9e3779b97f4a7c15ull
#define MAPS_MAX        128
#define KERNEL_TEXT     0xffffffff81000000ull /* where x86-64 Linux links its text */
#define UNMAPPED_PAGE   0x1000ull             /* below vm.mmap_min_addr: never mapped */
#define OFF_FLAGS       6u                    /* frame.h: flags, u16 little-endian */
#define SEND_REFUSED(r) ((r) < 0 && (r) != HVCALL_UD)

static uint8_t frame[FRAMES][CHAN_FRAME_MAX];
static size_t frame_len[FRAMES];
static uint8_t scratch[CHAN_FRAME_MAX]; /* RECV's buffer; SEND's when a frame is missing */
static int steps, steps_ok;

static uint64_t addr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* The monitor reads and writes through the process's page tables and cannot fault pages
 * in: each must be present (writable for RECV) when the VMCALL comes. */
static void touch(volatile uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = p[i];
	if (len > 0)
		p[len - 1] = p[len - 1];
}

static int load(const char *dir, int i)
{
	char path[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/frame%d.bin", dir, i + 1);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("GUEST-CHANATTACK-ERROR frame=%s missing\n", path);
		return -1;
	}
	/* a byte more than a frame may have: a longer file is not a frame */
	uint8_t extra;
	n = read(fd, frame[i], sizeof(frame[i]));
	int longer = n == (ssize_t)sizeof(frame[i]) && read(fd, &extra, 1) == 1;
	close(fd);
	if (n < (ssize_t)CHAN_FRAME_MIN || longer) {
		printf("GUEST-CHANATTACK-ERROR frame=%s length=%s%zd\n", path, longer ? ">" : "",
		       n);
		return -1;
	}
	frame_len[i] = (size_t)n;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int64_t send_call(uint64_t buf, uint64_t len)
{
	int64_t rax;

	for (int i = 0;; i++) {
		rax = hvcall_chan(CHAN_VMCALL_SEND, buf, len);
		if (rax != -(int64_t)(CHAN_VMCALL_ERR_BASE + CHAN_VMCALL_RATE) || i == RATE_RETRIES)
			return rax;
		sleep_ms(100);
	}
}

/* One step's line; extra: more words (or ""). */
static int report(const char *name, int64_t rax, const char *want, int ok, const char *extra)
{
	const char *got = hvcall_result_name(rax);
	char rax_text[24];

	if (rax == HVCALL_UD)
		snprintf(rax_text, sizeof(rax_text), "ud");
	else
		snprintf(rax_text, sizeof(rax_text), "%" PRId64, rax);
	ok = ok && strcmp(got, want) == 0;
	printf("GUEST-CHANATTACK step=%s rax=%s want=%s ok=%d got=%s%s\n", name, rax_text, want, ok,
	       got, extra);
	steps++;
	steps_ok += ok;
	return ok;
}

static void skipped(const char *name, const char *why, const char *want)
{
	printf("GUEST-CHANATTACK step=%s skipped=%s want=%s ok=0\n", name, why, want);
	steps++;
}

/* Takes the reply of a request just taken: RECV every DRAIN_EVERY_MS until a piece with
 * LAST, or DRAIN_MAX_MS, or a RECV that is refused or raises #UD. */
static void drain(void)
{
	unsigned frames = 0;
	int last = 0;
	int64_t rax = 0;

	for (long waited = 0; waited < DRAIN_MAX_MS; waited += DRAIN_EVERY_MS) {
		touch(scratch, sizeof(scratch));
		rax = hvcall_chan(CHAN_VMCALL_RECV, addr(scratch), sizeof(scratch));
		if (rax > 0) {
			frames++;
			if (rax > OFF_FLAGS && (scratch[OFF_FLAGS] & CHAN_FLAG_LAST)) {
				last = 1;
				break;
			}
			continue; /* the next piece may be there already */
		}
		if (rax < 0)
			break;
		sleep_ms(DRAIN_EVERY_MS);
	}
	printf("GUEST-CHANATTACK step=drain frames=%u last=%d", frames, last);
	if (rax < 0)
		printf(" error=%s", hvcall_result_name(rax));
	printf(" ok=%d\n", last);
	steps++;
	steps_ok += last;
}

/* A frame step: SEND frame i (len bytes of it; a copy with one bit flipped when flip).
 * 1 when the answer was want. */
static int send_step(const char *name, int i, size_t len, int flip, const char *want)
{
	static uint8_t changed[CHAN_FRAME_MAX];
	const uint8_t *buf = frame[i];

	if (frame_len[i] == 0) {
		skipped(name, "no-frame", want);
		return 0;
	}
	if (flip) {
		memcpy(changed, frame[i], frame_len[i]);
		/* the body's first byte; without a body, the signature's last (a header byte
		 * could be refused for its form before the signature is checked) */
		changed[frame_len[i] > CHAN_FRAME_MIN ? CHAN_HEADER_LEN : frame_len[i] - 1] ^= 1;
		buf = changed;
	}
	touch((volatile uint8_t *)buf, len);
	return report(name, send_call(addr(buf), len), want, 1, "");
}

/* A request taken: its reply must come */
static void drain_if(int taken)
{
	if (taken)
		drain();
	else
		skipped("drain", "not-taken", "last");
}

/* RECV into a buffer the caller may only read, while the control's reply is owed (with
 * nothing to hand out, a RECV has nothing to write and may say 0): polled like a drain
 * until the monitor has a frame, which it must refuse to write there and keep for the
 * drain that follows. */
static void recv_readonly(void)
{
	size_t size = (CHAN_FRAME_MAX + 4095u) & ~(size_t)4095u;
	uint8_t *ro =
		mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int zeros = 1;
	int64_t rax;

	if (ro == MAP_FAILED) {
		printf("GUEST-CHANATTACK step=recv-readonly error=mmap want=fault ok=0\n");
		steps++;
		return;
	}
	/* present but read-only (the zero page): refused for the permission, not for a
	 * missing page */
	for (size_t i = 0; i < size; i += 4096)
		(void)*(volatile uint8_t *)(ro + i);
	for (long waited = 0; waited < DRAIN_MAX_MS; waited += DRAIN_EVERY_MS) {
		rax = hvcall_chan(CHAN_VMCALL_RECV, addr(ro), CHAN_FRAME_MAX);
		if (rax != 0)
			break;
		sleep_ms(DRAIN_EVERY_MS);
	}
	for (size_t i = 0; i < size; i++)
		zeros &= ro[i] == 0;
	report("recv-readonly", rax, "fault", zeros, zeros ? " zeros=1" : " zeros=0");
	munmap(ro, size);
}

/* ---- random registers */

static uint64_t rng_state = RANDOM_SEED;

static uint64_t rnd(void)
{
	/* xorshift64 (Marsaglia 2003): the same calls every run */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t maps_lo[MAPS_MAX], maps_hi[MAPS_MAX];
static int maps_n;

/* Our own mappings (/proc/self/maps), so that a random RECV never gets a buffer of ours
 * (the monitor would rightly write the frame there). More than MAPS_MAX: the rest of the
 * user half counts as ours (only low, non-canonical and kernel addresses are used). */
static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi;

	maps_n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (maps_n == MAPS_MAX) {
			maps_n = -1;
			break;
		}
		maps_lo[maps_n] = lo;
		maps_hi[maps_n++] = hi;
	}
	if (f)
		fclose(f);
	else
		maps_n = -1;
}

static int near_ours(uint64_t a)
{
	const uint64_t margin = 1ull << 20; /* room for a stack or heap that grows */

	if (maps_n < 0)
		return 1;
	for (int i = 0; i < maps_n; i++)
		if (a + CHAN_FRAME_MAX + margin > maps_lo[i] && a < maps_hi[i] + margin)
			return 1;
	return 0;
}

/* An address that is none of ours: a low page, a non-canonical one, the kernel's half, or
 * a user address away from our mappings. */
static uint64_t foreign_address(void)
{
	uint64_t a;

	switch (rnd() & 3) {
	case 0:
		return rnd() & 0xffffull; /* below vm.mmap_min_addr (64 KiB) */
	case 1:
		return 0x0000800000000000ull | (rnd() & 0x7fff7fffffffffffull); /* non-canonical */
	case 2:
		return 0xffff800000000000ull | rnd(); /* supervisor pages, or none */
	default:
		for (int tries = 0; tries < 16; tries++) {
			a = rnd() & 0x00007ffffffff000ull;
			if (a >= 0x10000 && !near_ours(a))
				return a;
		}
		return UNMAPPED_PAGE;
	}
}

static uint64_t random_length(void)
{
	switch (rnd() & 3) {
	case 0:
		return rnd() & 0xff;
	case 1:
		return CHAN_FRAME_MIN + rnd() % (CHAN_FRAME_MAX - CHAN_FRAME_MIN + 16);
	case 2:
		return CHAN_FRAME_MAX;
	default:
		return rnd();
	}
}

#define HIST_MAX 24
static const char *hist_name[HIST_MAX];
static unsigned hist_count[HIST_MAX];

static void count(const char *name)
{
	for (int i = 0; i < HIST_MAX; i++) {
		if (hist_name[i] == NULL)
			hist_name[i] = name;
		if (hist_name[i] == name || strcmp(hist_name[i], name) == 0) {
			hist_count[i]++;
			return;
		}
	}
}

/* Registers at random, a quarter of them channel calls with any function 0..7 and a buffer
 * that is not ours: each must raise #UD (not a call of the channel: another function, or
 * no magic) or be refused (SEND; RECV may also find nothing), and chanattack survives. */
static void random_user(void)
{
	unsigned ud = 0, returned = 0, unexpected = 0, empty = 0;

	rng_state = RANDOM_SEED;
	memset(hist_name, 0, sizeof(hist_name));
	memset(hist_count, 0, sizeof(hist_count));
	read_maps();
	for (int i = 0; i < RANDOM_CALLS; i++) {
		struct hvcall_regs r = {rnd(), rnd(), rnd(), rnd(), rnd(), rnd()};
		unsigned function = ~0u;

		if ((rnd() & 3) == 0) {
			function = (unsigned)(rnd() & 7);
			r.rax = CHAN_VMCALL_MAGIC | function;
			r.rbx = foreign_address();
			r.rcx = random_length();
		}
		int chan = function == CHAN_VMCALL_SEND || function == CHAN_VMCALL_RECV;
		if (!hvcall(&r)) {
			ud++;
			unexpected += chan;
			continue;
		}
		returned++;
		int64_t rax = (int64_t)r.rax;
		if (!chan || rax > 0 || (rax == 0 && function == CHAN_VMCALL_SEND))
			unexpected++;
		if (rax == 0 && function == CHAN_VMCALL_RECV)
			empty++; /* nothing to hand out: not a refusal */
		else
			count(hvcall_result_name(rax));
	}
	int ok = unexpected == 0;
	printf("GUEST-CHANATTACK step=random-user calls=%d ud=%u returned=%u", RANDOM_CALLS, ud,
	       returned);
	for (int i = 0; i < HIST_MAX && hist_name[i]; i++)
		printf(" %s=%u", hist_name[i], hist_count[i]);
	printf("\nGUEST-CHANATTACK step=random-user-check empty=%u unexpected=%u ok=%d\n", empty,
	       unexpected, ok);
	steps++;
	steps_ok += ok;
}

int main(int argc, char **argv)
{
	const size_t f3 = 2;
	uint64_t len3;

	if (argc != 2) {
		fprintf(stderr, "usage: chanattack DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 0; i < FRAMES; i++)
		if (load(argv[1], i) == 0)
			touch(frame[i], frame_len[i]);
	touch(scratch, sizeof(scratch));
	len3 = frame_len[f3] ? frame_len[f3] : CHAN_FRAME_MIN;

	/* frame2 before frame1: the later one is taken, then the earlier is too old */
	drain_if(send_step("reorder-later", 1, frame_len[1], 0, "taken"));
	send_step("reorder-earlier", 0, frame_len[0], 0, "seq");
	send_step("replay", 1, frame_len[1], 0, "seq");
	send_step("flip", 2, frame_len[2], 1, "signature");
	send_step("truncate", 2, frame_len[2] ? frame_len[2] - 1 : 0, 0, "length");
	/* a good buffer, lengths no frame has */
	report("huge-length", send_call(addr(frame_len[f3] ? frame[f3] : scratch), 1ull << 40),
	       "length", 1, "");
	report("zero-length", send_call(addr(frame_len[f3] ? frame[f3] : scratch), 0), "length", 1,
	       "");
	/* a length a frame has, buffers that are not the caller's to give */
	report("unmapped", send_call(UNMAPPED_PAGE, len3), "fault", 1, "");
	report("kernel-address", send_call(KERNEL_TEXT, len3), "fault", 1, "");
	touch(scratch, sizeof(scratch));
	report("recv-small", hvcall_chan(CHAN_VMCALL_RECV, addr(scratch), 100), "small", 1, "");
	/* the frame the changes above started from, as it was: taken; its reply is first
	 * refused a read-only buffer, then comes whole */
	if (send_step("control", 2, frame_len[2], 0, "taken")) {
		recv_readonly();
		drain();
	} else {
		skipped("recv-readonly", "not-taken", "fault");
		skipped("drain", "not-taken", "last");
	}
	random_user();
	printf("GUEST-CHANATTACK-DONE ok=%d of=%d\n", steps_ok, steps);
	return steps_ok == steps ? 0 : 1;
}
