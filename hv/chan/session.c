/* SPDX-License-Identifier: MIT */
/* The monitor's side of the channel (session.h). */
#include "chan/session.h"

#include "lib/string.h"

static enum chan_error refuse(struct chan_session *s, enum chan_error e)
{
	if ((unsigned)e < CHAN_ERR_COUNT)
		s->refused[e]++;
	return e;
}

enum chan_error chan_session_take(struct chan_session *s, const uint8_t *buf, size_t len,
				  struct chan_frame *f)
{
	enum chan_error e = chan_frame_parse(buf, len, f);

	if (e != CHAN_OK)
		return refuse(s, e);
	if (f->kind != CHAN_HELLO && f->kind != CHAN_REQUEST)
		return refuse(s, CHAN_ERR_KIND);
	if (!s->operator_key_set)
		return refuse(s, CHAN_ERR_NO_KEY);
	/* the cheap checks before the signature's (a flood of junk costs little) */
	if (f->kind == CHAN_REQUEST) {
		if (memcmp(f->boot_id, s->boot_id, CHAN_BOOT_ID_LEN) != 0)
			return refuse(s, CHAN_ERR_BOOT);
		if (f->seq <= s->last_seq)
			return refuse(s, CHAN_ERR_SEQ);
		if (!s->have_session || memcmp(f->bound, s->session_nonce, CHAN_DIGEST_LEN) != 0)
			return refuse(s,
				      CHAN_ERR_BOOT); /* another session's (a hello came since) */
	}
	if (!chan_verify(s->operator_key, f->digest, f->signature))
		return refuse(s, CHAN_ERR_SIGNATURE);
	/* only now: a forged frame moves nothing */
	if (f->kind == CHAN_REQUEST) {
		s->last_seq = f->seq;
		memcpy(s->last_digest, f->digest, CHAN_DIGEST_LEN);
	} else {
		/* a new session, even for a replayed hello: SHA-256 of the boot id and a count */
		uint8_t in[CHAN_BOOT_ID_LEN + 8];
		s->hellos++;
		memcpy(in, s->boot_id, CHAN_BOOT_ID_LEN);
		for (unsigned i = 0; i < 8; i++)
			in[CHAN_BOOT_ID_LEN + i] = (uint8_t)(s->hellos >> (8 * i));
		chan_sha256(in, sizeof(in), s->session_nonce);
		s->have_session = true;
	}
	s->taken++;
	return CHAN_OK;
}

size_t chan_session_hello_reply(const struct chan_session *s, const struct chan_frame *hello,
				const uint8_t *body, uint32_t body_len, uint8_t *out, size_t cap)
{
	uint8_t text[CHAN_BODY_MAX];
	struct chan_frame r = {
		.kind = CHAN_HELLO_REPLY,
		.flags = CHAN_FLAG_LAST,
		.body_len = 3 * CHAN_DIGEST_LEN + body_len,
		.seq = s->last_seq,
		.body = text,
	};

	if (!s->monitor_key_set || !s->operator_key_set || hello->kind != CHAN_HELLO ||
	    body_len > CHAN_BODY_MAX - 3 * CHAN_DIGEST_LEN)
		return 0;
	/* the operator key this monitor takes requests from: hvctl checks it is its own
	 * (a guest that put its own key in hv.cfg would otherwise re-sign the operator's
	 * frames, and this monitor would take them) */
	chan_sha256(s->operator_key, CHAN_PUBKEY_LEN, text);
	memcpy(text + CHAN_DIGEST_LEN, s->last_digest, CHAN_DIGEST_LEN);
	memcpy(text + 2 * CHAN_DIGEST_LEN, s->session_nonce, CHAN_DIGEST_LEN);
	if (body_len > 0)
		memcpy(text + 3 * CHAN_DIGEST_LEN, body, body_len);
	memcpy(r.boot_id, s->boot_id, CHAN_BOOT_ID_LEN);
	memcpy(r.bound, hello->bound, CHAN_DIGEST_LEN);
	return chan_frame_write(&r, s->monitor_priv, out, cap);
}

size_t chan_session_reply(const struct chan_session *s, const struct chan_frame *request,
			  uint32_t chunk, bool last, const uint8_t *body, uint32_t body_len,
			  uint8_t *out, size_t cap)
{
	struct chan_frame r = {
		.kind = CHAN_REPLY,
		.flags = last ? CHAN_FLAG_LAST : 0,
		.body_len = body_len,
		.chunk = chunk,
		.seq = request->seq,
		.body = body,
	};

	if (!s->monitor_key_set || request->kind != CHAN_REQUEST)
		return 0;
	memcpy(r.boot_id, s->boot_id, CHAN_BOOT_ID_LEN);
	memcpy(r.bound, request->digest, CHAN_DIGEST_LEN);
	return chan_frame_write(&r, s->monitor_priv, out, cap);
}
