/* Fuzz target: the shadow-stack rules (tracer/thread.c), which both
 * engines feed with what the traced program does: stack pointers it
 * chose (coroutine stacks, alternate signal stacks, longjmp), events in
 * any order a probe's ring may hold, entries and returns that never pair.
 * Each 4 bytes of input are one event of one of two threads:
 *   b0  bits 0-3: the operation (enter, enter keeping frames, return,
 *       tail call, leaf call, a fork's copy, a thread's frames moved,
 *       its end, a return taking its frame from the other thread, and
 *       15: a burst, the next event 1,000 times over, its
 *       stack pointer stepping down, or up with bit 5), bit 4: the thread
 *   b1  bits 0-2: the function; bits 3-7: more stack pointer
 *   b2  the stack pointer's slot: bits 0-5, in one of four stacks (bits
 *       6-7) far apart, as coroutines' and signal stacks lie
 *   b3  RSS in pages (255: unreadable)
 * After every event the bookkeeping must hold: depth within the stack's
 * capacity, parked frames counted right, never more than THREAD_PARK_MAX,
 * the ring of groups a power of two; the sanitizers see the rest. */
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "test/fuzz/fuzz.h"
#include "tracer/thread.h"

enum { NFN = 8, BURST = 1000 };

/* report/ stand-ins: a path per function, calls only counted. */
static unsigned long calls;

int report_path(struct report *r, int parent, int fn)
{
	(void)r;
	(void)parent;
	if (fn < 0 || fn >= NFN)
		abort();
	return fn;
}

void report_record_call(struct report *r, int path, const struct report_call *c)
{
	(void)r;
	(void)c;
	if (path < 0 || path >= NFN)
		abort();
	calls++;
}

static void check(const struct thread *th)
{
	size_t frames = 0;

	if (th->depth > th->cap || th->nparked > th->cap_parked ||
	    (th->cap_parked & (th->cap_parked - 1)) != 0 ||
	    th->parked_frames > THREAD_PARK_MAX)
		abort();
	for (size_t g = 0; g < th->nparked; g++) {
		const struct parked *pk =
			&th->parked[(th->park_head + g) & (th->cap_parked - 1)];

		if (!pk->n || !pk->frames)
			abort();
		for (size_t i = 0; i < pk->n; i++)
			if (pk->frames[i].fn < 0 || pk->frames[i].fn >= NFN)
				abort();
		frames += pk->n;
	}
	if (frames != th->parked_frames)
		abort();
	for (size_t i = 0; i < th->depth; i++)
		if (th->stack[i].fn < 0 || th->stack[i].fn >= NFN)
			abort();
}

static void event(struct thread *ths, const uint8_t *b, int64_t step)
{
	struct thread *th = &ths[(b[0] >> 4) & 1];
	struct thread *other = &ths[!((b[0] >> 4) & 1)];
	int32_t fn = b[1] & 7, callee = (b[1] >> 3) & 7;
	uint64_t sp = 0x10000000ULL * (1 + (b[2] >> 6)) -
		      8 * (uint64_t)(b[2] & 63) - 64 * (uint64_t)(b[1] >> 3) -
		      (uint64_t)(8 * step);
	struct trap t = { .rss = b[3] == 255 ? -1 : 4096L * b[3],
			  .time = (uint64_t)(step < 0 ? -step : step) };

	switch (b[0] & 15) {
	case 0:
	case 1:
		thread_enter(th, NULL, fn, sp, &t, false);
		break;
	case 2:
		thread_enter(th, NULL, fn, sp, &t,
			     thread_enter_ends_frames(th, fn, sp));
		break;
	case 3:
	case 4:
	case 5:
		thread_return(th, NULL, fn, sp, &t);
		break;
	case 6:
		thread_tail_call(th, NULL, fn, callee, sp, &t);
		break;
	case 7:
		if (thread_leaf_ok(th, sp))
			thread_leaf_call(th, NULL, fn, &t);
		break;
	case 8:
		thread_copy_stack(other, th);
		break;
	case 9:
		thread_take_frames(other, th);
		break;
	case 10:
		thread_clear_frames(th);
		break;
	case 11:
		if (!thread_has_frame(th, fn, sp) && thread_adopt(th, other, fn, sp) &&
		    thread_return(th, NULL, fn, sp, &t) < 0)
			abort();	/* the frame it took must return */
		break;
	default:
		thread_enter(th, NULL, fn, sp, &t, false);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thread ths[2] = { { .tid = 1 }, { .tid = 2 } };

	calls = 0;
	for (size_t at = 0; at + 4 <= size; at += 4) {
		const uint8_t *b = data + at;

		if ((b[0] & 15) == 15 && at + 8 <= size) {
			/* a burst of the next event, its sp stepping */
			for (int64_t k = 0; k < BURST; k++)
				event(ths, b + 4, b[0] & 32 ? -k : k);
			check(&ths[0]);
			check(&ths[1]);
			at += 4;
			continue;
		}
		event(ths, b, 0);
		check(&ths[0]);
		check(&ths[1]);
	}
	thread_free_frames(&ths[0]);
	thread_free_frames(&ths[1]);
	return 0;
}
