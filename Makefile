# ctrvisor: one entry point. `make` builds, `make test` runs every test
# (unit + Bochs end-to-end), `make run` boots the lab and opens the console.
# Every target that needs Debian packages calls tools/deps.sh first.

BUILD   ?= build
CC      ?= gcc
NASM    ?= nasm
LD      ?= ld
OBJCOPY ?= objcopy
PYTHON  ?= python3

DEPS_STAMP := $(BUILD)/.deps-ok

WARN := -Wall -Wextra -Werror
# --- the core (hv.elf): freestanding, position independent, relocated by hvboot
CORE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-stack-protector \
	-fno-stack-check -mno-red-zone -mgeneral-regs-only -fpie -fvisibility=hidden \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-common \
	-fno-omit-frame-pointer -mcmodel=small -fno-tree-loop-distribute-patterns \
	-I. -Ihv -DHV_CORE=1
CORE_LDFLAGS := -T linker.ld -pie --no-dynamic-linker -nostdlib -z noexecstack \
	-z max-page-size=4096 -z text --build-id=none

# BearSSL for the channel's signatures (hv/chan/sig.c), built from Debian's source with
# CORE_CFLAGS (tools/build-bearssl.sh): the core links only what it calls.
BEARSSL_CORE := $(BUILD)/bearssl/libbearssl-core.a
CORE_INC     := -I$(BUILD)/bearssl/src/inc -I$(BUILD)/zlib/src
# zlib's deflate for compressed replies (hv/console/zbody.c), built the same way
# (tools/build-zlib.sh): Z_SOLO, no libc.
ZLIB_CORE    := $(BUILD)/zlib/libz-core.a

CORE_C   := $(shell find hv -name '*.c' | sort)
CORE_ASM := $(shell find hv -name '*.asm' | sort)
CORE_OBJ := $(CORE_C:%.c=$(BUILD)/core/%.o) $(CORE_ASM:%.asm=$(BUILD)/core/%.asm.o)

# --- the loader (hvboot.efi): gnu-efi application
EFI_INC  := /usr/include/efi
EFI_LIB  := /usr/lib
EFI_CFLAGS := -std=gnu11 -O2 $(WARN) -ffreestanding -fno-tree-loop-distribute-patterns -fpic -fshort-wchar -fno-stack-protector \
	-fno-strict-aliasing -mno-red-zone -maccumulate-outgoing-args -mgeneral-regs-only \
	-DEFI_FUNCTION_WRAPPER -DGNU_EFI_USE_MS_ABI -I$(EFI_INC) -I$(EFI_INC)/x86_64 \
	-I. -Ihv -DHV_LOADER=1
# Link a shared object of gnu-efi's crt0 and the objects, then keep the sections of a PE app.
EFI_LINK = $(LD) -nostdlib -znocombreloc -T $(EFI_LIB)/elf_x86_64_efi.lds -shared -Bsymbolic \
	-z defs -L$(EFI_LIB) $(EFI_LIB)/crt0-efi-x86_64.o
EFI_OBJCOPY = $(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	-j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64
BOOT_C   := $(shell find boot -name '*.c' | sort) hv/lib/fmt.c hv/console/uart.c hv/chan/sig.c hv/lib/string.c
BOOT_OBJ := $(BOOT_C:%.c=$(BUILD)/efi/%.o)

# --- host tools and tests
HOST_CFLAGS := -std=gnu11 -O2 -g $(WARN) -I. -Ihv -D_GNU_SOURCE -DHV_HOST=1
SAN_FLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
HVCTL_C     := $(shell find tools/hvctl -name '*.c' | sort) hv/console/proto.c hv/console/cmd.c \
	hv/lib/fmt.c hv/lib/json.c hv/lib/base64.c $(sort $(wildcard hv/vmi/*.c)) \
	$(sort $(wildcard hv/chan/*.c)) boot/bootsig.c
HVCTL_LIBS  := -lbearssl -lz

.PHONY: all deps lab dump dump-test run test unit e2e smp-e2e bench fuzz format clean distclean profile-check
all: $(BUILD)/hv.elf $(BUILD)/hvboot.efi $(BUILD)/hvctl $(BUILD)/mkprofile $(BUILD)/hvrelay

deps: $(DEPS_STAMP)
$(DEPS_STAMP): tools/deps.sh
	@mkdir -p $(BUILD)
	bash tools/deps.sh
	@touch $@

# ---------------------------------------------------------------- core
$(BEARSSL_CORE): tools/build-bearssl.sh tools/debsrc.sh | $(DEPS_STAMP)
	CORE_CFLAGS='$(CORE_CFLAGS)' bash tools/build-bearssl.sh --build $(BUILD)

$(ZLIB_CORE): tools/build-zlib.sh tools/debsrc.sh | $(DEPS_STAMP)
	CORE_CFLAGS='$(CORE_CFLAGS)' bash tools/build-zlib.sh --build $(BUILD)

$(BUILD)/core/%.o: %.c Makefile | $(DEPS_STAMP) $(BEARSSL_CORE) $(ZLIB_CORE)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(CORE_INC) -MMD -MP -c $< -o $@

$(BUILD)/core/%.asm.o: %.asm | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -I hv/ -o $@ $<

$(BUILD)/hv.elf: $(CORE_OBJ) $(BEARSSL_CORE) $(ZLIB_CORE) linker.ld
	$(LD) $(CORE_LDFLAGS) -o $@ $(CORE_OBJ) $(BEARSSL_CORE) $(ZLIB_CORE)
	@$(PYTHON) tools/check-core-relocs.py $@

# ---------------------------------------------------------------- loader
# BearSSL again with the loader's flags: it checks the boot signature (boot/bootcheck.c).
BEARSSL_EFI := $(BUILD)/bearssl/libbearssl-efi.a
$(BEARSSL_EFI): tools/build-bearssl.sh tools/debsrc.sh | $(DEPS_STAMP) $(BEARSSL_CORE)
	CORE_CFLAGS='$(EFI_CFLAGS)' bash tools/build-bearssl.sh --build $(BUILD) --flavour efi

$(BUILD)/efi/%.o: %.c Makefile | $(DEPS_STAMP) $(BEARSSL_EFI)
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) $(CORE_INC) -MMD -MP -c $< -o $@

$(BUILD)/hvboot.so: $(BOOT_OBJ) $(BEARSSL_EFI)
	$(EFI_LINK) $(BOOT_OBJ) $(BEARSSL_EFI) -o $@ -lefi -lgnuefi

$(BUILD)/hvboot.efi: $(BUILD)/hvboot.so
	$(EFI_OBJCOPY) $< $@

# ---------------------------------------------------------------- host tools
$(BUILD)/hvctl: $(HVCTL_C) $(wildcard tools/hvctl/*.h hv/*/*.h boot/*.h) | $(DEPS_STAMP)
	$(CC) $(HOST_CFLAGS) -o $@ $(HVCTL_C) $(HVCTL_LIBS)

$(BUILD)/san/hvctl: $(HVCTL_C) $(wildcard tools/hvctl/*.h hv/*/*.h boot/*.h) | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(HOST_CFLAGS) $(SAN_FLAGS) -o $@ $(HVCTL_C) $(HVCTL_LIBS)

# The channel's relay for the guest (docs/channel.md): static, the guest has no libc. It
# takes chan_reason_name from frame.c; the sections it does not use go (--gc-sections), and
# with them the calls into BearSSL, which the relay does not link.
HVRELAY_C := $(sort $(wildcard tools/hvrelay/*.c)) hv/lib/base64.c hv/chan/frame.c
$(BUILD)/hvrelay: $(HVRELAY_C) $(wildcard tools/hvrelay/*.h hv/chan/*.h) hv/lib/base64.h | $(DEPS_STAMP)
	$(CC) -static -O2 $(WARN) -I. -Ihv -D_GNU_SOURCE -ffunction-sections -Wl,--gc-sections \
		-o $@ $(HVRELAY_C)

MKPROFILE_C := tools/mkprofile/mkprofile.c tools/mkprofile/kallsyms.c hv/vmi/profile.c hv/lib/json.c \
	hv/lib/fmt.c
$(BUILD)/mkprofile: $(MKPROFILE_C) $(wildcard tools/mkprofile/*.h hv/vmi/profile.h hv/lib/json.h hv/lib/fmt.h) | $(DEPS_STAMP)
	$(CC) $(HOST_CFLAGS) -o $@ $(MKPROFILE_C) $$(pkg-config --cflags --libs libbpf)

# The profile mkprofile makes from the lab kernel's BTF (checked by the monitor's own parser
# as it is written) must be the committed one when there is one; a kernel Debian shipped
# after the last commit has none, and its profile is the one made here (guest-profile.sh).
# Its kernel symbols: all of kallsyms, and every one the monitor looks up (check-symbols.py).
profile-check: $(BUILD)/mkprofile lab
	MKPROFILE=$(abspath $(BUILD))/mkprofile bash tools/mkprofile/mkprofile.sh --vmlinuz $(BUILD)/lab/vmlinuz --out $(BUILD)/lab/profile.json
	$(PYTHON) tools/mkprofile/check-symbols.py $(BUILD)/lab/profile.json
	@r=$$(cat $(BUILD)/lab/kernel-release); \
	if [ -e guest-profiles/$$r.json ]; then \
		cmp $(BUILD)/lab/profile.json guest-profiles/$$r.json && \
		echo "profile-check: guest-profiles/$$r.json matches the kernel's BTF"; \
	else \
		cmp $(BUILD)/lab/profile.json $(BUILD)/lab/guest-profile.json && \
		echo "profile-check: no committed profile for $$r; the lab uses the one made from its BTF, $(BUILD)/lab/guest-profile.json"; \
	fi

# ---------------------------------------------------------------- tests
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done
	$(PYTHON) tests/e2e/selftest.py
	bash tools/lab/test-lab-probe.sh --build $(BUILD)

# One CPU (Debian's Bochs 2.7), the rootkit's control (protect = off), the loader's
# refusals (failclosed), and two CPUs.
e2e: all $(BUILD)/san/hvctl lab $(BUILD)/bochs/bin/bochs
	$(PYTHON) tests/e2e/boot_e2e.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl
	$(PYTHON) tests/e2e/rootkit_control_e2e.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl
	$(PYTHON) tests/e2e/failclosed_e2e.py --build $(BUILD)
	$(PYTHON) tests/e2e/smp_e2e.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl \
		--bochs $(BUILD)/bochs/bin/bochs

# Two CPUs alone (issue 8): Bochs 3.0 built from Debian 13's source with the lab's patch
# (tools/lab/build-bochs.sh; Bochs 2.7 cannot run an AP under VMX).
smp-e2e: all $(BUILD)/san/hvctl lab $(BUILD)/bochs/bin/bochs
	$(PYTHON) tests/e2e/smp_e2e.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl \
		--bochs $(BUILD)/bochs/bin/bochs

# Introspection of a real QEMU dump, compared with the guest's own printed view.
dump-test: $(BUILD)/san/hvctl dump
	$(PYTHON) tests/e2e/dump_test.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl --no-make
	$(PYTHON) tests/e2e/dump_test.py --build $(BUILD) --hvctl $(BUILD)/san/hvctl --hide sleeper

test: unit profile-check dump-test e2e

bench: all lab $(BUILD)/bochs/bin/bochs
	$(PYTHON) tests/bench/boot_bench.py --build $(BUILD)
	$(PYTHON) tests/bench/boot_bench.py --build $(BUILD) --cpus 2 --bochs $(BUILD)/bochs/bin/bochs
	bash tests/bench/vmi_bench.sh --build $(BUILD)
	bash tests/bench/vmi_bench.sh --build $(BUILD) --spawn 20000 --seconds 3
	$(PYTHON) tests/bench/protect_bench.py --build $(BUILD)
	$(PYTHON) tests/bench/ops_bench.py --build $(BUILD)
	$(PYTHON) tests/bench/ops_bench.py --build $(BUILD) --cpus 2 --bochs $(BUILD)/bochs/bin/bochs

# ---------------------------------------------------------------- lab
# Bochs 3.0 from Debian 13's source package, for the two-CPU lab (tools/lab/build-bochs.sh).
$(BUILD)/bochs/bin/bochs: tools/lab/build-bochs.sh $(wildcard tools/lab/bochs-patches/*.patch)
	bash tools/lab/build-bochs.sh --build $(BUILD)

lab: all $(BUILD)/lab/labacpi.efi | $(DEPS_STAMP)
	bash tools/lab/build-lab.sh --build $(BUILD)

# Lab only: installs the ACPI tables OVMF cannot build under Bochs (startup.nsh runs it).
LABACPI_OBJ := $(BUILD)/efi/tools/lab/acpi/labacpi.o
$(BUILD)/lab/labacpi.so: $(LABACPI_OBJ)
	@mkdir -p $(dir $@)
	$(EFI_LINK) $(LABACPI_OBJ) -o $@ -lefi -lgnuefi

$(BUILD)/lab/labacpi.efi: $(BUILD)/lab/labacpi.so
	$(EFI_OBJCOPY) $< $@

# A QEMU TCG memory dump of the lab guest with its containers, and the guest's own truth.
dump: lab
	bash tools/lab/make-dump.sh --build $(BUILD)

run: lab
	bash tools/lab/run-bochs.sh --build $(BUILD) --interactive

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)/core $(BUILD)/efi $(BUILD)/unit $(BUILD)/san $(BUILD)/hv.elf \
		$(BUILD)/hvboot.* $(BUILD)/hvctl $(BUILD)/mkprofile
distclean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
