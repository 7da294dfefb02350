/* thread: per-thread state of a traced thread, with its shadow stack of
 * traced calls in progress. */
#ifndef IPROFMEM_THREAD_H
#define IPROFMEM_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct report;
struct process;

struct frame {
	uint64_t sp;		/* stack pointer at entry (points at the return
				   address) */
	int64_t rss;		/* RSS at entry, bytes */
	int32_t fn;		/* report id */
};

struct thread {
	pid_t tid;
	struct process *proc;	/* NULL while held */
	bool detach_at_exec;	/* a vfork child we do not follow: it shares
				   its parent's memory until it execs */
	bool held;		/* first stop seen before its creation event:
				   kept stopped until we know what it is */
	bool started;		/* its creation event was seen */
	bool stopped;		/* in a ptrace stop, not resumed yet (only
				   while the tracer quiesces the process) */
	bool group_stop;	/* ...in a group stop: resume with LISTEN */
	bool event_stop;	/* ...in a ptrace event stop (inside a system
				   call): no system call can be injected */
	int pending_sig;	/* ...with this signal to deliver */
	struct frame *stack;
	size_t depth, cap;
};

struct thread_table {
	struct thread *threads;
	size_t n, cap;
};

struct thread *thread_find(struct thread_table *t, pid_t tid);
struct thread *thread_add(struct thread_table *t, pid_t tid);
void thread_remove(struct thread_table *t, pid_t tid);
void thread_table_free(struct thread_table *t);
/* Give `to` a copy of the frames of `from` (a forked child returns through
 * its parent's frames). */
void thread_copy_stack(struct thread *to, const struct thread *from);

/* A traced function was entered with stack pointer sp. */
void thread_enter(struct thread *th, int32_t fn, uint64_t sp, int64_t rss);
/* A return site of fn was reached with stack pointer sp: frames entered
 * deeper than sp are gone (longjmp, exceptions) and are dropped; the frame
 * entered at sp, if it is fn's, returns and its delta is recorded. */
void thread_return(struct thread *th, struct report *rep, int32_t fn,
		   uint64_t sp, int64_t rss);

#endif
