/* SPDX-License-Identifier: MIT */
/*
 * hvctl's side of the channel (docs/channel.md): the hello that learns the monitor's boot
 * and request number, the signed requests, and the checks every reply piece must pass
 * before a byte of it is shown: signed by the pinned monitor key, of this boot, bound to
 * this request (its digest and number), in order, ending with the last flag. Only the
 * operator's key signs; nothing here trusts the relay, the transport or the guest.
 */
#ifndef HVCTL_CHAN_CLIENT_H
#define HVCTL_CHAN_CLIENT_H

#include "chan/frame.h"

struct chan_client {
	uint8_t operator_priv[CHAN_PRIVKEY_LEN];
	uint8_t monitor_pub[CHAN_PUBKEY_LEN]; /* pinned (hvctl pair) */
	uint8_t challenge[CHAN_DIGEST_LEN];   /* of the hello in flight */
	bool challenge_out;                   /* a hello is in flight (one answer taken) */
	bool have_session;                    /* a hello reply was taken */
	uint8_t boot_id[CHAN_BOOT_ID_LEN];
	uint64_t next_seq;
	uint8_t last_digest[CHAN_DIGEST_LEN];   /* of the last request the monitor took (hello) */
	uint8_t session_nonce[CHAN_DIGEST_LEN]; /* the hello reply's: every request carries it */
	/* the request in flight */
	bool request_out;
	uint64_t request_seq;
	uint8_t request_digest[CHAN_DIGEST_LEN];
	uint32_t next_chunk;
	bool reply_done;
};

/* A hello with the caller's fresh random challenge. Length of the frame, or 0. */
size_t chan_client_hello(struct chan_client *c, const uint8_t challenge[CHAN_DIGEST_LEN],
			 uint8_t *out, size_t cap);
/* The monitor's answer to that hello: its boot and the number the next request takes.
 * CHAN_OK, or why it is not taken (not signed by the pinned key, not this challenge, not
 * this operator's key that the monitor takes requests from: CHAN_ERR_OPERATOR...). */
enum chan_error chan_client_take_hello_reply(struct chan_client *c, const uint8_t *buf, size_t len,
					     struct chan_frame *f);
/* A request for one command line (len bytes, no newline). Length, or 0 (no session yet,
 * too long, or the numbers are used up). */
size_t chan_client_request(struct chan_client *c, const char *line, size_t len, uint8_t *out,
			   size_t cap);
/* A piece of the reply to the request in flight. CHAN_OK (f->body is the next piece;
 * c->reply_done once the last came), or why it is refused. */
enum chan_error chan_client_take_reply(struct chan_client *c, const uint8_t *buf, size_t len,
				       struct chan_frame *f);

#endif
