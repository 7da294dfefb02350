/* Unit tests for tracer/thread: the shadow-stack rules, table-driven.
 * Every case is a sequence of what the tracer sees at its sites (an entry,
 * a return, a tail call, each with a stack pointer and RSS) and the calls
 * that must be recorded, in order.  The report is replaced by a recorder:
 * these are the rules both engines (int3 and probes) share. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "tracer/thread.h"

/* ---- a recording stand-in for report/ ---- */

enum { MAX_PATHS = 4096, MAX_CALLS = 8192 };

static struct { int parent, fn; } paths[MAX_PATHS];
static int npaths;

struct rec {
	int fn, caller;		/* caller: fn of the parent path, or -1 */
	int64_t delta, self, peak;
};
static struct rec recs[MAX_CALLS];
static int nrecs;

int report_path(struct report *r, int parent, int fn)
{
	(void)r;
	for (int i = 0; i < npaths; i++)
		if (paths[i].parent == parent && paths[i].fn == fn)
			return i;
	assert_true(npaths < MAX_PATHS);
	paths[npaths].parent = parent;
	paths[npaths].fn = fn;
	return npaths++;
}

void report_record_call(struct report *r, int path, const struct report_call *c)
{
	(void)r;
	assert_true(path >= 0 && path < npaths);
	assert_true(nrecs < MAX_CALLS);
	recs[nrecs++] = (struct rec){
		.fn = paths[path].fn,
		.caller = paths[path].parent < 0 ? -1 :
			  paths[paths[path].parent].fn,
		.delta = c->delta, .self = c->self, .peak = c->peak,
	};
}

/* ---- the cases ---- */

enum op { END, ENTER, ENTER_ALT, RET, TAIL };
enum { A, B, C, D, H, S, X };
#define PG 4096

struct step {
	enum op op;
	int fn;
	uint64_t sp;
	int64_t rss;		/* pages, or -1: unreadable */
	int callee;		/* TAIL */
};

struct want {
	int fn, caller;
	int64_t delta, self, peak;	/* pages */
};

struct tcase {
	const char *name;
	struct step steps[16];
	struct want want[8];
	int nwant;
	size_t depth;		/* frames left open */
};

static const struct tcase cases[] = {
	{ "a call", {
		{ ENTER, A, 1000, 0 }, { RET, A, 1000, 3 } },
	  { { A, -1, 3, 3, 3 } }, 1, 0 },
	{ "nested calls: self is less the callee's", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 960, 1 },
		{ RET, B, 960, 3 }, { RET, A, 1000, 4 } },
	  { { B, A, 2, 2, 2 }, { A, -1, 4, 2, 4 } }, 2, 0 },
	{ "memory given back: negative delta, the peak kept", {
		{ ENTER, A, 1000, 5 }, { ENTER, B, 960, 5 },
		{ RET, B, 960, 9 }, { RET, A, 1000, 6 } },
	  { { B, A, 4, 4, 4 }, { A, -1, 1, -3, 4 } }, 2, 0 },
	{ "longjmp: a return above ends the frames below it unrecorded", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 960, 1 },
		{ ENTER, C, 920, 2 }, { RET, A, 1000, 5 } },
	  { { A, -1, 5, 5, 5 } }, 1, 0 },
	{ "longjmp then a call at the same depth: the old frame ends", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 960, 1 },
		{ ENTER, C, 960, 2 }, { RET, C, 960, 4 },
		{ RET, A, 1000, 4 } },
	  { { C, A, 2, 2, 2 }, { A, -1, 4, 2, 4 } }, 2, 0 },
	{ "handler on a sigaltstack above: the frames it interrupted live", {
		{ ENTER, A, 1000, 0 }, { ENTER_ALT, H, 5000, 1 },
		{ RET, H, 5000, 2 }, { RET, A, 1000, 3 } },
	  { { H, A, 1, 1, 1 }, { A, -1, 3, 2, 3 } }, 2, 0 },
	{ "handler left by siglongjmp: its frame ends unrecorded", {
		{ ENTER, A, 1000, 0 }, { ENTER_ALT, H, 5000, 1 },
		{ RET, A, 1000, 2 } },
	  { { A, -1, 2, 2, 2 } }, 1, 0 },
	{ "a return whose frame is another function's: nothing recorded", {
		{ ENTER, A, 1000, 0 }, { RET, X, 1000, 2 } },
	  { { 0 } }, 0, 0 },
	{ "a return without a frame (entered before the attach)", {
		{ RET, A, 1000, 2 } },
	  { { 0 } }, 0, 0 },
	{ "unreadable RSS: the call ends unrecorded", {
		{ ENTER, A, 1000, -1 }, { RET, A, 1000, 2 } },
	  { { 0 } }, 0, 0 },
	{ "tail call into a traced function: the caller ends with it", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 1, B },
		{ ENTER, B, 1000, 1 }, { RET, B, 1000, 3 } },
	  { { B, A, 2, 2, 2 }, { A, -1, 3, 1, 3 } }, 2, 0 },
	{ "a chain of tail calls ends whole", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 1, B },
		{ ENTER, B, 1000, 1 }, { TAIL, B, 1000, 2, C },
		{ ENTER, C, 1000, 2 }, { RET, C, 1000, 4 } },
	  { { C, B, 2, 2, 2 }, { B, A, 3, 1, 3 }, { A, -1, 4, 1, 4 } }, 3, 0 },
	{ "a chained callee's nested call and return", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B },
		{ ENTER, B, 1000, 0 }, { ENTER, C, 960, 0 },
		{ RET, C, 960, 2 }, { RET, B, 1000, 3 } },
	  { { C, B, 2, 2, 2 }, { B, A, 3, 1, 3 }, { A, -1, 3, 0, 3 } }, 3, 0 },
	{ "mutual recursion by tail calls: every level, as at -O0", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B },
		{ ENTER, B, 1000, 0 }, { TAIL, B, 1000, 1, A },
		{ ENTER, A, 1000, 1 }, { TAIL, A, 1000, 1, B },
		{ ENTER, B, 1000, 1 }, { RET, B, 1000, 2 } },
	  { { B, A, 1, 1, 1 }, { A, B, 1, 0, 1 }, { B, A, 2, 1, 2 },
	    { A, -1, 2, 0, 2 } }, 4, 0 },
	{ "a deeper handler does not take the tail call's entry", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B },
		{ ENTER, H, 500, 0 }, { RET, H, 500, 1 },
		{ ENTER, B, 1000, 1 }, { RET, B, 1000, 2 } },
	  { { H, A, 1, 1, 1 }, { B, A, 1, 1, 1 }, { A, -1, 2, 0, 2 } }, 3, 0 },
	{ "a tail call without the caller's frame: the callee alone", {
		{ TAIL, A, 1000, 0, B }, { ENTER, B, 1000, 0 },
		{ RET, B, 1000, 2 } },
	  { { B, -1, 2, 2, 2 } }, 1, 0 },
	{ "an entry elsewhere cancels the tail call: the old frame ends", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B },
		{ ENTER, C, 1000, 1 }, { RET, C, 1000, 2 } },
	  { { C, -1, 1, 1, 1 } }, 1, 0 },
	{ "coroutines: a call left by a switch of stacks returns when its "
	  "stack comes back (the other coroutine's above it)", {
		{ ENTER, S, 1000, 0 }, { ENTER, A, 500, 0 },
		{ ENTER, B, 700, 1 }, { RET, B, 700, 3 },
		{ RET, A, 500, 4 }, { RET, S, 1000, 5 } },
	  { { B, S, 2, 2, 2 }, { A, S, 4, 4, 4 }, { S, -1, 5, -1, 5 } },
	  3, 0 },
	{ "coroutines: the other coroutine's stack below: its call looks "
	  "nested, and still returns after the one it lay on", {
		{ ENTER, S, 1000, 0 }, { ENTER, A, 700, 0 },
		{ ENTER, B, 500, 1 }, { RET, A, 700, 3 },
		{ RET, B, 500, 4 }, { RET, S, 1000, 5 } },
	  { { A, S, 3, 3, 3 }, { B, A, 3, 3, 3 }, { S, -1, 5, -1, 5 } },
	  3, 0 },
	{ "coroutines: calls come back over another caller than the one they "
	  "left", {
		{ ENTER, S, 1000, 0 }, { ENTER, A, 500, 0 },
		{ RET, S, 1000, 1 }, { ENTER, X, 1000, 1 },
		{ RET, A, 500, 3 }, { RET, X, 1000, 4 } },
	  { { S, -1, 1, 1, 1 }, { A, S, 3, 3, 3 }, { X, -1, 3, 0, 3 } },
	  3, 0 },
	{ "frames still open at the end", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 960, 1 } },
	  { { 0 } }, 0, 2 },
};

static void run_case(const struct tcase *c)
{
	struct thread th = { .tid = 1 };

	npaths = nrecs = 0;
	for (const struct step *s = c->steps; s->op != END; s++) {
		struct trap t = { .rss = s->rss < 0 ? -1 : s->rss * PG };

		switch (s->op) {
		case ENTER:
		case ENTER_ALT:
			thread_enter(&th, NULL, s->fn, s->sp, &t,
				     s->op == ENTER_ALT &&
				     thread_enter_unwinds(&th, s->sp));
			break;
		case RET:
			thread_return(&th, NULL, s->fn, s->sp, &t);
			break;
		case TAIL:
			thread_tail_call(&th, NULL, s->fn, s->callee, s->sp, &t);
			break;
		case END:
			break;
		}
	}
	if (nrecs != c->nwant || th.depth != c->depth)
		print_error("case '%s': %d calls, %zu open\n", c->name, nrecs,
			    th.depth);
	assert_int_equal(nrecs, c->nwant);
	assert_int_equal(th.depth, c->depth);
	for (int i = 0; i < c->nwant; i++) {
		const struct want *w = &c->want[i];

		if (recs[i].fn != w->fn || recs[i].delta != w->delta * PG)
			print_error("case '%s': call %d\n", c->name, i);
		assert_int_equal(recs[i].fn, w->fn);
		assert_int_equal(recs[i].caller, w->caller);
		assert_int_equal(recs[i].delta, w->delta * PG);
		assert_int_equal(recs[i].self, w->self * PG);
		assert_int_equal(recs[i].peak, w->peak * PG);
	}
	thread_free_frames(&th);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		run_case(&cases[i]);
}

/* A state machine of two functions tail-calling each other a million
 * times: past THREAD_CHAIN_MAX frames the chain folds back on itself, and
 * the whole chain ends at the last return. */
static void test_long_chain_bounded(void **state)
{
	struct thread th = { .tid = 1 };
	struct trap t = { .rss = 0 };
	int fn = A;
	size_t nopen;

	(void)state;
	npaths = nrecs = 0;
	thread_enter(&th, NULL, A, 1000, &t, false);
	for (long i = 0; i < 1000001; i++) {
		int next = fn == A ? B : A;

		thread_tail_call(&th, NULL, fn, next, 1000, &t);
		thread_enter(&th, NULL, next, 1000, &t, false);
		fn = next;
		assert_true(th.depth <= THREAD_CHAIN_MAX + 1);
		nrecs = 0;	/* the calls that end are not the point */
	}
	nopen = th.depth;
	assert_true(nopen >= THREAD_CHAIN_MAX);
	t.rss = PG;
	/* the chain ends with its first frame, A's */
	assert_int_equal(thread_return(&th, NULL, fn, 1000, &t), A);
	assert_int_equal(th.depth, 0);
	assert_int_equal(nrecs, nopen);
	assert_true(npaths <= THREAD_CHAIN_MAX + 1);
	thread_free_frames(&th);
}

/* A longjmp out of two frames, a million times: the frames it left are
 * parked (a coroutine could come back to them), never more than
 * THREAD_PARK_MAX, and the calls made after still pair. */
static void test_parked_bounded(void **state)
{
	struct thread th = { .tid = 1 };
	struct trap t = { .rss = 0 };

	(void)state;
	npaths = nrecs = 0;
	thread_enter(&th, NULL, A, 1000, &t, false);
	for (long i = 0; i < 1000000; i++) {
		thread_enter(&th, NULL, B, 960, &t, false);
		thread_enter(&th, NULL, C, 920 - 8 * (i % 3), &t, false);
		assert_true(th.parked_frames <= THREAD_PARK_MAX);
		assert_true(th.nparked <= THREAD_PARK_MAX);
	}
	assert_int_equal(th.depth, 3);
	assert_true(th.parked_frames >= THREAD_PARK_MAX - 1);
	t.rss = PG;
	assert_int_equal(thread_return(&th, NULL, C, 920 - 8 * (999999 % 3), &t), C);
	assert_int_equal(thread_return(&th, NULL, B, 960, &t), B);
	assert_int_equal(thread_return(&th, NULL, A, 1000, &t), A);
	assert_int_equal(nrecs, 3);
	assert_int_equal(th.depth, 0);
	thread_clear_frames(&th);
	assert_int_equal(th.nparked, 0);
	assert_int_equal(th.parked_frames, 0);
	thread_free_frames(&th);
}

/* Which entries would end frames, and so make the tracer read the stack
 * to tell a handler on an alternate stack: never a pending tail call's
 * own entry (it chains), but any other at or above the top frame. */
static void test_ends_frames(void **state)
{
	struct thread th = { .tid = 1 };
	struct trap t = { .rss = 0 };

	(void)state;
	npaths = nrecs = 0;
	assert_false(thread_enter_ends_frames(&th, A, 1000));
	thread_enter(&th, NULL, A, 1000, &t, false);
	assert_false(thread_enter_ends_frames(&th, B, 960));
	assert_true(thread_enter_ends_frames(&th, B, 1000));
	assert_true(thread_enter_ends_frames(&th, B, 1040));
	thread_tail_call(&th, NULL, A, B, 1000, &t);
	/* the announced callee, level with the frame that jumped */
	assert_false(thread_enter_ends_frames(&th, B, 1000));
	/* another function there, or the callee elsewhere, is no chain */
	assert_true(thread_enter_ends_frames(&th, C, 1000));
	assert_true(thread_enter_ends_frames(&th, B, 1040));
	assert_false(thread_enter_ends_frames(&th, C, 900));
	thread_enter(&th, NULL, B, 1000, &t, false);
	assert_int_equal(th.depth, 2);
	assert_int_equal(nrecs, 0);
	/* the tail call is taken: a second entry of B there ends frames */
	assert_true(thread_enter_ends_frames(&th, B, 1000));
	thread_free_frames(&th);
}

/* 5,000 coroutines, each left inside a call of A by the next one's entry
 * (its stack above), then resumed in a scattered order: the calls of the
 * newest 4,096 parked and of the one running return, over S; the oldest
 * were forgotten (their returns find nothing), and the ring of groups
 * wrapped. */
static void test_many_coroutines(void **state)
{
	enum { N = 5000, SP0 = 100000 };
	struct thread th = { .tid = 1 };
	struct trap t = { .rss = 0 };
	int back = 0;

	(void)state;
	npaths = nrecs = 0;
	thread_enter(&th, NULL, S, 10 * SP0, &t, false);
	for (int i = 0; i < N; i++)
		thread_enter(&th, NULL, A, SP0 + 64 * (uint64_t)i, &t, false);
	assert_int_equal(th.depth, 2);
	assert_int_equal(th.nparked, THREAD_PARK_MAX);
	t.rss = PG;
	for (int k = 0; k < N; k++) {
		int j = (int)((7L * k) % N);
		int32_t r = thread_return(&th, NULL, A, SP0 + 64 * (uint64_t)j, &t);

		assert_int_equal(r, j >= N - 1 - THREAD_PARK_MAX ? A : -1);
		back += r == A;
		/* S, and until it is parked the newest's frame */
		assert_true(th.depth == 1 || (th.depth == 2 && back == 0));
	}
	assert_int_equal(back, THREAD_PARK_MAX + 1);
	assert_int_equal(nrecs, THREAD_PARK_MAX + 1);
	for (int i = 0; i < nrecs; i++) {
		assert_int_equal(recs[i].fn, A);
		assert_int_equal(recs[i].caller, S);
		assert_int_equal(recs[i].delta, PG);
	}
	assert_int_equal(th.nparked, 0);
	assert_int_equal(thread_return(&th, NULL, S, 10 * SP0, &t), S);
	thread_free_frames(&th);
}

/* A coroutine entered in one thread and resumed by another: its return
 * there takes the frame over, parked or still on the first thread's
 * stack, and the call counts once. */
static void test_adopt(void **state)
{
	struct thread a = { .tid = 1 }, b = { .tid = 2 };
	struct trap t = { .rss = 0 };

	(void)state;
	npaths = nrecs = 0;
	/* in a: S on its stack, the coroutine's A and B on another, parked
	 * by a's next entry above them (X) */
	thread_enter(&a, NULL, S, 9000, &t, false);
	thread_enter(&a, NULL, A, 500, &t, false);
	thread_enter(&a, NULL, B, 460, &t, false);
	thread_enter(&a, NULL, X, 8000, &t, false);
	assert_int_equal(a.parked_frames, 2);
	/* b resumes it: B returns there, then A */
	thread_enter(&b, NULL, C, 7000, &t, false);
	t.rss = 2 * PG;
	assert_false(thread_has_frame(&b, B, 460));
	assert_true(thread_has_frame(&a, B, 460));
	assert_false(thread_adopt(&b, &a, D, 460));
	assert_true(thread_adopt(&b, &a, B, 460));
	assert_int_equal(thread_return(&b, NULL, B, 460, &t), B);
	assert_int_equal(thread_return(&b, NULL, A, 500, &t), A);
	assert_int_equal(a.parked_frames, 0);
	assert_int_equal(b.depth, 1);	/* C */
	assert_int_equal(nrecs, 2);
	assert_int_equal(recs[0].delta, 2 * PG);
	assert_int_equal(recs[1].fn, A);
	assert_int_equal(recs[1].caller, S);	/* its path, as entered */

	/* still on a's stack (nothing parked it): it moves alone, and
	 * what a entered in it since stays in a, parked */
	t.rss = 0;
	thread_enter(&a, NULL, D, 7500, &t, false);
	thread_enter(&a, NULL, H, 7400, &t, false);
	assert_int_equal(a.depth, 4);	/* S X D H */
	t.rss = 3 * PG;
	assert_true(thread_adopt(&b, &a, D, 7500));
	assert_int_equal(a.depth, 2);
	assert_int_equal(a.parked_frames, 1);	/* H */
	assert_int_equal(thread_return(&b, NULL, D, 7500, &t), D);
	assert_int_equal(recs[2].delta, 3 * PG);
	assert_int_equal(b.depth, 1);
	thread_free_frames(&a);
	thread_free_frames(&b);
}

/* A forked child returns through a copy of its parent's frames. */
static void test_copy_stack(void **state)
{
	struct thread parent = { .tid = 1 }, child = { .tid = 2 };
	struct trap t = { .rss = 0 };

	(void)state;
	npaths = nrecs = 0;
	thread_enter(&parent, NULL, A, 1000, &t, false);
	thread_enter(&parent, NULL, B, 960, &t, false);
	thread_copy_stack(&child, &parent);
	t.rss = 2 * PG;
	assert_int_equal(thread_return(&child, NULL, B, 960, &t), B);
	assert_int_equal(thread_return(&child, NULL, A, 1000, &t), A);
	/* nothing left to end */
	assert_int_equal(thread_return(&child, NULL, A, 1000, &t), -1);
	assert_int_equal(nrecs, 2);
	assert_int_equal(parent.depth, 2);
	assert_int_equal(child.depth, 0);

	/* and its parked frames: a coroutine of the child's comes back */
	t.rss = 0;
	thread_enter(&parent, NULL, C, 1100, &t, false);
	assert_int_equal(parent.depth, 1);
	assert_int_equal(parent.parked_frames, 2);
	thread_copy_stack(&child, &parent);
	t.rss = 3 * PG;
	assert_int_equal(thread_return(&child, NULL, B, 960, &t), B);
	assert_int_equal(thread_return(&child, NULL, A, 1000, &t), A);
	assert_int_equal(thread_return(&child, NULL, C, 1100, &t), C);
	assert_int_equal(nrecs, 5);
	assert_int_equal(recs[4].delta, 3 * PG);
	assert_int_equal(child.depth, 0);
	assert_int_equal(child.parked_frames, 0);
	assert_int_equal(parent.depth, 1);
	assert_int_equal(parent.parked_frames, 2);
	thread_free_frames(&parent);
	thread_free_frames(&child);
}

/* A leaf call taken whole (thread_leaf_call, the probe engine's drain for
 * an entry followed by the same call's ret at one RSS) records what
 * thread_enter then thread_return record, and leaves the stack as they
 * do; thread_leaf_ok refuses the entries that would do more. */
struct leaf_case {
	const char *name;
	struct step before[6], after[4];
	uint64_t sp;
	int64_t rss;
	bool ok;
};

static const struct leaf_case leaf_cases[] = {
	{ "from the root", { { END } }, { { END } }, 1000, 2, true },
	{ "under a caller, whose peak it raises", {
		{ ENTER, A, 1000, 0 } }, { { RET, A, 1000, 1 } }, 960, 5, true },
	{ "under a caller with a higher peak already", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 960, 7 }, { RET, B, 960, 7 } },
	  { { RET, A, 1000, 1 } }, 960, 3, true },
	{ "a deeper handler under a pending tail call", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B } },
	  { { ENTER, B, 1000, 1 }, { RET, B, 1000, 2 } }, 500, 1, true },
	{ "refused: it would end the frame at its sp", {
		{ ENTER, A, 1000, 0 } }, { { RET, A, 1000, 1 } }, 1000, 0, false },
	{ "refused: it would end a frame below it (longjmp)", {
		{ ENTER, A, 1000, 0 }, { ENTER, B, 900, 1 } },
	  { { RET, A, 1000, 1 } }, 950, 1, false },
	{ "refused: it is the tail call's entry", {
		{ ENTER, A, 1000, 0 }, { TAIL, A, 1000, 0, B } },
	  { { RET, A, 1000, 2 } }, 1000, 1, false },
};

static void run_steps(struct thread *th, const struct step *s)
{
	for (; s->op != END; s++) {
		struct trap t = { .rss = s->rss < 0 ? -1 : s->rss * PG };

		if (s->op == ENTER)
			thread_enter(th, NULL, s->fn, s->sp, &t, false);
		else if (s->op == RET)
			thread_return(th, NULL, s->fn, s->sp, &t);
		else if (s->op == TAIL)
			thread_tail_call(th, NULL, s->fn, s->callee, s->sp, &t);
	}
}

static void test_leaf_call(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(leaf_cases) / sizeof(*leaf_cases); k++) {
		const struct leaf_case *c = &leaf_cases[k];
		struct thread th1 = { .tid = 1 }, th2 = { .tid = 2 };
		struct trap t = { .rss = c->rss * PG };
		struct rec want[MAX_CALLS / 2];
		int nwant;
		size_t depth;

		npaths = nrecs = 0;
		run_steps(&th1, c->before);
		thread_enter(&th1, NULL, C, c->sp, &t, false);
		thread_return(&th1, NULL, C, c->sp, &t);
		run_steps(&th1, c->after);
		nwant = nrecs;
		depth = th1.depth;
		memcpy(want, recs, (size_t)nrecs * sizeof(*recs));

		nrecs = 0;
		run_steps(&th2, c->before);
		if (thread_leaf_ok(&th2, c->sp) != c->ok)
			print_error("leaf case '%s'\n", c->name);
		assert_int_equal(thread_leaf_ok(&th2, c->sp), c->ok);
		if (c->ok) {
			thread_leaf_call(&th2, NULL, C, &t);
			run_steps(&th2, c->after);
			assert_int_equal(nrecs, nwant);
			assert_int_equal(th2.depth, depth);
			for (int i = 0; i < nwant; i++) {
				assert_int_equal(recs[i].fn, want[i].fn);
				assert_int_equal(recs[i].caller, want[i].caller);
				assert_int_equal(recs[i].delta, want[i].delta);
				assert_int_equal(recs[i].self, want[i].self);
				assert_int_equal(recs[i].peak, want[i].peak);
			}
		}
		thread_free_frames(&th1);
		thread_free_frames(&th2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_leaf_call),
		cmocka_unit_test(test_long_chain_bounded),
		cmocka_unit_test(test_parked_bounded),
		cmocka_unit_test(test_many_coroutines),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_copy_stack),
		cmocka_unit_test(test_ends_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
