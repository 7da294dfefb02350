/* json: every process's functions and call paths in one document.
 *
 * {"format":"iprofmem","version":1,"processes":[
 * {"pid":0,"cmdline":"","functions":[
 * {"file":"/a.c","line":3,"name":"f","memory_bytes":4096,
 *  "memory_mb":0.003906,"calls":1,"total_calls":2,"self_bytes":4096,
 *  "peak_bytes":4096,"outer_bytes":4096,"outer_calls":1}
 * ],"paths":[
 * {"id":0,"parent":null,"function":0,"memory_bytes":4096,"calls":1,
 *  "total_calls":2,"self_bytes":4096,"peak_bytes":4096,
 *  "outer_bytes":4096,"outer_calls":1,"inclusive_self_bytes":4096}
 * ]}
 * ]}
 *
 * (each function and path on one line).  functions: the table's rows, in
 * its order, min_mb and top applied.  paths: the tree view's nodes (memory
 * above min_mb, every ancestor shown) whose function is listed, by id, so
 * a parent comes before its children; "function" indexes "functions".
 * outer_*: a path's are its own figures when no caller above it is of its
 * function, else 0; a function's sum those of its paths.
 * inclusive_self_bytes: the path's self memory plus that of every path
 * under it, listed or not: the flame graph's width. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>

static void json_function(FILE *out, const struct row *w)
{
	fputs("{\"file\":", out);
	json_string(out, w->f->file);
	fprintf(out, ",\"line\":%d,\"name\":", w->f->line);
	json_string(out, w->f->name);
	fprintf(out, ",\"memory_bytes\":%" PRIu64 ",\"memory_mb\":%.6f"
		",\"calls\":%" PRIu64 ",\"total_calls\":%" PRIu64
		",\"self_bytes\":%" PRIu64 ",\"peak_bytes\":%" PRIu64
		",\"outer_bytes\":%" PRIu64 ",\"outer_calls\":%" PRIu64 "}",
		w->bytes, w->bytes / MB, w->calls, w->total_calls,
		w->self_bytes, w->peak_bytes, w->outer_bytes, w->outer_calls);
}

static void json_path(FILE *out, const struct node *nd, size_t id,
		      int parent, int fidx, bool outer, uint64_t incl)
{
	fprintf(out, "{\"id\":%zu,\"parent\":", id);
	if (parent == REPORT_ROOT)
		fputs("null", out);
	else
		fprintf(out, "%d", parent);
	fprintf(out, ",\"function\":%d,\"memory_bytes\":%" PRIu64
		",\"calls\":%" PRIu64 ",\"total_calls\":%" PRIu64
		",\"self_bytes\":%" PRIu64 ",\"peak_bytes\":%" PRIu64
		",\"outer_bytes\":%" PRIu64 ",\"outer_calls\":%" PRIu64
		",\"inclusive_self_bytes\":%" PRIu64 "}",
		fidx, nd->bytes, nd->calls, nd->total_calls, nd->self_bytes,
		nd->peak_bytes, outer ? nd->bytes : 0, outer ? nd->calls : 0,
		incl);
}

/* fidx: each function's index in "functions", -1 when not listed.  A path
 * is listed when its memory is above min and its function is listed; its
 * parent is its nearest listed ancestor (a caller with no memory of its
 * own, such as a main that never returned, is skipped over).  up[] is
 * filled in id order, which reaches a parent before its children. */
static void json_paths(FILE *out, const struct report *r, const int *fidx,
		       int *up, const bool *outer, const uint64_t *incl,
		       double min_mb)
{
	const char *sep = "\n";

	for (size_t i = 0; i < r->nnodes && !ferror(out); i++) {
		const struct node *nd = &r->nodes[i];
		int parent = nd->parent == REPORT_ROOT ? REPORT_ROOT :
			     up[nd->parent];
		bool kept = nd->bytes > 0 && nd->bytes / MB > min_mb &&
			    fidx[nd->fn] >= 0;

		/* what the children of i see as their listed ancestor */
		up[i] = kept ? (int)i : parent;
		if (!kept)
			continue;
		fputs(sep, out);
		json_path(out, nd, i, parent, fidx[nd->fn], outer[i], incl[i]);
		sep = ",\n";
	}
	if (*sep == ',')
		fputc('\n', out);
}

static int json_process(FILE *out, const struct report_entry *e,
			const struct report_view *v)
{
	const struct report *r = e->rep;
	struct row *rows;
	size_t n;
	int *fidx = malloc((r->nfuncs ? r->nfuncs : 1) * sizeof(*fidx));
	int *kept = malloc((r->nnodes ? r->nnodes : 1) * sizeof(*kept));
	bool *outer = nodes_outer(r);
	uint64_t *incl = nodes_inclusive_self(r);

	if (!fidx || !kept || !outer || !incl ||
	    rows_select(r, v->min_mb, v->top, &rows, &n) < 0) {
		free(fidx);
		free(kept);
		free(outer);
		free(incl);
		return -1;
	}
	for (size_t i = 0; i < r->nfuncs; i++)
		fidx[i] = -1;
	fprintf(out, "{\"pid\":%d,\"cmdline\":", e->pid);
	json_string(out, e->cmdline ? e->cmdline : "");
	fputs(",\"functions\":[", out);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		fputs(i ? ",\n" : "\n", out);
		json_function(out, &rows[i]);
		fidx[rows[i].fn] = (int)i;
	}
	fputs(n ? "\n],\"paths\":[" : "],\"paths\":[", out);
	json_paths(out, r, fidx, kept, outer, incl, v->min_mb);
	fputs("]}", out);
	free(rows);
	free(fidx);
	free(kept);
	free(outer);
	free(incl);
	return 0;
}

int json_write(const struct report_entry *e, size_t n, FILE *out,
	       const struct report_view *v)
{
	fputs("{\"format\":\"iprofmem\",\"version\":1,\"processes\":[", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", out);
		if (json_process(out, &e[i], v) < 0)
			return -1;
	}
	fputs(n ? "\n]}\n" : "]}\n", out);
	return out_status(out);
}
