# hvctl's reader of QEMU dump-guest-memory ELF cores, on cores built in memory.
UNIT_TESTS += dump
UNIT_SRC_dump := tools/hvctl/dump.c hv/lib/fmt.c
