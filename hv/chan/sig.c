/* SPDX-License-Identifier: MIT */
/* The channel's cryptography over BearSSL (sig.h). */
#include "chan/sig.h"

#include <bearssl.h>

#include "lib/hex.h"
#include "lib/string.h"

void chan_sha256(const void *data, size_t len, uint8_t digest[CHAN_DIGEST_LEN])
{
	br_sha256_context ctx;

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, data, len);
	br_sha256_out(&ctx, digest);
}

/* The order n of P-256's base point (FIPS 186-4 D.1.2.3), big-endian. */
static const uint8_t p256_order[CHAN_PRIVKEY_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
	0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};

/* A private key is a scalar in [1, n-1] (SEC 1 §3.2.1). BearSSL's br_ec_compute_pub says it
 * does not necessarily catch one out of range: checked here, in time that does not depend
 * on the key's bytes (a big-endian subtraction x - n whose borrow says x < n). */
static bool private_key_valid(const uint8_t priv[CHAN_PRIVKEY_LEN])
{
	uint32_t any = 0, borrow = 0;

	for (size_t i = CHAN_PRIVKEY_LEN; i-- > 0;) {
		uint32_t d = (uint32_t)priv[i] - p256_order[i] - borrow;
		borrow = (d >> 31) & 1u;
		any |= priv[i];
	}
	return any != 0 && borrow == 1;
}

/* BearSSL's P-256 code (ec_p256_m31: 31-bit limbs, constant time, no SIMD). */
static const br_ec_impl *curve(void)
{
	return &br_ec_p256_m31;
}

int chan_sign(const uint8_t priv[CHAN_PRIVKEY_LEN], const uint8_t digest[CHAN_DIGEST_LEN],
	      uint8_t sig[CHAN_SIG_LEN])
{
	br_ec_private_key sk = {
		.curve = BR_EC_secp256r1, .x = (unsigned char *)priv, .xlen = CHAN_PRIVKEY_LEN};

	if (!private_key_valid(priv))
		return -1;
	/* br_ecdsa_i31_sign_raw: RFC 6979 nonce, returns the signature's length (0: error) */
	return br_ecdsa_i31_sign_raw(curve(), &br_sha256_vtable, digest, &sk, sig) == CHAN_SIG_LEN
		       ? 0
		       : -1;
}

bool chan_verify(const uint8_t pub[CHAN_PUBKEY_LEN], const uint8_t digest[CHAN_DIGEST_LEN],
		 const uint8_t sig[CHAN_SIG_LEN])
{
	br_ec_public_key pk = {
		.curve = BR_EC_secp256r1, .q = (unsigned char *)pub, .qlen = CHAN_PUBKEY_LEN};

	if (pub[0] != 0x04)
		return false;
	return br_ecdsa_i31_vrfy_raw(curve(), digest, CHAN_DIGEST_LEN, &pk, sig, CHAN_SIG_LEN) == 1;
}

bool chan_public_key_valid(const uint8_t pub[CHAN_PUBKEY_LEN])
{
	static const unsigned char one[1] = {1};
	unsigned char point[CHAN_PUBKEY_LEN];

	if (pub[0] != 0x04)
		return false;
	/* br_ec_impl.mul decodes the point first and returns 0 when it is not one of the
	 * curve's (bearssl_ec.h); times 1 it stays itself */
	memcpy(point, pub, sizeof(point));
	return curve()->mul(point, sizeof(point), one, sizeof(one), BR_EC_secp256r1) == 1;
}

int chan_public_key(const uint8_t priv[CHAN_PRIVKEY_LEN], uint8_t pub[CHAN_PUBKEY_LEN])
{
	br_ec_private_key sk = {
		.curve = BR_EC_secp256r1, .x = (unsigned char *)priv, .xlen = CHAN_PRIVKEY_LEN};

	if (!private_key_valid(priv))
		return -1;
	/* br_ec_compute_pub: the point's length (0: the curve is not supported) */
	return br_ec_compute_pub(curve(), NULL, pub, &sk) == CHAN_PUBKEY_LEN ? 0 : -1;
}

int chan_keygen(const uint8_t *seed, size_t seed_len, uint8_t priv[CHAN_PRIVKEY_LEN],
		uint8_t pub[CHAN_PUBKEY_LEN])
{
	br_hmac_drbg_context drbg;
	br_ec_private_key sk;
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	int rc = -1;

	if (seed == NULL || seed_len < CHAN_KEYSEED_MIN)
		return -1;
	/* HMAC_DRBG (NIST SP 800-90A) over the seed; br_ec_keygen draws the scalar from it
	 * and retries until it is in range */
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, seed, seed_len);
	if (br_ec_keygen(&drbg.vtable, curve(), &sk, kbuf, BR_EC_secp256r1) == CHAN_PRIVKEY_LEN) {
		memcpy(priv, sk.x, CHAN_PRIVKEY_LEN);
		rc = chan_public_key(priv, pub);
	}
	mem_wipe(kbuf, sizeof(kbuf));
	mem_wipe(&drbg, sizeof(drbg));
	return rc;
}
