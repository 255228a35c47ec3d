# hvctl --dump end to end: the real hvctl (sanitizer build) on an ELF dump of the synthetic
# guest (tests/unit/vmi_fake.c) with an ISF profile written from the parser's own table.
UNIT_TESTS += hvctl_dump
UNIT_SRC_hvctl_dump := tests/unit/vmi_fake.c hv/vmi/profile.c hv/lib/json.c hv/lib/fmt.c
$(BUILD)/unit/test_hvctl_dump: $(BUILD)/san/hvctl
$(BUILD)/unit/test_hvctl_dump: UNIT_CFLAGS += -DHVCTL_BIN='"$(abspath $(BUILD))/san/hvctl"'
