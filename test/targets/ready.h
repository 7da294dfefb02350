/* ready.h: how an attach-mode target tells its test that it waits (the
 * test then attaches): "PID PPID\n" in the file READY, written under
 * another name and renamed, so that the test never reads half of it.
 * Exits 99 when it cannot be written.  (sig.c keeps a copy of its own
 * that takes no READY too: its tests find its functions' lines in it.) */
#ifndef TARGETS_READY_H
#define TARGETS_READY_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void
ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(99);
	}
}

#endif
