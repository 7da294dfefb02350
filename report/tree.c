/* tree: the call-path view, like `openmdao mem -t`.
 *
 *   Memory (MB)   Calls  Call path
 *   ------------------------------
 *           12        1  main  (/src/main.c:10)
 *            9        1    setup  (/src/setup.c:20)
 *            9        3      alloc_buffers  (/src/buf.c:5)
 *            3        1    run  (/src/run.c:7)
 *            1        1      alloc_buffers  (/src/buf.c:5)
 *   ------------------------------
 *   Memory (MB)   Calls  Call path
 *
 * One line per call-path node: "%10.4g  %7d  ", two spaces per level of
 * depth, then "name  (file:line)".  A node's memory is the sum of the
 * positive deltas of its calls, which is inclusive (what its callees
 * added counts for it too); Calls is the number of those calls.  Children
 * follow their parent one level deeper, siblings biggest first, ties by
 * file, line, name.  A node at or below min_mb (any node with no memory)
 * is left out, unless a node below it is shown: then it stays, as the
 * link to its callees (a main that never returned has no memory of its
 * own); top does not apply.  Extra
 * columns are the table's, for the node (its outer figures are its own
 * when no caller above it is of its function, else 0).  Nothing to show: the table's
 * "No traced call increased memory." line between the dashes. */
#include "report/internal.h"

#include <stdlib.h>

static bool node_shown(const struct node *nd, double min_mb)
{
	return nd->bytes > 0 && nd->bytes / MB > min_mb;
}

/* shown[i]: node i is above min, or a node below it is.  A parent's id is
 * smaller than its children's, so one pass from the last id up does it. */
static bool *nodes_shown(const struct report *r, double min_mb)
{
	bool *shown = calloc(r->nnodes ? r->nnodes : 1, sizeof(*shown));

	if (!shown)
		return NULL;
	for (size_t i = r->nnodes; i-- > 0;) {
		const struct node *nd = &r->nodes[i];

		shown[i] = shown[i] || node_shown(nd, min_mb);
		if (shown[i] && nd->parent != REPORT_ROOT)
			shown[nd->parent] = true;
	}
	return shown;
}

/* Biggest first, ties by key. */
static int sibling_cmp(const void *a, const void *b, void *arg)
{
	const struct report *r = arg;
	const struct node *x = &r->nodes[*(const int *)a];
	const struct node *y = &r->nodes[*(const int *)b];

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return func_key_cmp(&r->funcs[x->fn], &r->funcs[y->fn]);
}

struct visit {
	int id;
	int depth;
};

static void print_node(const struct report *r, const struct visit *w,
		       const bool *outer, FILE *out, unsigned columns)
{
	const struct node *nd = &r->nodes[w->id];
	const struct func *f = &r->funcs[nd->fn];
	struct counts c = { nd->bytes, nd->calls, nd->total_calls,
			    nd->self_bytes, nd->peak_bytes,
			    outer[w->id] ? nd->bytes : 0,
			    outer[w->id] ? nd->calls : 0 };

	table_numbers(out, columns, &c);
	fputs("  ", out);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", out);
	fprintf(out, "%s  (%s:%d)\n", f->name, f->file, f->line);
}

/* Depth first, iteratively: a deep recursion in the traced program makes
 * a path as deep, which a recursive walk here could not survive.  Each
 * node is pushed at most once, so the stack needs nnodes entries. */
static size_t walk(const struct report *r, const struct kids *k,
		   struct visit *stack, const bool *shown_ids,
		   const bool *outer, FILE *out, const struct report_view *v)
{
	size_t sp = 0, shown = 0;
	struct visit w = { REPORT_ROOT, -1 };

	for (;;) {
		for (size_t i = kids_end(k, w.id); i-- > kids_first(k, w.id);) {
			int id = k->ids[i];

			if (shown_ids[id])
				stack[sp++] = (struct visit){ id, w.depth + 1 };
		}
		if (!sp || ferror(out))
			return shown;
		w = stack[--sp];
		print_node(r, &w, outer, out, v->columns);
		shown++;
	}
}

int tree_write(const struct report *r, FILE *out, const struct report_view *v)
{
	static const char what[] = "Call path";
	struct visit *stack;
	bool *shown, *outer;
	struct kids k;

	if (kids_build(r, sibling_cmp, &k) < 0)
		return -1;
	stack = malloc((r->nnodes ? r->nnodes : 1) * sizeof(*stack));
	shown = nodes_shown(r, v->min_mb);
	outer = nodes_outer(r);
	if (!stack || !shown || !outer) {
		free(stack);
		free(shown);
		free(outer);
		kids_free(&k);
		return -1;
	}
	table_header(out, v->columns, what);
	table_rule(out, v->columns, what);
	if (!walk(r, &k, stack, shown, outer, out, v))
		fputs(EMPTY_LINE, out);
	table_rule(out, v->columns, what);
	table_header(out, v->columns, what);
	free(stack);
	free(shown);
	free(outer);
	kids_free(&k);
	return out_status(out);
}
