# INIT, SIPI and the CR0 write that enters long mode, over a fake VMCS: what an AP woken by
# INIT-SIPI-SIPI is given, the Bochs INIT echo, and the boot CPU's INIT stopping the guest.
UNIT_TESTS += vcpu_init
UNIT_SRC_vcpu_init := hv/vmx/init_state.c hv/vmx/exit_init_sipi.c hv/vmx/exit_cr.c hv/vmx/exit_hooks.c hv/vmx/cr_policy.c \
	hv/lib/fmt.c tests/unit/fake_vmcs.c tests/unit/fake_vmx.c
