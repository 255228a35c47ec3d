/* SPDX-License-Identifier: MIT */
/*
 * The channel's state in the core (docs/channel.md): the operator's public key from
 * hv.cfg, checked at start, and the session (chan/session.h) the VMCALL requests will be
 * taken into. Owned by whoever holds the exit lock (the console's verbs, the VMCALL exit).
 * Built so far: the key and `status`; the VMCALL calls are not (docs/channel.md).
 */
#ifndef HV_CONSOLE_CHANNEL_H
#define HV_CONSOLE_CHANNEL_H

#include <stdbool.h>
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
/* Why hv.cfg's key was not taken, or NULL. */
const char *channel_key_problem(void);
/* `status`: one line of text, or the "channel" member of the JSON object. */
void channel_status_text(struct reply *r);
void channel_status_json(struct reply *r);

#endif
