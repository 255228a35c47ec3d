/* SPDX-License-Identifier: MIT */
/*
 * hvctl pair FILE: pins the monitor's channel key for this boot (docs/channel.md). The key
 * is read from `status --json` over the serial console, the one path the guest cannot
 * touch, and written to FILE; later channel requests through the guest take replies only
 * when signed by it. The monitor makes a new key at every boot: pair again after one.
 */
#ifndef HVCTL_PAIR_H
#define HVCTL_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "chan/sig.h"
#include "request.h"

/* hvctl pair FILE over the console c: exit status */
int hvctl_pair(struct conn *c, struct reader *rd, const char *path, double timeout_s);

#endif
