/* SPDX-License-Identifier: MIT */
/* hvctl through the guest (relay.h). */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "chan/vmcall.h"
#include "keys.h"
#include "lib/base64.h"
#include "lib/hex.h"
#include "lib/string.h"

#define LINE_MAX_LEN (BASE64_LEN(CHAN_FRAME_MAX) + 16u)
#define RETRY_MS     300u /* after the relay said busy or rate */
/* A request the relay said nothing about for this long is sent again, the same frame (at
 * most RESENDS_MAX times): the line to the guest's serial port can lose it whole, and the
 * relay then waits for nothing. The same frame cannot run twice (its number is taken
 * once); if a copy was taken, the next is refused (busy while it runs, seq after), which
 * is no news. */
#ifndef RESEND_MS
#define RESEND_MS 10000u /* (the unit test makes it shorter) */
#endif
#define RESENDS_MAX 3u

/* "monitor_key = 04..." as hvctl pair writes it */
static int load_pin(const char *path, uint8_t key[CHAN_PUBKEY_LEN], char *why, size_t cap)
{
	char buf[512], hex[2 * CHAN_PUBKEY_LEN + 1];
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, cap, "%s: %s (pin the monitor's key with hvctl pair FILE)", path,
			 strerror(errno));
		return -1;
	}
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (sscanf(buf, " monitor_key = %130[0-9a-fA-F]", hex) != 1 ||
	    strlen(hex) != 2 * CHAN_PUBKEY_LEN ||
	    hex_decode(hex, 2 * CHAN_PUBKEY_LEN, key, CHAN_PUBKEY_LEN, NULL) != 0 ||
	    !chan_public_key_valid(key)) {
		snprintf(why, cap, "%s: not a monitor_key line of hvctl pair", path);
		return -1;
	}
	return 0;
}

int relay_init(struct relay *rl, const char *key_path, const char *pin_path, char *why, size_t cap)
{
	memset(rl, 0, sizeof(*rl));
	if (key_path == NULL || pin_path == NULL) {
		snprintf(why, cap,
			 "--relay needs --key FILE (hvctl keygen) and --pin FILE (hvctl "
			 "pair), or $HVCTL_KEY and $HVCTL_PIN");
		return -1;
	}
	if (keys_load_private(key_path, rl->cl.operator_priv, why, cap) != 0)
		return -1;
	return load_pin(pin_path, rl->cl.monitor_pub, why, cap);
}

void relay_free(struct relay *rl)
{
	free(rl->line);
	mem_wipe(rl->cl.operator_priv, sizeof(rl->cl.operator_priv));
	memset(rl, 0, sizeof(*rl));
}

static int send_frame(struct conn *c, const uint8_t *frame, size_t n, uint64_t deadline)
{
	char *text = malloc(BASE64_LEN(n) + 4);
	if (text == NULL)
		return -1;
	memcpy(text, CHAN_LINE_FRAME, 2);
	size_t len = 2 + base64_encode(frame, n, text + 2);
	text[len++] = '\n';
	int rc = conn_write(c, text, len, deadline);
	free(text);
	return rc;
}

/* What came from the relay: a frame, a note, or nothing whole yet. */
enum got { GOT_NONE, GOT_FRAME, GOT_NOTE };

/* The next whole line from the relay, waiting until the deadline: a frame into frame/len,
 * or the relay's note in rl->note. GOT_NONE at the deadline (-1 on a read error). */
static int next_line(struct conn *c, struct relay *rl, uint64_t deadline, uint8_t *frame,
		     size_t *len)
{
	for (;;) {
		if (rl->in_pos == rl->in_len) {
			ssize_t r = conn_read(c, rl->in, sizeof(rl->in), deadline);
			if (r == 0)
				return GOT_NONE;
			if (r < 0)
				return -1;
			rl->in_pos = 0;
			rl->in_len = (size_t)r;
		}
		char ch = rl->in[rl->in_pos++];
		if (ch != '\n') {
			if (rl->dropping || rl->len >= LINE_MAX_LEN) {
				rl->dropping = true;
				continue;
			}
			if (rl->len + 1 > rl->cap) {
				size_t cap = rl->cap ? rl->cap * 2 : 1024;
				char *p = realloc(rl->line, cap);
				if (p == NULL)
					return -1;
				rl->line = p;
				rl->cap = cap;
			}
			rl->line[rl->len++] = ch;
			continue;
		}
		size_t n = rl->len;
		bool dropped = rl->dropping;
		rl->len = 0;
		rl->dropping = false;
		/* a relay that keeps talking does not hold hvctl past its deadline */
		if (conn_now_ms() >= deadline)
			return GOT_NONE;
		while (n > 0 && rl->line[n - 1] == '\r')
			n--;
		if (dropped || n < 2)
			continue;
		if (memcmp(rl->line, CHAN_LINE_FRAME, 2) == 0) {
			long got = base64_decode(rl->line + 2, n - 2, frame, CHAN_FRAME_MAX);
			if (got < 0)
				continue; /* noise */
			*len = (size_t)got;
			return GOT_FRAME;
		}
		if (memcmp(rl->line, CHAN_LINE_ERROR, 2) == 0) {
			size_t w = 0;
			while (w < n - 2 && w < sizeof(rl->note) - 1 && rl->line[2 + w] != ' ' &&
			       (unsigned char)rl->line[2 + w] > ' ' &&
			       (unsigned char)rl->line[2 + w] < 0x7f) {
				rl->note[w] = rl->line[2 + w];
				w++;
			}
			rl->note[w] = '\0';
			return GOT_NOTE;
		}
	}
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
	nanosleep(&ts, NULL);
}

static void count_refused(struct relay *rl, enum chan_error e)
{
	rl->refused++;
	snprintf(rl->refused_why, sizeof(rl->refused_why), "%s", chan_error_name(e));
}

static int fail(char *why, size_t cap, int err, const char *fmt, const char *arg)
{
	snprintf(why, cap, fmt, arg);
	errno = err;
	return -1;
}

/* A hello and its answer: the monitor's boot and the next request number. */
static int hello(struct conn *c, struct relay *rl, uint64_t deadline, char *why, size_t cap)
{
	uint8_t challenge[CHAN_DIGEST_LEN], frame[CHAN_FRAME_MAX], hello_frame[CHAN_FRAME_MIN];
	if (getrandom(challenge, sizeof(challenge), 0) != (ssize_t)sizeof(challenge))
		return fail(why, cap, EIO, "%s", "no random bytes for the hello's challenge");
	size_t hello_len = chan_client_hello(&rl->cl, challenge, hello_frame, sizeof(hello_frame));
	if (hello_len == 0)
		return fail(why, cap, EINVAL, "%s", "cannot sign a hello with this key");
	if (send_frame(c, hello_frame, hello_len, deadline) != 0)
		return fail(why, cap, errno, "cannot write to the relay: %s", strerror(errno));
	for (;;) {
		size_t len;
		struct chan_frame f;
		int got = next_line(c, rl, deadline, frame, &len);
		if (got == GOT_NONE)
			return fail(why, cap, ETIMEDOUT, "%s", "no hello reply");
		if (got < 0)
			return fail(why, cap, errno, "lost the relay: %s", strerror(errno));
		if (got == GOT_NOTE) {
			if (strcmp(rl->note, "busy") == 0 || strcmp(rl->note, "rate") == 0) {
				sleep_ms(RETRY_MS);
				if (send_frame(c, hello_frame, hello_len, deadline) != 0)
					return fail(why, cap, errno,
						    "cannot write to the relay: %s",
						    strerror(errno));
				continue;
			}
			if (strcmp(rl->note, "signature") == 0 || strcmp(rl->note, "no-key") == 0)
				return fail(why, cap, EACCES,
					    "the monitor refused the hello (%s): is hv.cfg's "
					    "operator_key this --key's?",
					    rl->note);
			continue;
		}
		enum chan_error e = chan_client_take_hello_reply(&rl->cl, frame, len, &f);
		if (e == CHAN_ERR_OPERATOR)
			return fail(why, cap, EACCES, "%s",
				    "the monitor takes requests from another operator key than "
				    "--key's (hv.cfg was changed?)");
		if (e == CHAN_OK)
			return 0;
		count_refused(rl, e);
	}
}

int relay_exchange(struct conn *c, struct relay *rl, const char *line, uint64_t deadline_ms,
		   void (*take)(void *ctx, const char *text, size_t n), void *ctx, char *why,
		   size_t cap)
{
	uint8_t req[CHAN_FRAME_MAX], frame[CHAN_FRAME_MAX], sent_digest[CHAN_DIGEST_LEN];
	size_t req_len = 0;
	uint64_t sent_seq = 0; /* the request sent in an earlier round (0: none) */
	rl->note[0] = '\0';
	for (int fresh = 0; fresh < 3; fresh++) {
		if ((!rl->cl.have_session || fresh > 0) && hello(c, rl, deadline_ms, why, cap) != 0)
			return -1;
		/* The relay said the last frame was refused for its number or session: the
		 * monitor's own word (the hello reply: the last number taken and its request's
		 * digest) says whether it ran. Sent again only when it surely did not, so a
		 * relay cannot make a request run twice. */
		if (sent_seq != 0 && rl->cl.next_seq - 1 >= sent_seq) {
			bool ours = rl->cl.next_seq - 1 == sent_seq &&
				    memcmp(rl->cl.last_digest, sent_digest, CHAN_DIGEST_LEN) == 0;
			return fail(
				why, cap, EPROTO, "%s",
				ours ? "the monitor took the request, but its reply was lost on "
				       "the way (the relay said otherwise): not sent again"
				     : "the monitor took a later request since: whether this one "
				       "ran is not known, so it is not sent again");
		}
		req_len = chan_client_request(&rl->cl, line, strlen(line), req, sizeof(req));
		if (req_len == 0)
			return fail(why, cap, EINVAL, "%s", "the request does not fit in a frame");
		sent_seq = rl->cl.request_seq;
		memcpy(sent_digest, rl->cl.request_digest, CHAN_DIGEST_LEN);
		if (send_frame(c, req, req_len, deadline_ms) != 0)
			return fail(why, cap, errno, "cannot write to the relay: %s",
				    strerror(errno));
		bool renew = false, heard = false, taken = false;
		unsigned resends = 0;
		uint64_t resend_at = conn_now_ms() + RESEND_MS;
		while (!renew) {
			size_t len;
			struct chan_frame f;
			bool may_resend = !heard && !taken && resends < RESENDS_MAX &&
					  resend_at < deadline_ms;
			int got =
				next_line(c, rl, may_resend ? resend_at : deadline_ms, frame, &len);
			if (got == GOT_NONE && may_resend) {
				resends++;
				rl->resent++;
				resend_at = conn_now_ms() + RESEND_MS;
				if (send_frame(c, req, req_len, deadline_ms) != 0)
					return fail(why, cap, errno,
						    "cannot write to the relay: %s",
						    strerror(errno));
				continue;
			}
			if (got == GOT_NONE) {
				rl->cl.have_session =
					false; /* a lost reply: a hello first next time */
				return fail(why, cap, ETIMEDOUT, "no whole reply%s",
					    resends > 0 ? "; the request was sent again after "
							  "silence, in vain"
							: "");
			}
			if (got < 0)
				return fail(why, cap, errno, "lost the relay: %s", strerror(errno));
			heard = true;
			if (got == GOT_NOTE && resends > 0 && strcmp(rl->note, "seq") == 0) {
				taken = true; /* a copy sent again came after one that was taken */
				continue;
			}
			if (got == GOT_NOTE && resends > 0 && strcmp(rl->note, "busy") == 0) {
				/* a copy sent again while one taken runs, or another client's: no
				 * news either way; sent again after more silence */
				heard = false;
				resend_at = conn_now_ms() + RESEND_MS;
				continue;
			}
			if (got == GOT_NOTE) {
				if (strcmp(rl->note, "busy") == 0 ||
				    strcmp(rl->note, "rate") == 0) {
					/* not taken (refused before its number moved): the same
					 * frame again */
					sleep_ms(RETRY_MS);
					if (send_frame(c, req, req_len, deadline_ms) != 0)
						return fail(why, cap, errno,
							    "cannot write to the relay: %s",
							    strerror(errno));
				} else if (strcmp(rl->note, "seq") == 0 ||
					   strcmp(rl->note, "boot") == 0) {
					renew = true; /* another client's request, or a reboot */
				}
				continue;
			}
			enum chan_error e = chan_client_take_reply(&rl->cl, frame, len, &f);
			if (e != CHAN_OK) {
				count_refused(rl, e);
				continue;
			}
			take(ctx, (const char *)f.body, f.body_len);
			if (rl->cl.reply_done)
				return 0;
		}
	}
	return fail(why, cap, EAGAIN, "%s",
		    "the request number kept being taken by another client");
}
