UNIT_TESTS += vuart
UNIT_SRC_vuart := hv/platform/vuart.c hv/lib/string.c
