# The guest's MTRR writes (vmx/mtrr_guest.c) over a fake VMCS and MSRs and a real EPT: the
# EPT memory types follow the guest's MTRRs, the monitor's pages and the processor's MTRRs
# do not change, bad values get #GP, and nothing is allocated.
UNIT_TESTS += mtrr_guest
UNIT_SRC_mtrr_guest := hv/vmx/mtrr_guest.c hv/vmx/msr_policy.c hv/vmx/entry_msr.c hv/vmx/tsc.c \
	hv/vmx/exit_msr.c hv/vmx/exit_hooks.c hv/mm/mtrr.c hv/mm/ept.c tests/unit/fake_vmcs.c \
	tests/unit/fake_vmx.c \
	tests/unit/guest_msr.c tests/unit/heap_ept.c
