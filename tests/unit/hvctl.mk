# hvctl end to end on the host: the real hvctl (sanitizer build) against a fake monitor
# made of the real console sources, over a pty and over TCP.
UNIT_TESTS += hvctl
UNIT_SRC_hvctl := hv/console/line.c hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c \
	hv/core/events.c hv/console/verbs_events.c hv/console/zbody.c hv/lib/base64.c
UNIT_LIBS_hvctl := -lz
$(BUILD)/unit/test_hvctl: $(BUILD)/san/hvctl
$(BUILD)/unit/test_hvctl: UNIT_CFLAGS += -DHVCTL_BIN='"$(abspath $(BUILD))/san/hvctl"'
