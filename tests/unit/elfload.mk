UNIT_TESTS += elfload
UNIT_SRC_elfload := boot/elfload.c hv/lib/fmt.c
