/* The channel (docs/channel.md): BearSSL under hv/chan/sig.c against the RFC test vectors,
 * the frame format, and the monitor's session with hvctl's client side, as a hostile relay
 * would try them: replayed, altered, reordered, cut and forged frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "chan/session.h"
#include "tools/hvctl/chan_client.h"

static void hex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* RFC 6979 A.2.5: the P-256 key */
#define RFC6979_X  "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721"
#define RFC6979_UX "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"
#define RFC6979_UY "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"

static void test_sha256_fips180_vectors(void **state)
{
	/* FIPS 180-2 appendix B.1 and B.2 */
	static const char *const msg[] = {
		"abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	static const char *const want[] = {
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"248D6A61D20638B8E5C026930C3E6039A33CE45964FF2167F6ECEDD419DB06C1"};
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		uint8_t d[CHAN_DIGEST_LEN], w[CHAN_DIGEST_LEN];
		chan_sha256(msg[i], strlen(msg[i]), d);
		hex(want[i], w, sizeof(w));
		assert_memory_equal(d, w, sizeof(w));
	}
}

static void test_public_key_of_the_rfc6979_key(void **state)
{
	uint8_t x[CHAN_PRIVKEY_LEN], pub[CHAN_PUBKEY_LEN], want[CHAN_PUBKEY_LEN];
	(void)state;
	hex(RFC6979_X, x, sizeof(x));
	want[0] = 0x04;
	hex(RFC6979_UX, want + 1, 32);
	hex(RFC6979_UY, want + 33, 32);
	assert_int_equal(chan_public_key(x, pub), 0);
	assert_memory_equal(pub, want, sizeof(want));
	assert_true(chan_public_key_valid(pub));
	pub[64] ^= 1; /* off the curve */
	assert_false(chan_public_key_valid(pub));
	pub[64] ^= 1;
	pub[0] = 0x02; /* not the uncompressed form */
	assert_false(chan_public_key_valid(pub));
}

static void test_ecdsa_signs_as_rfc6979_a25_and_verifies(void **state)
{
	static const char *const msg[] = {"sample", "test"};
	static const char *const r[] = {
		"EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
		"F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367"};
	static const char *const s[] = {
		"F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
		"019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083"};
	uint8_t x[CHAN_PRIVKEY_LEN], pub[CHAN_PUBKEY_LEN];
	(void)state;
	hex(RFC6979_X, x, sizeof(x));
	assert_int_equal(chan_public_key(x, pub), 0);
	for (size_t i = 0; i < 2; i++) {
		uint8_t d[CHAN_DIGEST_LEN], sig[CHAN_SIG_LEN], want[CHAN_SIG_LEN];
		chan_sha256(msg[i], strlen(msg[i]), d);
		hex(r[i], want, 32);
		hex(s[i], want + 32, 32);
		assert_int_equal(chan_sign(x, d, sig), 0);
		assert_memory_equal(sig, want, sizeof(want));
		assert_true(chan_verify(pub, d, want));
		/* the other message's digest, a flipped bit of r, of s: refused */
		uint8_t other[CHAN_DIGEST_LEN];
		chan_sha256(msg[1 - i], strlen(msg[1 - i]), other);
		assert_false(chan_verify(pub, other, want));
		want[5] ^= 0x10;
		assert_false(chan_verify(pub, d, want));
		want[5] ^= 0x10;
		want[40] ^= 0x01;
		assert_false(chan_verify(pub, d, want));
	}
}

static void test_keys_out_of_range_are_refused(void **state)
{
	/* 0 and n (the order, FIPS 186-4 D.1.2.3) are no private keys; n - 1 is */
	uint8_t zero[CHAN_PRIVKEY_LEN] = {0}, n[CHAN_PRIVKEY_LEN], pub[CHAN_PUBKEY_LEN];
	uint8_t d[CHAN_DIGEST_LEN] = {1}, sig[CHAN_SIG_LEN];
	(void)state;
	hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", n, sizeof(n));
	assert_int_equal(chan_public_key(zero, pub), -1);
	assert_int_equal(chan_sign(zero, d, sig), -1);
	assert_int_equal(chan_public_key(n, pub), -1);
	assert_int_equal(chan_sign(n, d, sig), -1);
	uint8_t ff[CHAN_PRIVKEY_LEN];
	memset(ff, 0xff, sizeof(ff)); /* above n */
	assert_int_equal(chan_public_key(ff, pub), -1);
	assert_int_equal(chan_sign(ff, d, sig), -1);
	n[31]--;
	assert_int_equal(chan_public_key(n, pub), 0);
	/* a public key that is not an uncompressed point, or not on the curve */
	assert_int_equal(chan_sign(n, d, sig), 0);
	assert_true(chan_verify(pub, d, sig));
	pub[0] = 0x02;
	assert_false(chan_verify(pub, d, sig));
	pub[0] = 0x04;
	pub[64] ^= 1;
	assert_false(chan_verify(pub, d, sig));
}

static void test_keygen_makes_a_working_pair_and_needs_a_seed(void **state)
{
	uint8_t seed[CHAN_KEYSEED_MIN], priv[CHAN_PRIVKEY_LEN], pub[CHAN_PUBKEY_LEN];
	uint8_t priv2[CHAN_PRIVKEY_LEN], pub2[CHAN_PUBKEY_LEN], check[CHAN_PUBKEY_LEN];
	uint8_t d[CHAN_DIGEST_LEN], sig[CHAN_SIG_LEN];
	(void)state;
	memset(seed, 0x5a, sizeof(seed));
	assert_int_equal(chan_keygen(seed, sizeof(seed) - 1, priv, pub), -1);
	assert_int_equal(chan_keygen(seed, sizeof(seed), priv, pub), 0);
	assert_int_equal(chan_public_key(priv, check), 0);
	assert_memory_equal(check, pub, sizeof(pub));
	chan_sha256("x", 1, d);
	assert_int_equal(chan_sign(priv, d, sig), 0);
	assert_true(chan_verify(pub, d, sig));
	seed[0] ^= 1; /* another seed, another key */
	assert_int_equal(chan_keygen(seed, sizeof(seed), priv2, pub2), 0);
	assert_memory_not_equal(priv, priv2, sizeof(priv));
	assert_false(chan_verify(pub2, d, sig));
}

/* ------------------------------------------------------------------ sessions */
struct pair {
	struct chan_session monitor;
	struct chan_client client;
	uint8_t frame[CHAN_FRAME_MAX];
	size_t len;
};

static void keypair(uint8_t tag, uint8_t priv[CHAN_PRIVKEY_LEN], uint8_t pub[CHAN_PUBKEY_LEN])
{
	uint8_t seed[CHAN_KEYSEED_MIN];
	memset(seed, tag, sizeof(seed));
	assert_int_equal(chan_keygen(seed, sizeof(seed), priv, pub), 0);
}

/* A monitor with both keys and a boot id, and a client that pinned its key and has made
 * its hello: the session the other tests start from. */
static void paired(struct pair *p)
{
	uint8_t challenge[CHAN_DIGEST_LEN], op_pub[CHAN_PUBKEY_LEN];
	struct chan_frame hello, reply;
	memset(p, 0, sizeof(*p));
	keypair(1, p->client.operator_priv, op_pub);
	memcpy(p->monitor.operator_key, op_pub, sizeof(op_pub));
	p->monitor.operator_key_set = true;
	keypair(2, p->monitor.monitor_priv, p->monitor.monitor_pub);
	p->monitor.monitor_key_set = true;
	memcpy(p->client.monitor_pub, p->monitor.monitor_pub, CHAN_PUBKEY_LEN);
	memset(p->monitor.boot_id, 0xb0, CHAN_BOOT_ID_LEN);
	p->monitor.last_seq = 41;

	memset(challenge, 0xcc, sizeof(challenge));
	p->len = chan_client_hello(&p->client, challenge, p->frame, sizeof(p->frame));
	assert_int_equal(p->len, CHAN_FRAME_MIN);
	assert_int_equal(chan_session_take(&p->monitor, p->frame, p->len, &hello), CHAN_OK);
	assert_int_equal(hello.kind, CHAN_HELLO);
	p->len = chan_session_hello_reply(&p->monitor, &hello, (const uint8_t *)"ctrvisor", 8,
					  p->frame, sizeof(p->frame));
	assert_int_not_equal(p->len, 0);
	assert_int_equal(chan_client_take_hello_reply(&p->client, p->frame, p->len, &reply),
			 CHAN_OK);
	assert_true(p->client.have_session);
	assert_int_equal(p->client.next_seq, 42);
}

static size_t request(struct pair *p, const char *line, uint8_t *out)
{
	size_t n = chan_client_request(&p->client, line, strlen(line), out, CHAN_FRAME_MAX);
	assert_int_not_equal(n, 0);
	return n;
}

static void test_a_request_is_taken_and_its_reply_checked(void **state)
{
	struct pair p;
	struct chan_frame req, piece;
	uint8_t reply[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	p.len = request(&p, "ps --json", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req), CHAN_OK);
	assert_int_equal(req.body_len, 9);
	assert_memory_equal(req.body, "ps --json", 9);
	assert_int_equal(p.monitor.last_seq, 42);
	n = chan_session_reply(&p.monitor, &req, 0, false, (const uint8_t *)"PID", 3, reply,
			       sizeof(reply));
	assert_int_equal(chan_client_take_reply(&p.client, reply, n, &piece), CHAN_OK);
	assert_false(p.client.reply_done);
	n = chan_session_reply(&p.monitor, &req, 1, true, (const uint8_t *)" 1", 2, reply,
			       sizeof(reply));
	assert_int_equal(chan_client_take_reply(&p.client, reply, n, &piece), CHAN_OK);
	assert_true(p.client.reply_done);
	assert_memory_equal(piece.body, " 1", 2);
	/* nothing after the last piece */
	assert_int_equal(chan_client_take_reply(&p.client, reply, n, &piece), CHAN_ERR_SEQ);
}

static void test_a_replayed_request_is_refused_and_counted(void **state)
{
	struct pair p;
	struct chan_frame f;
	(void)state;
	paired(&p);
	p.len = request(&p, "pause busy", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_ERR_SEQ);
	assert_int_equal(p.monitor.refused[CHAN_ERR_SEQ], 1);
	assert_int_equal(p.monitor.taken, 2); /* the hello and the request */
}

/* A request the relay held back while hvctl gave up and began a new session (a new hello)
 * is refused even though its number was never taken: it would run in place of the next
 * request. Replaying the old session's hello does not bring that session back. The hello reply names the last request taken (its digest), so hvctl can tell
 * whether a request whose reply was lost ran. */
static void test_a_request_of_an_earlier_session_is_refused(void **state)
{
	struct pair p;
	struct chan_frame f, reply;
	uint8_t held[CHAN_FRAME_MAX], challenge[CHAN_DIGEST_LEN];
	(void)state;
	paired(&p);
	size_t held_len = request(&p, "exec web -- rm -rf /data/old", held);
	/* hvctl timed out; a new session */
	memset(challenge, 0xdd, sizeof(challenge));
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
	p.len = chan_session_hello_reply(&p.monitor, &f, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &reply), CHAN_OK);
	assert_int_equal(p.client.next_seq, 42); /* the held one was never taken */
	assert_int_equal(chan_session_take(&p.monitor, held, held_len, &f), CHAN_ERR_BOOT);
	assert_int_equal(p.monitor.last_seq, 41);
	/* the relay replays the first session's hello: a session of its own, not the old one
	 * back (the nonce counts hellos), so the held request is still refused */
	uint8_t first_hello[CHAN_FRAME_MAX];
	memset(challenge, 0xcc, sizeof(challenge)); /* paired()'s */
	size_t first_len = chan_client_hello(&p.client, challenge, first_hello, sizeof(first_hello));
	struct chan_client saved = p.client;
	assert_int_equal(chan_session_take(&p.monitor, first_hello, first_len, &f), CHAN_OK);
	assert_int_equal(chan_session_take(&p.monitor, held, held_len, &f), CHAN_ERR_BOOT);
	assert_int_equal(p.monitor.last_seq, 41);
	/* hvctl's own new hello after it (the relay dropped the replayed one's reply) */
	memset(challenge, 0xdd, sizeof(challenge));
	p.client = saved;
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
	p.len = chan_session_hello_reply(&p.monitor, &f, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &reply), CHAN_OK);
	assert_int_equal(chan_session_take(&p.monitor, held, held_len, &f), CHAN_ERR_BOOT);
	/* the new session's request is taken; the next hello names it */
	p.len = request(&p, "version", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
	uint8_t taken[CHAN_DIGEST_LEN];
	memcpy(taken, f.digest, sizeof(taken));
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
	p.len = chan_session_hello_reply(&p.monitor, &f, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &reply), CHAN_OK);
	assert_memory_equal(p.client.last_digest, taken, sizeof(taken));
	assert_int_equal(p.client.next_seq, 43);
}

static void test_reordered_requests_run_only_in_order(void **state)
{
	struct pair p;
	struct chan_frame f;
	uint8_t first[CHAN_FRAME_MAX], second[CHAN_FRAME_MAX];
	size_t n1, n2;
	(void)state;
	paired(&p);
	n1 = request(&p, "pause busy", first);
	n2 = request(&p, "unpause busy", second);
	/* the relay swaps them: the later one runs, the earlier one never does */
	assert_int_equal(chan_session_take(&p.monitor, second, n2, &f), CHAN_OK);
	assert_int_equal(chan_session_take(&p.monitor, first, n1, &f), CHAN_ERR_SEQ);
}

static void test_every_flipped_bit_of_a_request_is_refused(void **state)
{
	struct pair p;
	struct chan_frame f;
	(void)state;
	paired(&p);
	p.len = request(&p, "exec tree -- id", p.frame);
	for (size_t i = 0; i < p.len * 8; i++) {
		p.frame[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
		p.frame[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(p.monitor.last_seq, 41); /* nothing forged moved the number */
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_OK);
}

static void test_cut_and_overlong_frames_are_refused(void **state)
{
	struct pair p;
	struct chan_frame f;
	uint8_t big[CHAN_FRAME_MAX + 16];
	(void)state;
	paired(&p);
	p.len = request(&p, "containers", p.frame);
	for (size_t n = 0; n < p.len; n++)
		assert_int_equal(chan_session_take(&p.monitor, p.frame, n, &f), CHAN_ERR_LENGTH);
	memcpy(big, p.frame, p.len);
	big[p.len] = 0;
	assert_int_equal(chan_session_take(&p.monitor, big, p.len + 1, &f), CHAN_ERR_LENGTH);
	/* a header that claims 4 GiB of body */
	memset(big + 8, 0xff, 4);
	assert_int_equal(chan_session_take(&p.monitor, big, sizeof(big), &f), CHAN_ERR_LENGTH);
	assert_int_equal(chan_session_take(&p.monitor, NULL, 100, &f), CHAN_ERR_LENGTH);
}

static void test_a_request_of_another_boot_or_key_is_refused(void **state)
{
	struct pair p;
	struct chan_frame f;
	uint8_t other_pub[CHAN_PUBKEY_LEN];
	(void)state;
	paired(&p);
	p.len = request(&p, "ps", p.frame);
	p.monitor.boot_id[0] ^= 1; /* the monitor rebooted */
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_ERR_BOOT);
	p.monitor.boot_id[0] ^= 1;
	/* signed by a key that is not the operator's (the guest's own, say) */
	keypair(3, p.client.operator_priv, other_pub);
	p.len = request(&p, "ps", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_ERR_SIGNATURE);
	/* no operator key configured: nothing is taken */
	p.monitor.operator_key_set = false;
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &f), CHAN_ERR_NO_KEY);
	assert_int_equal(p.monitor.refused[CHAN_ERR_BOOT], 1);
	assert_int_equal(p.monitor.refused[CHAN_ERR_SIGNATURE], 1);
	assert_int_equal(p.monitor.refused[CHAN_ERR_NO_KEY], 1);
}

static void test_the_monitor_takes_no_frame_of_its_own_kinds(void **state)
{
	struct pair p;
	struct chan_frame req, f;
	uint8_t reply[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	p.len = request(&p, "ps", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req), CHAN_OK);
	n = chan_session_reply(&p.monitor, &req, 0, true, NULL, 0, reply, sizeof(reply));
	assert_int_equal(chan_session_take(&p.monitor, reply, n, &f), CHAN_ERR_KIND);
}

static void test_hvctl_refuses_forged_replayed_and_reordered_replies(void **state)
{
	struct pair p;
	struct chan_frame req1, req2, f;
	uint8_t r0[CHAN_FRAME_MAX], r1[CHAN_FRAME_MAX], old[CHAN_FRAME_MAX], forged[CHAN_FRAME_MAX];
	uint8_t guest_priv[CHAN_PRIVKEY_LEN], guest_pub[CHAN_PUBKEY_LEN];
	size_t n0, n1, nold, nf;
	struct chan_session guest;
	(void)state;
	paired(&p);
	/* a reply to an earlier request, kept by the guest */
	p.len = request(&p, "containers", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req1), CHAN_OK);
	nold = chan_session_reply(&p.monitor, &req1, 0, true, (const uint8_t *)"old", 3, old,
				  sizeof(old));
	/* the request now in flight */
	p.len = request(&p, "containers", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req2), CHAN_OK);
	n0 = chan_session_reply(&p.monitor, &req2, 0, false, (const uint8_t *)"a", 1, r0,
				sizeof(r0));
	n1 = chan_session_reply(&p.monitor, &req2, 1, true, (const uint8_t *)"b", 1, r1,
				sizeof(r1));
	/* replayed: the same text, the earlier request's reply */
	assert_int_equal(chan_client_take_reply(&p.client, old, nold, &f), CHAN_ERR_BOOT);
	/* reordered: the last piece first */
	assert_int_equal(chan_client_take_reply(&p.client, r1, n1, &f), CHAN_ERR_SEQ);
	/* forged: the guest signs with a key of its own, everything else right */
	guest = p.monitor;
	keypair(4, guest_priv, guest_pub);
	memcpy(guest.monitor_priv, guest_priv, sizeof(guest_priv));
	nf = chan_session_reply(&guest, &req2, 0, true, (const uint8_t *)"lie", 3, forged,
				sizeof(forged));
	assert_int_equal(chan_client_take_reply(&p.client, forged, nf, &f), CHAN_ERR_SIGNATURE);
	/* altered: one byte of the body */
	r0[CHAN_HEADER_LEN] ^= 0x20;
	assert_int_equal(chan_client_take_reply(&p.client, r0, n0, &f), CHAN_ERR_SIGNATURE);
	r0[CHAN_HEADER_LEN] ^= 0x20;
	/* the true pieces in order still pass */
	assert_int_equal(chan_client_take_reply(&p.client, r0, n0, &f), CHAN_OK);
	assert_int_equal(chan_client_take_reply(&p.client, r1, n1, &f), CHAN_OK);
	assert_true(p.client.reply_done);
}

static void test_hvctl_takes_only_the_answer_to_its_own_hello(void **state)
{
	struct pair p;
	struct chan_frame hello, f;
	uint8_t challenge[CHAN_DIGEST_LEN], old[CHAN_FRAME_MAX];
	size_t nold;
	(void)state;
	paired(&p);
	/* the guest kept the hello reply of an earlier boot's session (lower number) */
	nold = p.len;
	memcpy(old, p.frame, nold);
	p.monitor.last_seq = 90;
	memset(challenge, 0xdd, sizeof(challenge));
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &hello), CHAN_OK);
	assert_int_equal(chan_client_take_hello_reply(&p.client, old, nold, &f), CHAN_ERR_BOOT);
	p.len = chan_session_hello_reply(&p.monitor, &hello, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &f), CHAN_OK);
	assert_int_equal(p.client.next_seq, 91);
}

static void test_frame_fields_a_kind_must_leave_zero(void **state)
{
	struct pair p;
	struct chan_frame f = {.kind = CHAN_REQUEST, .chunk = 3};
	uint8_t buf[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	n = chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FIELDS);
	f = (struct chan_frame){.kind = CHAN_REQUEST, .flags = CHAN_FLAG_LAST};
	n = chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FLAGS);
	f = (struct chan_frame){.kind = (enum chan_kind)9};
	n = chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_KIND);
	buf[4] = 2;
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_VERSION);
	buf[0] = 'X';
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_MAGIC);
	/* too long a body is not written */
	f = (struct chan_frame){.kind = CHAN_REQUEST, .body_len = CHAN_BODY_MAX + 1, .body = buf};
	assert_int_equal(chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf)), 0);
	assert_string_equal(chan_error_name(CHAN_ERR_SEQ), "seq");
	assert_string_equal(chan_error_name((enum chan_error)99), "?");
}

/* The guest put its own key in hv.cfg (the ESP is the guest's disk) and re-signs the
 * operator's frames with it: the monitor takes them, but its hello reply names the key it
 * takes requests from, and hvctl refuses a monitor that is not taking its own. */
static void test_hvctl_refuses_a_monitor_that_takes_another_operator_key(void **state)
{
	struct pair p;
	struct chan_frame hello, f;
	uint8_t challenge[CHAN_DIGEST_LEN], guest_priv[CHAN_PRIVKEY_LEN];
	(void)state;
	paired(&p);
	keypair(5, guest_priv, p.monitor.operator_key); /* hv.cfg now holds the guest's key */
	memset(challenge, 0xee, sizeof(challenge));
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	/* the guest re-signs the operator's hello with its own key */
	assert_int_equal(chan_frame_parse(p.frame, p.len, &hello), CHAN_OK);
	struct chan_frame again = hello;
	p.len = chan_frame_write(&again, guest_priv, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &hello), CHAN_OK);
	p.len = chan_session_hello_reply(&p.monitor, &hello, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &f),
			 CHAN_ERR_OPERATOR);
}

/* A reply signed by the monitor but for another request of the same number, or of
 * another boot, is not the reply to this one. */
static void test_hvctl_binds_a_reply_to_its_request_digest_and_boot(void **state)
{
	struct pair p;
	struct chan_frame req, other, f;
	uint8_t r[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	p.len = request(&p, "pause busy", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req), CHAN_OK);
	other = req;
	other.digest[0] ^= 1; /* same number, another request */
	n = chan_session_reply(&p.monitor, &other, 0, true, NULL, 0, r, sizeof(r));
	assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_ERR_BOOT);
	p.monitor.boot_id[3] ^= 1; /* the same request, answered in another boot */
	n = chan_session_reply(&p.monitor, &req, 0, true, NULL, 0, r, sizeof(r));
	assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_ERR_BOOT);
	p.monitor.boot_id[3] ^= 1;
	/* pieces 0, 1, 2 in order; then nothing, not even a piece 3 */
	for (uint32_t k = 0; k < 3; k++) {
		n = chan_session_reply(&p.monitor, &req, k, k == 2, NULL, 0, r, sizeof(r));
		assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_OK);
	}
	assert_true(p.client.reply_done);
	n = chan_session_reply(&p.monitor, &req, 3, true, NULL, 0, r, sizeof(r));
	assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_ERR_SEQ);
}

static void test_hvctl_refuses_skipped_pieces_and_replies_to_nothing(void **state)
{
	struct pair p;
	struct chan_frame req, f;
	uint8_t r[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	/* no request in flight yet: a reply is to nothing */
	struct chan_frame fake_req = {.kind = CHAN_REQUEST, .seq = 42};
	n = chan_session_reply(&p.monitor, &fake_req, 0, true, NULL, 0, r, sizeof(r));
	assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_ERR_SEQ);
	p.len = request(&p, "ps", p.frame);
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &req), CHAN_OK);
	n = chan_session_reply(&p.monitor, &req, 1, false, NULL, 0, r, sizeof(r)); /* 0 lost */
	assert_int_equal(chan_client_take_reply(&p.client, r, n, &f), CHAN_ERR_SEQ);
	/* a hello reply taken twice (the relay repeats it): the second is refused */
	uint8_t challenge[CHAN_DIGEST_LEN] = {7};
	struct chan_frame hello;
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &hello), CHAN_OK);
	p.len = chan_session_hello_reply(&p.monitor, &hello, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &f), CHAN_OK);
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &f),
			 CHAN_ERR_BOOT);
}

/* Each kind's own rules, on frames signed with the right key (the signature is not what
 * refuses them) */
static void test_frame_kinds_refuse_what_they_cannot_carry(void **state)
{
	struct pair p;
	struct chan_frame f;
	uint8_t buf[CHAN_FRAME_MAX];
	size_t n;
	(void)state;
	paired(&p);
	const uint8_t *mon = p.monitor.monitor_priv;
	f = (struct chan_frame){.kind = CHAN_HELLO_REPLY, .flags = 0};
	n = chan_frame_write(&f, mon, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FLAGS); /* must be LAST */
	f = (struct chan_frame){.kind = CHAN_HELLO_REPLY, .flags = CHAN_FLAG_LAST, .chunk = 1};
	n = chan_frame_write(&f, mon, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FIELDS);
	f = (struct chan_frame){.kind = CHAN_REPLY, .flags = 0x8000};
	n = chan_frame_write(&f, mon, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FLAGS);
	f = (struct chan_frame){.kind = CHAN_HELLO, .body_len = 1, .body = buf + 200};
	n = chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FIELDS);
	f = (struct chan_frame){.kind = CHAN_HELLO, .seq = 1};
	n = chan_frame_write(&f, p.client.operator_priv, buf, sizeof(buf));
	assert_int_equal(chan_frame_parse(buf, n, &f), CHAN_ERR_FIELDS);
	/* a hello reply at the last number there is: no request could follow it */
	struct chan_frame hello;
	uint8_t challenge[CHAN_DIGEST_LEN] = {9};
	p.len = chan_client_hello(&p.client, challenge, p.frame, sizeof(p.frame));
	assert_int_equal(chan_session_take(&p.monitor, p.frame, p.len, &hello), CHAN_OK);
	p.monitor.last_seq = UINT64_MAX;
	p.len = chan_session_hello_reply(&p.monitor, &hello, NULL, 0, p.frame, sizeof(p.frame));
	assert_int_equal(chan_client_take_hello_reply(&p.client, p.frame, p.len, &f), CHAN_ERR_SEQ);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips180_vectors),
		cmocka_unit_test(test_public_key_of_the_rfc6979_key),
		cmocka_unit_test(test_ecdsa_signs_as_rfc6979_a25_and_verifies),
		cmocka_unit_test(test_keys_out_of_range_are_refused),
		cmocka_unit_test(test_keygen_makes_a_working_pair_and_needs_a_seed),
		cmocka_unit_test(test_a_request_is_taken_and_its_reply_checked),
		cmocka_unit_test(test_a_replayed_request_is_refused_and_counted),
		cmocka_unit_test(test_a_request_of_an_earlier_session_is_refused),
		cmocka_unit_test(test_reordered_requests_run_only_in_order),
		cmocka_unit_test(test_every_flipped_bit_of_a_request_is_refused),
		cmocka_unit_test(test_cut_and_overlong_frames_are_refused),
		cmocka_unit_test(test_a_request_of_another_boot_or_key_is_refused),
		cmocka_unit_test(test_the_monitor_takes_no_frame_of_its_own_kinds),
		cmocka_unit_test(test_hvctl_refuses_forged_replayed_and_reordered_replies),
		cmocka_unit_test(test_hvctl_takes_only_the_answer_to_its_own_hello),
		cmocka_unit_test(test_frame_fields_a_kind_must_leave_zero),
		cmocka_unit_test(test_hvctl_refuses_a_monitor_that_takes_another_operator_key),
		cmocka_unit_test(test_hvctl_binds_a_reply_to_its_request_digest_and_boot),
		cmocka_unit_test(test_hvctl_refuses_skipped_pieces_and_replies_to_nothing),
		cmocka_unit_test(test_frame_kinds_refuse_what_they_cannot_carry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
