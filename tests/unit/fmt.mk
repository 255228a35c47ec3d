UNIT_TESTS += fmt
UNIT_SRC_fmt := hv/lib/fmt.c
