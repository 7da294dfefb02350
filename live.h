/* live: --interval, the view of what has been measured so far, written
 * every interval while the tracer runs: to -o FILE (replaced atomically),
 * redrawn in place on a terminal, or appended to stderr. */
#ifndef IPROFMEM_LIVE_H
#define IPROFMEM_LIVE_H

#include <stdio.h>
#include <sys/types.h>

struct live_opts {
	double interval;		/* seconds, > 0 */
	const char *output;		/* -o FILE, or NULL: stderr */
	const pid_t *pids;		/* -p: whose RSS heads the view */
	size_t npids;
	int (*write)(FILE *fp, void *arg);	/* the view; 0 or -1 */
	void *arg;
};

/* Before tracing: install the timer's signal handler.  The timer starts at
 * the first tick, inside the tracer's loop.  Returns 0, or -1 after saying
 * why. */
int live_start(const struct live_opts *o);
/* The tracer's tick (struct tracer_opts): writes the view when an interval
 * has passed.  arg is unused; leader is the launched program, or 0. */
void live_tick(void *arg, pid_t leader);
/* After tracing: stop the timer; the signal is ignored from then on. */
void live_stop(void);

#endif
