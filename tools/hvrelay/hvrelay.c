/* SPDX-License-Identifier: MIT */
/*
 * hvrelay: the channel's relay in the guest (docs/channel.md). It passes frames between a
 * transport the operator reaches and the monitor, which it calls with VMCALL from ring 3
 * (hv/chan/vmcall.h: the calls and the line format). It is untrusted by design: it checks
 * nothing of a frame, and the monitor and hvctl trust nothing it says.
 *
 *   hvrelay DEVICE    a tty (the lab: /dev/ttyS2, Bochs' com3): raw, 115200 8N1, no flow
 *                     control
 *   hvrelay --stdio   stdin and stdout (tests); at the end of stdin it waits for the replies
 *                     still owed (at most QUIET_MS without a frame), then exits
 *
 * Line in "F " base64 "\n": the frame goes to the monitor (SEND); a refusal comes back as
 * "E " word "\n" (the reason's name; "decode" when the line was not base64; "ud" when no
 * monitor answers). Every frame the monitor has (RECV, polled) goes out as "F " line.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "chan/frame.h"
#include "chan/vmcall.h"
#include "lib/base64.h"
#include "tools/hvrelay/hvcall.h"
#include "tools/hvrelay/lines.h"

/* RECV is polled: often while an operator talks to the monitor (a request's reply comes in
 * pieces), seldom otherwise, since each poll is a VM exit. */
#define POLL_ACTIVE_MS 10
#define POLL_IDLE_MS   250
#define ACTIVE_MS      60000 /* "talking": a SEND in the last minute */
#define RECV_BURST     64    /* frames taken per poll at most, so input is not starved */
#define WRITE_MAX_MS   5000  /* a transport that takes nothing for this long loses the line */
#define QUIET_MS       10000 /* --stdio after end of input: wait this long for a frame */

struct relay {
	int in_fd, out_fd;
	int input_open; /* --stdio: 0 after end of input */
	int tty;
	long long last_send;  /* ms of the last SEND taken, or -1 */
	long long last_frame; /* ms of the last frame out (or of the end of input) */
	unsigned owed;        /* SENDs taken whose last reply piece has not come yet */
	int no_monitor;       /* a VMCALL raised #UD */
	int recv_refused;     /* a RECV was refused (said once) */
	struct lines lines;
};

/* The largest frame a kept line can hold; a longer one than CHAN_FRAME_MAX still goes to
 * the monitor, which counts it ("length"): the relay does not judge frames. */
static uint8_t frame_in[LINES_MAX / 4u * 3u];
static uint8_t frame_out[CHAN_FRAME_MAX];
static char text_out[sizeof(CHAN_LINE_FRAME) + BASE64_LEN(CHAN_FRAME_MAX) + 1];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The whole of buf, through partial writes and a full transport (EAGAIN). 0, or -1 when
 * the transport failed or took nothing for WRITE_MAX_MS (the line is lost: hvctl asks again). */
static int write_all(int fd, const char *buf, size_t len)
{
	long long deadline = now_ms() + WRITE_MAX_MS;

	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		long long left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}

static void say(struct relay *r, const char *line)
{
	if (write_all(r->out_fd, line, strlen(line)) != 0)
		fprintf(stderr, "hvrelay: a line to the transport was lost: %s\n", strerror(errno));
}

static void no_monitor(struct relay *r)
{
	if (!r->no_monitor)
		fprintf(stderr, "hvrelay: no monitor answers VMCALL here\n");
	r->no_monitor = 1;
}

/* The monitor reads the buffer with the process's own page tables, and cannot fault a page
 * in: every page must be present (and writable, for RECV) when the VMCALL comes. */
static void touch(volatile uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		buf[i] = buf[i];
	if (len > 0)
		buf[len - 1] = buf[len - 1];
}

static void send_frame(struct relay *r, uint8_t *frame, size_t len)
{
	char reply[64];
	int64_t rax;

	touch(frame, len);
	rax = hvcall_chan(CHAN_VMCALL_SEND, (uint64_t)(uintptr_t)frame, len);
	if (rax == 0) {
		r->last_send = now_ms();
		r->owed++;
		return;
	}
	if (rax == HVCALL_UD) {
		no_monitor(r);
		say(r, CHAN_LINE_ERROR "ud no monitor answers VMCALL\n");
		return;
	}
	const char *name = hvcall_result_name(rax);
	if (rax > 0 || strcmp(name, "?") == 0)
		snprintf(reply, sizeof(reply), CHAN_LINE_ERROR "unknown rax=%lld\n",
			 (long long)rax);
	else
		snprintf(reply, sizeof(reply), CHAN_LINE_ERROR "%s\n", name);
	say(r, reply);
}

static void on_line(const char *line, size_t len, void *ctx)
{
	struct relay *r = ctx;
	const size_t tag = sizeof(CHAN_LINE_FRAME) - 1;
	long n;

	if (len < tag || memcmp(line, CHAN_LINE_FRAME, tag) != 0)
		return; /* not ours: ignored, as the line format says */
	n = base64_decode(line + tag, len - tag, frame_in, sizeof(frame_in));
	if (n <= 0) {
		say(r, CHAN_LINE_ERROR "decode\n");
		return;
	}
	send_frame(r, frame_in, (size_t)n);
}

/* Every frame the monitor has now, up to RECV_BURST, as "F " lines. */
static void receive(struct relay *r)
{
	for (int i = 0; i < RECV_BURST; i++) {
		int64_t rax;

		touch(frame_out, sizeof(frame_out));
		rax = hvcall_chan(CHAN_VMCALL_RECV, (uint64_t)(uintptr_t)frame_out,
				  sizeof(frame_out));
		if (rax == HVCALL_UD) {
			no_monitor(r);
			return;
		}
		if (rax == 0)
			return;
		if (rax < 0 || rax > (int64_t)sizeof(frame_out)) {
			if (!r->recv_refused)
				fprintf(stderr, "hvrelay: RECV refused: %s (rax=%lld)\n",
					hvcall_result_name(rax), (long long)rax);
			r->recv_refused = 1;
			return;
		}
		size_t len = (size_t)rax, o = 0;
		memcpy(text_out, CHAN_LINE_FRAME, sizeof(CHAN_LINE_FRAME) - 1);
		o = sizeof(CHAN_LINE_FRAME) - 1;
		o += base64_encode(frame_out, len, text_out + o);
		text_out[o++] = '\n';
		if (write_all(r->out_fd, text_out, o) != 0)
			fprintf(stderr, "hvrelay: a frame to the transport was lost: %s\n",
				strerror(errno));
		r->last_frame = now_ms();
		/* flags, u16 little-endian at offset 6 (frame.h): the reply's last piece */
		if (len >= 8 && (frame_out[6] & CHAN_FLAG_LAST) && r->owed > 0)
			r->owed--;
	}
}

/* Raw 115200 8N1, no flow control: the line format needs nothing of the tty. */
static int open_tty(const char *path)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "hvrelay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) != 0) {
		fprintf(stderr, "hvrelay: %s is not a tty: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	cfmakeraw(&t);
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CREAD | CLOCAL; /* CLOCAL: no modem lines to wait for */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		fprintf(stderr, "hvrelay: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	tcflush(fd, TCIFLUSH); /* what arrived before us was meant for nobody */
	return fd;
}

/* Takes what the input has; 0 at its end (or a hangup). */
static int take_input(struct relay *r)
{
	char buf[4096];
	ssize_t n = read(r->in_fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK ? 1 : 0;
	if (n == 0)
		return 0;
	lines_feed(&r->lines, buf, (size_t)n, on_line, r);
	return 1;
}

static int run(struct relay *r)
{
	long long next_recv = 0, input_back = 0;

	for (;;) {
		long long now = now_ms();
		int active = !r->no_monitor && r->last_send >= 0 && now - r->last_send < ACTIVE_MS;

		if (now >= next_recv) {
			receive(r);
			now = now_ms();
			next_recv = now + (active ? POLL_ACTIVE_MS : POLL_IDLE_MS);
		}
		if (!r->input_open && !r->tty &&
		    (r->owed == 0 || r->no_monitor || now - r->last_frame >= QUIET_MS))
			return 0;
		/* A tty that hung up is looked at again a second later, not in a busy loop. */
		int watch = r->input_open && now >= input_back;
		struct pollfd p = {.fd = watch ? r->in_fd : -1, .events = POLLIN};
		long long wait = next_recv - now;
		int n = poll(&p, 1, (int)(wait < 0 ? 0 : wait));
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "hvrelay: poll: %s\n", strerror(errno));
			return 1;
		}
		if (n <= 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		long long sent_before = r->last_send;
		if (!take_input(r)) {
			if (r->tty)
				input_back = now_ms() + 1000;
			else
				r->input_open = 0;
			r->last_frame = now_ms(); /* --stdio: QUIET_MS from here */
		}
		if (r->last_send != sent_before)
			next_recv = now_ms() + POLL_ACTIVE_MS;
	}
}

int main(int argc, char **argv)
{
	struct relay r = {.last_send = -1, .input_open = 1};

	if (argc != 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: hvrelay DEVICE | hvrelay --stdio\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed transport is a write error, said once */
	if (strcmp(argv[1], "--stdio") == 0) {
		r.in_fd = STDIN_FILENO;
		r.out_fd = STDOUT_FILENO;
	} else {
		r.tty = 1;
		r.in_fd = r.out_fd = open_tty(argv[1]);
		if (r.in_fd < 0)
			return 1;
	}
	/* Resident pages for the buffers the monitor reads and writes; best effort: without
	 * CAP_IPC_LOCK, touch() still makes them present before each call. */
	mlock(frame_in, sizeof(frame_in));
	mlock(frame_out, sizeof(frame_out));
	return run(&r);
}
