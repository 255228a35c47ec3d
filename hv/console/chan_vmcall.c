/* SPDX-License-Identifier: MIT */
/* The channel's VMCALL calls (chan_vmcall.h). */
#include "console/chan_vmcall.h"

#include "chan/frame.h"
#include "console/channel.h"
#include "console/cmd.h"
#include "console/verbs_vmi.h"
#include "core/monitor.h"
#include "core/vcpu.h"
#include "vmx/exit_hooks.h"
#include "vmx/vmx.h"
#include "x86/cpu.h"
#include "x86/cr.h"
#include "x86/vmcs.h"

static struct chan_vmcall_stats stats;

/* Frames checked per second at most (each costs a signature check, or makes one): a relay
 * that floods the channel gets CHAN_VMCALL_RATE, and the monitor's work stays bounded. */
#define SENDS_PER_SECOND 10u
static uint64_t bucket_tsc; /* when the bucket last filled */
static uint32_t bucket;

static bool rate_take(void)
{
	uint64_t now = rdtsc(), hz = machine.tsc_hz ? machine.tsc_hz : 1000000000ull;
	if (now - bucket_tsc >= hz / SENDS_PER_SECOND) {
		uint64_t filled = bucket + (now - bucket_tsc) / (hz / SENDS_PER_SECOND);
		bucket = filled > SENDS_PER_SECOND ? SENDS_PER_SECOND : (uint32_t)filled;
		bucket_tsc = now;
	}
	if (bucket == 0)
		return false;
	bucket--;
	return true;
}

static const char *const ud_names[CHAN_UD_COUNT] = {
	[CHAN_UD_NOT_CHANNEL] = "not-channel",
	[CHAN_UD_RING] = "ring",
	[CHAN_UD_FUNCTION] = "function",
};

/* The calling process's address space: CR3 as the guest left it (with KPTI, its user
 * tables, which map all of its user memory). */
static int user_copy(uint64_t va, void *buf, size_t n, bool write)
{
	bool la57 = (vmread(GUEST_CR4) & X86_CR4_LA57) != 0;
	return live_user_access(vmread(GUEST_CR3), la57, va, buf, n, write);
}

/* One frame in: copied into the monitor's memory first, so that another vCPU changing the
 * guest's copy cannot change what is checked. */
static unsigned call_send(uint64_t va, uint64_t len)
{
	static uint8_t frame[CHAN_FRAME_MAX];
	if (len < CHAN_FRAME_MIN || len > CHAN_FRAME_MAX)
		return CHAN_ERR_LENGTH;
	if (user_copy(va, frame, (size_t)len, false) < 0)
		return CHAN_VMCALL_FAULT;
	if (!rate_take())
		return CHAN_VMCALL_RATE;
	return channel_send(frame, (size_t)len);
}

/* One frame out, or none (0). A frame that could not be written (the buffer is not writable
 * user memory) is kept and handed out at the next call: a fault loses nothing. */
static long call_recv(uint64_t va, uint64_t cap)
{
	static uint8_t frame[CHAN_FRAME_MAX];
	static size_t kept;
	if (cap < CHAN_FRAME_MAX)
		return -(long)CHAN_VMCALL_SMALL;
	if (kept == 0) {
		long n = channel_recv(frame, sizeof(frame));
		if (n <= 0)
			return 0;
		kept = (size_t)n;
	}
	if (user_copy(va, frame, kept, true) < 0)
		return -(long)CHAN_VMCALL_FAULT;
	long n = (long)kept;
	kept = 0;
	return n;
}

static bool on_vmcall(struct vcpu *v)
{
	uint64_t rax = v->regs->rax;
	enum chan_ud ud = CHAN_UD_COUNT;
	stats.calls++;
	if ((rax & CHAN_VMCALL_MAGIC_MSK) != CHAN_VMCALL_MAGIC)
		ud = CHAN_UD_NOT_CHANNEL;
	/* CPL is SS.DPL (SDM Vol. 3A 5.5 "Privilege Levels"; Vol. 3C 24.4.1 keeps it in the
	 * SS access rights); the relay is an ordinary process */
	else if (((vmread(GUEST_SS_AR_BYTES) >> 5) & 3u) != 3u || !(vmread(GUEST_CR0) & X86_CR0_PG))
		ud = CHAN_UD_RING;
	else if ((uint32_t)rax != CHAN_VMCALL_SEND && (uint32_t)rax != CHAN_VMCALL_RECV)
		ud = CHAN_UD_FUNCTION;
	if (ud != CHAN_UD_COUNT) {
		stats.ud[ud]++;
		vmx_inject_ud(v);
		return true;
	}
	uint64_t va = v->regs->rbx, len = v->regs->rcx;
	long result;
	if ((uint32_t)rax == CHAN_VMCALL_SEND) {
		unsigned reason = call_send(va, len);
		result = reason == CHAN_OK ? 0 : -(long)reason;
		stats.sent += reason == CHAN_OK;
	} else {
		result = call_recv(va, len);
		stats.received += result > 0;
	}
	if (result < 0) {
		unsigned reason = (unsigned)-result;
		if (reason < CHAN_VMCALL_REASON_END)
			stats.refused[reason]++;
		result = -(long)(CHAN_VMCALL_ERR_BASE + reason);
	}
	v->regs->rax = (uint64_t)result;
	vmx_advance_rip(v);
	return true;
}

static const struct exit_hooks hooks = {
	.name = "channel",
	.vmcall = on_vmcall,
};

bool chan_vmcall_register(void)
{
	bucket = SENDS_PER_SECOND;
	bucket_tsc = rdtsc();
	return exit_hooks_register(&hooks);
}

void chan_vmcall_status_text(struct reply *r)
{
	reply_printf(r, "channel: %llu frames taken, %llu handed out; refused:",
		     (unsigned long long)stats.sent, (unsigned long long)stats.received);
	unsigned shown = 0;
	for (unsigned i = 1; i < CHAN_VMCALL_REASON_END; i++)
		if (stats.refused[i] != 0) {
			reply_printf(r, " %s %llu", chan_reason_name(i),
				     (unsigned long long)stats.refused[i]);
			shown++;
		}
	for (unsigned i = 0; i < CHAN_UD_COUNT; i++)
		if (stats.ud[i] != 0) {
			reply_printf(r, " #UD-%s %llu", ud_names[i],
				     (unsigned long long)stats.ud[i]);
			shown++;
		}
	reply_line(r, "%s", shown ? "" : " none");
}

void chan_vmcall_status_json(struct reply *r)
{
	reply_printf(r, "\"vmcalls\":%llu,\"frames_taken\":%llu,\"frames_out\":%llu,\"refused\":{",
		     (unsigned long long)stats.calls, (unsigned long long)stats.sent,
		     (unsigned long long)stats.received);
	bool first = true;
	for (unsigned i = 1; i < CHAN_VMCALL_REASON_END; i++) {
		const char *name = chan_reason_name(i);
		if (name[0] == '?')
			continue;
		reply_printf(r, "%s\"%s\":%llu", first ? "" : ",", name,
			     (unsigned long long)stats.refused[i]);
		first = false;
	}
	reply_printf(r, "},\"ud\":{");
	for (unsigned i = 0; i < CHAN_UD_COUNT; i++)
		reply_printf(r, "%s\"%s\":%llu", i ? "," : "", ud_names[i],
			     (unsigned long long)stats.ud[i]);
	reply_printf(r, "}");
}
