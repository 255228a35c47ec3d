/* hv/vmx/init_state.c, exit_init_sipi.c, exit_cr.c over a fake VMCS (fake_vmcs.c): the
 * state an application processor gets at INIT and SIPI (SDM Vol. 3A 9.1.1 Table 9-1,
 * 9.4.4.2), the INIT that Bochs 2.7 delivers again after the SIPI, the boot CPU's INIT,
 * and the CR0 write that turns paging on in long mode (EFER.LMA, the entry control). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/monitor.h"
#include "fake_vmcs.h"
#include "fake_vmx.h"
#include "vmx/exit_handlers.h"
#include "vmx/init_state.h"
#include "vmx/vmx.h"
#include "x86/cr.h"
#include "x86/cpuid.h"
#include "x86/msr.h"
#include "x86/vmcs.h"
#include "x86/vmx_controls.h"

struct machine machine;
struct vm vm;

static struct vcpu ap, bsp;
static struct guest_regs regs;

/* Caps as a Haswell reports them: CR0 fixed PE, NE, PG; CR4 fixed VMXE. */
static int setup(void **state)
{
	(void)state;
	fake_vmcs_reset();
	memset(&machine, 0, sizeof(machine));
	machine.tsc_hz = 1000000000ull; /* 1 GHz: 10 ms = 10^7 ticks of fake_tsc */
	fake_tsc = 5000000000ull;
	machine.caps.cr0_fixed0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG;
	machine.caps.cr0_fixed1 = 0xFFFFFFFFull;
	machine.caps.cr4_fixed0 = X86_CR4_VMXE;
	machine.caps.cr4_fixed1 = 0x3767FFull;
	memset(&ap, 0, sizeof(ap));
	memset(&bsp, 0, sizeof(bsp));
	memset(&regs, 0x5A, sizeof(regs));
	ap.id = 1;
	ap.vpid = 2;
	ap.regs = &regs;
	bsp.regs = &regs;
	fake_vmx_reset();
	/* The AP runs long-mode firmware code when the INIT comes. */
	fake_vmcs[VM_ENTRY_CONTROLS] = VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER;
	fake_vmcs[GUEST_IA32_EFER] = EFER_LME | EFER_LMA | EFER_SCE;
	fake_vmcs[CR0_GUEST_HOST_MASK] = X86_CR0_NE; /* what vmcs_setup.c owns on Haswell */
	fake_vmcs[CR0_READ_SHADOW] = 0x80050033ull & ~X86_CR0_NE; /* stale for CD: not owned */
	fake_vmcs[GUEST_CR0] = 0x80050033ull | X86_CR0_CD;
	fake_vmcs[GUEST_RIP] = 0xFFFFFFFF81000000ull;
	fake_vmcs[GUEST_CS_SELECTOR] = 0x10;
	fake_vmcs[GUEST_ACTIVITY_STATE] = GUEST_ACTIVITY_HLT;
	fake_vmcs[GUEST_INTERRUPTIBILITY_INFO] = 1u << 2; /* the Bochs "blocked by SMI" bit */
	fake_vmcs[VM_ENTRY_INTR_INFO_FIELD] = INTR_INFO_VALID | 0x20u;
	return 0;
}

static void test_init_state_is_the_sdm_table(void **state)
{
	(void)state;
	struct vmcs_init_state s;
	vmcs_init_state(&s, 0x80050033ull | X86_CR0_CD | X86_CR0_NW, 0x306C3u, &machine.caps);
	assert_int_equal(s.rip, 0xFFF0);
	assert_int_equal(s.rflags, 0x2);
	assert_int_equal(s.rdx, 0x306C3u);
	/* CD and NW survive, ET is set, the rest clear; the real CR0 keeps NE (VMX), not PE
	 * or PG (unrestricted guest). */
	assert_int_equal(s.cr0_shadow, X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	assert_int_equal(s.cr0, X86_CR0_CD | X86_CR0_NW | X86_CR0_ET | X86_CR0_NE);
	assert_int_equal(s.cr4_shadow, 0);
	assert_int_equal(s.cr4, X86_CR4_VMXE);
	assert_int_equal(s.cs.selector, 0xF000);
	assert_int_equal(s.cs.base, 0xFFFF0000u);
	assert_int_equal(s.cs.limit, 0xFFFF);
	assert_int_equal(s.data.selector, 0);
	assert_int_equal(s.data.limit, 0xFFFF);
	assert_int_equal(s.dr7, 0x400);
	assert_int_equal(s.efer, 0);
	assert_int_equal(s.gdtr_limit, 0xFFFF);
}

static void test_init_on_an_ap_waits_for_sipi_in_the_init_state(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	assert_int_equal(fake_vmx.stops, 0);
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_WAIT_SIPI);
	assert_int_equal(fake_vmcs[GUEST_RIP], 0xFFF0);
	assert_int_equal(fake_vmcs[GUEST_CS_BASE], 0xFFFF0000u);
	assert_int_equal(fake_vmcs[GUEST_CS_SELECTOR], 0xF000);
	assert_int_equal(fake_vmcs[GUEST_CS_AR_BYTES], VMCS_AR_CODE_ACCESSED);
	assert_int_equal(fake_vmcs[GUEST_SS_AR_BYTES], VMCS_AR_DATA_ACCESSED);
	assert_int_equal(fake_vmcs[GUEST_TR_AR_BYTES], VMCS_AR_TSS_BUSY);
	assert_int_equal(fake_vmcs[GUEST_IA32_EFER], 0);
	assert_false(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_IA32E_MODE);
	assert_true(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_LOAD_IA32_EFER);
	assert_int_equal(fake_vmcs[GUEST_INTERRUPTIBILITY_INFO], 0);
	assert_int_equal(fake_vmcs[CR0_READ_SHADOW], X86_CR0_CD | X86_CR0_ET);
	assert_int_equal(fake_vmcs[CR4_READ_SHADOW], 0);
	/* Nothing queued survives; the registers are the INIT ones. */
	assert_int_equal(fake_vmcs[VM_ENTRY_INTR_INFO_FIELD], 0);
	assert_true(ap.event_injected);
	assert_int_equal(regs.rax, 0);
	assert_int_equal(regs.rdx, cpuid_count(1, 0).eax);
	assert_int_equal(ap.inits, 1);
}

static void test_sipi_starts_real_mode_at_its_vector(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	ap.exit_qualification = 0x9A;
	handle_sipi(&ap);
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_ACTIVE);
	assert_int_equal(fake_vmcs[GUEST_CS_SELECTOR], 0x9A00);
	assert_int_equal(fake_vmcs[GUEST_CS_BASE], 0x9A000);
	assert_int_equal(fake_vmcs[GUEST_RIP], 0);
	assert_int_equal(ap.sipis, 1);
}

static void test_the_bochs_init_echo_after_a_sipi_is_ignored(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	ap.exit_qualification = 0x9A;
	handle_sipi(&ap);
	handle_init_signal(&ap); /* the same INIT again, before the AP ran an instruction */
	handle_init_signal(&ap); /* and again: Bochs may repeat it */
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_ACTIVE);
	assert_int_equal(fake_vmcs[GUEST_CS_BASE], 0x9A000);
	assert_int_equal(ap.init_echoes_ignored, 2);
	assert_int_equal(ap.inits, 1);
}

static void test_an_init_long_after_the_sipi_is_a_real_init_even_at_offset_0(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	ap.exit_qualification = 0x9A;
	handle_sipi(&ap);
	fake_tsc += 20000000ull; /* 20 ms later, the AP spins at offset 0 without exiting */
	handle_init_signal(&ap);
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_WAIT_SIPI);
	assert_int_equal(ap.init_echoes_ignored, 0);
	assert_int_equal(ap.inits, 2);
}

static void test_an_init_after_the_ap_ran_is_a_real_init(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	ap.exit_qualification = 0x9A;
	handle_sipi(&ap);
	fake_vmcs[GUEST_RIP] = 0x40; /* it ran */
	ap.sipi_started = false;     /* exit_dispatch clears it at any other exit */
	handle_init_signal(&ap);
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_WAIT_SIPI);
	assert_int_equal(ap.inits, 2);
	assert_int_equal(ap.init_echoes_ignored, 0);
}

static void test_init_to_the_boot_cpu_stops_the_guest(void **state)
{
	(void)state;
	handle_init_signal(&bsp);
	assert_int_equal(fake_vmx.stops, 1);
	assert_non_null(strstr(fake_vmx.stop_reason, "boot CPU"));
	assert_int_equal(fake_vmcs[GUEST_ACTIVITY_STATE], GUEST_ACTIVITY_HLT); /* untouched */
}

/* A MOV to CR0 that exits (it sets NE, which the INIT state cleared in the shadow). */
static void mov_to_cr0(uint64_t value)
{
	regs.rax = value;
	ap.exit_qualification = 0; /* CR0, MOV to CR, register 0 (RAX): Table 27-3 */
	handle_cr_access(&ap);
}

static void test_paging_on_with_lme_enters_long_mode(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	fake_vmcs[GUEST_CR0] |= X86_CR0_PE;
	fake_vmcs[GUEST_CR4] |= X86_CR4_PAE;
	fake_vmcs[GUEST_IA32_EFER] = EFER_LME;
	mov_to_cr0(X86_CR0_PE | X86_CR0_NE | X86_CR0_PG | X86_CR0_ET);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmx.advances, 1);
	assert_int_equal(fake_vmcs[GUEST_IA32_EFER], EFER_LME | EFER_LMA);
	assert_true(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_IA32E_MODE);
	assert_true(fake_vmcs[GUEST_CR0] & X86_CR0_PG);
	/* and off again: LMA and the control go with it */
	mov_to_cr0(X86_CR0_PE | X86_CR0_NE | X86_CR0_ET);
	assert_int_equal(fake_vmcs[GUEST_IA32_EFER], EFER_LME);
	assert_false(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_IA32E_MODE);
}

static void test_paging_on_with_lme_but_no_pae_faults(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	fake_vmcs[GUEST_CR0] |= X86_CR0_PE;
	fake_vmcs[GUEST_IA32_EFER] = EFER_LME;
	mov_to_cr0(X86_CR0_PE | X86_CR0_NE | X86_CR0_PG);
	assert_int_equal(fake_vmx.gp, 1);
	assert_int_equal(fake_vmx.advances, 0);
	assert_int_equal(fake_vmcs[GUEST_IA32_EFER], EFER_LME);
	assert_false(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_IA32E_MODE);
}

static void test_paging_on_without_lme_stays_32_bit(void **state)
{
	(void)state;
	handle_init_signal(&ap);
	fake_vmcs[GUEST_CR0] |= X86_CR0_PE;
	mov_to_cr0(X86_CR0_PE | X86_CR0_NE | X86_CR0_PG);
	assert_int_equal(fake_vmx.gp, 0);
	assert_int_equal(fake_vmcs[GUEST_IA32_EFER], 0);
	assert_false(fake_vmcs[VM_ENTRY_CONTROLS] & VM_ENTRY_IA32E_MODE);
}

#define T(name) cmocka_unit_test_setup(name, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_state_is_the_sdm_table),
		T(test_init_on_an_ap_waits_for_sipi_in_the_init_state),
		T(test_sipi_starts_real_mode_at_its_vector),
		T(test_the_bochs_init_echo_after_a_sipi_is_ignored),
		T(test_an_init_long_after_the_sipi_is_a_real_init_even_at_offset_0),
		T(test_an_init_after_the_ap_ran_is_a_real_init),
		T(test_init_to_the_boot_cpu_stops_the_guest),
		T(test_paging_on_with_lme_enters_long_mode),
		T(test_paging_on_with_lme_but_no_pae_faults),
		T(test_paging_on_without_lme_stays_32_bit),
	};
	return cmocka_run_group_tests_name("vcpu_init", tests, NULL, NULL);
}
