/* SPDX-License-Identifier: MIT */
/*
 * The operator's key pair for the channel (docs/channel.md): `hvctl keygen FILE` makes it.
 * FILE holds the private key (mode 0600, never overwritten), FILE.pub the public key as
 * the line hv.cfg takes ("operator_key = 04..."), which is public: the guest may read it.
 */
#ifndef HVCTL_KEYS_H
#define HVCTL_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan/sig.h"

#define KEYS_PRIVATE_TAG "ctrvisor-operator-key 1 "

/* A new pair from getrandom into path and path.pub. 0, or -1 with why (the files are
 * then not there: an existing FILE is never touched). */
int keys_generate(const char *path, uint8_t pub[CHAN_PUBKEY_LEN], char *why, size_t cap);
/* The private key in path (made by keys_generate; must not be readable by others). 0, or
 * -1 with why. */
int keys_load_private(const char *path, uint8_t priv[CHAN_PRIVKEY_LEN], char *why, size_t cap);

struct json_token;
/* The value of channel.NAME in a `status --json` body into *value (its offsets index the
 * body). 0, or -1 when there is none. */
int status_channel_member(const char *status_json, size_t len, const char *name,
			  struct json_token *value);
/* The channel.monitor_key of a `status --json` body (hvctl pair). 0, or -1 with why (none,
 * not hex, not a P-256 point). */
int pair_monitor_key(const char *status_json, size_t len, uint8_t key[CHAN_PUBKEY_LEN], char *why,
		     size_t cap);

/* hvctl keygen FILE: exit status */
int hvctl_keygen(int argc, char **argv);

#endif
