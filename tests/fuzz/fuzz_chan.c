/* libFuzzer: the channel's frames as a hostile relay hands them to the monitor and to
 * hvctl (hv/chan/, tools/hvctl/chan_client.c). The first byte picks the way in:
 *   0: raw bytes to the monitor's session (nothing unsigned may be taken);
 *   1: the rest is a frame the harness signs with the operator's key first, so the checks
 *      after the signature (boot, number, kind fields) are reached;
 *   2: raw bytes to hvctl as a reply piece (nothing may be taken: no request is signed).
 * Invariants: the monitor's request number never goes down, and never moves on a frame
 * the operator did not sign. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chan/session.h"
#include "tools/hvctl/chan_client.h"

static struct chan_session monitor;
static struct chan_client client;
static uint8_t operator_priv[CHAN_PRIVKEY_LEN];

static void setup(void)
{
	static int done;
	uint8_t seed[CHAN_KEYSEED_MIN];

	if (done)
		return;
	done = 1;
	memset(seed, 1, sizeof(seed));
	if (chan_keygen(seed, sizeof(seed), operator_priv, monitor.operator_key) != 0)
		abort();
	monitor.operator_key_set = true;
	memset(seed, 2, sizeof(seed));
	if (chan_keygen(seed, sizeof(seed), monitor.monitor_priv, monitor.monitor_pub) != 0)
		abort();
	monitor.monitor_key_set = true;
	memcpy(client.monitor_pub, monitor.monitor_pub, CHAN_PUBKEY_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[CHAN_FRAME_MAX];
	struct chan_frame f;
	uint64_t before;

	setup();
	if (size < 1)
		return 0;
	before = monitor.last_seq;
	switch (data[0] % 3) {
	case 0:
		if (chan_session_take(&monitor, data + 1, size - 1, &f) == CHAN_OK)
			abort(); /* nothing the fuzzer did not sign with the operator's key */
		if (monitor.last_seq != before)
			abort();
		break;
	case 1:
		if (size - 1 < CHAN_HEADER_LEN || size - 1 > CHAN_HEADER_LEN + CHAN_BODY_MAX)
			return 0;
		memcpy(buf, data + 1, size - 1);
		/* the header's own body length, made right so the signature covers it */
		{
			uint32_t body = (uint32_t)(size - 1 - CHAN_HEADER_LEN);
			for (unsigned i = 0; i < 4; i++)
				buf[8 + i] = (uint8_t)(body >> (8 * i));
			uint8_t digest[CHAN_DIGEST_LEN];
			chan_sha256(buf, size - 1, digest);
			if (chan_sign(operator_priv, digest, buf + size - 1) != 0)
				abort();
		}
		if (chan_session_take(&monitor, buf, size - 1 + CHAN_SIG_LEN, &f) == CHAN_OK &&
		    f.kind == CHAN_REQUEST && (f.seq <= before || monitor.last_seq != f.seq))
			abort();
		if (monitor.last_seq < before)
			abort();
		break;
	default:
		if (chan_client_take_reply(&client, data + 1, size - 1, &f) == CHAN_OK)
			abort();
		break;
	}
	return 0;
}
