/* progress: what a status line drawn by another thread may read while the
 * tracer records.  The reports belong to the recording thread (their
 * arrays grow and move), so the other thread reads only a counter; when it
 * wants the names of the most called functions, it asks, and the recording
 * thread writes them at its next call and hands the text over. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HOT_NAMES	3

static _Atomic uint64_t calls;		/* one writer: a plain store will do */
static _Atomic uint64_t stops;		/* events that cost a ptrace stop */
static atomic_bool hot_wanted;
static _Atomic(char *) hot_text;

uint64_t report_progress_calls(void)
{
	return atomic_load_explicit(&calls, memory_order_relaxed);
}

void report_progress_stop(void)
{
	atomic_store_explicit(&stops, atomic_load_explicit(&stops,
			      memory_order_relaxed) + 1, memory_order_relaxed);
}

uint64_t report_progress_stops(void)
{
	return atomic_load_explicit(&stops, memory_order_relaxed);
}

void report_progress_ask_hot(void)
{
	atomic_store_explicit(&hot_wanted, true, memory_order_relaxed);
}

char *report_progress_take_hot(void)
{
	return atomic_exchange_explicit(&hot_text, NULL, memory_order_acquire);
}

/* The HOT_NAMES functions of most calls, biggest first, in best[]. */
static size_t hottest(const struct report *r, const uint64_t *total,
		      size_t *best)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nfuncs; i++) {
		size_t j;

		if (!total[i])
			continue;
		for (j = n; j > 0 && total[best[j - 1]] < total[i]; j--)
			if (j < HOT_NAMES)
				best[j] = best[j - 1];
		if (j < HOT_NAMES) {
			best[j] = i;
			n += n < HOT_NAMES;
		}
	}
	return n;
}

/* "f (120000 calls), g (80000 calls); to leave them out: -x f -x g" */
static char *hot_names(const struct report *r)
{
	uint64_t *total = calloc(r->nfuncs ? r->nfuncs : 1, sizeof(*total));
	size_t best[HOT_NAMES], n, len = 0;
	char *text = NULL;
	FILE *f;

	if (!total)
		return NULL;
	for (size_t i = 0; i < r->nnodes; i++)
		total[r->nodes[i].fn] += r->nodes[i].total_calls;
	n = hottest(r, total, best);
	f = n ? open_memstream(&text, &len) : NULL;
	if (f) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s%s (%" PRIu64 " calls)", i ? ", " : "",
				r->funcs[best[i]].name, total[best[i]]);
		fputs("; to leave them out:", f);
		for (size_t i = 0; i < n; i++)
			fprintf(f, " -x '%s'", r->funcs[best[i]].name);
		fclose(f);
	}
	free(total);
	return text;
}

void progress_count(const struct report *r)
{
	atomic_store_explicit(&calls, report_progress_calls() + 1,
			      memory_order_relaxed);
	if (atomic_load_explicit(&hot_wanted, memory_order_relaxed)) {
		atomic_store_explicit(&hot_wanted, false, memory_order_relaxed);
		free(atomic_exchange_explicit(&hot_text, hot_names(r),
					      memory_order_release));
	}
}
