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

/* Drop frames entered at or below sp: a new call at sp, or a return to
 * above it, means they can no longer return normally. */
static void drop_frames_below(struct thread *th, uint64_t sp)
{
	while (th->depth && th->stack[th->depth - 1].sp < sp)
		th->depth--;
}

void thread_enter(struct thread *th, int32_t fn, uint64_t sp, int64_t rss)
{
	while (th->depth && th->stack[th->depth - 1].sp <= sp)
		th->depth--;
	if (th->depth == th->cap) {
		th->cap = th->cap ? 2 * th->cap : 64;
		th->stack = xreallocarray(th->stack, th->cap, sizeof(*th->stack));
	}
	th->stack[th->depth++] = (struct frame){ .sp = sp, .rss = rss, .fn = fn };
}

void thread_return(struct thread *th, struct report *rep, int32_t fn,
		   uint64_t sp, int64_t rss)
{
	struct frame *top;

	drop_frames_below(th, sp);
	if (!th->depth)
		return;
	top = &th->stack[th->depth - 1];
	if (top->sp != sp)
		return;
	th->depth--;
	if (top->fn == fn && rss >= 0 && top->rss >= 0)
		report_record(rep, fn, rss - top->rss);
}
