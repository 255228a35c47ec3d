# The kernel image located from IA32_LSTAR: the KASLR slide and its rules (hv/vmi/kimage.c).
UNIT_TESTS += kimage
UNIT_SRC_kimage := hv/vmi/kimage.c hv/vmi/profile.c hv/lib/json.c hv/lib/fmt.c hv/lib/string.c
