/* SPDX-License-Identifier: MIT */
/*
 * Kernel protection (protect/protect.h): configuration, alerts, and the exit hooks that
 * lead to the lock (lock.c), the guarded ranges (guard.c) and the checks (check.c).
 */
#include "protect/protect_internal.h"

#include <stdarg.h>

#include "console/verbs_vmi.h"
#include "core/events.h"
#include "core/log.h"
#include "core/monitor.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "vmx/cr_policy.h"
#include "vmx/exit_hooks.h"
#include "vmx/msr_policy.h"
#include "x86/vmcs.h"
#include "vmx/vmx.h"

struct kprotect kp = {.step_cpu = -1};

const char *const alert_kind_names[ALERT_KINDS] = {
	[ALERT_TEXT] = "text",
	[ALERT_RODATA_WRITE] = "rodata-write",
	[ALERT_IDT_WRITE] = "idt-write",
	[ALERT_CR] = "cr-pin",
	[ALERT_MSR] = "entry-msr",
	[ALERT_IDTR] = "idtr",
	[ALERT_MAPPING] = "mapping",
	[ALERT_GDTR] = "gdtr",
	[ALERT_GDT] = "gdt",
};
const char *const alert_action_names[4] = {"blocked", "repaired", "detected", "unrepaired"};

void protect_configure(enum protect_mode mode, bool allow_tracing, uint32_t period_s)
{
	kp.st.mode = mode;
	kp.st.allow_tracing = allow_tracing;
	kp.st.period_ms = (uint64_t)period_s * 1000u;
	if (mode == PROTECT_OFF) {
		kp.st.state = PROTECT_DISABLED;
		fmt_snprintf(kp.st.why, sizeof(kp.st.why), "protect = off in hv.cfg");
	} else {
		kp.st.state = PROTECT_WAITING;
		fmt_snprintf(kp.st.why, sizeof(kp.st.why),
			     "waiting for the kernel to make its image read-only");
	}
}

const struct protect_stats *protect_stats(void)
{
	return &kp.st;
}

/* At most this many alerts are logged on the UART per second of uptime (each line costs
 * ~10 ms at 115200 baud, and a check holds the CPUs while it writes); the rest are
 * counted and kept. */
#define ALERTS_LOGGED_PER_S 8u

void protect_alert(enum alert_kind kind, enum alert_action action, const struct vcpu *v,
		   uint64_t va, uint64_t gpa, const char *fmt, ...)
{
	static uint64_t log_second, logged;
	struct protect_alert *a = &kp.alert[kp.st.alerts % ALERTS_KEPT];
	kp.st.alerts++;
	kp.st.alerts_by_kind[kind]++;
	*a = (struct protect_alert){
		.seq = kp.st.alerts,
		.ms = monitor_uptime_ms(),
		.kind = (uint8_t)kind,
		.action = (uint8_t)action,
		.cpu = v ? v->id : 0,
		.va = va,
		.gpa = gpa,
		.rip = v && v == this_vcpu() ? vmread(GUEST_RIP) : 0,
	};
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(a->what, sizeof(a->what), fmt, ap);
	va_end(ap);
	events_record(EVENT_ALERT, a->ms, a->cpu, alert_kind_names[kind],
		      alert_action_names[action], "", "%s (va 0x%llx gpa 0x%llx rip 0x%llx)",
		      a->what, (unsigned long long)va, (unsigned long long)gpa,
		      (unsigned long long)a->rip);
	uint64_t second = a->ms / 1000;
	if (second != log_second) {
		log_second = second;
		logged = 0;
	}
	if (++logged > ALERTS_LOGGED_PER_S)
		return;
	log_printf("ctrvisor: ALERT %s %s: %s (va 0x%llx gpa 0x%llx rip 0x%llx, cpu %u)\r\n",
		   alert_kind_names[kind], alert_action_names[action], a->what,
		   (unsigned long long)va, (unsigned long long)gpa, (unsigned long long)a->rip,
		   a->cpu);
}

size_t protect_alerts(struct protect_alert *out, size_t cap)
{
	uint64_t total = kp.st.alerts;
	uint64_t n = total < ALERTS_KEPT ? total : ALERTS_KEPT;
	if (n > cap)
		n = cap;
	for (uint64_t i = 0; i < n; i++)
		out[i] = kp.alert[(total - n + i) % ALERTS_KEPT];
	return (size_t)n;
}

bool protect_read_entry(void *ctx, uint64_t gpa, uint64_t *entry)
{
	(void)ctx;
	if ((gpa & 7) || !live_guest_ram(gpa, 8))
		return false;
	*entry = *(volatile const uint64_t *)(uintptr_t)gpa;
	return true;
}

/* ---------------------------------------------------------------- exit hooks */

static void tick(struct vcpu *v)
{
	if (kp.st.state == PROTECT_WAITING) {
		protect_try_lock(v);
		return;
	}
	if (kp.st.state == PROTECT_LOCKED && kp.st.period_ms != 0)
		protect_periodic(v);
}

/* CR0.WP, CR4.SMEP/SMAP/UMIP cleared with paging on: with enforce the bits are pinned and
 * the CR table refuses the write (vmx/exit_cr.c); the alert is raised here. */
static enum exit_hook_verdict cr_write(struct vcpu *v, unsigned int cr, uint64_t old_value,
				       uint64_t new_value)
{
	if (kp.st.state != PROTECT_LOCKED)
		return EXIT_HOOK_PASS;
	uint64_t pinned = cr == 0 ? kp.st.cr0_pinned : kp.st.cr4_pinned;
	uint64_t cleared = old_value & ~new_value & pinned;
	uint64_t cr0 = cr == 0 ? new_value : vmread(CR0_READ_SHADOW);
	if (cleared && cr_policy_refuses(cr, new_value, cr0))
		protect_alert(ALERT_CR, ACTION_BLOCKED, v, 0, 0,
			      "MOV to CR%u clearing 0x%llx (0x%llx -> 0x%llx) refused", cr,
			      (unsigned long long)cleared, (unsigned long long)old_value,
			      (unsigned long long)new_value);
	return EXIT_HOOK_PASS;
}

static enum exit_hook_verdict msr_write(struct vcpu *v, uint32_t msr, uint64_t value)
{
	int i = entry_msr_slot(msr);
	if (kp.st.state != PROTECT_LOCKED || i < 0 || !v->entry_msr_pinned ||
	    value == v->entry_msr_pin[i])
		return EXIT_HOOK_PASS;
	bool enforce = kp.st.mode == PROTECT_ENFORCE;
	protect_alert(ALERT_MSR, enforce ? ACTION_BLOCKED : ACTION_DETECTED, v, value, 0,
		      "WRMSR 0x%x = 0x%llx (locked 0x%llx)%s", msr, (unsigned long long)value,
		      (unsigned long long)v->entry_msr_pin[i], enforce ? " refused (#GP)" : "");
	/* enforce: entry_msr_write refuses it (#GP); detect: let it through */
	if (!enforce)
		v->entry_msr_pin[i] = value;
	return enforce ? EXIT_HOOK_REFUSE : EXIT_HOOK_PASS;
}

/* A write to text (tracked) or to a guarded range. */
static bool ept_violation(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
	return protect_track_ept_violation(v, gpa, qualification) ||
	       protect_track_map_ept_violation(gpa, qualification) ||
	       protect_guard_ept_violation(v, gpa, qualification);
}

static const struct exit_hooks hooks = {
	.name = "protect",
	.ept_violation = ept_violation,
	.mtf = protect_guard_mtf,
	.msr_write = msr_write,
	.cr_write = cr_write,
	.tick = tick,
};

bool protect_register_hooks(void)
{
	return exit_hooks_register(&hooks);
}
