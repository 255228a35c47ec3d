UNIT_TESTS += proto
UNIT_SRC_proto := hv/console/proto.c
