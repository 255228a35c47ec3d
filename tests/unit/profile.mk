UNIT_TESTS += profile
UNIT_SRC_profile := hv/vmi/profile.c hv/lib/json.c hv/lib/fmt.c
