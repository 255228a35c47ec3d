UNIT_TESTS += ept
UNIT_SRC_ept := hv/mm/ept.c
