/* SPDX-License-Identifier: MIT */
/* The channel's state in the core (channel.h). */
#include "console/channel.h"

#include "bootinfo.h"
#include "chan/session.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Owner: the exit lock (channel.h). */
static struct {
	struct chan_session session;
	char key_id[17];
	char monitor_key_id[17];
	unsigned entropy;
	const char *problem;
} channel;

static const char *const entropy_names[BOOT_ENTROPY_COUNT] = {
	[BOOT_ENTROPY_NONE] = "none",
	[BOOT_ENTROPY_RNG_PROTOCOL] = "firmware EFI_RNG_PROTOCOL",
	[BOOT_ENTROPY_RDSEED] = "RDSEED",
	[BOOT_ENTROPY_RDRAND] = "RDRAND",
};

static void wipe(void *p, size_t n)
{
	volatile uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = 0;
}

/* The first 8 bytes of SHA-256 of a public key, in hex. */
static void key_id(const uint8_t *key, char out[17])
{
	uint8_t digest[CHAN_DIGEST_LEN];

	chan_sha256(key, CHAN_PUBKEY_LEN, digest);
	for (unsigned i = 0; i < 8; i++)
		fmt_snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The monitor's key pair and boot id for this boot, from the loader's seed. */
static void make_monitor_key(uint8_t *seed, unsigned source)
{
	static const char boot_id_label[] = "ctrvisor channel boot id";
	uint8_t buf[CHANNEL_SEED_LEN + sizeof(boot_id_label)], digest[CHAN_DIGEST_LEN];

	channel.entropy = source < BOOT_ENTROPY_COUNT ? source : BOOT_ENTROPY_NONE;
	if (channel.entropy == BOOT_ENTROPY_NONE)
		return;
	if (chan_keygen(seed, CHANNEL_SEED_LEN, channel.session.monitor_priv,
			channel.session.monitor_pub) != 0)
		return;
	channel.session.monitor_key_set = true;
	key_id(channel.session.monitor_pub, channel.monitor_key_id);
	/* another value of the seed than the key's: SHA-256 of it with a label */
	memcpy(buf, seed, CHANNEL_SEED_LEN);
	memcpy(buf + CHANNEL_SEED_LEN, boot_id_label, sizeof(boot_id_label));
	chan_sha256(buf, sizeof(buf), digest);
	memcpy(channel.session.boot_id, digest, CHAN_BOOT_ID_LEN);
	wipe(buf, sizeof(buf));
}

void channel_configure(const uint8_t *operator_key, uint8_t *seed, unsigned source)
{
	memset(&channel, 0, sizeof(channel));
	make_monitor_key(seed, source);
	wipe(seed, CHANNEL_SEED_LEN);
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
	if (channel.problem != NULL)
		reply_line(r, "channel: %s", channel.problem);
	else if (channel.session.operator_key_set)
		reply_line(r, "channel: operator key sha256:%s (VMCALL requests: not built yet)",
			   channel.key_id);
	else
		reply_line(r, "channel: no operator_key in hv.cfg");
	if (channel.session.monitor_key_set)
		reply_line(r, "channel: monitor key sha256:%s, made at this boot from %s",
			   channel.monitor_key_id, entropy_names[channel.entropy]);
	else
		reply_line(r, "channel: no monitor key (no random source at boot)");
}

void channel_status_json(struct reply *r)
{
	reply_printf(r, "\"channel\":{\"operator_key_sha256\":");
	if (channel.session.operator_key_set)
		reply_printf(r, "\"%s\"", channel.key_id);
	else
		reply_printf(r, "null");
	if (channel.session.monitor_key_set) {
		char hex[2 * CHAN_PUBKEY_LEN + 1];
		for (unsigned i = 0; i < CHAN_PUBKEY_LEN; i++)
			fmt_snprintf(hex + 2 * i, 3, "%02x", channel.session.monitor_pub[i]);
		reply_printf(r, ",\"monitor_key\":\"%s\",\"monitor_key_sha256\":\"%s\"", hex,
			     channel.monitor_key_id);
	} else {
		reply_printf(r, ",\"monitor_key\":null,\"monitor_key_sha256\":null");
	}
	reply_printf(r, ",\"entropy\":\"%s\"", entropy_names[channel.entropy]);
	reply_printf(r, ",\"problem\":");
	if (channel.problem != NULL)
		reply_json_string(r, channel.problem);
	else
		reply_printf(r, "null");
	reply_printf(r, "}");
}
