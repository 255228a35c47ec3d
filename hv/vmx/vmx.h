/* SPDX-License-Identifier: MIT */
/* VMX operation: capabilities, VMXON, the VMCS, launch, and the helpers exit handlers use. */
#ifndef HV_VMX_VMX_H
#define HV_VMX_VMX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootinfo.h"
#include "core/vcpu.h"
#include "mm/ept_claims.h"
#include "x86/cpu.h"

/* Failure of a start-up step: the status for hv_start() and a message saying what to do. */
int start_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *start_error_text(void); /* what the last start_fail said */

int vmx_check_support(void);      /* CPUID, IA32_FEATURE_CONTROL */
int vmx_read_caps(void);          /* fills machine.caps, checks what we need */
int vmx_enable(struct vcpu *v);   /* CR0/CR4 fixed bits, VMXON */
void vmx_disable(struct vcpu *v); /* VMXOFF and CR4.VMXE off, after a failed start */
int vmcs_setup(struct vcpu *v, uint64_t guest_cr0_shadow, uint64_t guest_cr4_shadow);
int vmx_launch(void);          /* vmx_entry.asm: 0 = now the guest */
uint8_t *vmx_msr_bitmap(void); /* the MSR bitmap every VMCS uses (vmcs_setup.c) */

/* Adjust wanted control bits by a capability MSR (SDM 31.5.1 "Algorithms for Determining
 * VMX Capabilities", A.3-A.5): bits 31:0 of the MSR are the allowed 0-settings (a 1 there
 * means the control must be 1), bits 63:32 the allowed 1-settings. */
uint32_t vmx_adjust_controls(uint32_t msr, uint32_t wanted);

static inline void vmwrite(uint64_t field, uint64_t value)
{
	/* Field encodings are compile-time constants from x86/vmcs.h and every field written
	 * exists on all VMX processors that pass vmx_read_caps(); a failure here is a bug and
	 * surfaces as a failed VM entry, which is reported. */
	(void)vmwrite_checked(field, value);
}

/* Exit-handler helpers (vmx/exit_complete.c) */
void vmx_advance_rip(struct vcpu *v);
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void vmx_inject_gp0(struct vcpu *v);
void vmx_inject_ud(struct vcpu *v);
void vmx_queue_pending_nmi(struct vcpu *v);
/* Stop the guest for good, keep serving the console (vmx/exit_dispatch.c). */
void vmx_stop_guest(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vmx_dump_guest_state(struct vcpu *v);

/* The ports that exit and what the guest gets there (vmx/exit_io.c) */
extern uint64_t io_blocked_reads, io_blocked_writes, io_blocked_string, io_sleep_refused;
uint8_t console_port_guest_view(uint16_t port);
void io_policy_fill_bitmaps(uint8_t *bitmap_a, uint8_t *bitmap_b);
extern struct pci_guard pm_base_guard; /* the PM1 base's PCI register (platform/pci_guard.h) */

/* EPT identity map and hiding the monitor (vmx/ept_setup.c) */
int ept_setup(void);
void ept_hide_monitor(void);
/* An EPT violation no hook took: the access is retried if the entry allows it now (it
 * changed since the fault), or the chunk is mapped if it was beyond the identity map. */
bool ept_map_on_demand(uint64_t gpa, uint64_t qualification);
bool ept_growth_exhausted(void); /* the pool for EPT changes after start is used up */
bool ept_monitor_hidden(void);
/* INVEPT on this CPU only: enough after a change that only loosens (core/cpus.h). */
void ept_invalidate_local(void);
/* Sets (ept_claim) or drops (perms < 0: ept_release) owner's claim on [gpa, gpa + size)
 * and returns once every CPU sees the result: the one way to tighten a permission or move
 * a page after launch. 0, or -1 with the reason in `why` (a bad claim, out of EPT memory,
 * a CPU that did not answer). */
int ept_claim_change(enum ept_owner owner, uint64_t gpa, uint64_t size, int64_t perms,
		     enum ept_redirect redirect, uint64_t hpa, uint8_t memtype, char *why,
		     size_t cap);
/* Write tracking on owner's claim of exactly [gpa, gpa + size) (mm/ept_claims.h
 * ept_claim_track_writes); 0 or -1 with why. */
int ept_claim_tracking(enum ept_owner owner, uint64_t gpa, uint64_t size, const uint64_t *write_ok,
		       char *why, size_t cap);
/* The entry of `page` in owner's tracked claim at claim_gpa, rewritten after its bit
 * changed. widened (the page became writable): this CPU invalidates, the others fault once
 * more and retry. Otherwise nothing is invalidated: the caller ends a batch of such
 * changes with cpus_invept_all. 0, or -1 (not such a page, out of EPT memory). */
int ept_claim_page_rewrite(enum ept_owner owner, uint64_t claim_gpa, uint64_t page, bool widened);

#endif
