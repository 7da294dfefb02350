/* The tracer's own state, shared by its files (not by other modules). */
#ifndef IPROFMEM_TRACER_INTERNAL_H
#define IPROFMEM_TRACER_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "tracer/bptable.h"
#include "tracer/rss.h"
#include "tracer/thread.h"
#include "tracer/tracer.h"

/* A traced process (address space): its breakpoints, memory and RSS. */
struct process {
	pid_t pid;
	int memfd;		/* /proc/PID/mem, opened after each exec */
	struct rss rss;
	struct bp_table bps;
	uint64_t slot_lo, slot_hi;	/* the out-of-line area, if any */
	struct report *rep;	/* shared, or its own with per_process */
	size_t result;		/* index in trace_result.procs (per_process) */
	bool exec_seen;		/* its image has been loaded (launch: once
				   the program's exec happened) */
	bool exited;
};

struct tracer {
	const struct tracer_opts *opts;
	struct report *shared;
	struct trace_result *res;
	pid_t leader;		/* the launched program; 0 when attached */
	bool attach_mode;
	bool quiescing;		/* stopping every thread: "resume" records */
	bool detaching;		/* ...to let them all go */
	bool fatal;
	struct process **procs;
	size_t nprocs;
	struct thread_table threads;
	char **warned;		/* modules already warned about */
	size_t nwarned;
};

/* tracer.c */
void tracer_signals(struct tracer *tr);
void tracer_set_wake(pid_t tid);
char *tracer_read_cmdline(pid_t pid);
struct process *process_new(struct tracer *tr, pid_t pid,
			    const struct report *keys_from, const char *cmdline);
int process_open_files(struct tracer *tr, struct process *p);
bool tracer_quiesce(struct tracer *tr);
void tracer_resume_all(struct tracer *tr);
void tracer_detach_all(struct tracer *tr);
void tracer_run(struct tracer *tr);
void tracer_free(struct tracer *tr);

/* image.c: load the process's image and put an int3 on every site; tid is
 * a stopped thread of it that can run an injected system call (every other
 * thread stopped too). */
int process_trace_image(struct tracer *tr, struct process *p, pid_t tid);
/* Put the original bytes back at every site, through fd (another process's
 * copy of the same image: a fork child that is let go). */
void process_restore_bytes(const struct process *p, int fd);

#endif
