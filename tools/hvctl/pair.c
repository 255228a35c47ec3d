/* SPDX-License-Identifier: MIT */
/* hvctl pair FILE (pair.h). */
#include "pair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keys.h"
#include "lib/hex.h"

int hvctl_pair(struct conn *c, struct reader *rd, const char *path, double timeout_s)
{
	uint8_t key[CHAN_PUBKEY_LEN], digest[CHAN_DIGEST_LEN];
	char why[256], hex[2 * CHAN_PUBKEY_LEN + 1], id[17], tmp[4200];
	char *body = NULL;
	size_t len = 0;
	int rc = hvctl_request_body(c, rd, "status --json", timeout_s, &body, &len);

	if (rc != HVCTL_EXIT_OK) {
		free(body);
		return rc;
	}
	rc = pair_monitor_key(body ? body : "", len, key, why, sizeof(why));
	free(body);
	if (rc != 0) {
		fprintf(stderr, "hvctl pair: %s\n", why);
		return HVCTL_EXIT_ERROR_REPLY;
	}
	hex_encode(key, sizeof(key), hex);
	chan_sha256(key, sizeof(key), digest);
	hex_encode(digest, 8, id);
	/* a new file renamed over the old one: a reader never sees half a key */
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		fprintf(stderr, "hvctl pair: %s: path too long\n", path);
		return HVCTL_EXIT_USAGE;
	}
	unlink(tmp);
	FILE *f = fopen(tmp, "wx");
	if (f == NULL || fprintf(f, "monitor_key = %s\n", hex) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "hvctl pair: %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return HVCTL_EXIT_USAGE;
	}
	printf("pinned the monitor's channel key sha256:%s in %s (it is new at every boot: pair "
	       "again after one)\n",
	       id, path);
	return HVCTL_EXIT_OK;
}
