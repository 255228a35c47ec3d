/* The exit-handler helpers (vmx/exit_complete.c, exit_dispatch.c) as host tests see them: they
 * count what the code under test asked for instead of touching a VMCS. Test-only. */
#ifndef TESTS_UNIT_FAKE_VMX_H
#define TESTS_UNIT_FAKE_VMX_H

struct fake_vmx_calls {
	int gp;         /* vmx_inject_gp0 */
	int advances;   /* vmx_advance_rip */
	int stops;      /* vmx_stop_guest */
	int invept_all; /* cpus_invept_all */
	char stop_reason[160];
};
extern struct fake_vmx_calls fake_vmx;

void fake_vmx_reset(void);

#endif
