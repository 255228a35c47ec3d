# The injection engine over fake registers: a simulated kernel runs the synthetic guest's
# tasks (tests/unit/vmi_fake.c) and the engine sees each SYSCALL entry as the trap shows it:
# pause, stop, stats and exec through the real programs; the hijacked task given back
# exactly; failures, timeouts and a dying task.
UNIT_TESTS += engine
UNIT_SRC_engine := hv/inject/engine.c hv/inject/engine_mem.c hv/inject/engine_alive.c \
	hv/inject/engine_helper.c hv/inject/sleep.c hv/inject/ops.c hv/inject/ops_cp.c \
	hv/inject/ops_exec.c hv/inject/ops_restrict.c \
	$(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) hv/console/cmd.c \
	hv/console/proto.c hv/lib/fmt.c tests/unit/vmi_fake.c tests/unit/fake_vmcs.c
