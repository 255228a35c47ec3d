/* SPDX-License-Identifier: MIT */
/* The boot signature's file (bootsig.h). */
#include "bootsig.h"

#include "lib/fmt.h"
#include "lib/hex.h"
#include "lib/string.h"

#define MAGIC_LINE "ctrvisor-boot-signature 1\n"

size_t bootsig_body(char *out, size_t cap, const uint8_t config[CHAN_DIGEST_LEN],
		    const uint8_t core[CHAN_DIGEST_LEN], const uint8_t *profile)
{
	char c[2 * CHAN_DIGEST_LEN + 1], k[2 * CHAN_DIGEST_LEN + 1], p[2 * CHAN_DIGEST_LEN + 1];
	hex_encode(config, CHAN_DIGEST_LEN, c);
	hex_encode(core, CHAN_DIGEST_LEN, k);
	if (profile != NULL)
		hex_encode(profile, CHAN_DIGEST_LEN, p);
	int n = fmt_snprintf(out, cap, MAGIC_LINE "config %s\ncore %s\nprofile %s\n", c, k,
			     profile != NULL ? p : "none");
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* One line "NAME HEX\n" at *pos of 2n lower-case hex digits into out. */
static bool take_line(const char *text, size_t len, size_t *pos, const char *name, uint8_t *out,
		      size_t n)
{
	size_t nl = strlen(name);
	size_t need = nl + 1 + 2 * n + 1;
	if (len - *pos < need || memcmp(text + *pos, name, nl) != 0 || text[*pos + nl] != ' ' ||
	    text[*pos + need - 1] != '\n')
		return false;
	const char *h = text + *pos + nl + 1;
	for (size_t i = 0; i < 2 * n; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	if (hex_decode(h, 2 * n, out, n, NULL) != 0)
		return false;
	*pos += need;
	return true;
}

int bootsig_parse(const char *text, size_t len, struct bootsig *s, const char **why)
{
	size_t pos = sizeof(MAGIC_LINE) - 1;
	memset(s, 0, sizeof(*s));
	if (len > BOOTSIG_MAX || len < pos || memcmp(text, MAGIC_LINE, pos) != 0) {
		*why = "not a ctrvisor-boot-signature 1 file";
		return -1;
	}
	if (!take_line(text, len, &pos, "config", s->config, CHAN_DIGEST_LEN) ||
	    !take_line(text, len, &pos, "core", s->core, CHAN_DIGEST_LEN)) {
		*why = "its config or core line is not NAME and 64 hex digits";
		return -1;
	}
	static const char none[] = "profile none\n";
	if (len - pos >= sizeof(none) - 1 && memcmp(text + pos, none, sizeof(none) - 1) == 0) {
		pos += sizeof(none) - 1;
	} else if (take_line(text, len, &pos, "profile", s->profile, CHAN_DIGEST_LEN)) {
		s->has_profile = true;
	} else {
		*why = "its profile line is not \"profile\" and 64 hex digits or none";
		return -1;
	}
	s->signed_len = pos;
	if (!take_line(text, len, &pos, "signature", s->signature, CHAN_SIG_LEN) || pos != len) {
		*why = "its last line is not \"signature\" and 128 hex digits";
		return -1;
	}
	return 0;
}

bool bootsig_verify(const char *text, const struct bootsig *s, const uint8_t key[CHAN_PUBKEY_LEN])
{
	uint8_t digest[CHAN_DIGEST_LEN];
	chan_sha256(text, s->signed_len, digest);
	return chan_verify(key, digest, s->signature);
}
