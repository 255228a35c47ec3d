/* hvctl cp (docs/console-protocol.md, "cp"): the file goes base64-encoded, in pieces that
 * fit the console's 255-byte request line (upload) or as the reply's "data" lines (cp
 * out); the monitor enforces the size limit and says so. */
#include "cp.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

#define CP_LOCAL_MAX                                                                               \
	(16u * 1024u * 1024u) /* read no more locally; the monitor's limit is far lower */
/* Bytes per "upload data" request: 224 characters, so that with hvctl's tag and the
 * Ctrl-U in front the request stays within the console's 255 bytes. */
#define UPLOAD_PIECE 168u

bool hvctl_cp_is_container_path(const char *s)
{
	const char *colon = strchr(s, ':');
	return colon != NULL && colon != s && colon[1] == '/' &&
	       memchr(s, '/', (size_t)(colon - s)) == NULL;
}

static int quiet_request(struct conn *c, struct reader *rd, const char *req, double timeout_s)
{
	char *body = NULL;
	size_t len = 0;
	int rc = hvctl_request_body(c, rd, req, timeout_s, &body, &len);
	free(body);
	return rc;
}

static int cp_in(struct conn *c, struct reader *rd, const char *local, const char *remote,
		 double timeout_s)
{
	FILE *f = strcmp(local, "-") == 0 ? stdin : fopen(local, "rb");
	if (f == NULL) {
		fprintf(stderr, "hvctl: cp: cannot open %s: %s\n", local, strerror(errno));
		return HVCTL_EXIT_USAGE;
	}
	uint8_t *data = malloc(CP_LOCAL_MAX + 1);
	size_t n = data ? fread(data, 1, CP_LOCAL_MAX + 1, f) : 0;
	bool err = data == NULL || ferror(f);
	if (f != stdin)
		fclose(f);
	if (err || n > CP_LOCAL_MAX) {
		fprintf(stderr, "hvctl: cp: cannot read %s%s\n", local,
			n > CP_LOCAL_MAX ? ": too large" : "");
		free(data);
		return HVCTL_EXIT_USAGE;
	}
	char req[300];
	snprintf(req, sizeof(req), "upload begin %zu", n);
	int rc = quiet_request(c, rd, req, timeout_s);
	for (size_t off = 0; rc == HVCTL_EXIT_OK && off < n; off += UPLOAD_PIECE) {
		size_t k = n - off < UPLOAD_PIECE ? n - off : UPLOAD_PIECE;
		int head = snprintf(req, sizeof(req), "upload data ");
		req[head + (int)base64_encode(data + off, k, req + head)] = '\0';
		rc = quiet_request(c, rd, req, timeout_s);
	}
	free(data);
	if (rc != HVCTL_EXIT_OK)
		return rc;
	snprintf(req, sizeof(req), "cp - %s", remote);
	return hvctl_request(c, rd, req, timeout_s);
}

static int cp_out(struct conn *c, struct reader *rd, const char *remote, const char *local,
		  double timeout_s)
{
	char req[300];
	char *body = NULL;
	size_t len = 0;
	snprintf(req, sizeof(req), "cp %s -", remote);
	int rc = hvctl_request_body(c, rd, req, timeout_s, &body, &len);
	if (rc != HVCTL_EXIT_OK) {
		free(body);
		return rc;
	}
	uint8_t *data = malloc(len + 1);
	size_t n = 0;
	long size = -1;
	bool bad = data == NULL;
	for (size_t i = 0; !bad && i < len;) {
		size_t e = i;
		while (e < len && body[e] != '\n')
			e++;
		size_t l = e - i;
		while (l > 0 && (body[i + l - 1] == '\r'))
			l--;
		if (l > 5 && memcmp(body + i, "data ", 5) == 0) {
			long k = base64_decode(body + i + 5, l - 5, data + n, len - n);
			bad = k < 0;
			n += k > 0 ? (size_t)k : 0;
		} else if (l > 5 && memcmp(body + i, "size ", 5) == 0) {
			size = strtol(body + i + 5, NULL, 10);
		} else if (strcmp(local, "-") != 0) {
			fprintf(stdout, "%.*s\n", (int)l, body + i);
		}
		i = e + 1;
	}
	free(body);
	if (bad || size < 0 || (size_t)size != n) {
		fprintf(stderr,
			"hvctl: cp: the reply's data is damaged (%zu bytes decoded, size %ld)\n", n,
			size);
		free(data);
		return HVCTL_EXIT_ERROR_REPLY;
	}
	FILE *f = strcmp(local, "-") == 0 ? stdout : fopen(local, "wb");
	if (f == NULL || fwrite(data, 1, n, f) != n || (f != stdout && fclose(f) != 0)) {
		fprintf(stderr, "hvctl: cp: cannot write %s: %s\n", local, strerror(errno));
		free(data);
		return HVCTL_EXIT_USAGE;
	}
	fflush(stdout);
	free(data);
	return HVCTL_EXIT_OK;
}

int hvctl_cp(struct conn *c, struct reader *rd, const char *src, const char *dst, double timeout_s)
{
	bool s = hvctl_cp_is_container_path(src), d = hvctl_cp_is_container_path(dst);
	if (s == d) {
		fprintf(stderr, "hvctl: cp: one side must be CONTAINER:/PATH and the other a local "
				"file (or -)\n");
		return HVCTL_EXIT_USAGE;
	}
	if (strlen(s ? src : dst) > 250) {
		fprintf(stderr, "hvctl: cp: the container path is too long\n");
		return HVCTL_EXIT_USAGE;
	}
	return s ? cp_out(c, rd, src, dst, timeout_s) : cp_in(c, rd, src, dst, timeout_s);
}
