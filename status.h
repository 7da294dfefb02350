/* status: a status line on a terminal while tracing, so that a long run
 * does not look like a hang. */
#ifndef IPROFMEM_STATUS_H
#define IPROFMEM_STATUS_H

struct status;

/* Start drawing on stderr, if it is a terminal: elapsed time, calls
 * traced, calls per second, a few times a second, from a thread of its own
 * (which reads only report_progress_*).  When calls come fast for long,
 * one hint line names the most called functions.  NULL when there is
 * nothing to draw (not a terminal, or no thread). */
struct status *status_start(void);
/* Stop, and erase the line: what follows starts on a clean line. */
void status_stop(struct status *s);

#endif
