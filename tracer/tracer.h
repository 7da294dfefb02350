/* tracer: run a program under ptrace with breakpoints on the probe sites that
 * symbols/ finds, and feed (function, RSS delta) records to report/. */
#ifndef IPROFMEM_TRACER_H
#define IPROFMEM_TRACER_H

#include "tracer/rss.h"

struct report;

struct tracer_opts {
	enum rss_source rss_source;
};

/* Launch `path` with argv (argv[0] as the user gave it) and trace it to its
 * end.  Returns 0 with the program's wait status in *status, or an iprofmem
 * exit status (126, 127: the program could not be started; 125: tracing
 * failed) after printing one line saying why. */
int tracer_launch(const char *path, char *const argv[], struct report *rep,
		  const struct tracer_opts *opts, int *status);

#endif
