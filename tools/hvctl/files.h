/* SPDX-License-Identifier: MIT */
/* hvctl's one way to read a whole local file (a profile, a file to hash or change). */
#ifndef HVCTL_FILES_H
#define HVCTL_FILES_H

#include <stddef.h>

/* The whole of path (at most max bytes) in a malloc'd buffer with a NUL after it, its
 * length in *len. NULL with errno set: fopen's, EIO on a read error, ENOMEM, or EFBIG when
 * the file holds more than max bytes. */
char *file_read(const char *path, size_t max, size_t *len);

#endif
