/* SPDX-License-Identifier: MIT */
/* `integrity`: kernel protection's state, counters and last alerts (protect/protect.h). */
#include "console/verbs_integrity.h"

#include "core/monitor.h"
#include "core/vcpu.h"
#include "protect/protect.h"

static const char *const mode_names[] = {"enforce", "detect", "off"};
static const char *const state_names[] = {"waiting", "locked", "failed", "disabled"};

static void alerts_text(struct reply *r, const struct protect_alert *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		reply_line(r,
			   "  #%llu %llu.%03llu s %s %s cpu %u va 0x%llx gpa 0x%llx rip 0x%llx: %s",
			   (unsigned long long)a[i].seq, (unsigned long long)(a[i].ms / 1000),
			   (unsigned long long)(a[i].ms % 1000), alert_kind_names[a[i].kind],
			   alert_action_names[a[i].action], a[i].cpu, (unsigned long long)a[i].va,
			   (unsigned long long)a[i].gpa, (unsigned long long)a[i].rip, a[i].what);
}

static void integrity_text(struct reply *r, const struct protect_stats *s,
			   const struct protect_alert *a, size_t n)
{
	reply_line(r, "protection: %s, %s (%s), tracing %s, check every %llu ms",
		   mode_names[s->mode], state_names[s->state], s->why,
		   s->allow_tracing ? "allowed" : "not allowed", (unsigned long long)s->period_ms);
	if (s->state == PROTECT_LOCKED) {
		reply_line(r, "locked at %llu ms; KASLR slide 0x%llx",
			   (unsigned long long)s->lock_ms, (unsigned long long)s->slide);
		reply_line(r,
			   "text   0x%llx pa 0x%llx, %llu bytes: checked, %u jump-label and %u "
			   "static-call sites",
			   (unsigned long long)s->text_va, (unsigned long long)s->text_pa,
			   (unsigned long long)s->text_size, s->jump_sites, s->call_sites);
		reply_line(r, "rodata 0x%llx pa 0x%llx, %llu bytes: read-only in EPT",
			   (unsigned long long)s->rodata_va, (unsigned long long)s->rodata_pa,
			   (unsigned long long)s->rodata_size);
		reply_line(r, "IDT    0x%llx pa 0x%llx, one page: read-only in EPT",
			   (unsigned long long)s->idt_va, (unsigned long long)s->idt_pa);
		reply_line(r,
			   "mapping: %u leaves recorded; pinned CR0 0x%llx CR4 0x%llx, entry MSRs",
			   s->map_leaves, (unsigned long long)s->cr0_pinned,
			   (unsigned long long)s->cr4_pinned);
	}
	reply_line(r,
		   "checks %llu (last at %llu ms, %llu TSC ticks in all), repaired %llu, "
		   "unrepaired %llu, accepted patching %llu, writes stepped %llu, alerts %llu",
		   (unsigned long long)s->checks, (unsigned long long)s->last_check_ms,
		   (unsigned long long)s->check_tsc_total, (unsigned long long)s->repaired,
		   (unsigned long long)s->unrepaired, (unsigned long long)s->accepted,
		   (unsigned long long)s->writes_stepped, (unsigned long long)s->alerts);
	reply_line(r,
		   "text writes %s: %llu pages opened at a first write, %llu bytes compared "
		   "by the checks before operations",
		   s->text_tracked ? "tracked in EPT" : "not tracked (every check compares it all)",
		   (unsigned long long)s->text_pages_opened, (unsigned long long)s->text_compared);
	reply_line(r,
		   "page-table writes: %u pages of the image's tables tracked in EPT, %llu opened "
		   "at a first write",
		   s->map_tracked, (unsigned long long)s->map_pages_opened);
	alerts_text(r, a, n);
}

static void integrity_json(struct reply *r, const struct protect_stats *s,
			   const struct protect_alert *a, size_t n, const struct protect_report *c)
{
	reply_printf(r, "{\"mode\":\"%s\",\"state\":\"%s\",\"why\":", mode_names[s->mode],
		     state_names[s->state]);
	reply_json_string(r, s->why);
	reply_printf(r,
		     ",\"allow_tracing\":%s,\"period_ms\":%llu,\"lock_ms\":%llu,\"slide\":%lld,"
		     "\"text\":{\"va\":%llu,\"pa\":%llu,\"size\":%llu,\"jump_sites\":%u,"
		     "\"call_sites\":%u},\"rodata\":{\"va\":%llu,\"pa\":%llu,\"size\":%llu},"
		     "\"idt\":{\"va\":%llu,\"pa\":%llu},\"map_leaves\":%u,\"cr0_pinned\":%llu,"
		     "\"cr4_pinned\":%llu,",
		     s->allow_tracing ? "true" : "false", (unsigned long long)s->period_ms,
		     (unsigned long long)s->lock_ms, (long long)s->slide,
		     (unsigned long long)s->text_va, (unsigned long long)s->text_pa,
		     (unsigned long long)s->text_size, s->jump_sites, s->call_sites,
		     (unsigned long long)s->rodata_va, (unsigned long long)s->rodata_pa,
		     (unsigned long long)s->rodata_size, (unsigned long long)s->idt_va,
		     (unsigned long long)s->idt_pa, s->map_leaves,
		     (unsigned long long)s->cr0_pinned, (unsigned long long)s->cr4_pinned);
	reply_printf(r,
		     "\"checks\":%llu,\"last_check_ms\":%llu,\"check_tsc_total\":%llu,"
		     "\"repaired\":%llu,\"unrepaired\":%llu,\"accepted\":%llu,"
		     "\"writes_stepped\":%llu,\"text_tracked\":%s,\"text_pages_opened\":%llu,"
		     "\"text_compared\":%llu,\"map_tracked\":%u,\"map_pages_opened\":%llu,"
		     "\"alerts\":%llu,\"alerts_by_kind\":{",
		     (unsigned long long)s->checks, (unsigned long long)s->last_check_ms,
		     (unsigned long long)s->check_tsc_total, (unsigned long long)s->repaired,
		     (unsigned long long)s->unrepaired, (unsigned long long)s->accepted,
		     (unsigned long long)s->writes_stepped, s->text_tracked ? "true" : "false",
		     (unsigned long long)s->text_pages_opened, (unsigned long long)s->text_compared,
		     s->map_tracked, (unsigned long long)s->map_pages_opened,
		     (unsigned long long)s->alerts);
	for (unsigned k = 0; k < ALERT_KINDS; k++)
		reply_printf(r, "%s\"%s\":%llu", k ? "," : "", alert_kind_names[k],
			     (unsigned long long)s->alerts_by_kind[k]);
	reply_printf(r, "},\"last_alerts\":[");
	for (size_t i = 0; i < n; i++) {
		reply_printf(r,
			     "%s{\"seq\":%llu,\"ms\":%llu,\"kind\":\"%s\",\"action\":\"%s\","
			     "\"cpu\":%u,\"va\":%llu,\"gpa\":%llu,\"rip\":%llu,\"what\":",
			     i ? "," : "", (unsigned long long)a[i].seq,
			     (unsigned long long)a[i].ms, alert_kind_names[a[i].kind],
			     alert_action_names[a[i].action], a[i].cpu, (unsigned long long)a[i].va,
			     (unsigned long long)a[i].gpa, (unsigned long long)a[i].rip);
		reply_json_string(r, a[i].what);
		reply_printf(r, "}");
	}
	reply_printf(r, "]");
	if (c) {
		reply_printf(r,
			     ",\"check\":{\"repaired\":%u,\"unrepaired\":%u,\"accepted\":%u,"
			     "\"vouched\":%s,\"tsc\":%llu,\"compared\":%llu,\"summary\":",
			     c->repaired, c->unrepaired, c->accepted, c->vouched ? "true" : "false",
			     (unsigned long long)c->tsc, (unsigned long long)c->compared);
		reply_json_string(r, c->summary);
		reply_printf(r, "}");
	}
	reply_printf(r, "}\r\n");
}

int verb_integrity(struct reply *r, int argc, char **argv)
{
	static const char *const flags[] = {"--json", "--check", 0};
	if (cmd_expect_only_flags(r, argc, argv, flags) < 0)
		return -1;
	struct protect_report check, *c = 0;
	if (cmd_has_flag(argc, argv, "--check")) {
		protect_check(this_vcpu(), &check);
		c = &check;
	}
	static struct protect_alert a[ALERTS_KEPT]; /* the console CPU's only */
	size_t n = protect_alerts(a, ALERTS_KEPT);
	const struct protect_stats *s = protect_stats();
	if (cmd_has_flag(argc, argv, "--json")) {
		integrity_json(r, s, a, n, c);
		return 0;
	}
	if (c)
		reply_line(r, "%s", c->summary);
	integrity_text(r, s, a, n);
	return 0;
}
