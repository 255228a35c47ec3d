# The MSR policy table and its handlers over a fake VMCS and MSRs: the bitmap it builds,
# #GP for what a CPU without VMX or PT would refuse, and the guest's TSC writes moving only
# its TSC offset (the monitor's clock stays the processor's).
UNIT_TESTS += msr_policy
UNIT_SRC_msr_policy := hv/vmx/msr_policy.c hv/vmx/entry_msr.c hv/vmx/tsc.c hv/vmx/exit_msr.c hv/vmx/exit_hooks.c hv/vmx/mtrr_guest.c \
	hv/mm/mtrr.c hv/mm/ept.c \
	tests/unit/fake_vmcs.c tests/unit/fake_vmx.c \
	tests/unit/guest_msr.c
