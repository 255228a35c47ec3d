/* SPDX-License-Identifier: MIT */
/*
 * The channel's frames (docs/channel.md): what an operator's request and the monitor's
 * reply look like on any transport the guest relays. A frame is a fixed header, a body
 * and a signature over both; every number is little-endian. Freestanding: the core and
 * hvctl share it. Parsing checks the form only; session.c checks who signed and when.
 *
 *   offset  size  field
 *        0     4  magic "HVCH"
 *        4     1  version (1)
 *        5     1  kind (enum chan_kind)
 *        6     2  flags (CHAN_FLAG_*; the others must be 0)
 *        8     4  body_len (at most CHAN_BODY_MAX)
 *       12     4  chunk: a reply's piece, from 0 (0 in other kinds)
 *       16     8  seq: a request's number (a reply: its request's)
 *       24    16  boot_id: the monitor's boot the frame belongs to (0 in a hello)
 *       40    32  bound: a hello's challenge; a request's: its session's nonce (hello reply);
 *                 a reply's: its request's digest
 *       72     -  body (body_len bytes)
 *   72+len    64  signature: ECDSA P-256 over SHA-256 of bytes [0, 72+len) (sig.h)
 */
#ifndef HV_CHAN_FRAME_H
#define HV_CHAN_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan/sig.h"

#define CHAN_MAGIC       "HVCH"
#define CHAN_VERSION     1u
#define CHAN_BOOT_ID_LEN 16u
#define CHAN_HEADER_LEN  72u
#define CHAN_BODY_MAX    4096u
#define CHAN_FRAME_MIN   (CHAN_HEADER_LEN + CHAN_SIG_LEN)
#define CHAN_FRAME_MAX   (CHAN_HEADER_LEN + CHAN_BODY_MAX + CHAN_SIG_LEN)

enum chan_kind {
	CHAN_HELLO = 1,       /* operator -> monitor: the session's facts, please (signed) */
	CHAN_HELLO_REPLY = 2, /* monitor: boot_id, the last seq it took, the challenge back */
	CHAN_REQUEST = 3,     /* operator: one command line, as typed on the serial console */
	CHAN_REPLY = 4,       /* monitor: a piece of the reply text */
};
#define CHAN_FLAG_LAST 0x0001u /* a reply's last piece (a hello reply has only one) */

/* Why a frame is refused (counted per reason by the monitor: `status`). */
enum chan_error {
	CHAN_OK = 0,
	CHAN_ERR_LENGTH,    /* shorter than a frame, or not the length its header says */
	CHAN_ERR_MAGIC,     /* not "HVCH" */
	CHAN_ERR_VERSION,   /* a version this build does not speak */
	CHAN_ERR_KIND,      /* no such kind, or not one this side takes */
	CHAN_ERR_FLAGS,     /* an unknown flag, or a flag the kind does not have */
	CHAN_ERR_FIELDS,    /* a field the kind must leave 0 is not */
	CHAN_ERR_SIGNATURE, /* not signed by the key this side trusts */
	CHAN_ERR_BOOT,      /* another boot's frame (or, for a reply, another request's) */
	CHAN_ERR_SEQ,       /* a request numbered at or below one already taken (replayed,
			     * reordered); a reply piece out of order */
	CHAN_ERR_NO_KEY,    /* no operator key configured: the channel takes nothing */
	CHAN_ERR_OPERATOR,  /* hvctl: the monitor takes requests from another operator key */
	CHAN_ERR_COUNT
};
/* "length", "magic", ... (for `status` and error messages) */
const char *chan_error_name(enum chan_error e);
/* A VMCALL's reason (chan/vmcall.h): chan_error_name's names below CHAN_ERR_COUNT ("taken"
 * for CHAN_OK), then "fault", "busy", "rate", "small"; "?" for another number. */
const char *chan_reason_name(unsigned reason);

struct chan_frame {
	enum chan_kind kind;
	uint16_t flags;
	uint32_t body_len;
	uint32_t chunk;
	uint64_t seq;
	uint8_t boot_id[CHAN_BOOT_ID_LEN];
	uint8_t bound[CHAN_DIGEST_LEN];
	const uint8_t *body;             /* into the parsed buffer */
	const uint8_t *signature;        /* into the parsed buffer */
	uint8_t digest[CHAN_DIGEST_LEN]; /* SHA-256 of header and body: what is signed */
};

/* Checks the form of len bytes and fills f (pointers into buf). CHAN_OK or why not. */
enum chan_error chan_frame_parse(const uint8_t *buf, size_t len, struct chan_frame *f);

/* Writes the header and body of f (kind, flags, body_len, chunk, seq, boot_id, bound, body)
 * into out and signs them with priv. Returns the frame's length, or 0 when it does not fit
 * in cap, the body is too long or the key is not valid. f->digest is set. */
size_t chan_frame_write(struct chan_frame *f, const uint8_t priv[CHAN_PRIVKEY_LEN], uint8_t *out,
			size_t cap);

#endif
