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
	thread_free_frames(th);
	*th = t->threads[--t->n];
}

void thread_table_free(struct thread_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		thread_free_frames(&t->threads[i]);
	free(t->threads);
	memset(t, 0, sizeof(*t));
}

/* The g-th oldest group of parked frames. */
static struct parked *park_at(const struct thread *th, size_t g)
{
	return &th->parked[(th->park_head + g) & (th->cap_parked - 1)];
}

void thread_clear_frames(struct thread *th)
{
	th->depth = 0;
	for (size_t g = 0; g < th->nparked; g++)
		free(park_at(th, g)->frames);
	th->park_head = th->nparked = th->parked_frames = 0;
}

void thread_free_frames(struct thread *th)
{
	thread_clear_frames(th);
	free(th->stack);
	free(th->parked);
	th->stack = NULL;
	th->parked = NULL;
	th->cap = th->cap_parked = 0;
}

static struct frame *frames_dup(const struct frame *f, size_t n)
{
	struct frame *c = n ? xmalloc(n * sizeof(*c)) : NULL;

	if (n)
		memcpy(c, f, n * sizeof(*c));
	return c;
}

void thread_copy_stack(struct thread *to, const struct thread *from)
{
	thread_free_frames(to);
	to->cap = to->depth = from->depth;
	to->stack = frames_dup(from->stack, from->depth);
	to->cap_parked = from->cap_parked;
	to->nparked = from->nparked;
	to->parked_frames = from->parked_frames;
	to->parked = to->cap_parked ?
		     xmalloc(to->cap_parked * sizeof(*to->parked)) : NULL;
	for (size_t g = 0; g < from->nparked; g++) {
		const struct parked *pk = park_at(from, g);

		to->parked[g] = *pk;
		to->parked[g].frames = frames_dup(pk->frames, pk->n);
	}
}

void thread_take_frames(struct thread *to, struct thread *from)
{
	thread_free_frames(to);
	to->stack = from->stack;
	to->depth = from->depth;
	to->cap = from->cap;
	to->parked = from->parked;
	to->park_head = from->park_head;
	to->nparked = from->nparked;
	to->cap_parked = from->cap_parked;
	to->parked_frames = from->parked_frames;
	to->tail_pending = from->tail_pending;
	to->tail_sp = from->tail_sp;
	to->tail_fn = from->tail_fn;
	from->stack = NULL;
	from->depth = from->cap = 0;
	from->parked = NULL;
	from->park_head = from->nparked = from->cap_parked = 0;
	from->parked_frames = 0;
	from->tail_pending = false;
}

/* The oldest parked frames go. */
static void unpark_oldest(struct thread *th)
{
	struct parked *pk = park_at(th, 0);

	th->parked_frames -= pk->n;
	free(pk->frames);
	th->park_head = (th->park_head + 1) & (th->cap_parked - 1);
	th->nparked--;
}

/* The g-th oldest group leaves the ring, the newer ones move down. */
static void unpark_group(struct thread *th, size_t g)
{
	th->parked_frames -= park_at(th, g)->n;
	for (; g + 1 < th->nparked; g++)
		*park_at(th, g) = *park_at(th, g + 1);
	th->nparked--;
}

/* Frames [from, depth) leave the stack without returning.  A longjmp or
 * an exception left them for good; a coroutine's switch of stacks (a
 * call entered on another stack, above them, or a return there) may come
 * back to them: they are parked, as one group over the frame below them,
 * for thread_return to find (unpark).  Bounded: past THREAD_PARK_MAX
 * frames the oldest groups go, and a bigger group is not kept. */
static void park_frames(struct thread *th, size_t from)
{
	size_t n = th->depth - from;
	struct parked *pk;

	th->depth = from;
	if (!n || n > THREAD_PARK_MAX)
		return;
	while (th->parked_frames + n > THREAD_PARK_MAX)
		unpark_oldest(th);
	if (th->nparked == th->cap_parked) {
		size_t cap = th->cap_parked ? 2 * th->cap_parked : 8;
		struct parked *ring = xreallocarray(NULL, cap, sizeof(*ring));

		for (size_t g = 0; g < th->nparked; g++)
			ring[g] = *park_at(th, g);
		free(th->parked);
		th->parked = ring;
		th->cap_parked = cap;
		th->park_head = 0;
	}
	pk = park_at(th, th->nparked++);
	*pk = (struct parked){
		.frames = frames_dup(th->stack + from, n), .n = n,
		.base_sp = from ? th->stack[from - 1].sp : 0,
		.base_t = from ? th->stack[from - 1].t_entry : 0,
		.base_fn = from ? th->stack[from - 1].fn : -1,
	};
	th->parked_frames += n;
}

/* Where parked frames above base go back: above that frame if it is
 * still on the stack, at the bottom if they had none (base_fn -1), else
 * on top (and always for base_fn -2: a frame from another thread's
 * stack). */
static size_t park_base(const struct thread *th, const struct parked *pk)
{
	if (pk->base_fn == -1)
		return 0;
	for (size_t i = th->depth; i; i--) {
		const struct frame *f = &th->stack[i - 1];

		if (f->sp == pk->base_sp && f->t_entry == pk->base_t &&
		    f->fn == pk->base_fn)
			return i;
	}
	return th->depth;
}

/* The newest parked group of th holding a frame of fn at sp: its index
 * (g) and the frame's (k). */
static bool parked_find(const struct thread *th, int32_t fn, uint64_t sp,
			size_t *g, size_t *k)
{
	for (*g = th->nparked; *g; (*g)--) {
		const struct parked *pk = park_at(th, *g - 1);

		for (*k = pk->n; *k; (*k)--)
			if (pk->frames[*k - 1].sp == sp &&
			    pk->frames[*k - 1].fn == fn) {
				(*g)--;
				(*k)--;
				return true;
			}
	}
	return false;
}

/* Group `got`, out of its ring, goes on th's stack over the frame it had
 * left (what is above that is parked), its frame k on top: the frames
 * parked above k stay parked, over it (left by a longjmp, or another
 * coroutine's, parked with these when a handler's entry whose stack
 * could not be read kept them: tracer_enter). */
static void restore(struct thread *th, struct parked got, size_t k)
{
	size_t at;

	park_frames(th, park_base(th, &got));
	at = th->depth;
	if (at + got.n > th->cap) {
		th->cap = at + got.n > 2 * th->cap ? at + got.n : 2 * th->cap;
		th->stack = xreallocarray(th->stack, th->cap,
					  sizeof(*th->stack));
	}
	memcpy(th->stack + at, got.frames, got.n * sizeof(*th->stack));
	th->depth = at + got.n;
	free(got.frames);
	park_frames(th, at + k + 1);
}

/* A return of fn at sp, whose frame is not on the stack: the newest
 * parked frame of fn at sp comes back (restore).  True when one did. */
static bool unpark(struct thread *th, int32_t fn, uint64_t sp)
{
	struct parked got;
	size_t g, k;

	if (!parked_find(th, fn, sp, &g, &k))
		return false;
	got = *park_at(th, g);
	unpark_group(th, g);
	restore(th, got, k);
	return true;
}

bool thread_has_frame(const struct thread *th, int32_t fn, uint64_t sp)
{
	size_t g, k;

	for (size_t i = th->depth; i; i--)
		if (th->stack[i - 1].sp == sp && th->stack[i - 1].fn == fn)
			return true;
	return parked_find(th, fn, sp, &g, &k);
}

bool thread_adopt(struct thread *to, struct thread *from, int32_t fn,
		  uint64_t sp)
{
	struct parked got;
	size_t g, k;

	if (parked_find(from, fn, sp, &g, &k)) {
		got = *park_at(from, g);
		unpark_group(from, g);
		restore(to, got, k);
		return true;
	}
	for (size_t i = from->depth; i; i--) {
		const struct frame *f = &from->stack[i - 1];

		if (f->sp != sp || f->fn != fn)
			continue;
		/* its callees there (none returned) are parked where they
		 * were; it goes over to's frames */
		park_frames(from, i);
		got = (struct parked){ .frames = frames_dup(f, 1), .n = 1,
				       .base_fn = -2 };
		from->depth = i - 1;
		restore(to, got, 0);
		return true;
	}
	return false;
}

/* Frames entered at or below sp leave: a new call at sp, or a return to
 * above it, means they can no longer return normally here. */
static void drop_frames_below(struct thread *th, uint64_t sp)
{
	size_t d = th->depth;

	while (d && th->stack[d - 1].sp < sp)
		d--;
	park_frames(th, d);
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
	if (!chain && !keep_frames) {
		size_t d = th->depth;

		while (d && th->stack[d - 1].sp <= sp)
			d--;
		park_frames(th, d);
	}
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

/* Find the frame that a return of fn at sp ends, on the stack or parked,
 * and park what lies above it; true when it is on top. */
static bool return_frame(struct thread *th, int32_t fn, uint64_t sp)
{
	drop_frames_below(th, sp);
	if (th->depth && th->stack[th->depth - 1].sp != sp) {
		/* Above fn's frame, frames at a higher sp: those of a handler
		 * on an alternate stack that siglongjmp left, or of another
		 * coroutine.  Only then does this search run (and a return
		 * with no frame: entered before an attach, or parked). */
		size_t i = th->depth;

		while (i && !(th->stack[i - 1].sp == sp && th->stack[i - 1].fn == fn))
			i--;
		if (i)
			park_frames(th, i);
	}
	if (!(th->depth && th->stack[th->depth - 1].sp == sp) && th->nparked)
		unpark(th, fn, sp);
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
