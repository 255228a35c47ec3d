/* SPDX-License-Identifier: MIT */
/*
 * The channel's cryptography (docs/channel.md): SHA-256 and ECDSA over P-256 (FIPS 186-4,
 * SEC 1), from BearSSL, never written here. Signatures are deterministic (RFC 6979), so
 * signing needs no random source; only making a key does. Freestanding: the core, the
 * loader and hvctl share it (the core and the loader link BearSSL built from Debian's
 * source with their own flags, tools/build-bearssl.sh; hvctl links Debian's libbearssl).
 */
#ifndef HV_CHAN_SIG_H
#define HV_CHAN_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHAN_DIGEST_LEN  32u /* SHA-256 */
#define CHAN_PRIVKEY_LEN 32u /* a P-256 scalar, big-endian */
#define CHAN_PUBKEY_LEN  65u /* SEC 1 §2.3.3 uncompressed point: 0x04, X, Y */
#define CHAN_SIG_LEN     64u /* r then s, 32 big-endian bytes each */
#define CHAN_KEYSEED_MIN 32u /* bytes of entropy chan_keygen needs at least */

void chan_sha256(const void *data, size_t len, uint8_t digest[CHAN_DIGEST_LEN]);

/* The signature of a SHA-256 digest (RFC 6979: the same key and digest always give the
 * same signature). 0, or -1 when priv is not a valid P-256 private key. */
int chan_sign(const uint8_t priv[CHAN_PRIVKEY_LEN], const uint8_t digest[CHAN_DIGEST_LEN],
	      uint8_t sig[CHAN_SIG_LEN]);
/* Is sig a signature of digest by the owner of pub? false for any malformed input. */
bool chan_verify(const uint8_t pub[CHAN_PUBKEY_LEN], const uint8_t digest[CHAN_DIGEST_LEN],
		 const uint8_t sig[CHAN_SIG_LEN]);
/* Is pub a point of P-256 in uncompressed form (SEC 1 §3.2.2.1: on the curve, not the
 * point at infinity)? */
bool chan_public_key_valid(const uint8_t pub[CHAN_PUBKEY_LEN]);
/* The public key of priv. 0, or -1 when priv is not a valid private key. */
int chan_public_key(const uint8_t priv[CHAN_PRIVKEY_LEN], uint8_t pub[CHAN_PUBKEY_LEN]);
/* A new key pair from seed_len bytes of the caller's entropy (at least CHAN_KEYSEED_MIN:
 * getrandom on the host, the firmware's RNG or RDSEED in the loader). The pair is as
 * secret as the seed. 0, or -1 (seed too short). */
int chan_keygen(const uint8_t *seed, size_t seed_len, uint8_t priv[CHAN_PRIVKEY_LEN],
		uint8_t pub[CHAN_PUBKEY_LEN]);

#endif
