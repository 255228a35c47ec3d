UNIT_TESTS += line
UNIT_SRC_line := hv/console/line.c
