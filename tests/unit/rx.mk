UNIT_TESTS += rx
UNIT_SRC_rx := hv/console/rx.c hv/console/line.c
