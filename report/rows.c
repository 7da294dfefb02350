/* rows: the flat view's rows.  A function's row sums its call-path nodes,
 * so a function reached by several paths (or recursively, one node per
 * level) counts every call, as the seed tool did with one counter; its
 * outer figures sum only the nodes with no call of the function above
 * them, so that a recursion counts once. */
#include "report/internal.h"

#include <stdlib.h>
#include <string.h>

int func_key_cmp(const struct func *a, const struct func *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	/* Exact byte sums, not the rounded MB that is printed; keys are
	 * distinct, so the order is total. */
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return func_key_cmp(x->f, y->f);
}

static int rows_sum(const struct report *r, struct row *rows)
{
	bool *outer = nodes_outer(r);

	if (!outer)
		return -1;
	for (size_t i = 0; i < r->nfuncs; i++) {
		rows[i].fn = (int)i;
		rows[i].f = &r->funcs[i];
	}
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct node *nd = &r->nodes[i];
		struct row *w = &rows[nd->fn];

		w->bytes += nd->bytes;
		w->calls += nd->calls;
		w->total_calls += nd->total_calls;
		w->self_bytes += nd->self_bytes;
		if (nd->peak_bytes > w->peak_bytes)
			w->peak_bytes = nd->peak_bytes;
		if (outer[i]) {
			w->outer_bytes += nd->bytes;
			w->outer_calls += nd->calls;
		}
	}
	free(outer);
	return 0;
}

int rows_select(const struct report *r, double min_mb, size_t top,
		struct row **out, size_t *n)
{
	struct row *rows;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (!r->nfuncs)
		return 0;
	rows = calloc(r->nfuncs, sizeof(*rows));
	if (!rows)
		return -1;
	if (rows_sum(r, rows) < 0) {
		free(rows);
		return -1;
	}
	for (size_t i = 0; i < r->nfuncs; i++)
		if (rows[i].bytes / MB > min_mb)
			rows[k++] = rows[i];
	qsort(rows, k, sizeof(*rows), row_cmp);
	/* Ascending: the largest are last. */
	if (top && k > top) {
		memmove(rows, rows + (k - top), top * sizeof(*rows));
		k = top;
	}
	if (!k) {
		free(rows);
		rows = NULL;
	}
	*out = rows;
	*n = k;
	return 0;
}
