/* SPDX-License-Identifier: MIT */
/*
 * Filling the VMCS: controls, host state (the monitor's own tables), and guest state
 * taken from the running firmware, so that after VMLAUNCH the firmware simply goes on,
 * now as the guest (DESIGN §3).
 */
#include "console/uart.h"
#include "core/host_tables.h"
#include "vmx/msr_policy.h"
#include "core/monitor.h"
#include "mm/palloc.h"
#include "vmx/cr_policy.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/cpuid.h"
#include "x86/msr.h"
#include "x86/paging.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

extern char vmx_exit_entry[];

#define HOST_STACK_PAGES     8u
#define PAT_POWER_ON_DEFAULT 0x0007040600070406ull /* SDM Vol. 3A 11.12.4 */

/* ---------------------------------------------------------------- guest segments */

struct segment {
	uint16_t selector;
	uint64_t base;
	uint32_t limit;
	uint32_t ar; /* VMX access-rights format, SDM 24.4.1 Table 24-2 */
};

/* Read the descriptor a selector names in the current GDT (SDM Vol. 3A 3.4.5). */
static struct segment segment_from_gdt(uint16_t selector, const struct desc_ptr *gdtr)
{
	struct segment s = {.selector = selector, .ar = VMX_AR_UNUSABLE};
	uint32_t index = selector & ~7u;
	if (index == 0 || (selector & 4) || index + 7 > gdtr->limit)
		return s; /* null selector, LDT selector, or outside the GDT: unusable */
	const uint8_t *gdt = (const uint8_t *)(uintptr_t)gdtr->base;
	uint64_t d = *(const uint64_t *)(gdt + index);
	s.limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
	if (d & (1ull << 55)) /* G: 4 KiB granularity */
		s.limit = (s.limit << 12) | 0xFFF;
	s.base = ((d >> 16) & 0xFFFFFF) | (((d >> 56) & 0xFF) << 24);
	s.ar = (uint32_t)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 12));
	if (!(d & (1ull << 44))) {
		/* System descriptor (TSS, LDT): 16 bytes in IA-32e mode, base bits 63:32 in
		 * the second half (SDM 7.2.3). */
		if (index + 15 <= gdtr->limit)
			s.base |= (uint64_t) * (const uint32_t *)(gdt + index + 8) << 32;
	} else {
		s.ar |= 1; /* code/data: VM entry wants the accessed bit (26.3.1.2) */
	}
	if (!(d & (1ull << 47)))
		s.ar = VMX_AR_UNUSABLE; /* not present */
	return s;
}

static void write_guest_segment(uint32_t sel_field, const struct segment *s)
{
	/* The four fields of a guest segment are laid out at fixed offsets from the
	 * selector's encoding (Appendix B): limit +0x4000, AR +0x4014, base +0x6006. */
	uint32_t n = (sel_field - GUEST_ES_SELECTOR) / 2;
	vmwrite(sel_field, s->selector);
	vmwrite(GUEST_ES_LIMIT + 2 * n, s->limit);
	vmwrite(GUEST_ES_AR_BYTES + 2 * n, s->ar);
	vmwrite(GUEST_ES_BASE + 2 * n, s->base);
}

static void setup_guest_state(uint64_t cr0_shadow, uint64_t cr4_shadow)
{
	struct desc_ptr gdtr, idtr;
	sgdt(&gdtr);
	sidt(&idtr);

	/* SDM 24.4.1 "Guest Register State" */
	vmwrite(GUEST_CR0, read_cr0());
	vmwrite(GUEST_CR3, read_cr3());
	vmwrite(GUEST_CR4, read_cr4());
	vmwrite(GUEST_DR7, read_dr7());
	vmwrite(GUEST_RFLAGS, read_rflags());
	/* GUEST_RSP and GUEST_RIP are written by vmx_launch. */

	struct segment es = segment_from_gdt(read_es(), &gdtr);
	struct segment cs = segment_from_gdt(read_cs(), &gdtr);
	struct segment ss = segment_from_gdt(read_ss(), &gdtr);
	struct segment ds = segment_from_gdt(read_ds(), &gdtr);
	struct segment fs = segment_from_gdt(read_fs(), &gdtr);
	struct segment gs = segment_from_gdt(read_gs(), &gdtr);
	struct segment ldtr = segment_from_gdt(read_ldtr(), &gdtr);
	struct segment tr = segment_from_gdt(read_tr(), &gdtr);
	/* In 64-bit mode the FS/GS bases come from the MSRs, not the descriptors. */
	fs.base = rdmsr(MSR_FS_BASE);
	gs.base = rdmsr(MSR_GS_BASE);
	if (tr.ar & VMX_AR_UNUSABLE) {
		/* OVMF runs with TR = 0. VM entry requires a usable busy TSS in TR
		 * (26.3.1.2): give the guest one that is never used unless the guest
		 * loads its own (DESIGN §8). */
		tr.selector = 0;
		tr.base = 0;
		tr.limit = 0x67;
		tr.ar = VMX_AR_TSS_BUSY_64;
	}
	write_guest_segment(GUEST_ES_SELECTOR, &es);
	write_guest_segment(GUEST_CS_SELECTOR, &cs);
	write_guest_segment(GUEST_SS_SELECTOR, &ss);
	write_guest_segment(GUEST_DS_SELECTOR, &ds);
	write_guest_segment(GUEST_FS_SELECTOR, &fs);
	write_guest_segment(GUEST_GS_SELECTOR, &gs);
	write_guest_segment(GUEST_LDTR_SELECTOR, &ldtr);
	write_guest_segment(GUEST_TR_SELECTOR, &tr);
	vmwrite(GUEST_GDTR_BASE, gdtr.base);
	vmwrite(GUEST_GDTR_LIMIT, gdtr.limit);
	vmwrite(GUEST_IDTR_BASE, idtr.base);
	vmwrite(GUEST_IDTR_LIMIT, idtr.limit);

	vmwrite(GUEST_IA32_DEBUGCTL, 0); /* Bochs' haswell has no DEBUGCTL to read (DESIGN §8) */
	vmwrite(GUEST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(GUEST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(GUEST_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmwrite(GUEST_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmwrite(GUEST_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));

	/* SDM 24.4.2 "Guest Non-Register State" */
	vmwrite(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (26.3.1.5) */

	/* SDM 24.6.6 "Guest/Host Masks and Read Shadows for CR0 and CR4": the bits the
	 * table owns (vmx/cr_policy.c: what VMX forces, and pins); the guest reads its own
	 * values. */
	vmwrite(CR0_READ_SHADOW, cr0_shadow);
	vmwrite(CR4_READ_SHADOW, cr4_shadow);
}

/* ---------------------------------------------------------------- host state */

static int setup_host_state(struct vcpu *v)
{
	uint8_t *stack = palloc_pages(HOST_STACK_PAGES);
	if (stack == NULL)
		return start_fail(HV_START_NO_MEMORY, "no memory for the host stack");
	v->host_stack_top = (uint64_t)(uintptr_t)(stack + HOST_STACK_PAGES * PAGE_SIZE_4K);

	/* SDM 24.5 "Host-State Area"; the checks are in 26.2.2 and 26.2.3. */
	const struct vmx_caps *c = &machine.caps;
	uint64_t host_cr4 = read_cr4() | X86_CR4_VMXE;
	/* XSETBV for the guest runs in the monitor: it needs CR4.OSXSAVE (DESIGN §8). */
	if (cpuid_count(1, 0).ecx & CPUID_1_ECX_XSAVE)
		host_cr4 |= X86_CR4_OSXSAVE;
	vmwrite(HOST_CR0, (read_cr0() | c->cr0_fixed0) & c->cr0_fixed1);
	vmwrite(HOST_CR3, machine.host_cr3);
	vmwrite(HOST_CR4, (host_cr4 | c->cr4_fixed0) & c->cr4_fixed1);
	vmwrite(HOST_CS_SELECTOR, HOST_CS_SELECTOR_VALUE);
	vmwrite(HOST_SS_SELECTOR, HOST_DS_SELECTOR_VALUE);
	vmwrite(HOST_DS_SELECTOR, 0);
	vmwrite(HOST_ES_SELECTOR, 0);
	vmwrite(HOST_FS_SELECTOR, 0);
	vmwrite(HOST_GS_SELECTOR, 0);
	vmwrite(HOST_TR_SELECTOR, HOST_TR_SELECTOR_VALUE);
	vmwrite(HOST_FS_BASE, 0);
	vmwrite(HOST_GS_BASE, (uint64_t)(uintptr_t)v); /* this_vcpu(): %gs:0 is v->self */
	vmwrite(HOST_TR_BASE, (uint64_t)(uintptr_t)&v->host.tss);
	vmwrite(HOST_GDTR_BASE, (uint64_t)(uintptr_t)v->host.gdt);
	vmwrite(HOST_IDTR_BASE, (uint64_t)(uintptr_t)v->host.idt);
	vmwrite(HOST_IA32_SYSENTER_CS, 0);
	vmwrite(HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(HOST_IA32_SYSENTER_EIP, 0);
	vmwrite(HOST_IA32_PAT, PAT_POWER_ON_DEFAULT);
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER) | EFER_LME | EFER_LMA);
	vmwrite(HOST_RSP, v->host_stack_top);
	vmwrite(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
	return HV_START_OK;
}

/* ---------------------------------------------------------------- controls */

/* SDM 24.6.4 "I/O-Bitmap Addresses": A covers ports 0-0x7FFF, B 0x8000-0xFFFF; a set bit
 * makes an access to that port exit: the ports exit_io.c names. */
static int setup_io_bitmaps(void)
{
	/* One pair for every CPU: built by the boot CPU, read-only after. */
	static uint8_t *a, *b;
	if (a != NULL) {
		vmwrite(IO_BITMAP_A, (uint64_t)(uintptr_t)a);
		vmwrite(IO_BITMAP_B, (uint64_t)(uintptr_t)b);
		return HV_START_OK;
	}
	a = palloc_page();
	b = palloc_page();
	if (a == NULL || b == NULL)
		return start_fail(HV_START_NO_MEMORY, "no memory for the I/O bitmaps");
	io_policy_fill_bitmaps(a, b);
	vmwrite(IO_BITMAP_A, (uint64_t)(uintptr_t)a);
	vmwrite(IO_BITMAP_B, (uint64_t)(uintptr_t)b);
	return HV_START_OK;
}

/* SDM 24.6.9 "MSR-Bitmap Address": what msr_policy.c intercepts. One for every CPU: built
 * by the boot CPU; after that only the TSC-deadline bits are set (tsc.c, under the exit
 * lock). */
static uint8_t *msr_bitmap;

uint8_t *vmx_msr_bitmap(void)
{
	return msr_bitmap;
}

static int setup_msr_bitmap(void)
{
	if (msr_bitmap == NULL) {
		msr_bitmap = palloc_page();
		if (msr_bitmap == NULL)
			return start_fail(HV_START_NO_MEMORY, "no memory for the MSR bitmap");
		msr_policy_fill_bitmap(msr_bitmap);
	}
	vmwrite(MSR_BITMAP, (uint64_t)(uintptr_t)msr_bitmap);
	return HV_START_OK;
}

static int setup_controls(struct vcpu *v)
{
	const struct vmx_caps *c = &machine.caps;

	/* 24.6.1: NMIs exit so the monitor sees them and re-injects them (with virtual
	 * NMIs, the blocking state is tracked per VMCS); the preemption timer gives the
	 * console its polling exits. External interrupts go straight to the guest. */
	/* Every vCPU has the timer: the boot CPU polls the console with it; the others exit
	 * at least every 10 ms (entry.c) so a request from another CPU (core/cpus.h) is
	 * answered even when the guest blocks its NMI kicks (a disabled local APIC). */
	uint32_t timer = PIN_BASED_VMX_PREEMPTION_TIMER;
	uint32_t pin = vmx_adjust_controls(c->pin_msr,
					   PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS | timer);
	/* 24.6.2: I/O (console ports) and MSR bitmaps, TSC offsetting; no HLT, CR3, RDTSC
	 * exiting. */
	/* TSC offsetting: the guest's TSC writes move only its offset (tsc.c). */
	uint32_t proc = vmx_adjust_controls(
		c->proc_msr, CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS |
				     CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_ACTIVATE_SECONDARY);
	/* Secondary: EPT and unrestricted guest always; RDTSCP, INVPCID, XSAVES and
	 * user wait/pause when offered, since without their enable bits the instructions
	 * raise #UD in the guest and Linux uses them when CPUID lists them (DESIGN §8;
	 * exit_cpuid.c hides the ones we could not enable). */
	uint32_t want2 = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
			 SECONDARY_EXEC_ENABLE_RDTSCP | SECONDARY_EXEC_ENABLE_INVPCID |
			 SECONDARY_EXEC_XSAVES | SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE |
			 SECONDARY_EXEC_ENABLE_VPID;
	uint32_t sec = (want2 | (uint32_t)c->secondary) & (uint32_t)(c->secondary >> 32);
	/* 24.7.1 / 24.8.1: 64-bit host; IA32_EFER and IA32_PAT saved and loaded on every
	 * transition (without EFER save, Linux's EFER.SCE is lost: DESIGN §8). */
	uint32_t exit = vmx_adjust_controls(
		c->exit_msr, VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_PAT |
				     VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER |
				     VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_DEBUG_CONTROLS);
	uint32_t entry_want =
		VM_ENTRY_LOAD_DEBUG_CONTROLS | VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER;
	if (rdmsr(MSR_EFER) & EFER_LMA)
		entry_want |= VM_ENTRY_IA32E_MODE;
	uint32_t entry = vmx_adjust_controls(c->entry_msr, entry_want);

	uint32_t must_pin = PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS | timer;
	/* An AP must offer what the boot CPU enabled (the guest saw its CPUID), and real
	 * mode after INIT-SIPI needs unrestricted guest (SDM Vol. 3C 26.3.1.1). */
	if (v->id != 0 &&
	    (sec != machine.secondary_controls || !(sec & SECONDARY_EXEC_UNRESTRICTED_GUEST)))
		return start_fail(HV_START_MISSING_FEATURE,
				  "CPU %u offers other secondary controls (0x%x) than the boot "
				  "CPU (0x%x) or no unrestricted guest",
				  v->id, sec, machine.secondary_controls);
	uint32_t must_exit = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
			     VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT;
	if ((pin & must_pin) != must_pin || (exit & must_exit) != must_exit ||
	    (entry & entry_want) != entry_want || !(proc & CPU_BASED_USE_IO_BITMAPS) ||
	    !(proc & CPU_BASED_USE_MSR_BITMAPS) || !(proc & CPU_BASED_USE_TSC_OFFSETTING))
		return start_fail(HV_START_MISSING_FEATURE,
				  "required VM-execution/exit/entry controls are not offered "
				  "(pin=0x%x exit=0x%x entry=0x%x)",
				  pin, exit, entry);

	vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, sec);
	if (v->id == 0)
		machine.secondary_controls = sec;
	vmwrite(VM_EXIT_CONTROLS, exit);
	vmwrite(VM_ENTRY_CONTROLS, entry);
	vmwrite(EXCEPTION_BITMAP, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmwrite(TSC_OFFSET, 0);
	vmwrite(EPT_POINTER, ept_pointer(&vm.ept));
	if (sec & SECONDARY_EXEC_ENABLE_VPID)
		vmwrite(VIRTUAL_PROCESSOR_ID, v->vpid); /* its own; 0 is the host's (24.6.12) */
	if (sec & SECONDARY_EXEC_XSAVES)
		vmwrite(XSS_EXIT_BITMAP, 0);
	/* Without "save VMX-preemption timer value" each entry starts the count anew from
	 * this field (SDM 25.5.1): the boot CPU rewrites it at each exit, the others never. */
	vmwrite(VMX_PREEMPTION_TIMER_VALUE,
		v->id == 0 ? machine.preemption_timer_value : machine.preemption_timer_value_ap);

	int rc = setup_io_bitmaps();
	if (rc == HV_START_OK)
		rc = setup_msr_bitmap();
	return rc;
}

int vmcs_setup(struct vcpu *v, uint64_t guest_cr0_shadow, uint64_t guest_cr4_shadow)
{
	int rc = setup_controls(v);
	if (rc == HV_START_OK)
		rc = setup_host_state(v);
	if (rc == HV_START_OK) {
		setup_guest_state(guest_cr0_shadow, guest_cr4_shadow);
		cr_policy_load(v);
	}
	return rc;
}
