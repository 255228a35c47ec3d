UNIT_TESTS += hvcfg
UNIT_SRC_hvcfg := boot/hvcfg.c hv/lib/fmt.c
