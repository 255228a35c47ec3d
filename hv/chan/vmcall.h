/* SPDX-License-Identifier: MIT */
/*
 * The channel's VMCALL calls (docs/channel.md, "VMCALL"): how the relay in the guest hands
 * a frame to the monitor and takes the monitor's next frame. One place for the numbers:
 * the core (console/chan_vmcall.c), the relay (tools/hvrelay), and the lab's attack tools
 * include it. Freestanding.
 *
 * VMCALL exits in VMX non-root operation at any CPL (SDM Vol. 3C 26.1.2), so ring 3 reaches
 * the monitor without the guest kernel's help. A channel call is made from ring 3 with
 *   RAX = CHAN_VMCALL_MAGIC | function, RBX = a user address, RCX = a length,
 * and returns in RAX (the other registers are left as they were):
 *   CHAN_VMCALL_SEND: RBX/RCX = one frame. 0 when taken (a hello, or a request now queued
 *                     to run), else -(CHAN_VMCALL_ERR_BASE + reason). Checked in this
 *                     order: the length (CHAN_FRAME_MIN..CHAN_FRAME_MAX), the copy into the
 *                     monitor (fault), the rate, then the frame (chan/session.h; a request
 *                     while a reply is owed: busy, before its signature).
 *   CHAN_VMCALL_RECV: RBX/RCX = a buffer of at least CHAN_FRAME_MAX bytes (else small).
 *                     The length of the monitor's next frame, written there (a hello
 *                     reply, or the next piece of a reply); 0 when there is none yet (the
 *                     buffer is then not looked at); or -(BASE + reason). A frame that
 *                     could not be written (fault) is kept for the next RECV.
 * The monitor reads and writes the buffer through the caller's page tables as they are; it
 * cannot fault a page in: a page not yet touched, or shared copy-on-write (for RECV), is
 * `fault`. A relay touches (or mlocks) its buffers first.
 * Anything else gets #UD, as on a CPU without VMX: a VMCALL whose RAX is not a channel
 * call, a channel call from another ring than 3, and an unknown function. Every refusal is
 * counted by reason (`status`).
 */
#ifndef HV_CHAN_VMCALL_H
#define HV_CHAN_VMCALL_H

#define CHAN_VMCALL_MAGIC     0x4856434800000000ull /* "HVCH" in bits 63:32 */
#define CHAN_VMCALL_MAGIC_MSK 0xFFFFFFFF00000000ull
#define CHAN_VMCALL_SEND      1u
#define CHAN_VMCALL_RECV      2u

/* A refused call's RAX is -(CHAN_VMCALL_ERR_BASE + reason). Below 256: a frame's reason
 * (enum chan_error of chan/frame.h: length, magic, ..., seq, no-key). */
#define CHAN_VMCALL_ERR_BASE 0x100
enum chan_vmcall_reason {
	CHAN_VMCALL_FAULT = 0x80, /* the buffer is not user memory the caller may read (write) */
	CHAN_VMCALL_BUSY,         /* a reply is still owed: take it (RECV) before a new request */
	CHAN_VMCALL_RATE,         /* too many signatures to check: try again in a moment */
	CHAN_VMCALL_SMALL,        /* RECV: the buffer is smaller than CHAN_FRAME_MAX */
	CHAN_VMCALL_REASON_END
};

/* The transport between hvctl and the relay (tty, TCP): text lines, so any tty setting and
 * any byte-stuffing on the way leave them alone.
 *   "F " base64(frame) "\n"   a frame, either way (RFC 4648 with padding)
 *   "E " word [text] "\n"     relay -> hvctl: what the monitor's RAX said of a frame sent
 *                             (chan_reason_name's names: "busy", "rate", "seq", ...)
 * An E line is not signed: hvctl only uses it to retry (busy, rate) or to say why no reply
 * came. Other lines are ignored by both. */
#define CHAN_LINE_FRAME "F "
#define CHAN_LINE_ERROR "E "

#endif
