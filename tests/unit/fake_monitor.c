/* SPDX-License-Identifier: MIT */
/* A monitor behind hvcall() for host tests (fake_monitor.h). */
#include "fake_monitor.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cmocka.h>

#include "bootinfo.h"
#include "chan/vmcall.h"
#include "console/channel.h"
#include "tools/hvrelay/hvcall.h"

/* channel.c's `status` calls into chan_vmcall.c, which is not here */
void chan_vmcall_status_text(struct reply *r)
{
	(void)r;
}
void chan_vmcall_status_json(struct reply *r)
{
	(void)r;
}

static unsigned ran;

/* The caller's memory as the monitor's page walk sees it: process_vm_readv/writev fail
 * with EFAULT for what is not mapped, not user memory, or (writing) not writable. */
static int user_copy(uint64_t va, void *buf, size_t n, int write)
{
	struct iovec local = {.iov_base = buf, .iov_len = n};
	struct iovec remote = {.iov_base = (void *)(uintptr_t)va, .iov_len = n};
	ssize_t done = write ? process_vm_writev(getpid(), &local, 1, &remote, 1, 0)
			     : process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	return done == (ssize_t)n ? 0 : -1;
}

static void console_step(void)
{
	const uint8_t *body;
	uint32_t len;
	char text[FAKE_REPLY_LEN];

	if (!channel_next_request(&body, &len))
		return;
	int n = snprintf(text, sizeof(text), "ran: %.*s\r\n", (int)len, body);
	memset(text + n, '.', sizeof(text) - (size_t)n - 5);
	memcpy(text + sizeof(text) - 5, "=ok\r\n", 5);
	channel_text_write(text, sizeof(text));
	channel_text_end();
	ran++;
}

/* chan_vmcall.c's call_send and call_recv */
static long call_send(uint64_t va, uint64_t len)
{
	static uint8_t frame[CHAN_FRAME_MAX];

	if (len < CHAN_FRAME_MIN || len > CHAN_FRAME_MAX)
		return CHAN_ERR_LENGTH;
	if (user_copy(va, frame, (size_t)len, 0) < 0)
		return CHAN_VMCALL_FAULT;
	unsigned reason = channel_send(frame, (size_t)len);
	if (reason == CHAN_OK)
		console_step();
	return reason;
}

static uint8_t kept_frame[CHAN_FRAME_MAX];
static size_t kept;

static long call_recv(uint64_t va, uint64_t cap)
{
	if (cap < CHAN_FRAME_MAX)
		return -(long)CHAN_VMCALL_SMALL;
	if (kept == 0) {
		long n = channel_recv(kept_frame, sizeof(kept_frame));
		if (n <= 0)
			return 0;
		kept = (size_t)n;
	}
	if (user_copy(va, kept_frame, kept, 1) < 0)
		return -(long)CHAN_VMCALL_FAULT; /* kept for the next call: a fault loses nothing */
	long n = (long)kept;
	kept = 0;
	return n;
}

bool hvcall(struct hvcall_regs *r)
{
	uint32_t function = (uint32_t)r->rax;
	long result;

	if ((r->rax & CHAN_VMCALL_MAGIC_MSK) != CHAN_VMCALL_MAGIC ||
	    (function != CHAN_VMCALL_SEND && function != CHAN_VMCALL_RECV))
		return false; /* #UD */
	if (function == CHAN_VMCALL_SEND)
		result = -call_send(r->rbx, r->rcx);
	else
		result = call_recv(r->rbx, r->rcx);
	r->rax = result >= 0 ? (uint64_t)result : (uint64_t) - (CHAN_VMCALL_ERR_BASE - result);
	return true;
}

void fake_monitor_boot(struct chan_client *c, unsigned boot)
{
	uint8_t seed[BOOT_CHANNEL_SEED_LEN], op_seed[48], pub[CHAN_PUBKEY_LEN];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(op_seed); i++)
		op_seed[i] = (uint8_t)(i * 5 + 3);
	assert_int_equal(chan_keygen(op_seed, sizeof(op_seed), c->operator_priv, pub), 0);
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)(i * 13 + 7 + boot);
	channel_configure(pub, seed, 1u << BOOT_ENTROPY_RDRAND);
	assert_true(channel_monitor_public_key(c->monitor_pub));
	ran = 0;
	kept = 0;
}

void fake_monitor_hello(struct chan_client *c)
{
	uint8_t challenge[CHAN_DIGEST_LEN], frame[CHAN_FRAME_MAX];
	struct chan_frame f;

	for (size_t i = 0; i < sizeof(challenge); i++)
		challenge[i] = (uint8_t)(i + 1);
	size_t n = chan_client_hello(c, challenge, frame, sizeof(frame));
	assert_true(n > 0);
	assert_int_equal(channel_send(frame, n), CHAN_OK);
	long got = channel_recv(frame, sizeof(frame));
	assert_true(got > 0);
	assert_int_equal(chan_client_take_hello_reply(c, frame, (size_t)got, &f), CHAN_OK);
}

unsigned fake_monitor_ran(void)
{
	return ran;
}
