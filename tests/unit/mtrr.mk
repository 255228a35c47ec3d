UNIT_TESTS += mtrr
UNIT_SRC_mtrr := hv/mm/mtrr.c tests/unit/fake_vmcs.c
