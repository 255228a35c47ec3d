/* SPDX-License-Identifier: MIT */
/* hvctl's side of the channel (chan_client.h). */
#include "chan_client.h"

#include <string.h>

size_t chan_client_hello(struct chan_client *c, const uint8_t challenge[CHAN_DIGEST_LEN],
			 uint8_t *out, size_t cap)
{
	struct chan_frame f = {.kind = CHAN_HELLO};

	memcpy(c->challenge, challenge, CHAN_DIGEST_LEN);
	memcpy(f.bound, challenge, CHAN_DIGEST_LEN);
	c->challenge_out = true;
	return chan_frame_write(&f, c->operator_priv, out, cap);
}

/* A well-formed frame of `kind` signed by the pinned monitor key; `in_flight`: what it
 * answers was sent (else CHAN_ERR_SEQ, before the signature's cost). */
static enum chan_error take_signed(const struct chan_client *c, const uint8_t *buf, size_t len,
				   enum chan_kind kind, bool in_flight, struct chan_frame *f)
{
	enum chan_error e = chan_frame_parse(buf, len, f);

	if (e != CHAN_OK)
		return e;
	if (f->kind != kind)
		return CHAN_ERR_KIND;
	if (!in_flight)
		return kind == CHAN_REPLY ? CHAN_ERR_SEQ : CHAN_ERR_BOOT;
	if (!chan_verify(c->monitor_pub, f->digest, f->signature))
		return CHAN_ERR_SIGNATURE;
	return CHAN_OK;
}

enum chan_error chan_client_take_hello_reply(struct chan_client *c, const uint8_t *buf, size_t len,
					     struct chan_frame *f)
{
	enum chan_error e = take_signed(c, buf, len, CHAN_HELLO_REPLY, c->challenge_out, f);

	if (e != CHAN_OK)
		return e;
	/* a signed hello reply of an earlier hello (replayed by the guest) names an old boot
	 * or an old number: only the answer to this challenge is taken */
	if (memcmp(f->bound, c->challenge, CHAN_DIGEST_LEN) != 0)
		return CHAN_ERR_BOOT;
	/* the monitor takes requests from this operator's key, not one the guest put in
	 * hv.cfg (session.c) */
	uint8_t pub[CHAN_PUBKEY_LEN], mine[CHAN_DIGEST_LEN];
	if (chan_public_key(c->operator_priv, pub) != 0)
		return CHAN_ERR_NO_KEY;
	chan_sha256(pub, sizeof(pub), mine);
	if (f->body_len < 3 * CHAN_DIGEST_LEN || memcmp(f->body, mine, CHAN_DIGEST_LEN) != 0)
		return CHAN_ERR_OPERATOR;
	if (f->seq == UINT64_MAX)
		return CHAN_ERR_SEQ;
	memcpy(c->boot_id, f->boot_id, CHAN_BOOT_ID_LEN);
	memcpy(c->last_digest, f->body + CHAN_DIGEST_LEN, CHAN_DIGEST_LEN);
	memcpy(c->session_nonce, f->body + 2 * CHAN_DIGEST_LEN, CHAN_DIGEST_LEN);
	c->next_seq = f->seq + 1;
	c->have_session = true;
	c->challenge_out = false; /* one answer per hello */
	c->request_out = false;
	return CHAN_OK;
}

size_t chan_client_request(struct chan_client *c, const char *line, size_t len, uint8_t *out,
			   size_t cap)
{
	struct chan_frame f = {.kind = CHAN_REQUEST, .body = (const uint8_t *)line};
	size_t n;

	if (!c->have_session || len > CHAN_BODY_MAX || c->next_seq == 0)
		return 0;
	f.body_len = (uint32_t)len;
	f.seq = c->next_seq;
	memcpy(f.boot_id, c->boot_id, CHAN_BOOT_ID_LEN);
	memcpy(f.bound, c->session_nonce, CHAN_DIGEST_LEN); /* this session's (session.h) */
	n = chan_frame_write(&f, c->operator_priv, out, cap);
	if (n == 0)
		return 0;
	c->request_seq = f.seq;
	memcpy(c->request_digest, f.digest, CHAN_DIGEST_LEN);
	c->next_chunk = 0;
	c->reply_done = false;
	c->request_out = true;
	c->next_seq++; /* wraps to 0 after UINT64_MAX: no request after that (a new hello) */
	return n;
}

enum chan_error chan_client_take_reply(struct chan_client *c, const uint8_t *buf, size_t len,
				       struct chan_frame *f)
{
	enum chan_error e = take_signed(c, buf, len, CHAN_REPLY, c->request_out, f);

	if (e != CHAN_OK)
		return e;
	if (memcmp(f->boot_id, c->boot_id, CHAN_BOOT_ID_LEN) != 0 || f->seq != c->request_seq ||
	    memcmp(f->bound, c->request_digest, CHAN_DIGEST_LEN) != 0)
		return CHAN_ERR_BOOT;
	if (c->reply_done || f->chunk != c->next_chunk)
		return CHAN_ERR_SEQ;
	c->next_chunk++;
	c->reply_done = (f->flags & CHAN_FLAG_LAST) != 0;
	return CHAN_OK;
}
