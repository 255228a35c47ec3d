/* SPDX-License-Identifier: MIT */
/* The channel's frame format (frame.h, docs/channel.md). */
#include "chan/frame.h"
#include "chan/vmcall.h"

#include "lib/string.h"

#define OFF_VERSION  4u
#define OFF_KIND     5u
#define OFF_FLAGS    6u
#define OFF_BODY_LEN 8u
#define OFF_CHUNK    12u
#define OFF_SEQ      16u
#define OFF_BOOT_ID  24u
#define OFF_BOUND    40u
_Static_assert(OFF_BOUND + CHAN_DIGEST_LEN == CHAN_HEADER_LEN, "the header's fields fill it");

static const char *const error_names[CHAN_ERR_COUNT] = {
	[CHAN_OK] = "ok",
	[CHAN_ERR_LENGTH] = "length",
	[CHAN_ERR_MAGIC] = "magic",
	[CHAN_ERR_VERSION] = "version",
	[CHAN_ERR_KIND] = "kind",
	[CHAN_ERR_FLAGS] = "flags",
	[CHAN_ERR_FIELDS] = "fields",
	[CHAN_ERR_SIGNATURE] = "signature",
	[CHAN_ERR_BOOT] = "boot",
	[CHAN_ERR_SEQ] = "seq",
	[CHAN_ERR_NO_KEY] = "no-key",
	[CHAN_ERR_OPERATOR] = "operator",
};

const char *chan_error_name(enum chan_error e)
{
	return (unsigned)e < CHAN_ERR_COUNT ? error_names[e] : "?";
}

static const char *const vmcall_names[] = {
	[CHAN_VMCALL_FAULT - CHAN_VMCALL_FAULT] = "fault",
	[CHAN_VMCALL_BUSY - CHAN_VMCALL_FAULT] = "busy",
	[CHAN_VMCALL_RATE - CHAN_VMCALL_FAULT] = "rate",
	[CHAN_VMCALL_SMALL - CHAN_VMCALL_FAULT] = "small",
};

const char *chan_reason_name(unsigned reason)
{
	if (reason < CHAN_ERR_COUNT)
		return reason == CHAN_OK ? "taken" : error_names[reason];
	if (reason >= CHAN_VMCALL_FAULT && reason < CHAN_VMCALL_REASON_END)
		return vmcall_names[reason - CHAN_VMCALL_FAULT];
	return "?";
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i > 0; i--)
		v = v << 8 | p[i - 1];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t any = 0;

	for (size_t i = 0; i < n; i++)
		any |= p[i];
	return any == 0;
}

/* What each kind may carry (frame.h's table). */
static enum chan_error check_kind_fields(const struct chan_frame *f)
{
	switch (f->kind) {
	case CHAN_HELLO:
		if (f->flags != 0)
			return CHAN_ERR_FLAGS;
		if (f->chunk != 0 || f->seq != 0 || !all_zero(f->boot_id, CHAN_BOOT_ID_LEN) ||
		    f->body_len != 0)
			return CHAN_ERR_FIELDS;
		return CHAN_OK;
	case CHAN_HELLO_REPLY:
		if (f->flags != CHAN_FLAG_LAST)
			return CHAN_ERR_FLAGS;
		return f->chunk == 0 ? CHAN_OK : CHAN_ERR_FIELDS;
	case CHAN_REQUEST:
		if (f->flags != 0)
			return CHAN_ERR_FLAGS;
		/* bound: the challenge of the hello that began its session (session.c) */
		return f->chunk == 0 ? CHAN_OK : CHAN_ERR_FIELDS;
	case CHAN_REPLY:
		return (f->flags & ~CHAN_FLAG_LAST) == 0 ? CHAN_OK : CHAN_ERR_FLAGS;
	}
	return CHAN_ERR_KIND;
}

enum chan_error chan_frame_parse(const uint8_t *buf, size_t len, struct chan_frame *f)
{
	enum chan_error e;

	memset(f, 0, sizeof(*f));
	if (buf == NULL || len < CHAN_FRAME_MIN || len > CHAN_FRAME_MAX)
		return CHAN_ERR_LENGTH;
	if (memcmp(buf, CHAN_MAGIC, 4) != 0)
		return CHAN_ERR_MAGIC;
	if (buf[OFF_VERSION] != CHAN_VERSION)
		return CHAN_ERR_VERSION;
	f->kind = (enum chan_kind)buf[OFF_KIND];
	f->flags = (uint16_t)get_le(buf + OFF_FLAGS, 2);
	f->body_len = (uint32_t)get_le(buf + OFF_BODY_LEN, 4);
	/* before any sum: body_len is the sender's, up to 2^32 - 1 */
	if (f->body_len > CHAN_BODY_MAX || len != CHAN_FRAME_MIN + (size_t)f->body_len)
		return CHAN_ERR_LENGTH;
	f->chunk = (uint32_t)get_le(buf + OFF_CHUNK, 4);
	f->seq = get_le(buf + OFF_SEQ, 8);
	memcpy(f->boot_id, buf + OFF_BOOT_ID, CHAN_BOOT_ID_LEN);
	memcpy(f->bound, buf + OFF_BOUND, CHAN_DIGEST_LEN);
	e = check_kind_fields(f);
	if (e != CHAN_OK)
		return e;
	f->body = buf + CHAN_HEADER_LEN;
	f->signature = buf + CHAN_HEADER_LEN + f->body_len;
	chan_sha256(buf, CHAN_HEADER_LEN + f->body_len, f->digest);
	return CHAN_OK;
}

size_t chan_frame_write(struct chan_frame *f, const uint8_t priv[CHAN_PRIVKEY_LEN], uint8_t *out,
			size_t cap)
{
	size_t signed_len = CHAN_HEADER_LEN + (size_t)f->body_len;

	if (f->body_len > CHAN_BODY_MAX || cap < signed_len + CHAN_SIG_LEN ||
	    (f->body_len > 0 && f->body == NULL))
		return 0;
	memcpy(out, CHAN_MAGIC, 4);
	out[OFF_VERSION] = CHAN_VERSION;
	out[OFF_KIND] = (uint8_t)f->kind;
	put_le(out + OFF_FLAGS, f->flags, 2);
	put_le(out + OFF_BODY_LEN, f->body_len, 4);
	put_le(out + OFF_CHUNK, f->chunk, 4);
	put_le(out + OFF_SEQ, f->seq, 8);
	memcpy(out + OFF_BOOT_ID, f->boot_id, CHAN_BOOT_ID_LEN);
	memcpy(out + OFF_BOUND, f->bound, CHAN_DIGEST_LEN);
	if (f->body_len > 0)
		memmove(out + CHAN_HEADER_LEN, f->body, f->body_len);
	chan_sha256(out, signed_len, f->digest);
	if (chan_sign(priv, f->digest, out + signed_len) != 0)
		return 0;
	return signed_len + CHAN_SIG_LEN;
}
