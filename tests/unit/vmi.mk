# The introspection library on a synthetic guest (tests/unit/vmi_fake.c): page walks, the
# tasks walk, process facts, containers, the ps/containers/inspect verbs, corrupted memory.
UNIT_TESTS += vmi
UNIT_SRC_vmi := $(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) \
	hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c tests/unit/vmi_fake.c
