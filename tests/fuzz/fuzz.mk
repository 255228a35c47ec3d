# libFuzzer targets for the parsers fed by outsiders (console bytes, hv.cfg, hv.elf,
# kernel profiles, channel frames).
# `make fuzz` builds them with clang and runs each for FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Werror -I. -Ihv -DHV_HOST=1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_TARGETS := console hvcfg elfload vmi dump profile base64 chan
FUZZ_SRC_console := hv/console/line.c hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c
FUZZ_SRC_hvcfg   := boot/hvcfg.c hv/lib/fmt.c
FUZZ_SRC_elfload := boot/elfload.c hv/lib/fmt.c
FUZZ_SRC_profile := hv/vmi/profile.c hv/lib/json.c hv/lib/fmt.c
FUZZ_SRC_base64  := hv/lib/base64.c
FUZZ_SRC_chan    := hv/chan/sig.c hv/chan/frame.c hv/chan/session.c tools/hvctl/chan_client.c
FUZZ_LIBS_chan   := -lbearssl
FUZZ_VMI_SRC     := $(filter-out hv/vmi/profile.c hv/vmi/kimage.c,$(wildcard hv/vmi/*.c)) \
	hv/console/cmd.c hv/console/proto.c hv/lib/fmt.c tests/unit/vmi_fake.c
FUZZ_SRC_vmi     := $(FUZZ_VMI_SRC)
FUZZ_SRC_dump    := tools/hvctl/dump.c $(FUZZ_VMI_SRC)
FUZZ_BINS := $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)
$(BUILD)/fuzz/fuzz_vmi $(BUILD)/fuzz/fuzz_dump: $(wildcard hv/vmi/*.[ch] tools/hvctl/dump.[ch] \
	tests/unit/vmi_fake.[ch])

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard hv/console/*.[ch] boot/*.[ch] hv/lib/*.[ch] hv/vmi/*.[ch] hv/chan/*.[ch])
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRC_$*) $(FUZZ_LIBS_$*)

fuzz: deps $(BUILD)/hv.elf
	bash tools/deps.sh fuzz
	$(MAKE) $(FUZZ_BINS)
	@mkdir -p $(BUILD)/fuzz/corpus-elfload && cp $(BUILD)/hv.elf $(BUILD)/fuzz/corpus-elfload/hv.elf
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(BUILD)/fuzz/corpus-$$t; \
		echo "== fuzz_$$t ($(FUZZ_SECONDS) s)"; \
		$(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=300000 \
			-artifact_prefix=$(BUILD)/fuzz/crash-$$t- \
			$(BUILD)/fuzz/corpus-$$t tests/fuzz/seeds-$$t 2>&1 | tail -3; \
	done
