# The core's memory functions (lib/string.c: string instructions for the bulk, bytes for
# the rest), against byte-by-byte models, at every length and alignment up to a few words.
UNIT_TESTS += string
UNIT_SRC_string := hv/lib/string.c
