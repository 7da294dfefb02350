/* paths: the call-path nodes as a tree, children grouped under their
 * parent in the order a view wants.  Built at print time, not kept while
 * recording: the hot path only needs the (parent, fn) lookup. */
#include "report/internal.h"

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
	for (size_t p = 0; p < n + 1; p++)
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
