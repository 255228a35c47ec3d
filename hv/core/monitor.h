/* SPDX-License-Identifier: MIT */
/* What the monitor knows about itself and the machine, set up once by hv_start(). */
#ifndef HV_CORE_MONITOR_H
#define HV_CORE_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#include "bootinfo.h"
#include "mm/ept.h"
#include "mm/mtrr.h"
#include "vmi/profile.h"

#define HV_MAGIC_PREFIX "CTRVISOR-CORE-MAGIC:"
#define HV_MAGIC_LEN    36 /* prefix (20) + 16 hex digits */

/* Sits at the very start of the image (section .hv_header, linker.ld): what `mem`
 * reports and what the guest must never be able to read. */
struct hv_image_header {
	char magic[HV_MAGIC_LEN + 1];
};

/* VMX capabilities read once (SDM Appendix A). */
struct vmx_caps {
	uint64_t basic;
	uint64_t misc;
	uint64_t ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint32_t pin_msr, proc_msr, exit_msr, entry_msr; /* TRUE_* when offered */
	bool has_secondary;
	uint64_t secondary; /* IA32_VMX_PROCBASED_CTLS2 */
};

struct monitor {
	/* from the loader */
	uint64_t core_base, core_size, image_size;
	uint64_t tsc_hz;
	uint16_t console_port;
	uint32_t console_baud;
	uint32_t mem_count;
	struct boot_mem_range mem[BOOT_MEM_MAX];

	/* machine */
	unsigned int maxphyaddr;
	bool host_1g_pages;
	struct vmx_caps caps;
	uint32_t secondary_controls; /* as enabled in the VMCS */
	struct mtrr_state mtrr;

	/* the guest's memory view */
	struct ept ept;
	uint64_t ept_mapped_limit; /* identity map built up to here; beyond, mapped on demand */
	uint64_t sink_page_pa;     /* what the guest sees in place of the monitor's pages */
	bool hidden;               /* the monitor's pages are out of the guest's view */

	/* introspection: the guest kernel's profile, if one was given and accepted */
	bool profile_loaded;
	struct vmi_profile profile;
	char profile_status[PROFILE_ERR_MAX]; /* why not loaded, for the verbs' errors */

	/* host state */
	uint64_t host_cr3;
	uint64_t preemption_timer_value;      /* idle poll period */
	uint64_t preemption_timer_value_busy; /* while the console is active */
};

extern struct monitor monitor;
extern struct hv_image_header hv_image_header;

uint64_t monitor_uptime_ms(void);

#endif
