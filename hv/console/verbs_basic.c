/* SPDX-License-Identifier: MIT */
/* The console's first verbs: help, version, status, mem (docs/console-protocol.md). */
#include "console/channel.h"
#include "console/console.h"
#include "console/zbody.h"
#include "console/uart.h"
#include "console/verbs.h"
#include "console/verbs_events.h"
#include "console/verbs_integrity.h"
#include "console/verbs_ops.h"
#include "console/verbs_trap.h"
#include "console/verbs_vmi.h"
#include "core/monitor.h"
#include "platform/pci_guard.h"
#include "core/vcpu.h"
#include "inject/engine.h"
#include "lib/fmt.h"
#include "lib/hash.h"
#include "lib/string.h"
#include "platform/wake_port.h"
#include "mm/palloc.h"
#include "version.h"
#include "vmi/kimage.h"
#include "vmi/report.h"
#include "vmx/vmx.h"
#include "x86/exit_reason.h"
#include "x86/msr.h"
#include "x86/paging.h"

static const char *const json_only[] = {"--json", 0};

static int verb_help(struct reply *r, int argc, char **argv)
{
	static const char *const none[] = {0};
	if (cmd_expect_only_flags(r, argc, argv, none) < 0)
		return -1;
	cmd_help(console_verbs, console_verb_count, r);
	return 0;
}

static int verb_version(struct reply *r, int argc, char **argv)
{
	if (cmd_expect_only_flags(r, argc, argv, json_only) < 0)
		return -1;
	if (cmd_has_flag(argc, argv, "--json")) {
		reply_line(r, "{\"name\":\"%s\",\"version\":\"%s\",\"cpuid_signature\":\"%s\"}",
			   HV_NAME, HV_VERSION, HV_CPUID_SIGNATURE);
		return 0;
	}
	reply_line(r, "%s %s (built %s %s)", HV_NAME, HV_VERSION, __DATE__, __TIME__);
	return 0;
}

/* The bytes the guest reads from the console's 8 ports, as hex, port order. */
static void guest_view_hex(char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (unsigned int i = 0; i < UART_PORT_COUNT; i++) {
		uint8_t b = console_port_guest_view((uint16_t)(machine.console_port + i));
		out[2 * i] = hex[b >> 4];
		out[2 * i + 1] = hex[b & 0xF];
	}
	out[2 * UART_PORT_COUNT] = 0;
}

/* The kernel image located from the guest's IA32_LSTAR (vmi/kimage.h); false with why.
 * LSTAR is read on this CPU: VMX transitions do not switch it, so it holds the guest's. */
static bool kernel_image(struct kimage *ki, uint64_t *lstar, char *why, size_t cap)
{
	*lstar = rdmsr(MSR_LSTAR);
	if (!vm.profile_loaded) {
		fmt_snprintf(why, cap, "%s", vm.profile_status);
		return false;
	}
	return kimage_locate(&vm.profile, *lstar, ki, why, cap);
}

static void kernel_text(struct reply *r)
{
	struct kimage ki;
	uint64_t lstar;
	char why[PROFILE_ERR_MAX];
	if (!kernel_image(&ki, &lstar, why, sizeof(why))) {
		reply_line(r, "kernel: not located: %s", why);
		return;
	}
	reply_line(r,
		   "kernel: KASLR slide 0x%llx (IA32_LSTAR 0x%llx), text 0x%llx-0x%llx, rodata "
		   "0x%llx-0x%llx, %u symbols in the profile",
		   (unsigned long long)ki.slide, (unsigned long long)lstar,
		   (unsigned long long)ki.text_start, (unsigned long long)ki.text_end,
		   (unsigned long long)ki.rodata_start, (unsigned long long)ki.rodata_end,
		   vm.profile.symbols);
}

static void kernel_json(struct reply *r)
{
	struct kimage ki;
	uint64_t lstar;
	char why[PROFILE_ERR_MAX];
	bool ok = kernel_image(&ki, &lstar, why, sizeof(why));
	reply_printf(r, ",\"kernel\":{\"located\":%s,\"lstar\":%llu,\"symbols\":%u",
		     ok ? "true" : "false", (unsigned long long)lstar,
		     vm.profile_loaded ? vm.profile.symbols : 0);
	if (!ok) {
		reply_printf(r, ",\"why\":");
		reply_json_string(r, why);
		reply_printf(r, "}");
		return;
	}
	reply_printf(r,
		     ",\"slide\":%lld,\"text_start\":%llu,\"text_end\":%llu,"
		     "\"rodata_start\":%llu,\"rodata_end\":%llu,\"init_task\":%llu}",
		     (long long)ki.slide, (unsigned long long)ki.text_start,
		     (unsigned long long)ki.text_end, (unsigned long long)ki.rodata_start,
		     (unsigned long long)ki.rodata_end,
		     (unsigned long long)kimage_symbol(&vm.profile, &ki, KSYM_INIT_TASK));
}

/* The exit counters of every vCPU added up (each CPU writes only its own). */
struct exit_counts {
	uint64_t total, unknown;
	uint64_t by_reason[EXIT_REASON_MAX];
	uint64_t work_us[EXIT_REASON_MAX]; /* the monitor's work in them */
};

static void sum_exits(struct exit_counts *c)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t k = 0; k < vm.nr_vcpus; k++) {
		const struct vcpu *v = vm.vcpu[k];
		c->total += v->exits_total;
		c->unknown += v->exits_unknown_reason;
		for (unsigned int i = 0; i < EXIT_REASON_MAX; i++) {
			c->by_reason[i] += v->exits_by_reason[i];
			c->work_us[i] += monitor_tsc_to_us(v->exit_work_tsc_by_reason[i]);
		}
	}
}

static void status_text(struct reply *r, const struct vcpu *v)
{
	static struct exit_counts c; /* the console CPU's only: too big for its stack */
	sum_exits(&c);
	uint64_t ms = monitor_uptime_ms();
	const struct console_stats *cs = console_stats();
	const struct zbody_stats *zs = zbody_stats();
	reply_line(r, "%s %s, cpuid signature \"%s\"", HV_NAME, HV_VERSION, HV_CPUID_SIGNATURE);
	reply_line(r, "uptime: %llu.%03llu s (tsc %llu Hz)", (unsigned long long)(ms / 1000),
		   (unsigned long long)(ms % 1000), (unsigned long long)machine.tsc_hz);
	reply_line(r, "guest: %s%s", v->guest_stopped ? "stopped: " : "running",
		   v->guest_stopped ? v->stop_reason : "");
	reply_line(r, "vm exits: %llu on %u vCPU%s", (unsigned long long)c.total, vm.nr_vcpus,
		   vm.nr_vcpus == 1 ? "" : "s");
	for (unsigned int i = 0; i < EXIT_REASON_MAX; i++) {
		if (c.by_reason[i] == 0)
			continue;
		const char *name = exit_reason_name(i);
		reply_line(r, "  %-20s %llu", name ? name : "?",
			   (unsigned long long)c.by_reason[i]);
	}
	if (c.unknown)
		reply_line(r, "  %-20s %llu", "(unknown)", (unsigned long long)c.unknown);
	for (uint32_t k = 0; k < vm.nr_vcpus; k++)
		reply_line(r, "  vcpu %u: %llu exits%s", vm.vcpu[k]->id,
			   (unsigned long long)vm.vcpu[k]->exits_total,
			   vm.vcpu[k] == v ? " (serves the console)" : "");
	reply_line(r, "memory: %llu of %llu KiB heap in use, image %llu KiB, region %llu KiB",
		   (unsigned long long)(palloc_used_bytes() / 1024),
		   (unsigned long long)(palloc_total_bytes() / 1024),
		   (unsigned long long)(machine.image_size / 1024),
		   (unsigned long long)(machine.core_size / 1024));
	char view[2 * UART_PORT_COUNT + 1];
	guest_view_hex(view);
	reply_line(r,
		   "console ports seen by the guest: %s (reads %llu, writes %llu dropped, "
		   "string I/O %llu refused)",
		   view, (unsigned long long)io_blocked_reads,
		   (unsigned long long)io_blocked_writes, (unsigned long long)io_blocked_string);
	reply_line(r,
		   "console: port 0x%x, %llu bytes in, %llu out, %llu requests, %llu errors, "
		   "%llu receive overruns, %llu cancelled, %llu log lines lost; %llu replies "
		   "compressed, %llu bytes to %llu",
		   machine.console_port, (unsigned long long)cs->rx_bytes,
		   (unsigned long long)cs->tx_bytes, (unsigned long long)cs->requests,
		   (unsigned long long)cs->errors, (unsigned long long)cs->rx_overruns,
		   (unsigned long long)cs->cancelled, (unsigned long long)cs->log_lost, zs->streams,
		   zs->bytes_in, zs->bytes_out);
	const struct inject_stats *is = inject_stats();
	reply_line(r,
		   "injection: %llu operations (%llu failed), %llu tasks hijacked, %llu calls, "
		   "%llu cleanups abandoned",
		   (unsigned long long)is->operations, (unsigned long long)is->failed,
		   (unsigned long long)is->hijacks, (unsigned long long)is->calls,
		   (unsigned long long)is->aborted_cleanups);
	kernel_text(r);
	channel_status_text(r);
}

static void exits_json(struct reply *r, const uint64_t *by_reason, uint64_t unknown)
{
	const char *sep = "";
	for (unsigned int i = 0; i < EXIT_REASON_MAX; i++) {
		if (by_reason[i] == 0)
			continue;
		const char *name = exit_reason_name(i);
		reply_printf(r, "%s\"%s\":%llu", sep, name ? name : "UNNAMED",
			     (unsigned long long)by_reason[i]);
		sep = ",";
	}
	if (unknown)
		reply_printf(r, "%s\"UNKNOWN\":%llu", sep, (unsigned long long)unknown);
}

static void status_json(struct reply *r, const struct vcpu *v)
{
	static struct exit_counts c;
	sum_exits(&c);
	const struct console_stats *cs = console_stats();
	const struct zbody_stats *zs = zbody_stats();
	reply_printf(
		r,
		"{\"name\":\"%s\",\"version\":\"%s\",\"cpuid_signature\":\"%s\","
		"\"uptime_ms\":%llu,\"tsc_hz\":%llu,\"guest\":{\"running\":%s,\"stop_reason\":",
		HV_NAME, HV_VERSION, HV_CPUID_SIGNATURE, (unsigned long long)monitor_uptime_ms(),
		(unsigned long long)machine.tsc_hz, v->guest_stopped ? "false" : "true");
	reply_json_string(r, v->guest_stopped ? v->stop_reason : "");
	reply_printf(r, "},\"exits_total\":%llu,\"exits\":{", (unsigned long long)c.total);
	exits_json(r, c.by_reason, c.unknown);
	reply_printf(r, "},\"exit_work_us_total\":%llu,\"exit_work_us\":{",
		     (unsigned long long)monitor_tsc_to_us(vm_exit_work_tsc()));
	exits_json(r, c.work_us, 0);
	reply_printf(r, "},\"vcpus\":[");
	for (uint32_t k = 0; k < vm.nr_vcpus; k++) {
		const struct vcpu *each = vm.vcpu[k];
		reply_printf(r, "%s{\"id\":%u,\"console\":%s,\"exits_total\":%llu,\"exits\":{",
			     k ? "," : "", each->id, each == v ? "true" : "false",
			     (unsigned long long)each->exits_total);
		exits_json(r, each->exits_by_reason, each->exits_unknown_reason);
		const char *longest = exit_reason_name(each->exit_work_max_reason);
		reply_printf(r,
			     "},\"exit_work_us\":%llu,\"exit_work_max_us\":%llu,"
			     "\"exit_work_max_reason\":\"%s\"",
			     (unsigned long long)monitor_tsc_to_us(each->exit_work_tsc),
			     (unsigned long long)monitor_tsc_to_us(each->exit_work_tsc_max),
			     longest ? longest : "UNNAMED");
		reply_printf(
			r,
			",\"inits\":%llu,\"init_echoes_ignored\":%llu,\"sipis\":%llu,"
			"\"sipi_vector\":%u,\"apic_id\":%u,\"x2apic_id\":%u,"
			"\"wait_for_sipi\":%s,\"kicks\":%llu,\"stopped\":%s}",
			(unsigned long long)each->inits,
			(unsigned long long)each->init_echoes_ignored,
			(unsigned long long)each->sipis, each->sipi_vector, each->xapic_id,
			each->x2apic_id,
			__atomic_load_n(&each->wait_for_sipi, __ATOMIC_RELAXED) ? "true" : "false",
			(unsigned long long)__atomic_load_n(&each->kicks_sent, __ATOMIC_RELAXED),
			each->guest_stopped ? "true" : "false");
	}
	reply_printf(r, "]");
	char view[2 * UART_PORT_COUNT + 1];
	guest_view_hex(view);
	reply_printf(r,
		     ",\"console_ports\":{\"base\":%u,\"guest_view\":\"%s\",\"guest_reads\":%llu,"
		     "\"guest_writes\":%llu,\"guest_string_io\":%llu}",
		     machine.console_port, view, (unsigned long long)io_blocked_reads,
		     (unsigned long long)io_blocked_writes, (unsigned long long)io_blocked_string);
	const struct wake_port_stats *wp = wake_port_stats();
	reply_printf(r,
		     ",\"wake_port\":{\"base\":%u,\"tty\":\"%s\",\"guest_reads\":%llu,"
		     "\"guest_writes\":%llu,\"guest_tx_bytes\":%llu,\"rings\":%llu,"
		     "\"line_raises\":%llu}",
		     wp->base, wp->tty ? wp->tty : "", (unsigned long long)wp->guest_reads,
		     (unsigned long long)wp->guest_writes, (unsigned long long)wp->guest_tx_bytes,
		     (unsigned long long)wp->rings, (unsigned long long)wp->line_raises);
	reply_printf(r,
		     ",\"sleep\":{\"pm1a_cnt\":%u,\"pm1b_cnt\":%u,\"sleep_control\":%u,"
		     "\"s5_known\":%s,\"in_memory_unguarded\":%s,\"refused\":%llu,"
		     "\"pm_base_register\":\"0x%x\",\"pm_base_writes_refused\":%u}",
		     machine.sleep.pm1_cnt[0], machine.sleep.pm1_cnt[1], machine.sleep.sleep_ctl,
		     machine.sleep.s5_known ? "true" : "false",
		     machine.sleep.in_memory ? "true" : "false",
		     (unsigned long long)io_sleep_refused,
		     pm_base_guard.found ? pm_base_guard.cf8 : 0, pm_base_guard.refused);
	reply_printf(r,
		     ",\"mem_used\":%llu,\"mem_total\":%llu,\"image_size\":%llu,"
		     "\"console\":{\"port\":%u,\"rx_bytes\":%llu,\"tx_bytes\":%llu,"
		     "\"tx_dropped\":%llu,\"requests\":%llu,\"errors\":%llu,\"rx_overruns\":%llu,"
		     "\"cancelled\":%llu,\"log_lost\":%llu,\"deflate\":{\"replies\":%llu,\"bytes_"
		     "in\":%llu,"
		     "\"bytes_out\":%llu}}",
		     (unsigned long long)palloc_used_bytes(),
		     (unsigned long long)palloc_total_bytes(),
		     (unsigned long long)machine.image_size, machine.console_port,
		     (unsigned long long)cs->rx_bytes, (unsigned long long)cs->tx_bytes,
		     (unsigned long long)cs->tx_dropped, (unsigned long long)cs->requests,
		     (unsigned long long)cs->errors, (unsigned long long)cs->rx_overruns,
		     (unsigned long long)cs->cancelled, (unsigned long long)cs->log_lost,
		     zs->streams, zs->bytes_in, zs->bytes_out);
	kernel_json(r);
	reply_printf(r, ",");
	channel_status_json(r);
	const struct inject_stats *is = inject_stats();
	reply_printf(r,
		     ",\"inject\":{\"operations\":%llu,\"failed\":%llu,\"hijacks\":%llu,"
		     "\"calls\":%llu,\"aborted_cleanups\":%llu}}\r\n",
		     (unsigned long long)is->operations, (unsigned long long)is->failed,
		     (unsigned long long)is->hijacks, (unsigned long long)is->calls,
		     (unsigned long long)is->aborted_cleanups);
}

static int verb_status(struct reply *r, int argc, char **argv)
{
	if (cmd_expect_only_flags(r, argc, argv, json_only) < 0)
		return -1;
	if (cmd_has_flag(argc, argv, "--json"))
		status_json(r, this_vcpu());
	else
		status_text(r, this_vcpu());
	return 0;
}

static int verb_mem(struct reply *r, int argc, char **argv)
{
	if (cmd_expect_only_flags(r, argc, argv, json_only) < 0)
		return -1;
	uint64_t start = machine.core_base, end = machine.core_base + machine.core_size;
	/* Hash what is really at the start of the region, read now (not a stored value). */
	uint64_t first_page = fnv1a64((const void *)(uintptr_t)start, PAGE_SIZE_4K);
	char magic[HV_MAGIC_LEN + 1];
	memcpy(magic, hv_image_header.magic, HV_MAGIC_LEN);
	magic[HV_MAGIC_LEN] = 0;
	if (cmd_has_flag(argc, argv, "--json")) {
		reply_line(
			r,
			"{\"ranges\":[{\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"what\":\"core\","
			"\"image_end\":\"0x%llx\",\"hidden\":%s}],\"sink_page\":\"0x%llx\","
			"\"magic\":\"%s\",\"first_page_fnv1a64\":\"%016llx\"}",
			(unsigned long long)start, (unsigned long long)end,
			(unsigned long long)(start + machine.image_size),
			vm.hidden ? "true" : "false", (unsigned long long)vm.sink_page_pa, magic,
			(unsigned long long)first_page);
		return 0;
	}
	reply_line(r, "0x%016llx-0x%016llx core: image %llu KiB + heap %llu KiB, %s",
		   (unsigned long long)start, (unsigned long long)end,
		   (unsigned long long)(machine.image_size / 1024),
		   (unsigned long long)((machine.core_size - machine.image_size) / 1024),
		   vm.hidden ? "hidden from the guest" : "NOT YET hidden from the guest");
	reply_line(r, "the guest sees page 0x%llx in place of every page of that range",
		   (unsigned long long)vm.sink_page_pa);
	reply_line(r, "magic %s, first page fnv1a64 %016llx", magic,
		   (unsigned long long)first_page);
	return 0;
}

const struct cmd_verb console_verbs[] = {
	{"help", "help", "list the verbs", verb_help},
	{"version", "version [--json]", "name, version and build of the monitor", verb_version},
	{"status", "status [--json]", "uptime, VM exits by reason, monitor memory in use",
	 verb_status},
	{"mem", "mem [--json]", "the physical ranges the monitor occupies (hidden from the guest)",
	 verb_mem},
	{"ps", VMI_PS_USAGE, VMI_PS_SUMMARY, verb_ps},
	{"containers", VMI_CONTAINERS_USAGE, VMI_CONTAINERS_SUMMARY, verb_containers},
	{"inspect", VMI_INSPECT_USAGE, VMI_INSPECT_SUMMARY, verb_inspect},
	{"trap", VERB_TRAP_USAGE, VERB_TRAP_SUMMARY, verb_trap},
	{"integrity", VERB_INTEGRITY_USAGE, VERB_INTEGRITY_SUMMARY, verb_integrity},
	{"events", VERB_EVENTS_USAGE, VERB_EVENTS_SUMMARY, verb_events},
	{"pause", VERB_PAUSE_USAGE, "freeze a container (cgroup.freeze), by an injected write",
	 verb_pause},
	{"unpause", VERB_UNPAUSE_USAGE, "thaw a paused container", verb_unpause},
	{"kill", VERB_KILL_USAGE, "send a signal (default KILL) to a container's init", verb_kill},
	{"stop", VERB_STOP_USAGE, "SIGTERM, wait SECONDS (default 10), then SIGKILL", verb_stop},
	{"stats", VERB_STATS_USAGE, "CPU, memory and pids of a container from its cgroup files",
	 verb_stats},
	{"helper", VERB_HELPER_USAGE,
	 "a parked helper process (adopted by init) for host work when the guest is idle",
	 verb_helper},
	{"exec", VERB_EXEC_USAGE,
	 "run CMD in the container's namespaces and cgroup: stdout, stderr, exit status",
	 verb_exec},
	{"cp", VERB_CP_USAGE, "copy a file out of a container (base64 body) or the upload in",
	 verb_cp},
	{"upload", VERB_UPLOAD_USAGE, "a file for the next cp into a container (hvctl cp sends it)",
	 verb_upload},
	{"probe", VERB_PROBE_USAGE, "inject getpid into a chosen task (checks the engine)",
	 verb_probe},
};
const size_t console_verb_count = sizeof(console_verbs) / sizeof(console_verbs[0]);
