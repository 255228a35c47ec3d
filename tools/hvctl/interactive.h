/* The interactive loop shared by the live console and the dump reader. */
#ifndef HVCTL_INTERACTIVE_H
#define HVCTL_INTERACTIVE_H

#include <stddef.h>

/* Runs one request line (without its end, leading blanks removed, never empty); returns
 * an hvctl exit status. */
typedef int (*hvctl_run_line)(void *ctx, char *line, size_t len);

/* Reads lines from stdin (prompt "hvctl> " on a tty) until EOF, "quit" or "exit"; returns
 * the status of the last request (0 when there was none). */
int hvctl_interactive(hvctl_run_line run, void *ctx);

#endif
