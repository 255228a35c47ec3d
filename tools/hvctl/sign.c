/* SPDX-License-Identifier: MIT */
/* hvctl sign-requests (sign.h). */
#include "sign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chan_client.h"
#include "keys.h"
#include "lib/hex.h"
#include "lib/json.h"

static int usage(void)
{
	fprintf(stderr, "usage: hvctl --key FILE sign-requests DIR COUNT REQUEST...  (COUNT "
			"1..16: DIR/frame1.bin ... not sent)\n");
	return HVCTL_EXIT_USAGE;
}

int hvctl_sign_requests(struct conn *c, struct reader *rd, const char *key_path, int argc,
			char **argv, double timeout_s)
{
	struct chan_client cl = {0};
	char why[512], line[CHAN_BODY_MAX + 1];
	char *body = NULL;
	size_t len = 0, used = 0;
	char *end;

	if (argc < 4 || key_path == NULL)
		return usage();
	unsigned long count = strtoul(argv[2], &end, 10);
	if (*end != '\0' || count < 1 || count > 16)
		return usage();
	line[0] = '\0';
	for (int i = 3; i < argc; i++) {
		int n = snprintf(line + used, sizeof(line) - used, "%s%s", i > 3 ? " " : "",
				 argv[i]);
		if (n < 0 || (size_t)n >= sizeof(line) - used)
			return usage();
		used += (size_t)n;
	}
	if (keys_load_private(key_path, cl.operator_priv, why, sizeof(why)) != 0) {
		fprintf(stderr, "hvctl sign-requests: %s\n", why);
		return HVCTL_EXIT_USAGE;
	}
	int rc = hvctl_request_body(c, rd, "status --json", timeout_s, &body, &len);
	if (rc != HVCTL_EXIT_OK) {
		free(body);
		return rc;
	}
	struct json_token boot, seq, nonce;
	const char *text = body ? body : "";
	if (status_channel_member(text, len, "boot_id", &boot) != 0 ||
	    status_channel_member(text, len, "last_seq", &seq) != 0 ||
	    status_channel_member(text, len, "session_nonce", &nonce) != 0 ||
	    boot.type != JSON_STRING || seq.type != JSON_NUMBER || nonce.type != JSON_STRING ||
	    hex_decode(text + boot.start, boot.len, cl.boot_id, CHAN_BOOT_ID_LEN, NULL) != 0 ||
	    hex_decode(text + nonce.start, nonce.len, cl.session_nonce, CHAN_DIGEST_LEN, NULL) !=
		    0) {
		free(body);
		fprintf(stderr, "hvctl sign-requests: status names no boot id, request number and "
				"session nonce (no hello taken yet?)\n");
		return HVCTL_EXIT_ERROR_REPLY;
	}
	cl.next_seq = strtoull(text + seq.start, NULL, 10) + 1;
	cl.have_session = true;
	free(body);
	for (unsigned long i = 1; i <= count; i++) {
		uint8_t frame[CHAN_FRAME_MAX];
		char path[4096];
		size_t n = chan_client_request(&cl, line, used, frame, sizeof(frame));
		snprintf(path, sizeof(path), "%s/frame%lu.bin", argv[1], i);
		FILE *f = fopen(path, "wb");
		if (n == 0 || f == NULL || fwrite(frame, 1, n, f) != n || fclose(f) != 0) {
			fprintf(stderr, "hvctl sign-requests: %s: %s\n", path,
				n == 0 ? "cannot make the frame" : strerror(errno));
			return HVCTL_EXIT_USAGE;
		}
		printf("%s seq=%llu bytes=%zu\n", path, (unsigned long long)(cl.next_seq - 1), n);
	}
	return HVCTL_EXIT_OK;
}
