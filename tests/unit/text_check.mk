# Kernel text against its snapshot: which changes are jump labels, static calls, ftrace,
# kprobes, or something to restore (hv/protect/text_check.c).
UNIT_TESTS += text_check
UNIT_SRC_text_check := hv/protect/text_check.c
