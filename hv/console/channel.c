/* SPDX-License-Identifier: MIT */
/* The channel's state in the core (channel.h). */
#include "console/channel.h"

#include "bootinfo.h"
#include "chan/session.h"
#include "lib/fmt.h"
#include "lib/hex.h"
#include "lib/string.h"

/* Owner: the exit lock (channel.h). */
static struct {
	struct chan_session session;
	char key_id[17];
	char monitor_key_id[17];
	unsigned sources; /* bits (1 << enum boot_entropy) */
	bool seed_pending;
	uint8_t seed[BOOT_CHANNEL_SEED_LEN]; /* the loader's, until the key is made */
	const char *problem;
} channel;

static const char *const entropy_names[BOOT_ENTROPY_COUNT] = {
	[BOOT_ENTROPY_RNG_PROTOCOL] = "EFI_RNG_PROTOCOL",
	[BOOT_ENTROPY_RDSEED] = "RDSEED",
	[BOOT_ENTROPY_RDRAND] = "RDRAND",
};

/* The first 8 bytes of SHA-256 of a public key, in hex. */
static void key_id(const uint8_t *key, char out[17])
{
	uint8_t digest[CHAN_DIGEST_LEN];

	chan_sha256(key, CHAN_PUBKEY_LEN, digest);
	hex_encode(digest, 8, out);
}

/* The monitor's key pair and boot id for this boot, from the loader's seed: made at the
 * first use, in a VM exit, so that what BearSSL leaves on the stack is on the monitor's
 * own (hidden from the guest by EPT), not on the firmware's, which hv_start() runs on and
 * the guest gets back. The seed is wiped once used. */
static void ensure_monitor_key(void)
{
	static const char boot_id_label[] = "ctrvisor channel boot id";
	uint8_t buf[BOOT_CHANNEL_SEED_LEN + sizeof(boot_id_label)], digest[CHAN_DIGEST_LEN];

	if (!channel.seed_pending)
		return;
	channel.seed_pending = false;
	if (chan_keygen(channel.seed, sizeof(channel.seed), channel.session.monitor_priv,
			channel.session.monitor_pub) == 0) {
		channel.session.monitor_key_set = true;
		key_id(channel.session.monitor_pub, channel.monitor_key_id);
		/* another value of the seed than the key's (SHA-256 of it with a label); the
		 * TSC and the time in the seed make it new at every boot even from a source
		 * that repeats itself */
		memcpy(buf, channel.seed, sizeof(channel.seed));
		memcpy(buf + sizeof(channel.seed), boot_id_label, sizeof(boot_id_label));
		chan_sha256(buf, sizeof(buf), digest);
		memcpy(channel.session.boot_id, digest, CHAN_BOOT_ID_LEN);
	}
	mem_wipe(buf, sizeof(buf));
	mem_wipe(channel.seed, sizeof(channel.seed));
}

void channel_configure(const uint8_t *operator_key, uint8_t *seed, unsigned sources)
{
	memset(&channel, 0, sizeof(channel));
	channel.sources = sources & ((1u << BOOT_ENTROPY_COUNT) - 1u);
	if (channel.sources != 0) {
		memcpy(channel.seed, seed, sizeof(channel.seed));
		channel.seed_pending = true;
	}
	mem_wipe(seed, BOOT_CHANNEL_SEED_LEN);
	if (operator_key == NULL)
		return;
	if (!chan_public_key_valid(operator_key)) {
		channel.problem = "hv.cfg's operator_key is not a point of P-256: no request is "
				  "taken (make one with hvctl keygen)";
		return;
	}
	memcpy(channel.session.operator_key, operator_key, CHAN_PUBKEY_LEN);
	channel.session.operator_key_set = true;
	key_id(operator_key, channel.key_id);
}

/* "RDRAND", "EFI_RNG_PROTOCOL+RDSEED", or "none" */
static void sources_text(char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < BOOT_ENTROPY_COUNT; i++)
		if (channel.sources & (1u << i))
			n += fmt_snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? "+" : "",
					  entropy_names[i]);
	if (n == 0)
		fmt_snprintf(out, cap, "none");
}

const char *channel_operator_key_id(void)
{
	return channel.session.operator_key_set ? channel.key_id : NULL;
}

const char *channel_key_problem(void)
{
	return channel.problem;
}

void channel_status_text(struct reply *r)
{
	char sources[64];
	ensure_monitor_key();
	sources_text(sources, sizeof(sources));
	if (channel.problem != NULL)
		reply_line(r, "channel: %s", channel.problem);
	else if (channel.session.operator_key_set)
		reply_line(r, "channel: operator key sha256:%s (VMCALL requests: not built yet)",
			   channel.key_id);
	else
		reply_line(r, "channel: no operator_key in hv.cfg");
	if (channel.session.monitor_key_set)
		reply_line(r, "channel: monitor key sha256:%s, made at this boot from %s",
			   channel.monitor_key_id, sources);
	else
		reply_line(r, "channel: no monitor key (no random source at boot)");
}

void channel_status_json(struct reply *r)
{
	char sources[64];
	ensure_monitor_key();
	sources_text(sources, sizeof(sources));
	reply_printf(r, "\"channel\":{\"operator_key_sha256\":");
	if (channel.session.operator_key_set)
		reply_printf(r, "\"%s\"", channel.key_id);
	else
		reply_printf(r, "null");
	if (channel.session.monitor_key_set) {
		char hex[2 * CHAN_PUBKEY_LEN + 1];
		hex_encode(channel.session.monitor_pub, CHAN_PUBKEY_LEN, hex);
		reply_printf(r, ",\"monitor_key\":\"%s\",\"monitor_key_sha256\":\"%s\"", hex,
			     channel.monitor_key_id);
	} else {
		reply_printf(r, ",\"monitor_key\":null,\"monitor_key_sha256\":null");
	}
	reply_printf(r, ",\"entropy\":\"%s\"", sources);
	reply_printf(r, ",\"problem\":");
	if (channel.problem != NULL)
		reply_json_string(r, channel.problem);
	else
		reply_printf(r, "null");
	reply_printf(r, "}");
}
