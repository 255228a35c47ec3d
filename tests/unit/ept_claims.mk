# EPT permissions combined from their owners' claims (hv/mm/ept_claims.c) over real EPT
# tables (hv/mm/ept.c) in host memory: no owner's change loosens another's.
UNIT_TESTS += ept_claims
UNIT_SRC_ept_claims := hv/mm/ept_claims.c hv/mm/ept.c tests/unit/heap_ept.c
