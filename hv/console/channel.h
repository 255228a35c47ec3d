/* SPDX-License-Identifier: MIT */
/*
 * The channel's state in the core (docs/channel.md): the operator's public key from
 * hv.cfg, checked at start, the session (chan/session.h) the frames the relay passes
 * with VMCALL (console/chan_vmcall.c) are taken into, and the exchange: a request taken is
 * run by the console like a line typed on the serial console, its reply text kept here
 * and handed out in signed pieces. Owned by whoever holds the exit lock (the console's
 * poll and verbs, the VMCALL exit).
 */
#ifndef HV_CONSOLE_CHANNEL_H
#define HV_CONSOLE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan/sig.h"
#include "console/cmd.h"

/* At start: the operator_key of hv.cfg (NULL: none), and the loader's seed for this boot
 * (BOOT_CHANNEL_SEED_LEN bytes; sources: bits of bootinfo.h's enum boot_entropy, 0: none),
 * which it copies into the monitor's memory and wipes where it was. A key that is not a
 * point of P-256 is not taken (the channel then takes nothing) and channel_key_problem()
 * says why. The seed makes the monitor's key pair for this boot and the boot id, at their
 * first use (in a VM exit: on the monitor's stack): the key lives only in the monitor's
 * memory (hidden from the guest by EPT) and is new at every boot; its public half is shown
 * in `status` for the operator to pin. */
void channel_configure(const uint8_t *operator_key, uint8_t *seed, unsigned sources);
/* The first 8 bytes of SHA-256 of the operator's key, as 16 hex digits and a NUL (what
 * `hvctl keygen`'s FILE.pub hashes to), or NULL when no key was taken. */
const char *channel_operator_key_id(void);
/* The monitor's public key of this boot (made now if it was not yet): false when none. */
bool channel_monitor_public_key(uint8_t pub[CHAN_PUBKEY_LEN]);
/* Why hv.cfg's key was not taken, or NULL. */
const char *channel_key_problem(void);
/* `status`: one line of text, or the "channel" member of the JSON object. */
void channel_status_text(struct reply *r);
void channel_status_json(struct reply *r);

/* The VMCALL calls (console/chan_vmcall.c). frame: len bytes in the monitor's memory (the
 * guest cannot change them while they are checked). Returns CHAN_OK (a hello, or a request
 * now queued for the console) or the reason it is refused: an enum chan_error, or
 * CHAN_VMCALL_BUSY (a reply is still owed: a request waits for it to be taken whole). */
unsigned channel_send(const uint8_t *frame, size_t len);
/* The next frame for the operator into out (cap >= CHAN_FRAME_MAX): a hello reply, or the
 * next piece of the reply owed (a full piece, or the last). Its length, or 0 (none yet). One
 * signature per call at most. */
long channel_recv(uint8_t *out, size_t cap);

/* The console's side (console/console.c): the request taken, once, to run (its body, in the
 * channel's memory until the next send); its reply text, written as the console writes a
 * reply to the serial console; and its end (the status line was written). */
bool channel_next_request(const uint8_t **body, uint32_t *len);
bool channel_pending(void);
/* Reply pieces handed out so far: the console sees from it whether the relay still takes
 * the reply of a job it made wait. */
uint64_t channel_pieces_out(void);
uint32_t channel_text_used(void);
uint32_t channel_text_capacity(void);
void channel_text_write(const char *s, size_t n);
void channel_text_end(void);

#endif
