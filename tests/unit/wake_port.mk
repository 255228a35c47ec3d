UNIT_TESTS += wake_port
UNIT_SRC_wake_port := hv/platform/wake_port.c hv/platform/vuart.c hv/lib/string.c
