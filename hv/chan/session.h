/* SPDX-License-Identifier: MIT */
/*
 * The monitor's side of the channel (docs/channel.md): which frames it takes, and the
 * frames it answers with. The security of the channel rests here:
 *  - a hello or a request is taken only when signed by the operator's key (hv.cfg's
 *    operator_key: public, so the guest may read it without harm);
 *  - a request only for this boot (boot_id, new at every boot), for the session of the
 *    last hello taken (the nonce its reply gave, new at every hello taken, a replayed one
 *    included), and numbered above every request taken before in this boot: a replayed,
 *    reordered or held-back frame is refused;
 *  - the replies are signed by the monitor's own key, which the guest never sees, and are
 *    bound to their request by its digest and number, and to their place by chunk and the
 *    last flag, so hvctl can tell a forged, altered, replayed, reordered or cut reply.
 * Freestanding, and no state but what it is given: the core keeps one (shared by every
 * vCPU, under its lock) and the unit tests drive it directly.
 */
#ifndef HV_CHAN_SESSION_H
#define HV_CHAN_SESSION_H

#include "chan/frame.h"

struct chan_session {
	bool operator_key_set;
	uint8_t operator_key[CHAN_PUBKEY_LEN]; /* who may send hellos and requests */
	bool monitor_key_set;
	uint8_t monitor_priv[CHAN_PRIVKEY_LEN]; /* signs hello replies and replies */
	uint8_t monitor_pub[CHAN_PUBKEY_LEN];   /* shown on the serial console, pinned by hvctl */
	uint8_t boot_id[CHAN_BOOT_ID_LEN];
	uint64_t last_seq; /* the highest request number taken in this boot (0: none) */
	uint8_t last_digest[CHAN_DIGEST_LEN]; /* that request's (0: none) */
	/* the session of the last hello taken: a nonce the monitor makes anew at every hello
	 * it takes (from the boot id and a count, so a replayed hello gets a new one too) and
	 * that a request must carry, so one made for an earlier session (held back by the
	 * relay) is refused once a hello was taken since */
	bool have_session;
	uint64_t hellos;
	uint8_t session_nonce[CHAN_DIGEST_LEN];
	uint64_t taken;
	uint64_t refused[CHAN_ERR_COUNT]; /* by reason */
};

/* A frame from the guest. CHAN_OK: a hello, or a request that is now the last taken, in f
 * (pointers into buf). Otherwise why it is refused, counted in s->refused. */
enum chan_error chan_session_take(struct chan_session *s, const uint8_t *buf, size_t len,
				  struct chan_frame *f);
/* The hello reply to `hello`: this boot's boot_id, the last request number taken, the
 * hello's challenge back, and a body of SHA-256 of the operator key it takes requests
 * from, the digest of the last request taken (0: none; hvctl tells from it whether a
 * request whose reply it lost was taken), the session's nonce, then `body` (what the monitor is,
 * for the operator to read). The frame's length, or 0 (no monitor or operator key, or it does not
 * fit in cap). */
size_t chan_session_hello_reply(const struct chan_session *s, const struct chan_frame *hello,
				const uint8_t *body, uint32_t body_len, uint8_t *out, size_t cap);
/* Piece `chunk` of the reply to `request` (last: no piece follows). Length or 0. */
size_t chan_session_reply(const struct chan_session *s, const struct chan_frame *request,
			  uint32_t chunk, bool last, const uint8_t *body, uint32_t body_len,
			  uint8_t *out, size_t cap);

#endif
