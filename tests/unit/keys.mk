# hvctl keygen and pair: the operator's key pair files, the monitor key read from status
# (tools/hvctl/keys.c).
UNIT_TESTS += keys
UNIT_SRC_keys := tools/hvctl/keys.c hv/chan/sig.c hv/lib/json.c
UNIT_LIBS_keys := -lbearssl
