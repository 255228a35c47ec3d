# Unit tests (cmocka, host, ASan/UBSan). Each test declares itself in its own
# tests/unit/<name>.mk:
#   UNIT_TESTS += <name>
#   UNIT_SRC_<name> := <the freestanding sources under test>
# and lives in tests/unit/test_<name>.c. This file turns them into binaries.

UNIT_CFLAGS := $(HOST_CFLAGS) $(SAN_FLAGS) -O1 -Itests/unit -Itools/mkprofile
UNIT_LIBS   := -lcmocka
UNIT_TESTS  :=
include $(filter-out tests/unit/unit.mk,$(wildcard tests/unit/*.mk))

define unit_rule
$(BUILD)/unit/test_$(1): tests/unit/test_$(1).c $$(UNIT_SRC_$(1)) $$(wildcard tests/unit/*.h hv/*/*.h boot/*.h) | $(DEPS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(UNIT_CFLAGS) -o $$@ tests/unit/test_$(1).c $$(UNIT_SRC_$(1)) $$(UNIT_LIBS) $$(UNIT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

UNIT_BINS := $(UNIT_TESTS:%=$(BUILD)/unit/test_%)
