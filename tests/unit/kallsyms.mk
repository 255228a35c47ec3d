# kallsyms found inside a synthetic .rodata laid out as scripts/kallsyms.c writes it, with
# and without kallsyms_seqs_of_names (tools/mkprofile/kallsyms.c).
UNIT_TESTS += kallsyms
UNIT_SRC_kallsyms := tools/mkprofile/kallsyms.c
