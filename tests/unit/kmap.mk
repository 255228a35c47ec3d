# The kernel image's mapping walked level by level, compared and restored (hv/protect/kmap.c).
UNIT_TESTS += kmap
UNIT_SRC_kmap := hv/protect/kmap.c
