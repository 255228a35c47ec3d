/* SPDX-License-Identifier: MIT */
/* hvctl's whole-file reader (files.h). */
#include "files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

char *file_read(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int err = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (n + 65536 + 1 > cap) {
			char *b = realloc(buf, cap = n + 4 * 65536 + 1);
			if (b == NULL) {
				err = ENOMEM;
				break;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, cap - 1 - n, f);
		n += got;
		if (n > max) {
			err = EFBIG;
			break;
		}
		if (got == 0) {
			if (ferror(f))
				err = EIO;
			break;
		}
	}
	fclose(f);
	if (err != 0) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}
