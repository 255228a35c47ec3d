# The exit hooks (vmx/exit_hooks.c) through the real WRMSR and MOV-to-CR handlers over a
# fake VMCS: a registered subsystem sees the writes, can refuse them (#GP) or take them,
# and a write nobody claims gets the handlers' own treatment. The CR table (vmx/cr_policy.c):
# the masks it gives, pins refusing a cleared bit, each vCPU reloading them after a pin.
UNIT_TESTS += exit_hooks
UNIT_SRC_exit_hooks := hv/vmx/exit_hooks.c hv/vmx/exit_msr.c hv/vmx/exit_cr.c hv/vmx/cr_policy.c \
	hv/vmx/msr_policy.c hv/vmx/entry_msr.c hv/vmx/tsc.c hv/vmx/mtrr_guest.c hv/mm/mtrr.c hv/mm/ept.c \
	tests/unit/fake_vmcs.c tests/unit/fake_vmx.c tests/unit/guest_msr.c
