/* Inflating a compressed reply body (zreply.h). */
#include "zreply.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "console/proto.h"
#include "lib/base64.h"

bool zreply_is_compressed(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '~' && (i == 0 || text[i - 1] == '\n'))
			return true;
	}
	return false;
}

struct outbuf {
	char *p;
	size_t len, cap;
};

static int out_room(struct outbuf *o, size_t n)
{
	if (o->len + n + 1 <= o->cap)
		return 0;
	size_t cap = o->cap ? o->cap : 4096;
	while (cap < o->len + n + 1)
		cap *= 2;
	char *q = realloc(o->p, cap);
	if (q == NULL)
		return -1;
	o->p = q;
	o->cap = cap;
	return 0;
}

/* The inflated bytes, with "\r\n" taken as "\n" (a "\r" that ends one chunk and a "\n"
 * that starts the next included). */
static int out_add(struct outbuf *o, const unsigned char *s, size_t n)
{
	if (out_room(o, n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && o->len > 0 && o->p[o->len - 1] == '\r')
			o->len--;
		o->p[o->len++] = (char)s[i];
	}
	o->p[o->len] = '\0';
	return 0;
}

int zreply_inflate(const char *text, size_t len, char **out, size_t *out_len, char *why, size_t cap)
{
	struct outbuf o = {0};
	z_stream z = {0};
	int rc = -1;
	bool ended = false;
	uint8_t *raw = malloc(len + 1);

	*out = NULL;
	*out_len = 0;
	/* the zlib format: inflate checks the body's Adler-32 at the stream's end */
	if (raw == NULL || out_room(&o, 0) != 0 || inflateInit2(&z, 15) != Z_OK) {
		snprintf(why, cap, "out of memory");
		free(raw);
		free(o.p);
		return -1;
	}
	o.p[0] = '\0';
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len, n = end - at;
		const char *line = text + at;
		at = end + 1;
		if (n == 0)
			continue;
		if (line[0] != '~' && !proto_is_log_line(line, n)) {
			snprintf(why, cap,
				 "a line that is neither compressed nor the monitor's log: "
				 "\"%.40s\"",
				 line);
			goto done;
		}
		if (line[0] != '~') {
			/* the monitor's own message (its log goes to the console too), between
			 * two pieces of the stream: where it came, as in a plain body */
			if (out_add(&o, (const unsigned char *)line, n) != 0 ||
			    out_add(&o, (const unsigned char *)"\n", 1) != 0) {
				snprintf(why, cap, "out of memory");
				goto done;
			}
			continue;
		}
		if (ended) {
			snprintf(why, cap, "compressed lines after the stream's end");
			goto done;
		}
		long got = base64_decode(line + 1, n - 1, raw, len);
		if (got < 0) {
			snprintf(why, cap, "a compressed line is not base64");
			goto done;
		}
		z.next_in = raw;
		z.avail_in = (uInt)got;
		while (z.avail_in > 0 && !ended) {
			unsigned char buf[16384];
			z.next_out = buf;
			z.avail_out = sizeof(buf);
			int zr = inflate(&z, Z_SYNC_FLUSH);
			if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
				snprintf(why, cap, "the compressed body is damaged (%s)",
					 z.msg ? z.msg : "inflate failed");
				goto done;
			}
			if (out_add(&o, buf, sizeof(buf) - z.avail_out) != 0) {
				snprintf(why, cap, "out of memory");
				goto done;
			}
			ended = zr == Z_STREAM_END;
			if (zr == Z_BUF_ERROR && z.avail_out == sizeof(buf))
				break; /* no progress: wants more input */
		}
	}
	if (!ended) {
		snprintf(why, cap, "the compressed body ends before its stream does");
		goto done;
	}
	rc = 0;
done:
	inflateEnd(&z);
	free(raw);
	*out = o.p;
	*out_len = o.len;
	return rc;
}
