# The verified boot chain (docs/boot-signature.md): hvctl embed-key and sign-boot make what
# the loader's check (boot/bootcheck.c) takes, and a changed hv.cfg, core or profile, a
# forged or missing signature, or another key are refused.
UNIT_TESTS += bootsig
UNIT_SRC_bootsig := boot/bootsig.c boot/bootcheck.c hv/chan/sig.c hv/lib/fmt.c \
	tools/hvctl/bootsign.c tools/hvctl/files.c tools/hvctl/keys.c hv/lib/json.c
UNIT_LIBS_bootsig := -lbearssl
