/* SPDX-License-Identifier: MIT */
/* The channel's state in the core (channel.h). */
#include "console/channel.h"

#include "bootinfo.h"
#include "chan/session.h"
#include "chan/vmcall.h"
#include "console/chan_vmcall.h"
#include "lib/fmt.h"
#include "lib/hex.h"
#include "lib/string.h"
#include "version.h"

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

/* The exchange (docs/channel.md, "The exchange"): at most one request in flight, from the
 * frame that carried it to the last piece of its reply handed out. Owner: the exit lock. */
#define TEXT_RING_SIZE (256u * 1024u) /* power of two; the console writes no more than this */
static struct {
	bool hello_owed;                    /* a hello was taken: its reply is the next frame out */
	uint8_t challenge[CHAN_DIGEST_LEN]; /* that hello's */
	bool queued;  /* a request was taken: the console runs it at its next poll */
	bool running; /* the console runs it: its reply text is not complete */
	bool owed;    /* a request was taken and the last piece of its reply not handed out */
	bool discard; /* a hello came meanwhile: the rest of that reply is dropped */
	struct chan_frame request; /* the request replied to (kind, seq, digest; no pointers) */
	uint8_t line[CHAN_BODY_MAX];
	uint32_t line_len;
	uint32_t next_chunk;
	uint64_t pieces_out;       /* reply pieces handed out since start */
	char text[TEXT_RING_SIZE]; /* the reply text not yet handed out */
	uint32_t head, tail;
	uint8_t frame[CHAN_FRAME_MAX]; /* the body of the reply piece being made */
} ex;

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
	memset(&ex, 0, sizeof(ex));
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

bool channel_monitor_public_key(uint8_t pub[CHAN_PUBKEY_LEN])
{
	ensure_monitor_key();
	if (!channel.session.monitor_key_set)
		return false;
	memcpy(pub, channel.session.monitor_pub, CHAN_PUBKEY_LEN);
	return true;
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
		reply_line(r, "channel: operator key sha256:%s, last request number %llu",
			   channel.key_id, (unsigned long long)channel.session.last_seq);
	else
		reply_line(r, "channel: no operator_key in hv.cfg");
	if (channel.session.monitor_key_set)
		reply_line(r, "channel: monitor key sha256:%s, made at this boot from %s",
			   channel.monitor_key_id, sources);
	else
		reply_line(r, "channel: no monitor key (no random source at boot)");
	chan_vmcall_status_text(r);
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
		char boot[2 * CHAN_BOOT_ID_LEN + 1];
		hex_encode(channel.session.boot_id, CHAN_BOOT_ID_LEN, boot);
		reply_printf(r, ",\"boot_id\":\"%s\"", boot);
	} else {
		reply_printf(r,
			     ",\"monitor_key\":null,\"monitor_key_sha256\":null,\"boot_id\":null");
	}
	reply_printf(r, ",\"entropy\":\"%s\"", sources);
	reply_printf(r, ",\"last_seq\":%llu", (unsigned long long)channel.session.last_seq);
	/* the session's nonce: public (it went through the relay in the clear) */
	if (channel.session.have_session) {
		char ch[2 * CHAN_DIGEST_LEN + 1];
		hex_encode(channel.session.session_nonce, CHAN_DIGEST_LEN, ch);
		reply_printf(r, ",\"session_nonce\":\"%s\",", ch);
	} else {
		reply_printf(r, ",\"session_nonce\":null,");
	}
	chan_vmcall_status_json(r);
	reply_printf(r, ",\"problem\":");
	if (channel.problem != NULL)
		reply_json_string(r, channel.problem);
	else
		reply_printf(r, "null");
	reply_printf(r, "}");
}

uint32_t channel_text_used(void)
{
	return ex.head - ex.tail;
}

uint32_t channel_text_capacity(void)
{
	return TEXT_RING_SIZE;
}

void channel_text_write(const char *s, size_t n)
{
	if (!ex.running || ex.discard)
		return;
	for (size_t i = 0; i < n && ex.head - ex.tail < TEXT_RING_SIZE; i++)
		ex.text[ex.head++ & (TEXT_RING_SIZE - 1)] = s[i];
}

void channel_text_end(void)
{
	ex.running = false;
	if (ex.discard) {
		ex.owed = false;
		ex.discard = false;
		ex.head = ex.tail = 0;
	}
}

bool channel_next_request(const uint8_t **body, uint32_t *len)
{
	if (!ex.queued)
		return false;
	ex.queued = false;
	ex.running = true;
	*body = ex.line;
	*len = ex.line_len;
	return true;
}

bool channel_pending(void)
{
	return ex.queued;
}

uint64_t channel_pieces_out(void)
{
	return ex.pieces_out;
}

/* A hello asks for the session's facts again: whatever the operator was waiting for is
 * lost to it (hvctl sends a hello after a reply it did not get whole), so the rest of the
 * reply in flight is dropped; a request still running keeps the channel busy until it
 * ends. */
static void take_hello(const struct chan_frame *f)
{
	memcpy(ex.challenge, f->bound, CHAN_DIGEST_LEN);
	ex.hello_owed = true;
	ex.head = ex.tail = 0;
	if (ex.running || ex.queued) {
		/* queued: it is still run (its number was taken), its reply dropped */
		ex.discard = true;
	} else {
		ex.owed = false;
	}
}

static void take_request(const struct chan_frame *f)
{
	ex.request = *f;
	ex.request.body = NULL;
	ex.request.signature = NULL;
	memcpy(ex.line, f->body, f->body_len);
	ex.line_len = f->body_len;
	ex.queued = true;
	ex.owed = true;
	ex.discard = false;
	ex.next_chunk = 0;
	ex.head = ex.tail = 0;
}

unsigned channel_send(const uint8_t *frame, size_t len)
{
	struct chan_frame f;
	/* a request while a reply is owed waits: refused before its signature costs
	 * anything, and before it could move the request number */
	if (len > 5 && frame[5] == CHAN_REQUEST && (ex.owed || ex.hello_owed))
		return CHAN_VMCALL_BUSY;
	ensure_monitor_key();
	enum chan_error e = chan_session_take(&channel.session, frame, len, &f);
	if (e != CHAN_OK)
		return e;
	if (f.kind == CHAN_HELLO)
		take_hello(&f);
	else
		take_request(&f);
	return CHAN_OK;
}

long channel_recv(uint8_t *out, size_t cap)
{
	static const char what[] = "ctrvisor " HV_VERSION;
	ensure_monitor_key();
	if (ex.hello_owed) {
		struct chan_frame hello = {.kind = CHAN_HELLO};
		memcpy(hello.bound, ex.challenge, CHAN_DIGEST_LEN);
		ex.hello_owed = false;
		return (long)chan_session_hello_reply(&channel.session, &hello,
						      (const uint8_t *)what, sizeof(what) - 1, out,
						      cap);
	}
	if (!ex.owed || ex.discard || ex.queued)
		return 0;
	uint32_t avail = ex.head - ex.tail;
	if (avail < CHAN_BODY_MAX && ex.running)
		return 0; /* a full piece, or the end of the reply */
	uint32_t n = avail < CHAN_BODY_MAX ? avail : CHAN_BODY_MAX;
	bool last = !ex.running && avail <= CHAN_BODY_MAX;
	uint8_t *body = ex.frame;
	for (uint32_t i = 0; i < n; i++)
		body[i] = (uint8_t)ex.text[(ex.tail + i) & (TEXT_RING_SIZE - 1)];
	size_t len = chan_session_reply(&channel.session, &ex.request, ex.next_chunk, last, body, n,
					out, cap);
	if (len == 0)
		return 0;
	ex.tail += n;
	ex.next_chunk++;
	ex.pieces_out++;
	if (last)
		ex.owed = false;
	return (long)len;
}
