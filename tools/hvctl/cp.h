/* hvctl cp: files in and out of a container through the monitor's cp and upload verbs. */
#ifndef HVCTL_CP_H
#define HVCTL_CP_H

#include <stdbool.h>

#include "conn.h"
#include "request.h"

/* "NAME:/PATH" (a container side), as the monitor's cp takes it. */
bool hvctl_cp_is_container_path(const char *s);
/* cp SRC DST with one side a container path and the other a local file ("-": stdin or
 * stdout). Returns an enum hvctl_exit. */
int hvctl_cp(struct conn *c, struct reader *rd, const char *src, const char *dst, double timeout_s);

#endif
