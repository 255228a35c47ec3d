/* SPDX-License-Identifier: MIT */
/*
 * A monitor behind hvcall() (tools/hvrelay/hvcall.h) for host tests of the guest's relays:
 * the ring-3 checks of hv/console/chan_vmcall.c over the core's own exchange
 * (hv/console/channel.c), with a console that runs each request taken at once. Not
 * emulated: the rate limit (SENDS_PER_SECOND) and the ring check (the caller is ring 3).
 */
#ifndef TESTS_UNIT_FAKE_MONITOR_H
#define TESTS_UNIT_FAKE_MONITOR_H

#include <stddef.h>

#include "tools/hvctl/chan_client.h"

/* The reply each request gets: "ran: LINE\r\n", filler up to FAKE_REPLY_LEN bytes (more
 * than one piece), "=ok\r\n". */
#define FAKE_REPLY_LEN 6000u

/* Boot number `boot` (its seed, and so its boot id and key, differ from another number's):
 * the channel configured with a fixed operator key, c the operator's side with the
 * monitor's key pinned and no session yet. */
void fake_monitor_boot(struct chan_client *c, unsigned boot);
/* A hello and its reply, straight into the channel (not through hvcall): c then has the boot
 * id and the next number. */
void fake_monitor_hello(struct chan_client *c);
/* Requests run since the boot. */
unsigned fake_monitor_ran(void);

#endif
