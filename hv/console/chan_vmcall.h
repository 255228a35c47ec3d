/* SPDX-License-Identifier: MIT */
/*
 * The channel's VMCALL calls in the core (chan/vmcall.h has the ABI): the relay's frames
 * in, the monitor's frames out, and every refusal counted by reason. A VMCALL no other
 * hook claimed comes here (registered last): what is not a well-formed channel call from
 * ring 3 gets #UD, as on a CPU without VMX. Owner: the exit lock.
 */
#ifndef HV_CONSOLE_CHAN_VMCALL_H
#define HV_CONSOLE_CHAN_VMCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "chan/vmcall.h"

struct reply;

/* Why a VMCALL got #UD. */
enum chan_ud {
	CHAN_UD_NOT_CHANNEL, /* RAX is not a channel call */
	CHAN_UD_RING,        /* a channel call from ring 0-2, or without paging */
	CHAN_UD_FUNCTION,    /* no such function */
	CHAN_UD_COUNT
};

struct chan_vmcall_stats {
	uint64_t calls;                           /* every VMCALL that came here */
	uint64_t sent, received;                  /* frames taken in, handed out */
	uint64_t refused[CHAN_VMCALL_REASON_END]; /* returned in RAX, by reason */
	uint64_t ud[CHAN_UD_COUNT];               /* #UD, by why */
};

/* Registers the VMCALL hook (after every other: vmx/exit_hooks.h). */
bool chan_vmcall_register(void);
/* `status`: the counters, as text lines or the members of the channel's JSON object. */
void chan_vmcall_status_text(struct reply *r);
void chan_vmcall_status_json(struct reply *r);

#endif
