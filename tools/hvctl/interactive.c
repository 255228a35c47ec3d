/* The interactive loop shared by the live console and the dump reader. */
#include "interactive.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "request.h"

int hvctl_interactive(hvctl_run_line run, void *ctx)
{
	bool tty = isatty(STDIN_FILENO);
	int status = HVCTL_EXIT_OK;
	char *line = NULL;
	size_t cap = 0;

	for (;;) {
		if (tty) {
			fputs("hvctl> ", stdout);
			fflush(stdout);
		}
		ssize_t n = getline(&line, &cap, stdin);
		if (n < 0)
			break;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		char *start = line + strspn(line, " \t");
		if (*start == '\0')
			continue; /* blank: the monitor would not answer it either */
		if (strcmp(start, "quit") == 0 || strcmp(start, "exit") == 0)
			break;
		status = run(ctx, start, (size_t)n - (size_t)(start - line));
	}
	if (tty && feof(stdin))
		fputc('\n', stdout);
	free(line);
	return status;
}
