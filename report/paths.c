/* paths: the call-path nodes as a tree, children grouped under their
 * parent in the order a view wants.  Built at print time, not kept while
 * recording: the hot path only needs the (parent, fn) lookup. */
#include "report/internal.h"

#include <stdbool.h>
#include <stdlib.h>

int kids_build(const struct report *r,
	       int (*cmp)(const void *, const void *, void *),
	       struct kids *k)
{
	size_t n = r->nnodes;
	size_t *fill;

	k->ids = malloc((n ? n : 1) * sizeof(*k->ids));
	k->start = calloc(n + 2, sizeof(*k->start));
	fill = calloc(n + 1, sizeof(*fill));
	if (!k->ids || !k->start || !fill) {
		free(fill);
		kids_free(k);
		return -1;
	}
	/* A counting sort by parent: start[p + 2] counts p's children, then
	 * prefix sums turn counts into starts. */
	for (size_t i = 0; i < n; i++)
		k->start[r->nodes[i].parent + 2]++;
	for (size_t p = 2; p < n + 2; p++)
		k->start[p] += k->start[p - 1];
	for (size_t i = 0; i < n; i++) {
		size_t p = (size_t)(r->nodes[i].parent + 1);

		k->ids[k->start[p] + fill[p]++] = (int)i;
	}
	free(fill);
	for (size_t p = 0; cmp && p < n + 1; p++)
		qsort_r(k->ids + k->start[p], k->start[p + 1] - k->start[p],
			sizeof(*k->ids), cmp, (void *)r);
	return 0;
}

void kids_free(struct kids *k)
{
	free(k->ids);
	free(k->start);
	k->ids = NULL;
	k->start = NULL;
}

uint64_t *nodes_inclusive_self(const struct report *r)
{
	uint64_t *incl = calloc(r->nnodes ? r->nnodes : 1, sizeof(*incl));

	if (!incl)
		return NULL;
	/* Parents have smaller ids: children are summed into them first. */
	for (size_t i = r->nnodes; i-- > 0;) {
		incl[i] += r->nodes[i].self_bytes;
		if (r->nodes[i].parent != REPORT_ROOT)
			incl[r->nodes[i].parent] += incl[i];
	}
	return incl;
}

/* Depth first with a count per function of its activations on the current
 * path: a node is outer when its function is not on the path above it.
 * Iterative, as a deep recursion in the traced program makes a path as
 * deep; the stack holds each node twice at most (its visit, then its
 * leaving, as ~id). */
static void mark_outer(const struct report *r, const struct kids *k,
		       int *stack, unsigned *on_path, bool *outer)
{
	size_t sp = 0;

	for (size_t i = kids_end(k, REPORT_ROOT); i-- > kids_first(k, REPORT_ROOT);)
		stack[sp++] = k->ids[i];
	while (sp) {
		int id = stack[--sp];
		int fn;

		if (id < 0) {
			on_path[r->nodes[~id].fn]--;
			continue;
		}
		fn = r->nodes[id].fn;
		outer[id] = !on_path[fn]++;
		stack[sp++] = ~id;
		for (size_t i = kids_end(k, id); i-- > kids_first(k, id);)
			stack[sp++] = k->ids[i];
	}
}

bool *nodes_outer(const struct report *r)
{
	size_t n = r->nnodes ? r->nnodes : 1;
	bool *outer = calloc(n, sizeof(*outer));
	int *stack = malloc(2 * n * sizeof(*stack));
	unsigned *on_path = calloc(r->nfuncs ? r->nfuncs : 1, sizeof(*on_path));
	struct kids k;

	if (outer && stack && on_path && kids_build(r, NULL, &k) == 0) {
		mark_outer(r, &k, stack, on_path, outer);
		kids_free(&k);
	} else {
		free(outer);
		outer = NULL;
	}
	free(stack);
	free(on_path);
	return outer;
}
