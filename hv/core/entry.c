/* SPDX-License-Identifier: MIT */
/*
 * hv_start(): the core's entry point, called by hvboot.efi on the firmware's stack and
 * page tables. It runs the start-up steps in order; the last one launches the guest so
 * that this very call returns 0 in VMX non-root operation. Any failure unwinds (VMXOFF)
 * and returns a status with a message saying what to do.
 */
#include <stdarg.h>

#include "bootinfo.h"
#include "console/chan_vmcall.h"
#include "console/channel.h"
#include "console/console.h"
#include "core/ap_start.h"
#include "core/cpus.h"
#include "core/log.h"
#include "core/monitor.h"
#include "inject/engine.h"
#include "inject/syscall_trap.h"
#include "platform/wake_port.h"
#include "protect/protect.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "mm/hostpt.h"
#include "mm/palloc.h"
#include "platform/pci_guard.h"
#include "version.h"
#include "vmx/vmx.h"
#include "x86/cpuid.h"
#include "x86/cr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

struct machine machine;
struct vm vm;
struct hv_image_header hv_image_header __attribute__((section(".hv_header"), used)) = {
	.magic = HV_MAGIC_PREFIX "0000000000000000",
};

static char start_error[BOOT_ERR_MAX];

/* The UART's receive FIFO holds 16 characters of 10 bits: at 115200 baud it fills in
 * 1.39 ms. Polling every 8 character times leaves half the FIFO for a poll that comes late
 * (the console CPU waiting for the exit lock behind another CPU's exit); while a
 * conversation goes on, poll faster so replies flow. A loss that happens anyway is seen
 * (the UART's overrun bit) and the damaged request refused (console/console.c). */
#define POLL_FIFO_CHARS     8u
#define POLL_PERIOD_MAX_US  5000u
#define POLL_PERIOD_BUSY_US 250u
/* The other CPUs exit at least this often (core/cpus.h: the bound on a lost kick). */
#define AP_EXIT_PERIOD_US 10000u

uint64_t monitor_tsc_to_us(uint64_t tsc)
{
	uint64_t per_us = machine.tsc_hz / 1000000u;
	return per_us ? tsc / per_us : 0;
}

uint64_t monitor_uptime_ms(void)
{
	uint64_t hz = machine.tsc_hz ? machine.tsc_hz : 1;
	return (rdtsc() - machine.launch_tsc) / (hz / 1000 ? hz / 1000 : 1);
}

const char *start_error_text(void)
{
	return start_error;
}

int start_fail(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(start_error, sizeof(start_error), fmt, ap);
	va_end(ap);
	return status;
}

/* A per-boot value for the magic, so a copy of hv.elf lying around in guest memory
 * can never be mistaken for the running monitor. */
static void stamp_magic(void)
{
	uint64_t nonce = rdtsc() * 0x9E3779B97F4A7C15ull;
	nonce ^= (uint64_t)(uintptr_t)&machine;
	static const char hex[] = "0123456789abcdef";
	char *digits = hv_image_header.magic + sizeof(HV_MAGIC_PREFIX) - 1;
	for (int i = 15; i >= 0; i--) {
		digits[i] = hex[nonce & 0xF];
		nonce >>= 4;
	}
}

static int copy_boot_info(const struct boot_info *bi)
{
	if (bi->magic != BOOT_INFO_MAGIC || bi->version != BOOT_INFO_VERSION ||
	    bi->size != sizeof(*bi) || bi->mem_count > BOOT_MEM_MAX)
		return start_fail(HV_START_BAD_BOOT_INFO,
				  "hvboot.efi and hv.elf do not match (boot-info version): "
				  "install both from the same build");
	machine.core_base = bi->core_base;
	machine.core_size = bi->core_size;
	machine.image_size = bi->image_size;
	machine.tsc_hz = bi->tsc_hz ? bi->tsc_hz : 1000000000ull;
	machine.console_port = bi->console_port;
	machine.console_baud = bi->console_baud;
	machine.acpi_rsdp = bi->acpi_rsdp;
	machine.mem_count = bi->mem_count;
	memcpy(machine.mem, bi->mem, bi->mem_count * sizeof(bi->mem[0]));
	if (machine.image_size >= machine.core_size)
		return start_fail(HV_START_NO_MEMORY, "the loader gave the core no heap");
	/* Hidden from the guest as one EPT claim (mm/ept_claims.h): whole pages, bounded. */
	if (((machine.core_base | machine.core_size) & (PAGE_SIZE_4K - 1)) ||
	    machine.core_size / PAGE_SIZE_4K > EPT_CLAIM_MAX_PAGES)
		return start_fail(HV_START_BAD_BOOT_INFO,
				  "the monitor's range 0x%llx+0x%llx is not whole pages or is "
				  "over %u MiB",
				  (unsigned long long)machine.core_base,
				  (unsigned long long)machine.core_size,
				  (unsigned)(EPT_CLAIM_MAX_PAGES / 256u));
	return HV_START_OK;
}

static int step_console(void)
{
	if (!console_init(machine.console_port, machine.console_baud))
		return start_fail(HV_START_MISSING_FEATURE,
				  "no 16550 UART answers at port 0x%x for the monitor console: "
				  "set `console` in \\hv\\hv.cfg to the serial port's I/O base",
				  machine.console_port);
	log_printf("\r\nctrvisor: %s %s starting (core at 0x%llx, %llu KiB, tsc %llu Hz)\r\n",
		   HV_NAME, HV_VERSION, (unsigned long long)machine.core_base,
		   (unsigned long long)(machine.core_size / 1024),
		   (unsigned long long)machine.tsc_hz);
	console_flush_blocking();
	return HV_START_OK;
}

/* The profile is for introspection only: a missing or refused one disables the
 * introspection verbs (they answer with the reason) but not the protection. */
static void load_profile(const struct boot_info *bi)
{
	if (bi->profile_addr == 0 || bi->profile_size == 0) {
		fmt_snprintf(vm.profile_status, sizeof(vm.profile_status),
			     "no kernel profile configured (`profile` in \\hv\\hv.cfg)");
		return;
	}
	size_t pages = (size_t)((bi->profile_size + PAGE_SIZE_4K - 1) / PAGE_SIZE_4K);
	char *copy = palloc_pages(pages);
	if (copy == NULL) {
		fmt_snprintf(vm.profile_status, sizeof(vm.profile_status),
			     "the kernel profile (%llu bytes) does not fit the monitor's memory",
			     (unsigned long long)bi->profile_size);
		return;
	}
	memcpy(copy, (const void *)(uintptr_t)bi->profile_addr, bi->profile_size);
	struct profile_error perr;
	if (profile_parse(copy, bi->profile_size, &vm.profile, &perr) < 0) {
		fmt_snprintf(vm.profile_status, sizeof(vm.profile_status),
			     "kernel profile refused: %s", perr.message);
	} else {
		vm.profile_loaded = true;
		fmt_snprintf(vm.profile_status, sizeof(vm.profile_status),
			     "kernel profile for %s loaded",
			     vm.profile.release[0] ? vm.profile.release : "(unnamed)");
	}
	log_printf("ctrvisor: %s\r\n", vm.profile_status);
}

static int step_host_paging(void)
{
	struct cpuid_regs ext = cpuid_count(0x80000000u, 0);
	machine.maxphyaddr = 36; /* SDM Vol. 3A 4.1.4: the value when 0x80000008 is absent */
	if (ext.eax >= 0x80000008u)
		machine.maxphyaddr = cpuid_count(0x80000008u, 0).eax & 0xFF;
	machine.host_1g_pages = ext.eax >= 0x80000001u &&
				(cpuid_count(0x80000001u, 0).edx & CPUID_80000001_EDX_PDPE1GB);
	mtrr_read(&machine.mtrr, machine.maxphyaddr);

	uint64_t limit = 4ull << 30;
	for (uint32_t i = 0; i < machine.mem_count; i++) {
		uint64_t end = machine.mem[i].base + machine.mem[i].pages * PAGE_SIZE_4K;
		if (end > limit)
			limit = end;
	}
	machine.host_cr3 = hostpt_build(limit, machine.host_1g_pages);
	if (machine.host_cr3 == 0)
		return start_fail(HV_START_NO_MEMORY, "no memory for the monitor's page tables");
	return HV_START_OK;
}

static void compute_poll_periods(void)
{
	/* SDM 25.5.1: the preemption timer counts down once every 2^X TSC ticks, X from
	 * IA32_VMX_MISC[4:0]. */
	unsigned int shift =
		(unsigned int)(machine.caps.misc & VMX_MISC_PREEMPTION_TIMER_RATE_MASK);
	uint64_t per_us = machine.tsc_hz / 1000000u;
	if (per_us == 0)
		per_us = 1;
	uint64_t baud = machine.console_baud ? machine.console_baud : 115200u;
	uint64_t idle_us = POLL_FIFO_CHARS * 10u * 1000000u / baud;
	if (idle_us > POLL_PERIOD_MAX_US)
		idle_us = POLL_PERIOD_MAX_US;
	if (idle_us < POLL_PERIOD_BUSY_US)
		idle_us = POLL_PERIOD_BUSY_US;
	machine.preemption_timer_value = (per_us * idle_us) >> shift;
	machine.preemption_timer_value_busy = (per_us * POLL_PERIOD_BUSY_US) >> shift;
	machine.preemption_timer_value_ap = (per_us * AP_EXIT_PERIOD_US) >> shift;
	if (machine.preemption_timer_value_ap < 64)
		machine.preemption_timer_value_ap = 64;
	if (machine.preemption_timer_value_ap > 0xFFFFFFFFull)
		machine.preemption_timer_value_ap = 0xFFFFFFFFull;
	/* A value of 1 livelocks Bochs (DESIGN §6); keep a floor. */
	if (machine.preemption_timer_value < 64)
		machine.preemption_timer_value = 64;
	if (machine.preemption_timer_value_busy < 64)
		machine.preemption_timer_value_busy = 64;
	if (machine.preemption_timer_value > 0xFFFFFFFFull)
		machine.preemption_timer_value = 0xFFFFFFFFull;
	if (machine.preemption_timer_value_busy > 0xFFFFFFFFull)
		machine.preemption_timer_value_busy = 0xFFFFFFFFull;
}

static bool read_phys(void *ctx, uint64_t pa, void *buf, uint32_t len)
{
	(void)ctx;
	/* Identity-mapped, below the host page tables' limit (hostpt_build covers RAM and 4 GiB,
	 * where firmware puts its ACPI tables). */
	memcpy(buf, (const void *)(uintptr_t)pa, len);
	return true;
}

/* Where the guest could put the platform to sleep (exit_io.c refuses S1-S4). Not finding
 * them is not an error: a platform without ACPI sleep has nothing to refuse. */
static int step_acpi_sleep(void)
{
	if (!acpi_sleep_find(read_phys, 0, machine.acpi_rsdp, &machine.sleep))
		log_printf("ctrvisor: no ACPI sleep registers (%s)\r\n", machine.sleep.error);
	else
		log_printf(
			"ctrvisor: ACPI sleep: PM1a 0x%x PM1b 0x%x sleep control 0x%x, S5 %s\r\n",
			machine.sleep.pm1_cnt[0], machine.sleep.pm1_cnt[1], machine.sleep.sleep_ctl,
			machine.sleep.s5_known ? "known" : "unknown");
	if (machine.sleep.in_memory)
		log_printf("ctrvisor: WARNING: an ACPI sleep register is in memory space: sleep "
			   "through it is not refused\r\n");
	return HV_START_OK;
}

static uint32_t pci_read(void *ctx, uint32_t cf8)
{
	(void)ctx;
	io_out(PCI_CONFIG_ADDRESS, 4, cf8);
	return io_in(PCI_CONFIG_DATA, 4);
}

/* The PCI register that places the PM1 block (exit_io.c keeps the guest from moving it).
 * Runs before the guest exists: nothing else uses CONFIG_ADDRESS meanwhile, and it is put
 * back. */
static int step_pm_base_guard(void)
{
	if (machine.sleep.pm1_cnt[0] == 0)
		return HV_START_OK;
	uint32_t saved = io_in(PCI_CONFIG_ADDRESS, 4);
	bool found = pci_guard_find(pci_read, 0, machine.sleep.pm1_cnt[0], &pm_base_guard);
	io_out(PCI_CONFIG_ADDRESS, 4, saved);
	if (found)
		log_printf("ctrvisor: the PM1 block's base is PCI register 0x%x (0x%x): locked\r\n",
			   pm_base_guard.cf8, pm_base_guard.value);
	else
		log_printf("ctrvisor: WARNING: no PCI register on bus 0 places the PM1 block: a "
			   "guest that can move it is not stopped from entering S3 elsewhere\r\n");
	return HV_START_OK;
}

/* The subsystems that act on VM exits register for them (vmx/exit_hooks.h), in the order
 * they are asked: the trap's VMCALL and page before anything else, the channel's VMCALL
 * after everything else. */
static int step_exit_hooks(void)
{
	if (!syscall_trap_register_hooks() || !inject_register_hooks() ||
	    !protect_register_hooks() ||
	    !chan_vmcall_register()) /* last: it takes every VMCALL the others leave */
		return start_fail(HV_START_NO_MEMORY, "the exit hook list is full");
	return HV_START_OK;
}

/* Steps before VMXON: each either succeeds or leaves the machine as it found it. */
static const struct {
	const char *name;
	int (*run)(void);
} early_steps[] = {
	{"vmx-support", vmx_check_support},    {"vmx-capabilities", vmx_read_caps},
	{"host-paging", step_host_paging},     {"acpi-sleep", step_acpi_sleep},
	{"pm-base-guard", step_pm_base_guard}, {"ept", ept_setup},
	{"exit-hooks", step_exit_hooks},
};

__attribute__((sysv_abi)) int hv_start(struct boot_info *bi);

__attribute__((sysv_abi)) int hv_start(struct boot_info *bi)
{
	int rc = copy_boot_info(bi);
	if (rc == HV_START_OK) {
		palloc_init(machine.core_base + machine.image_size,
			    machine.core_size - machine.image_size);
		stamp_magic();
		rc = step_console();
		if (rc == HV_START_OK) {
			wake_port_init(machine.console_port);
			load_profile(bi);
			protect_configure(bi->protect == 1   ? PROTECT_DETECT
					  : bi->protect == 2 ? PROTECT_OFF
							     : PROTECT_ENFORCE,
					  bi->allow_tracing != 0, bi->integrity_period_s);
			inject_helper_set_auto(bi->helper_manual == 0);
			_Static_assert(sizeof(bi->operator_key) == CHAN_PUBKEY_LEN,
				       "a P-256 point");
			channel_configure(bi->operator_key_set ? bi->operator_key : NULL,
					  bi->channel_seed, bi->channel_entropy_source);
		}
	}
	for (unsigned int i = 0;
	     rc == HV_START_OK && i < sizeof(early_steps) / sizeof(early_steps[0]); i++) {
		rc = early_steps[i].run();
		if (rc != HV_START_OK)
			log_printf("ctrvisor: start-up step %s failed\r\n", early_steps[i].name);
	}
	if (rc != HV_START_OK)
		goto failed;
	compute_poll_periods();

	/* From VMXON to VMLAUNCH nothing may interrupt us: the firmware's timer handler
	 * would run with a half-built VMCS current. The guest gets the flags back. */
	struct vcpu *boot = vcpu_alloc(0);
	if (boot == NULL) {
		rc = start_fail(HV_START_NO_MEMORY, "no memory for the boot CPU's monitor state");
		goto failed;
	}
	vm.vcpu[0] = boot;
	vm.nr_vcpus = 1;
	bi->ap_entry = (uint64_t)(uintptr_t)hv_ap_entry;
	uint64_t rflags = read_rflags();
	cli();
	uint64_t cr0_shadow = read_cr0();
	uint64_t cr4_shadow = read_cr4();
	rc = vmx_enable(boot);
	if (rc == HV_START_OK) {
		rc = vmcs_setup(boot, cr0_shadow, cr4_shadow);
		if (rc == HV_START_OK) {
			log_printf("ctrvisor: launching the guest\r\n");
			console_flush_blocking();
			machine.launch_tsc = rdtsc();
			vcpu_enter_gate(boot);
			int launch = vmx_launch();
			if (launch == 0) {
				/* We are the guest now. Leave the core at once, with
				 * interrupts still off: its pages vanish from this view at the
				 * first exit with RIP outside them, and an interrupt handler
				 * taken here would return into them. The loader restores its
				 * interrupt flag once back in its own code. */
				return HV_START_OK;
			}
			uint64_t err = vmread(VM_INSTRUCTION_ERROR);
			rc = start_fail(HV_START_LAUNCH_FAILED,
					"VMLAUNCH failed (%s, VM-instruction error %llu)",
					launch == 1 ? "VMfailInvalid" : "VMfailValid",
					(unsigned long long)err);
		}
		vmx_disable(boot);
	}
	write_rflags(rflags);

failed:
	log_printf("ctrvisor: not started: %s\r\n", start_error);
	console_flush_blocking();
	if (rc != HV_START_BAD_BOOT_INFO) { /* else bi->error may not be where we think */
		memcpy(bi->error, start_error, sizeof(bi->error));
		bi->error[sizeof(bi->error) - 1] = 0;
	}
	return rc;
}
