# hvctl keygen: the operator's key pair files (tools/hvctl/keys.c).
UNIT_TESTS += keys
UNIT_SRC_keys := tools/hvctl/keys.c hv/chan/sig.c
UNIT_LIBS_keys := -lbearssl
