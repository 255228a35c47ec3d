# The cp programs (hv/inject/ops_cp.c) stepped by hand with the results a kernel would give:
# which calls they make, the limit, and that every descriptor is closed on every path.
UNIT_TESTS += ops_cp
UNIT_SRC_ops_cp := hv/inject/ops.c hv/inject/ops_cp.c hv/inject/ops_exec.c hv/inject/ops_restrict.c hv/inject/sleep.c \
	$(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) hv/console/cmd.c \
	hv/console/proto.c hv/lib/fmt.c tests/unit/ops_harness.c
