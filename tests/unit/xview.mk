# The cross-view of the tasks (hv/vmi/xview.c) on a small synthetic guest: hidden tasks
# flagged with the views that see them, hostile IDRs and thread lists cut.
UNIT_TESTS += xview
UNIT_SRC_xview := $(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) \
	hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c tests/unit/vmi_fake.c
