/* Opening and pacing the console link. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

volatile int conn_interrupted;

uint64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* poll() timeout until the deadline; 0 once it has passed. */
static int conn_wait_ms(uint64_t deadline_ms)
{
	uint64_t now = conn_now_ms();

	if (now >= deadline_ms)
		return 0;
	return deadline_ms - now > 60000u ? 60000 : (int)(deadline_ms - now);
}

/* Waits for `events` on fd: 1 ready, 0 deadline, -1 error. */
static int conn_poll(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = conn_wait_ms(deadline_ms);
		if (conn_interrupted) {
			errno = EINTR;
			return -1;
		}
		int rc = poll(&p, 1, ms);

		if (rc < 0 && errno == EINTR && !conn_interrupted)
			continue;
		if (rc < 0)
			return -1;
		if (rc > 0)
			return 1;
		if (conn_now_ms() >= deadline_ms)
			return 0;
	}
}

static int conn_connect(int fd, const struct sockaddr *sa, socklen_t len, uint64_t deadline_ms)
{
	int soerr = 0;
	socklen_t soerr_len = sizeof(soerr);
	int rc;

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -1;
	rc = conn_poll(fd, POLLOUT, deadline_ms);
	if (rc == 0)
		errno = ETIMEDOUT;
	if (rc <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &soerr_len) != 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int conn_open_tcp(struct conn *c, const char *hostport, uint64_t deadline_ms, char *err,
			 size_t errcap)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	const char *port;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res, *ai;
	size_t hlen;
	int rc, saved = 0;

	if (colon == NULL || colon == hostport || colon[1] == '\0') {
		snprintf(err, errcap, "bad console address \"tcp:%s\" (want tcp:HOST:PORT)",
			 hostport);
		return -1;
	}
	port = colon + 1;
	hlen = (size_t)(colon - hostport);
	/* "[::1]" as in URLs. */
	if (hlen >= 2 && hostport[0] == '[' && hostport[hlen - 1] == ']') {
		hostport++;
		hlen -= 2;
	}
	if (hlen >= sizeof(host)) {
		snprintf(err, errcap, "host name too long in \"tcp:%s\"", hostport);
		return -1;
	}
	memcpy(host, hostport, hlen);
	host[hlen] = '\0';

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errcap, "cannot resolve %s port %s: %s", host, port,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
				ai->ai_protocol);
		int one = 1;

		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (conn_connect(fd, ai->ai_addr, ai->ai_addrlen, deadline_ms) == 0) {
			/* The paced chunks must leave one by one, not wait for Nagle. */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			c->fd = fd;
			freeaddrinfo(res);
			return 0;
		}
		saved = errno;
		close(fd);
	}
	freeaddrinfo(res);
	snprintf(err, errcap, "cannot connect to %s port %s: %s", host, port, strerror(saved));
	return -1;
}

static int conn_open_unix(struct conn *c, const char *path, uint64_t deadline_ms, char *err,
			  size_t errcap)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errcap, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || conn_connect(fd, (struct sockaddr *)&sun, sizeof(sun), deadline_ms) != 0) {
		snprintf(err, errcap, "cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static int conn_open_tty(struct conn *c, const char *path, uint64_t deadline_ms, char *err,
			 size_t errcap)
{
	struct termios t;
	/* O_NONBLOCK: without CLOCAL yet, a plain open could wait for a carrier forever. */
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errcap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) != 0) {
		snprintf(err, errcap, "%s is not a terminal (%s); give a tty or tcp:HOST:PORT",
			 path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Two hvctl on one console would read each other's replies: take turns. */
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			break; /* locks unsupported here: go on without */
		if (conn_now_ms() >= deadline_ms) {
			snprintf(err, errcap, "%s is in use by another hvctl", path);
			close(fd);
			return -1;
		}
		usleep(10000);
	}
	/* Raw 8N1 at 115200, no flow control, no modem lines: the other end may be an
	 * emulator's UART behind a pty, which has neither. */
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(PARENB | CSTOPB | CSIZE | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	/* VMIN 1: with O_NONBLOCK an empty queue then reads as EAGAIN; with VMIN 0 it would
	 * read as 0, which could not be told from a hangup. */
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		snprintf(err, errcap, "cannot set up %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* Whatever waits in the input queue answered someone else. */
	tcflush(fd, TCIFLUSH);
	c->fd = fd;
	return 0;
}

/* exec:COMMAND: the console is a program's standard input and output, as ssh's
 * ProxyCommand (a console server's client: `console NAME` of conserver, `ipmitool sol
 * activate`, `ssh host socat - /dev/ttyS1`). It runs under /bin/sh -c, its stdin and stdout
 * one end of a socketpair, its stderr hvctl's (a client's own messages stay visible). */
static int conn_open_exec(struct conn *c, const char *command, char *err, size_t errcap)
{
	int sv[2];
	pid_t pid;

	if (command[0] == '\0') {
		snprintf(err, errcap, "exec: needs a command (exec:COMMAND)");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errcap, "socketpair: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errcap, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		/* a process group of its own: when hvctl is done, every process the program
		 * made ends with it (conserver's console forks a child that would keep hvctl's
		 * stderr open, and its caller waiting); dup2 clears close-on-exec on 0 and 1,
		 * everything else of hvctl's closes */
		setpgid(0, 0);
		if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* as the child does: whichever runs first */
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) != 0) {
		snprintf(err, errcap, "fcntl: %s", strerror(errno));
		close(sv[0]);
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	/* the program may end at any time: its end reads as EOF, a write to it must not
	 * kill hvctl */
	signal(SIGPIPE, SIG_IGN);
	c->fd = sv[0];
	c->child = pid;
	c->sync_first = true;
	return 0;
}

int conn_open(struct conn *c, const char *addr, uint64_t deadline_ms, char *err, size_t errcap)
{
	c->fd = -1;
	c->child = 0;
	c->sync_first = false;
	c->addr = addr;
	if (strncmp(addr, "exec:", 5) == 0)
		return conn_open_exec(c, addr + 5, err, errcap);
	if (strncmp(addr, "tcp:", 4) == 0)
		return conn_open_tcp(c, addr + 4, deadline_ms, err, errcap);
	if (strncmp(addr, "unix:", 5) == 0)
		return conn_open_unix(c, addr + 5, deadline_ms, err, errcap);
	return conn_open_tty(c, addr, deadline_ms, err, errcap);
}

static int conn_write_all(struct conn *c, const uint8_t *p, size_t n, uint64_t deadline_ms)
{
	while (n > 0) {
		ssize_t w = write(c->fd, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		int rc = conn_poll(c->fd, POLLOUT, deadline_ms);
		if (rc == 0)
			errno = ETIMEDOUT;
		if (rc <= 0)
			return -1;
	}
	return 0;
}

int conn_write(struct conn *c, const void *buf, size_t n, uint64_t deadline_ms)
{
	const uint8_t *p = buf;
	size_t step = c->pace_bytes > 0 ? c->pace_bytes : n;

	while (n > 0) {
		size_t k = n < step ? n : step;

		if (conn_write_all(c, p, k, deadline_ms) != 0)
			return -1;
		p += k;
		n -= k;
		if (n > 0 && c->pace_us > 0) {
			struct timespec ts = {.tv_sec = c->pace_us / 1000000u,
					      .tv_nsec = (long)(c->pace_us % 1000000u) * 1000};
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
	}
	return 0;
}

ssize_t conn_read(struct conn *c, void *buf, size_t cap, uint64_t deadline_ms)
{
	for (;;) {
		ssize_t r = read(c->fd, buf, cap);

		if (r > 0) {
			if (c->log_fd >= 0) {
				/* The log is for tests and post-mortems; a failing log must not
				 * lose the reply. */
				ssize_t w = write(c->log_fd, buf, (size_t)r);
				(void)w;
			}
			return r;
		}
		if (r == 0) {
			errno = EPIPE;
			return -1;
		}
		if (errno == EINTR && conn_interrupted)
			return -1;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			/* A pty whose other end went away reads as EIO. */
			if (errno == EIO)
				errno = EPIPE;
			return -1;
		}
		int rc = conn_poll(c->fd, POLLIN, deadline_ms);
		if (rc <= 0)
			return rc;
	}
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->child > 0) {
		/* its stdin is closed now: a well-behaved client ends; one that does not is
		 * asked to after a second, then made to; so is every process of its group */
		for (int i = 0; i < 100 && waitpid(c->child, NULL, WNOHANG) == 0; i++)
			usleep(10000);
		kill(-c->child, SIGTERM);
		if (waitpid(c->child, NULL, WNOHANG) == 0) {
			for (int i = 0; i < 100 && waitpid(c->child, NULL, WNOHANG) == 0; i++)
				usleep(10000);
		}
		kill(-c->child, SIGKILL);
		waitpid(c->child, NULL, 0);
		c->child = 0;
	}
}
