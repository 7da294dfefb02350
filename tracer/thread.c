#include "tracer/thread.h"

#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util.h"

struct thread *thread_find(struct thread_table *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->threads[i].tid == tid)
			return &t->threads[i];
	return NULL;
}

struct thread *thread_add(struct thread_table *t, pid_t tid)
{
	struct thread *th = thread_find(t, tid);

	if (th)
		return th;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->threads = xreallocarray(t->threads, t->cap, sizeof(*t->threads));
	}
	th = &t->threads[t->n++];
	memset(th, 0, sizeof(*th));
	th->tid = tid;
	return th;
}

void thread_remove(struct thread_table *t, pid_t tid)
{
	struct thread *th = thread_find(t, tid);

	if (!th)
		return;
	free(th->stack);
	*th = t->threads[--t->n];
}

void thread_table_free(struct thread_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->threads[i].stack);
	free(t->threads);
	memset(t, 0, sizeof(*t));
}

void thread_copy_stack(struct thread *to, const struct thread *from)
{
	free(to->stack);
	to->cap = to->depth = from->depth;
	to->stack = to->cap ? xmalloc(to->cap * sizeof(*to->stack)) : NULL;
	if (to->depth)
		memcpy(to->stack, from->stack, to->depth * sizeof(*to->stack));
}

void thread_take_frames(struct thread *to, struct thread *from)
{
	free(to->stack);
	to->stack = from->stack;
	to->depth = from->depth;
	to->cap = from->cap;
	to->tail_pending = from->tail_pending;
	to->tail_sp = from->tail_sp;
	to->tail_fn = from->tail_fn;
	from->stack = NULL;
	from->depth = from->cap = 0;
	from->tail_pending = false;
}

/* Drop frames entered at or below sp: a new call at sp, or a return to
 * above it, means they can no longer return normally. */
static void drop_frames_below(struct thread *th, uint64_t sp)
{
	while (th->depth && th->stack[th->depth - 1].sp < sp)
		th->depth--;
}

/* A trap during the call of the top frame: its high-water mark. */
static void note_rss(struct thread *th, int64_t rss)
{
	struct frame *top = th->depth ? &th->stack[th->depth - 1] : NULL;

	if (top && rss > top->peak_rss)
		top->peak_rss = rss;
}

bool thread_enter_unwinds(const struct thread *th, uint64_t sp)
{
	return th->depth && th->stack[th->depth - 1].sp <= sp;
}

static void push_frame(struct thread *th, struct report *rep, int32_t fn,
		       uint64_t sp, const struct trap *t, bool chained)
{
	int parent = th->depth ? th->stack[th->depth - 1].path : REPORT_ROOT;
	uint32_t chain = chained ? th->stack[th->depth - 1].chain + 1 : 0;

	if (th->depth == th->cap) {
		th->cap = th->cap ? 2 * th->cap : 64;
		th->stack = xreallocarray(th->stack, th->cap, sizeof(*th->stack));
	}
	th->stack[th->depth++] = (struct frame){
		.sp = sp, .rss = t->rss, .peak_rss = t->rss, .fn = fn,
		/* a caller whose own path failed (out of memory) starts
		 * a path from the root: the call is still measured */
		.path = report_path(rep, parent < 0 ? REPORT_ROOT : parent, fn),
		.t_entry = t->time, .chained = chained,
		.chain = chain,
	};
}

/* The top frame ends at t: its delta, self and peak are recorded, and its
 * caller learns what it added and how high RSS went.  Returns whether it
 * was chained (its tail caller ends with it). */
static bool pop_frame(struct thread *th, struct report *rep,
		      const struct trap *t)
{
	struct frame f = th->stack[--th->depth];
	struct report_call c;

	if (f.path < 0 || t->rss < 0 || f.rss < 0)
		return f.chained;
	if (t->rss > f.peak_rss)
		f.peak_rss = t->rss;
	c = (struct report_call){
		.delta = t->rss - f.rss,
		.self = t->rss - f.rss - f.child_added,
		.peak = f.peak_rss - f.rss,
		.t_entry = f.t_entry,
		.t_return = t->time,
	};
	report_record_call(rep, f.path, &c);
	if (th->depth) {
		struct frame *caller = &th->stack[th->depth - 1];

		if (c.delta > 0)
			caller->child_added += c.delta;
		if (f.peak_rss > caller->peak_rss)
			caller->peak_rss = f.peak_rss;
	}
	return f.chained;
}

/* The frame of fn in the chain of tail calls on top of the stack (frames
 * at sp linked by `chained`), or -1; only once the chain is long: shorter
 * chains are kept whole, as -O0 code would keep their frames (a recursion
 * of even() and odd() gets the same rows at -O0 and -O2). */
static long chain_find(const struct thread *th, int32_t fn, uint64_t sp)
{
	if (!th->depth || th->stack[th->depth - 1].chain < THREAD_CHAIN_MAX)
		return -1;
	for (size_t i = th->depth; i && th->stack[i - 1].sp == sp; i--) {
		if (th->stack[i - 1].fn == fn)
			return (long)i - 1;
		if (!th->stack[i - 1].chained)
			break;
	}
	return -1;
}

/* Is an entry of fn at sp the one that the pending tail call announced
 * (its callee, in the frame that jumped)? */
static bool takes_tail_call(const struct thread *th, int32_t fn, uint64_t sp)
{
	return th->tail_pending && sp == th->tail_sp && fn == th->tail_fn &&
	       th->depth && th->stack[th->depth - 1].sp == sp;
}

bool thread_enter_ends_frames(const struct thread *th, int32_t fn,
			      uint64_t sp)
{
	return !takes_tail_call(th, fn, sp) && thread_enter_unwinds(th, sp);
}

void thread_enter(struct thread *th, struct report *rep, int32_t fn,
		  uint64_t sp, const struct trap *t, bool keep_frames)
{
	bool chain = false;
	long again;

	/* a signal handler running deeper does not consume the tail call
	 * that its thread was making */
	if (th->tail_pending && sp >= th->tail_sp) {
		chain = takes_tail_call(th, fn, sp);
		th->tail_pending = false;
	}
	if (chain && (again = chain_find(th, fn, sp)) >= 0) {
		while (th->depth > (size_t)again + 1)
			pop_frame(th, rep, t);
		note_rss(th, t->rss);
		return;
	}
	while (!chain && !keep_frames && thread_enter_unwinds(th, sp))
		th->depth--;
	note_rss(th, t->rss);
	push_frame(th, rep, fn, sp, t, chain);
}

/* The entry would neither end frames, nor take a tail call announced,
 * nor chain: a plain push, which the return pops. */
bool thread_leaf_ok(const struct thread *th, uint64_t sp)
{
	return !thread_enter_unwinds(th, sp) &&
	       !(th->tail_pending && sp >= th->tail_sp);
}

/* push_frame then pop_frame with the same RSS: the caller's peak, the
 * call counted on its path with a delta, self and peak of 0. */
void thread_leaf_call(struct thread *th, struct report *rep, int32_t fn,
		      const struct trap *t)
{
	int parent = th->depth ? th->stack[th->depth - 1].path : REPORT_ROOT;
	int path = report_path(rep, parent < 0 ? REPORT_ROOT : parent, fn);
	const struct report_call c = {
		.t_entry = t->time, .t_return = t->time,
	};

	note_rss(th, t->rss);
	if (path >= 0 && t->rss >= 0)
		report_record_call(rep, path, &c);
}

/* Find the frame that a return of fn at sp ends, and drop what lies above
 * it; true when it is on top. */
static bool return_frame(struct thread *th, int32_t fn, uint64_t sp)
{
	drop_frames_below(th, sp);
	if (th->depth && th->stack[th->depth - 1].sp != sp) {
		/* Above fn's frame, frames at a higher sp: those of a handler
		 * on an alternate stack that siglongjmp left.  Only then does
		 * this search run (and a return with no frame: entered before
		 * an attach). */
		size_t i = th->depth;

		while (i && !(th->stack[i - 1].sp == sp && th->stack[i - 1].fn == fn))
			i--;
		if (i)
			th->depth = i;
	}
	return th->depth && th->stack[th->depth - 1].sp == sp;
}

int32_t thread_return(struct thread *th, struct report *rep, int32_t fn,
		      uint64_t sp, const struct trap *t)
{
	int32_t last;

	if (!return_frame(th, fn, sp))
		return -1;
	if (th->stack[th->depth - 1].fn != fn) {
		th->depth--;	/* not fn's: a frame we cannot account */
		return -1;
	}
	/* the frames that tail-called into this one end with it */
	do
		last = th->stack[th->depth - 1].fn;
	while (pop_frame(th, rep, t) && th->depth &&
	       th->stack[th->depth - 1].sp == sp);
	return last;
}

void thread_tail_call(struct thread *th, struct report *rep, int32_t fn,
		      int32_t callee, uint64_t sp, const struct trap *t)
{
	if (!return_frame(th, fn, sp) || th->stack[th->depth - 1].fn != fn) {
		thread_return(th, rep, fn, sp, t);
		return;
	}
	note_rss(th, t->rss);
	th->tail_pending = true;
	th->tail_sp = sp;
	th->tail_fn = callee;
}
