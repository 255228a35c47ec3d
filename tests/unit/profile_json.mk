UNIT_TESTS += profile_json
UNIT_SRC_profile_json := hv/lib/json.c
