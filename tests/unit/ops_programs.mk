# The pause/unpause and exec programs stepped by hand: the frozen state read anew at every
# poll (on a synthetic guest whose cgroup freezes late), the undo of a pause that timed
# out, and exec's PATH walk (what is reported when a later candidate ran).
UNIT_TESTS += ops_programs
UNIT_SRC_ops_programs := hv/inject/ops.c hv/inject/ops_cp.c hv/inject/ops_exec.c hv/inject/ops_restrict.c hv/inject/sleep.c \
	$(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) hv/console/cmd.c \
	hv/console/proto.c hv/lib/fmt.c tests/unit/ops_harness.c tests/unit/vmi_fake.c
