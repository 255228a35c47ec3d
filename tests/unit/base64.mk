UNIT_TESTS += base64
UNIT_SRC_base64 := hv/lib/base64.c
