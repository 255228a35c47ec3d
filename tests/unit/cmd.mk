UNIT_TESTS += cmd
UNIT_SRC_cmd := hv/console/cmd.c hv/console/line.c hv/console/proto.c hv/lib/fmt.c
