/* Compressed reply bodies (docs/console-protocol.md, "Compressed replies"): body lines
 * "~BASE64" of one raw deflate stream, inflated here with Debian's zlib. */
#ifndef HVCTL_ZREPLY_H
#define HVCTL_ZREPLY_H

#include <stdbool.h>
#include <stddef.h>

/* Does the body (lines ended by '\n') hold compressed lines? */
bool zreply_is_compressed(const char *text, size_t len);

/* The body's text: the "~" lines inflated (the zlib format: its Adler-32 must match); a log
 * line among them (written between two steps of a reply) is kept where it came, as in a
 * plain body; any other line is damage. *out (malloc'd, NUL-terminated, *out_len bytes, "\r\n" line
 * ends as the monitor wrote them turned into "\n") on success: 0. -1 with why on a damaged
 * stream (bad base64, inflate's error, lines after its end); *out then holds what could be
 * inflated before the damage. */
int zreply_inflate(const char *text, size_t len, char **out, size_t *out_len, char *why,
		   size_t cap);

#endif
