/* thread: per-thread state of a traced thread, with its shadow stack of
 * traced calls in progress. */
#ifndef IPROFMEM_THREAD_H
#define IPROFMEM_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

struct report;
struct process;

struct frame {
	uint64_t sp;		/* stack pointer at entry (points at the return
				   address) */
	int64_t rss;		/* RSS at entry, bytes */
	int64_t peak_rss;	/* highest RSS seen during the call */
	int64_t child_added;	/* positive deltas of its direct callees */
	uint64_t t_entry;	/* ns since the trace began */
	int32_t fn;		/* report id of the function */
	int32_t path;		/* report id of the call path, or -1 */
	bool chained;		/* entered by a tail call of the frame below
				   (same sp): that frame ends when this one
				   does */
	uint32_t chain;		/* how many chained frames lie below */
};

/* A chain of tail calls longer than this folds back on itself (see
 * thread_enter). */
#define THREAD_CHAIN_MAX 1024

/* Frames a thread left without their returns, kept in case it comes back
 * to them: a coroutine (swapcontext, a fiber) switched its stack away in
 * their calls.  A longjmp's or an exception's are never come back to, and
 * age out: at most THREAD_PARK_MAX frames a thread, the oldest go first. */
#define THREAD_PARK_MAX 4096
struct parked {
	struct frame *frames;	/* bottom first */
	size_t n;
	/* the frame they were above (base_fn -1: none), which they go
	 * back on when it is still there (-2: on top, wherever) */
	uint64_t base_sp, base_t;
	int32_t base_fn;
};

/* What a trap saw. */
struct trap {
	int64_t rss;		/* bytes, or -1 when it could not be read */
	uint64_t time;		/* ns since the trace began */
};

struct thread {
	pid_t tid;
	struct process *proc;	/* NULL while held */
	bool detach_at_exec;	/* a vfork child we do not follow: it shares
				   its parent's memory until it execs */
	bool held;		/* first stop seen before its creation event:
				   kept stopped until we know what it is */
	bool started;		/* its creation event was seen */
	bool await_int3;	/* ...made without a thread pointer of its
				   own: held until its process has gone over
				   to the int3 engine (switch_to_int3) */
	bool await_world;	/* at the rendezvous, with other threads
				   running: held until world_sync */
	uint64_t synced_sp;	/* ...looked at by world_sync with this stack
				   pointer: its breakpoint, hit again, goes
				   on (0: not) */
	bool stopped;		/* in a ptrace stop, not resumed yet (only
				   while the tracer quiesces the process) */
	bool group_stop;	/* ...in a group stop: resume with LISTEN */
	bool event_stop;	/* ...in a ptrace event stop (inside a system
				   call): no system call can be injected */
	int pending_sig;	/* ...with this signal to deliver */
	int owed_stop;		/* a stop signal taken while it ran our code,
				   for its next resume to deliver */
	bool rescued;		/* detached by the out-of-memory path */
	uint64_t key;		/* its fs base, once seen (probed processes
				   keep shadow stacks by it) */
	int leaving;		/* stepping out of probe code by single
				   steps, signals held */
	int steps;
	int nheld;
	siginfo_t held_si[4];
	uint64_t resume_pc, resume_sp;	/* as resumed from its last
					   breakpoint */
	bool tail_pending;	/* the top frame, at tail_sp, jumped to the
				   entry of tail_fn (a tail call) */
	uint64_t tail_sp;
	int32_t tail_fn;
	uint64_t jump_dest;	/* the last RING_DEST's target (probes.c) */
	struct frame *stack;
	size_t depth, cap;
	/* a ring of cap_parked (a power of 2) groups, nparked of them
	 * from park_head on, oldest first */
	struct parked *parked;
	size_t park_head, nparked, cap_parked, parked_frames;
};

struct thread_table {
	struct thread *threads;
	size_t n, cap;
};

struct thread *thread_find(struct thread_table *t, pid_t tid);
struct thread *thread_add(struct thread_table *t, pid_t tid);
void thread_remove(struct thread_table *t, pid_t tid);
void thread_table_free(struct thread_table *t);
/* Forget every frame of th, parked ones too (its thread ended). */
void thread_clear_frames(struct thread *th);
/* ...and free their memory. */
void thread_free_frames(struct thread *th);
/* Give `to` a copy of the frames of `from`, parked ones too (a forked
 * child returns through its parent's frames). */
void thread_copy_stack(struct thread *to, const struct thread *from);
/* Move the frames of `from` (and its pending tail call) to `to`, whose
 * own go: a shadow stack kept by thread key becomes the thread's. */
void thread_take_frames(struct thread *to, struct thread *from);

/* Would a call entered at sp end frames (entered at or below sp)?  Normally
 * frames that a longjmp or an exception left; but a signal handler on an
 * alternate stack (sigaltstack) may be entered above the frames it
 * interrupted, which are alive. */
bool thread_enter_unwinds(const struct thread *th, uint64_t sp);
/* Would thread_enter of fn at sp end frames unless told to keep them?
 * thread_enter_unwinds, but not for the entry that a pending tail call
 * announced, which chains on the frame at sp: only then is keep_frames
 * worth working out. */
bool thread_enter_ends_frames(const struct thread *th, int32_t fn,
			      uint64_t sp);
/* A traced function was entered with stack pointer sp: its call path is
 * its caller's (the frame below) extended by fn.  Frames entered at or
 * below sp are left (parked) unless keep_frames (a handler on another
 * stack).
 * The entry that a tail call announced (thread_tail_call) keeps the frame
 * that jumped: the callee is chained on it, as a call at -O0 would be.
 * Past THREAD_CHAIN_MAX chained frames, a chain that comes back to a
 * function already in it (a state machine, mutual recursion) ends the
 * frames above that function's and its frame goes on: the shadow stack
 * stays bounded however long the chain. */
void thread_enter(struct thread *th, struct report *rep, int32_t fn,
		  uint64_t sp, const struct trap *t, bool keep_frames);
/* A return site of fn was reached with stack pointer sp: frames entered
 * deeper than sp are gone (longjmp, exceptions) and are left (parked), and
 * so are frames above fn's own frame at sp (a handler on another stack
 * that was left by longjmp); the frame entered at sp, if it is fn's,
 * returns: its delta, self (less what its direct callees added) and peak
 * are recorded, and its caller learns what it added and how high RSS
 * went.  With no frame of fn at sp on the stack, a parked one (a
 * coroutine's stack switched back to) comes back with the frames parked
 * below it, on the frame they had left if it is still there (the frames
 * above that are parked in turn), and returns.  Returns the function of
 * the last frame that ended (the first of a chain of tail calls), or -1
 * when none did. */
int32_t thread_return(struct thread *th, struct report *rep, int32_t fn,
		      uint64_t sp, const struct trap *t);
/* Is a frame of fn at sp on th's stack or parked? */
bool thread_has_frame(const struct thread *th, int32_t fn, uint64_t sp);
/* A return of fn at sp in thread `to` that has no frame of it: a
 * coroutine (a goroutine, a fiber) that another thread, `from`, ran into
 * the call, and `to` resumed.  The frame, parked in `from` (with the
 * frames parked below it) or on its stack (alone: its callees there stay
 * parked in `from`), moves to `to` as thread_return would bring a parked
 * one back.  True when `from` had it. */
bool thread_adopt(struct thread *to, struct thread *from, int32_t fn,
		  uint64_t sp);
/* A call of fn entered at sp that returned at once, with t's RSS at both
 * events and no event between: thread_leaf_call does what thread_enter
 * then thread_return would, without the frame, when thread_leaf_ok(sp)
 * says they would do only a push and its pop. */
bool thread_leaf_ok(const struct thread *th, uint64_t sp);
void thread_leaf_call(struct thread *th, struct report *rep, int32_t fn,
		      const struct trap *t);
/* A return site of fn, at sp, jumps to the entry of the traced function
 * callee (a tail call): fn's frame stays open until callee's frame ends,
 * as if fn had called it, so that the callee's memory counts for fn at
 * -O2 as at -O0.  Without a frame of fn at sp, as thread_return. */
void thread_tail_call(struct thread *th, struct report *rep, int32_t fn,
		      int32_t callee, uint64_t sp, const struct trap *t);

#endif
