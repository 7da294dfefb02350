/* diff: iprofmem diff OLD NEW, the change per function between two
 * records, in the table's layout:
 *
 *      Old (MB)    Calls     New (MB)    Calls   Change (MB)  File:Line:Function
 *   ---------------------------------------------------------------------------
 *             8        2                            -8  /src/a.c:3:gone
 *             1        1            9        3       +8  /src/a.c:9:grows
 *   ---------------------------------------------------------------------------
 *      Old (MB)    Calls     New (MB)    Calls   Change (MB)  File:Line:Function
 *
 * Ascending by change, so the worst growth is last, as the biggest
 * consumer is last in the table.  A side is blank when the function is
 * not in that record.  Functions are matched by file and name, never by
 * line: any edit above a function moves it.  C++ overloads share a name
 * and a file: those are paired in line order.  A function whose file is
 * not in the other record is then matched by its file's base name: two
 * builds often live in two trees (lua-5.4.6/src/lapi.c and
 * lua-5.4.7/src/lapi.c), and a record holds absolute paths. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_HEAD_FMT	"%11s  %7s  %11s  %7s  %12s  %s"
#define DIFF_WHAT	"File:Line:Function"

/* ---- rows --------------------------------------------------------------- */

/* A function of one side, for the pairing sort. */
struct item {
	const struct row *w;
	int side;		/* 0 old, 1 new */
};

static int item_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->w->f->file, y->w->f->file);

	if (c)
		return c;
	c = strcmp(x->w->f->name, y->w->f->name);
	if (c)
		return c;
	if (x->side != y->side)
		return x->side - y->side;
	return x->w->f->line - y->w->f->line;
}

static bool same_function(const struct item *a, const struct item *b)
{
	return !strcmp(a->w->f->file, b->w->f->file) &&
	       !strcmp(a->w->f->name, b->w->f->name);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The second pass: by name and base name; within one, by the whole path,
 * so that the k-th path of one tree meets the k-th of the other. */
static int item_base_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int c = strcmp(x->w->f->name, y->w->f->name);

	if (c)
		return c;
	c = strcmp(base_of(x->w->f->file), base_of(y->w->f->file));
	if (c)
		return c;
	if (x->side != y->side)
		return x->side - y->side;
	c = strcmp(x->w->f->file, y->w->f->file);
	if (c)
		return c;
	return x->w->f->line - y->w->f->line;
}

static bool same_base(const struct item *a, const struct item *b)
{
	return !strcmp(a->w->f->name, b->w->f->name) &&
	       !strcmp(base_of(a->w->f->file), base_of(b->w->f->file));
}

/* A function of the old run and its counterpart in the new (either may
 * be NULL: in one run only). */
struct match {
	const struct row *old, *new;
};

/* The group it[0..n) shares a file and a name, old items first: the k-th
 * old with the k-th new.  Appends the pairs to out. */
static size_t pair_group(const struct item *it, size_t n, struct match *out)
{
	size_t nold = 0, k = 0;

	while (nold < n && it[nold].side == 0)
		nold++;
	for (size_t i = 0; i < nold || i < n - nold; i++)
		out[k++] = (struct match){ i < nold ? it[i].w : NULL,
					   i < n - nold ? it[nold + i].w : NULL };
	return k;
}

static int diff_row_cmp(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	int c;

	if (x->change != y->change)
		return x->change < y->change ? -1 : 1;
	c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Every function of r, memory or not (min -1 keeps them all). */
static int all_rows(const struct report *r, struct row **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	return r ? rows_select(r, -1.0, 0, rows, n) : 0;
}

/* Every function of either run, paired: by file and name, then those
 * left by name and base name.  *m has room for no + nn pairs; free it.
 * Returns 0, or -1 when out of memory. */
static int match_rows(const struct row *ro, size_t no, const struct row *rn,
		      size_t nn, struct match **m, size_t *n)
{
	struct item *it = malloc((no + nn ? no + nn : 1) * sizeof(*it));
	struct match *d = malloc((no + nn ? no + nn : 1) * sizeof(*d));
	size_t k = 0, rest;

	if (!it || !d) {
		free(it);
		free(d);
		return -1;
	}
	for (size_t i = 0; i < no; i++)
		it[i] = (struct item){ &ro[i], 0 };
	for (size_t i = 0; i < nn; i++)
		it[no + i] = (struct item){ &rn[i], 1 };
	qsort(it, no + nn, sizeof(*it), item_cmp);
	rest = 0;
	for (size_t i = 0, j; i < no + nn; i = j) {
		for (j = i + 1; j < no + nn && same_function(&it[i], &it[j]); j++)
			;
		if (it[i].side == it[j - 1].side) {
			/* in one record only: kept, in place, for the second pass */
			memmove(it + rest, it + i, (j - i) * sizeof(*it));
			rest += j - i;
		} else {
			k += pair_group(it + i, j - i, d + k);
		}
	}
	qsort(it, rest, sizeof(*it), item_base_cmp);
	for (size_t i = 0, j; i < rest; i = j) {
		for (j = i + 1; j < rest && same_base(&it[i], &it[j]); j++)
			;
		k += pair_group(it + i, j - i, d + k);
	}
	free(it);
	*m = d;
	*n = k;
	return 0;
}

static void side_set(struct diff_side *s, const struct row *w)
{
	s->present = true;
	s->bytes = w->bytes;
	s->calls = w->calls;
}

/* The pair's row, false when neither run has memory in it. */
static bool match_row(const struct match *m, struct diff_row *d)
{
	const struct row *o = m->old, *w = m->new;

	if ((!o || !o->bytes) && (!w || !w->bytes))
		return false;
	*d = (struct diff_row){ 0 };
	d->file = (w ? w : o)->f->file;
	d->name = (w ? w : o)->f->name;
	d->line = (w ? w : o)->f->line;
	if (o)
		side_set(&d->old, o);
	if (w)
		side_set(&d->new, w);
	d->change = (int64_t)(d->new.bytes - d->old.bytes);
	return true;
}

static int diff_merge(const struct row *ro, size_t no, const struct row *rn,
		      size_t nn, struct diff_row **rows, size_t *n)
{
	struct match *m;
	struct diff_row *d;
	size_t nm, k = 0;

	if (match_rows(ro, no, rn, nn, &m, &nm) < 0)
		return -1;
	d = malloc((nm ? nm : 1) * sizeof(*d));
	if (!d) {
		free(m);
		return -1;
	}
	for (size_t i = 0; i < nm; i++)
		k += match_row(&m[i], &d[k]);
	free(m);
	qsort(d, k, sizeof(*d), diff_row_cmp);
	if (!k) {
		free(d);
		d = NULL;
	}
	*rows = d;
	*n = k;
	return 0;
}

int diff_rows(const struct report *old, const struct report *new,
	      struct diff_row **rows, size_t *n)
{
	struct row *ro = NULL, *rn = NULL;
	size_t no, nn;
	int ret = -1;

	*rows = NULL;
	*n = 0;
	if (all_rows(old, &ro, &no) == 0 && all_rows(new, &rn, &nn) == 0)
		ret = diff_merge(ro, no, rn, nn, rows, n);
	/* the rows point into the reports' functions, not into ro and rn */
	free(ro);
	free(rn);
	return ret;
}

/* ---- the signed tree (pprof) -------------------------------------------- */

/* Each function of one run mapped to its id in t->rep, under the key the
 * diff shows (the new run's, or the old's when it is only there). */
static int tree_funcs(const struct report *old, const struct report *new,
		      struct report *t, int *old_to, int *new_to)
{
	struct row *ro = NULL, *rn = NULL;
	struct match *m = NULL;
	size_t no, nn, nm;
	int ret = -1;

	if (all_rows(old, &ro, &no) < 0 || all_rows(new, &rn, &nn) < 0 ||
	    match_rows(ro, no, rn, nn, &m, &nm) < 0)
		goto out;
	for (size_t i = 0; i < nm; i++) {
		const struct func *f = (m[i].new ? m[i].new : m[i].old)->f;
		int id = report_add_func(t, f->file, f->line, f->name);

		if (id < 0)
			goto out;
		if (m[i].old)
			old_to[m[i].old->fn] = id;
		if (m[i].new)
			new_to[m[i].new->fn] = id;
	}
	ret = 0;
out:
	free(ro);
	free(rn);
	free(m);
	return ret;
}

/* v + x, or v - x: in unsigned arithmetic, wrapping (a corrupt record's
 * sums may overflow: no undefined behaviour then, only a wrong figure). */
static void add_signed(int64_t *v, uint64_t x, bool minus)
{
	*v = (int64_t)((uint64_t)*v + (minus ? -x : x));
}

/* Add r's nodes to t (fn_to: r's function ids in t), each node's self
 * memory and calls added to t's values, or subtracted (minus). */
static int tree_add(struct diff_tree *t, const struct report *r,
		    const int *fn_to, bool minus)
{
	int *to = malloc((r->nnodes ? r->nnodes : 1) * sizeof(*to));

	if (!to)
		return -1;
	for (size_t i = 0; i < r->nnodes; i++) {
		const struct node *nd = &r->nodes[i];
		int parent = nd->parent == REPORT_ROOT ? REPORT_ROOT :
			     to[nd->parent];
		int id = report_path(t->rep, parent, fn_to[nd->fn]);

		if (id >= 0 && (size_t)id >= t->cap) {
			size_t cap = 2 * (size_t)id + 16;
			int64_t *v = realloc(t->vals, 2 * cap * sizeof(*v));

			if (v) {
				memset(v + 2 * t->cap, 0,
				       2 * (cap - t->cap) * sizeof(*v));
				t->vals = v;
				t->cap = cap;
			} else {
				id = -1;
			}
		}
		if (id < 0) {
			free(to);
			return -1;
		}
		to[i] = id;
		add_signed(&t->vals[2 * id], nd->self_bytes, minus);
		add_signed(&t->vals[2 * id + 1], nd->calls, minus);
	}
	free(to);
	return 0;
}

int diff_tree_build(const struct report *old, const struct report *new,
		    struct diff_tree *t)
{
	static const struct report none;	/* a process in one run only */
	int *old_to, *new_to;
	int ret = -1;

	old = old ? old : &none;
	new = new ? new : &none;
	*t = (struct diff_tree){ .rep = report_new() };
	old_to = malloc((old->nfuncs ? old->nfuncs : 1) * sizeof(*old_to));
	new_to = malloc((new->nfuncs ? new->nfuncs : 1) * sizeof(*new_to));
	if (t->rep && old_to && new_to &&
	    tree_funcs(old, new, t->rep, old_to, new_to) == 0 &&
	    tree_add(t, old, old_to, true) == 0 &&
	    tree_add(t, new, new_to, false) == 0)
		ret = 0;
	free(old_to);
	free(new_to);
	if (ret < 0)
		diff_tree_free(t);
	return ret;
}

void diff_tree_free(struct diff_tree *t)
{
	report_free(t->rep);
	free(t->vals);
	*t = (struct diff_tree){ 0 };
}

/* ---- pairing processes -------------------------------------------------- */

/* Does a's command line equal b's, the first word's directory aside? */
static bool same_command(const char *a, const char *b)
{
	size_t la = strcspn(a, " "), lb = strcspn(b, " ");
	const char *ba = memrchr(a, '/', la), *bb = memrchr(b, '/', lb);

	ba = ba ? ba + 1 : a;
	bb = bb ? bb + 1 : b;
	return !strcmp(ba, bb);
}

static const char *cmdline_of(const struct report_entry *e)
{
	return e->cmdline ? e->cmdline : "";
}

/* Pair each unpaired new entry with the first unpaired old one that
 * matches (any, when by_command is false). */
static void pair_pass(const struct report_entry *old, size_t nold,
		      const struct report_entry *new, size_t nnew,
		      int *old_of, bool *used, bool by_command)
{
	for (size_t i = 0; i < nnew; i++) {
		if (old_of[i] >= 0)
			continue;
		for (size_t j = 0; j < nold; j++) {
			if (used[j] || (by_command &&
			    !same_command(cmdline_of(&old[j]),
					  cmdline_of(&new[i]))))
				continue;
			old_of[i] = (int)j;
			used[j] = true;
			break;
		}
	}
}

long diff_pairs(const struct report_entry *old, size_t nold,
		const struct report_entry *new, size_t nnew,
		struct diff_pair **pairs)
{
	int *old_of = malloc((nnew ? nnew : 1) * sizeof(*old_of));
	bool *used = calloc(nold ? nold : 1, sizeof(*used));
	struct diff_pair *p = malloc((nold + nnew ? nold + nnew : 1) *
				     sizeof(*p));
	long k = 0;

	*pairs = NULL;
	if (!old_of || !used || !p) {
		free(old_of);
		free(used);
		free(p);
		return -1;
	}
	for (size_t i = 0; i < nnew; i++)
		old_of[i] = -1;
	pair_pass(old, nold, new, nnew, old_of, used, true);
	pair_pass(old, nold, new, nnew, old_of, used, false);
	for (size_t i = 0; i < nnew; i++)
		p[k++] = (struct diff_pair){
			old_of[i] >= 0 ? &old[old_of[i]] : NULL, &new[i] };
	for (size_t j = 0; j < nold; j++)
		if (!used[j])
			p[k++] = (struct diff_pair){ &old[j], NULL };
	free(old_of);
	free(used);
	*pairs = p;
	return k;
}

/* ---- views -------------------------------------------------------------- */

static const struct report *rep_of(const struct report_entry *e)
{
	return e ? e->rep : NULL;
}

/* Rows of a pair, as the view shows them: --min on the change, --top the
 * largest changes (the last rows). */
static int view_rows(const struct diff_pair *p, const struct report_view *v,
		     struct diff_row **rows, size_t *n)
{
	size_t k = 0;

	if (diff_rows(rep_of(p->old), rep_of(p->new), rows, n) < 0)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		int64_t c = (*rows)[i].change;
		uint64_t mag = c < 0 ? -(uint64_t)c : (uint64_t)c;

		if (v->min_mb <= 0 || mag / MB > v->min_mb)
			(*rows)[k++] = (*rows)[i];
	}
	if (v->top && k > v->top) {
		memmove(*rows, *rows + (k - v->top), v->top * sizeof(**rows));
		k = v->top;
	}
	*n = k;
	return 0;
}

static void diff_header(FILE *out)
{
	fprintf(out, DIFF_HEAD_FMT "\n", "Old (MB)", "Calls", "New (MB)",
		"Calls", "Change (MB)", DIFF_WHAT);
}

static void diff_rule(FILE *out)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), DIFF_HEAD_FMT, "Old (MB)", "Calls",
			 "New (MB)", "Calls", "Change (MB)", DIFF_WHAT);

	memset(buf, '-', (size_t)n);
	buf[n] = '\0';
	fprintf(out, "%s\n", buf);
}

static void side_text(FILE *out, const struct diff_side *s)
{
	if (s->present)
		fprintf(out, "%11.4g  %7" PRIu64, s->bytes / MB, s->calls);
	else
		fprintf(out, "%11s  %7s", "", "");
}

static void empty_text(FILE *out, const struct report_view *v)
{
	if (v->min_mb > 0)
		fprintf(out, "No function's memory changed by more than %g "
			"MB.\n", v->min_mb);
	else
		fputs("No traced call increased memory in either run.\n", out);
}

static void table_rows(FILE *out, const struct diff_row *d, size_t n,
		       const struct report_view *v)
{
	if (!n)
		empty_text(out, v);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		side_text(out, &d[i].old);
		fputs("  ", out);
		side_text(out, &d[i].new);
		fprintf(out, "  %+12.4g  %s:%d:%s\n", (double)d[i].change / MB,
			d[i].file, d[i].line, d[i].name);
	}
}

/* "PID 12 -> 34: ./app run", "none" for a side without the process. */
static void pair_label(FILE *out, const struct diff_pair *p)
{
	const struct report_entry *e = p->new ? p->new : p->old;

	fputs("PID ", out);
	if (p->old)
		fprintf(out, "%d", p->old->pid);
	else
		fputs("none", out);
	fputs(" -> ", out);
	if (p->new)
		fprintf(out, "%d", p->new->pid);
	else
		fputs("none", out);
	fprintf(out, ": %s\n", cmdline_of(e));
}

/* One table per pair; labelled when the records hold processes (pids). */
static int text_write(const struct diff_pair *p, size_t n, FILE *out,
		      const struct report_view *v)
{
	for (size_t i = 0; i < n && !ferror(out); i++) {
		bool labelled = (p[i].old && p[i].old->pid) ||
				(p[i].new && p[i].new->pid);
		struct diff_row *d;
		size_t k;

		if (view_rows(&p[i], v, &d, &k) < 0)
			return -1;
		if (i)
			fputc('\n', out);
		if (labelled)
			pair_label(out, &p[i]);
		diff_header(out);
		diff_rule(out);
		table_rows(out, d, k, v);
		diff_rule(out);
		diff_header(out);
		free(d);
	}
	return out_status(out);
}

/* ---- CSV and JSON ------------------------------------------------------- */

static void csv_pid(FILE *out, const struct report_entry *e)
{
	if (e)
		fprintf(out, "%d", e->pid);
}

static void csv_side(FILE *out, const struct diff_side *s)
{
	if (s->present)
		fprintf(out, ",%" PRIu64 ",%" PRIu64, s->bytes, s->calls);
	else
		fputs(",,", out);
}

static int csv_write_diff(const struct diff_pair *p, size_t n, FILE *out,
			  const struct report_view *v)
{
	fputs("old_pid,new_pid,file,line,function,old_memory_bytes,"
	      "old_calls,new_memory_bytes,new_calls,change_bytes,change_mb\n",
	      out);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		struct diff_row *d;
		size_t k;

		if (view_rows(&p[i], v, &d, &k) < 0)
			return -1;
		for (size_t j = 0; j < k; j++) {
			csv_pid(out, p[i].old);
			fputc(',', out);
			csv_pid(out, p[i].new);
			fputc(',', out);
			csv_field(out, d[j].file);
			fprintf(out, ",%d,", d[j].line);
			csv_field(out, d[j].name);
			csv_side(out, &d[j].old);
			csv_side(out, &d[j].new);
			fprintf(out, ",%" PRId64 ",%.6f\n", d[j].change,
				(double)d[j].change / MB);
		}
		free(d);
	}
	return out_status(out);
}

static void json_pid(FILE *out, const char *key, const struct report_entry *e)
{
	if (e)
		fprintf(out, "\"%s\":%d", key, e->pid);
	else
		fprintf(out, "\"%s\":null", key);
}

static void json_side(FILE *out, const char *key, const struct diff_side *s)
{
	if (s->present)
		fprintf(out, ",\"%s\":{\"memory_bytes\":%" PRIu64
			",\"calls\":%" PRIu64 "}", key, s->bytes, s->calls);
	else
		fprintf(out, ",\"%s\":null", key);
}

static void json_row(FILE *out, const struct diff_row *d)
{
	fputs("{\"file\":", out);
	json_string(out, d->file);
	fprintf(out, ",\"line\":%d,\"name\":", d->line);
	json_string(out, d->name);
	json_side(out, "old", &d->old);
	json_side(out, "new", &d->new);
	fprintf(out, ",\"change_bytes\":%" PRId64 ",\"change_mb\":%.6f}",
		d->change, (double)d->change / MB);
}

static int json_write_diff(const struct diff_pair *p, size_t n, FILE *out,
			   const struct report_view *v)
{
	fputs("{\"format\":\"iprofmem-diff\",\"version\":1,\"processes\":[",
	      out);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		struct diff_row *d;
		size_t k;

		if (view_rows(&p[i], v, &d, &k) < 0)
			return -1;
		fputs(i ? ",\n{" : "\n{", out);
		json_pid(out, "old_pid", p[i].old);
		fputc(',', out);
		json_pid(out, "new_pid", p[i].new);
		fputs(",\"cmdline\":", out);
		json_string(out, cmdline_of(p[i].new ? p[i].new : p[i].old));
		fputs(",\"functions\":[", out);
		for (size_t j = 0; j < k; j++) {
			fputs(j ? ",\n" : "\n", out);
			json_row(out, &d[j]);
		}
		fputs(k ? "\n]}" : "]}", out);
		free(d);
	}
	fputs(n ? "\n]}\n" : "]}\n", out);
	return out_status(out);
}

int report_diff_print(const struct report_entry *old, size_t nold,
		      const struct report_entry *new, size_t nnew, FILE *out,
		      const struct report_view *v)
{
	struct diff_pair *p;
	long n = diff_pairs(old, nold, new, nnew, &p);
	int ret;

	if (n < 0)
		return -1;
	if (v->format == REPORT_JSON)
		ret = json_write_diff(p, (size_t)n, out, v);
	else if (v->format == REPORT_CSV)
		ret = csv_write_diff(p, (size_t)n, out, v);
	else
		ret = text_write(p, (size_t)n, out, v);
	free(p);
	if (fflush(out) == EOF)
		return -1;
	return ret < 0 ? -1 : out_status(out);
}

/* ---- --fail-above ------------------------------------------------------- */

long report_diff_grew(const struct report_entry *old, size_t nold,
		      const struct report_entry *new, size_t nnew, double mb,
		      FILE *out)
{
	struct diff_pair *p;
	long n = diff_pairs(old, nold, new, nnew, &p), count = 0;

	for (long i = 0; i < n && count >= 0; i++) {
		struct diff_row *d;
		size_t k;

		if (diff_rows(rep_of(p[i].old), rep_of(p[i].new), &d, &k) < 0) {
			count = -1;
			break;
		}
		for (size_t j = 0; j < k; j++) {
			double grew = (double)d[j].change / MB;

			if (d[j].change <= 0 || grew <= mb)
				continue;
			fprintf(out, "iprofmem: over budget: %s:%d:%s grew by "
				"%.4g MB, more than --fail-above=%g by %.4g MB",
				d[j].file, d[j].line, d[j].name, grew, mb,
				grew - mb);
			if (p[i].new && p[i].new->pid)
				fprintf(out, " (PID %d)", p[i].new->pid);
			fputc('\n', out);
			count++;
		}
		free(d);
	}
	free(p);
	return n < 0 ? -1 : count;
}
