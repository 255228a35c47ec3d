/* SPDX-License-Identifier: MIT */
/*
 * VMCALL from ring 3, survivable (hv/chan/vmcall.h is the ABI): hvrelay and the lab's hostile
 * relay (tools/lab/guest/chanattack.c) share it. Where no monitor answers, VMCALL raises #UD
 * (SDM Vol. 2B, VMCALL: "#UD If executed outside VMX operation"), which Linux delivers as
 * SIGILL; the monitor itself answers #UD to anything that is not a channel call. Either way
 * the caller learns it and goes on.
 */
#ifndef HVRELAY_HVCALL_H
#define HVRELAY_HVCALL_H

#include <stdbool.h>
#include <stdint.h>

/* The registers a VMCALL takes (all of them in and out: the ABI promises to leave all but
 * RAX alone, and a monitor that did not should not corrupt the caller's state unseen). */
struct hvcall_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi;
};

/* Executes VMCALL with r. true when it returned (r holds what the monitor left); false when
 * it raised #UD (SIGILL; r unchanged). A SIGILL anywhere else still ends the process. */
bool hvcall(struct hvcall_regs *r);

/* chancall.c: a channel call, RAX = CHAN_VMCALL_MAGIC | function, RBX = buf, RCX = len. Its
 * RAX, or HVCALL_UD when it raised #UD. */
#define HVCALL_UD INT64_MIN
int64_t hvcall_chan(unsigned function, uint64_t buf, uint64_t len);

/* The word for what a channel call's RAX says: chan_reason_name's ("taken" for 0, "seq",
 * "fault", ...), "frame" (a length), "ud" (HVCALL_UD), "?" (a negative number the ABI does
 * not have). */
const char *hvcall_result_name(int64_t rax);

#endif
