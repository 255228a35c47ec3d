/* hvctl's link to the monitor's console: a tty (termios raw 115200 8N1), a TCP socket
 * (an emulator's serial port as a server), a Unix socket, or a program's stdin and stdout
 * (exec:COMMAND: a console server's client, as ssh's ProxyCommand). */
#ifndef HVCTL_CONN_H
#define HVCTL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct relay;

struct conn {
	int fd;
	int log_fd;          /* every byte received is appended here; -1: no log */
	size_t pace_bytes;   /* bytes written at once */
	uint32_t pace_us;    /* pause between two such writes; 0: no pause */
	const char *addr;    /* as given, for messages */
	pid_t child;         /* exec:COMMAND: the program (0: none) */
	struct relay *relay; /* requests go through the relay in the guest (relay.h); NULL: the
			      * monitor's console */
	bool sync_first;     /* exec: the first request is preceded by one whose reply takes
			      * away what the program printed of its own (request.c) */
	bool deflate;        /* ask for compressed bodies (+deflate; request.c): on unless
			      * --compress no, off once the monitor refuses the word */
};

/* Set by hvctl's SIGINT handler: conn_read returns -1 with EINTR at once, so the request
 * can cancel its reply (request.c). */
extern volatile int conn_interrupted;

/* Milliseconds of CLOCK_MONOTONIC: deadlines are measured in it. */
uint64_t conn_now_ms(void);

/* Opens addr ("tcp:HOST:PORT", "unix:PATH", "exec:COMMAND" or a tty path) before
 * deadline_ms.
 * 0 on success; -1 with a message in err otherwise. */
int conn_open(struct conn *c, const char *addr, uint64_t deadline_ms, char *err, size_t errcap);

/* Writes all of buf in paced chunks (the far end may be an emulated 16550 with a 16-byte
 * FIFO polled every few ms). 0, or -1 with errno (ETIMEDOUT at the deadline). */
int conn_write(struct conn *c, const void *buf, size_t n, uint64_t deadline_ms);

/* Reads what is there, waiting until deadline_ms: > 0 bytes, 0 at the deadline, -1 with
 * errno on error (EPIPE: the other end closed). */
ssize_t conn_read(struct conn *c, void *buf, size_t cap, uint64_t deadline_ms);

void conn_close(struct conn *c);

#endif
