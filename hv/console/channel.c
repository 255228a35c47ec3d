/* SPDX-License-Identifier: MIT */
/* The channel's state in the core (channel.h). */
#include "console/channel.h"

#include "chan/session.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Owner: the exit lock (channel.h). */
static struct {
	struct chan_session session;
	char key_id[17];
	const char *problem;
} channel;

void channel_configure(const uint8_t *operator_key)
{
	uint8_t digest[CHAN_DIGEST_LEN];

	memset(&channel, 0, sizeof(channel));
	if (operator_key == NULL)
		return;
	if (!chan_public_key_valid(operator_key)) {
		channel.problem = "hv.cfg's operator_key is not a point of P-256: no request is "
				  "taken (make one with hvctl keygen)";
		return;
	}
	memcpy(channel.session.operator_key, operator_key, CHAN_PUBKEY_LEN);
	channel.session.operator_key_set = true;
	chan_sha256(operator_key, CHAN_PUBKEY_LEN, digest);
	for (unsigned i = 0; i < 8; i++)
		fmt_snprintf(channel.key_id + 2 * i, 3, "%02x", digest[i]);
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
}

void channel_status_json(struct reply *r)
{
	reply_printf(r, "\"channel\":{\"operator_key_sha256\":");
	if (channel.session.operator_key_set)
		reply_printf(r, "\"%s\"", channel.key_id);
	else
		reply_printf(r, "null");
	reply_printf(r, ",\"problem\":");
	if (channel.problem != NULL)
		reply_json_string(r, channel.problem);
	else
		reply_printf(r, "null");
	reply_printf(r, "}");
}
