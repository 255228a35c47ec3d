/* libFuzzer: base64 as `upload data` and hvctl cp take it from the console. Whatever is
 * decoded must encode back to the same text (the alphabet is canonical only with zero
 * padding bits, so only that direction is checked after a successful decode of a
 * re-encoding). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = malloc(size + 1);
	char *text = malloc(BASE64_LEN(size) + 1);
	uint8_t *back = malloc(size + 1);
	if (!out || !text || !back)
		abort();
	long n = base64_decode((const char *)data, size, out, size);
	if (n >= 0) {
		size_t len = base64_encode(out, (size_t)n, text);
		long m = base64_decode(text, len, back, size + 1);
		if (m != n || memcmp(back, out, (size_t)n) != 0)
			abort();
	}
	size_t len = base64_encode(data, size, text);
	if (base64_decode(text, len, back, size + 1) != (long)size || memcmp(back, data, size) != 0)
		abort();
	free(out);
	free(text);
	free(back);
	return 0;
}
