/* tracer: run a program under ptrace with breakpoints on the probe sites that
 * symbols/ finds, and feed (function, RSS delta) records to report/. */
#ifndef IPROFMEM_TRACER_H
#define IPROFMEM_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "tracer/rss.h"

struct report;
struct selection;

/* --engine: where a site's event comes from. */
enum engine {
	ENGINE_AUTO,	/* probes where safe, int3 elsewhere */
	ENGINE_PROBE,	/* the same, but an error where probes are impossible */
	ENGINE_INT3,	/* int3 everywhere */
};

struct tracer_opts {
	enum rss_source rss_source;
	enum engine engine;
	bool stats;		/* --stats: a summary on stderr at the end */
	bool no_gate;		/* --fault-gate=off: statm at every probe */
	bool follow_forks;	/* -f: trace forked children too */
	bool per_process;	/* one report per process */
	double duration;	/* seconds of tracing, then detach; 0: no limit */
	struct selection *sel;	/* what to trace */
	bool strict;		/* an entry matching nothing is an error */
	FILE *list_out;		/* --list-funcs: list there, run nothing */
	/* --interval (live.c): called by the event loop before each wait
	 * for an event, with the launched program's pid (0 when attached);
	 * a signal to iprofmem interrupts that wait.  NULL: none. */
	void (*tick)(void *arg, pid_t leader);
	void *tick_arg;
};

/* With per_process, the report of each traced process, in the order they
 * started; cmdline is the process's command line at its last exec. */
struct traced_process {
	pid_t pid;
	char *cmdline;
	struct report *rep;
};

struct trace_result {
	int status;			/* wait status of the launched program */
	pid_t running;			/* --duration: the program, detached
					   and still running (our child) */
	struct traced_process *procs;	/* per_process only */
	size_t nprocs;
};

/* Launch `path` with argv (argv[0] as the user gave it) and trace it to its
 * end, recording into `shared` (or, with per_process, into reports created
 * for each process, listed in res).  Returns 0, or an iprofmem exit status
 * (126, 127: the program could not be started; 125: tracing failed) after
 * printing one line saying why. */
int tracer_launch(const char *path, char *const argv[], struct report *shared,
		  const struct tracer_opts *opts, struct trace_result *res);
/* Attach to every thread of each process in pids, trace until SIGINT,
 * SIGTERM, SIGHUP, --duration or the processes' end, then detach leaving
 * them as if never traced.  Returns 0, or EXIT_ATTACH (could not attach;
 * nothing is left behind) or EXIT_IPROFMEM after printing why. */
int tracer_attach(const pid_t *pids, size_t npids, struct report *shared,
		  const struct tracer_opts *opts, struct trace_result *res);
void trace_result_free(struct trace_result *res);
/* After --duration in launch mode: wait for the program, for its status. */
void tracer_wait_program(struct trace_result *res);

#endif
