/* flame: an SVG flame graph of the call paths' memory.
 *
 * The root "all" is the bottom row; above a frame sit its callees (with
 * several processes, one "PID n" frame per process first), left to right
 * by name.  A frame's width is its inclusive memory: its own self memory
 * plus its descendants', which is exactly what flamegraph.pl would draw
 * from the folded stacks (so callees always fit inside their caller):
 * its inclusive self memory.
 * Hovering a frame shows its <title>, which names both figures in the
 * words of the other views: "name (file:line) — inclusive self X MB;
 * memory Y MB in N calls" (X the width; Y the path's memory, the net growth
 * of its calls as the table and tree count it, smaller when the path frees
 * what its callees touched; N the calls that added memory).  Text is cut
 * to fit its frame, or left out below three characters; frames narrower
 * than 0.1 px are not drawn.  Colours come from a hash of the name, so a
 * function keeps its colour from one graph to the next. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FLAME_WIDTH	1200
#define FLAME_PAD	10
#define FLAME_ROW	16
#define FLAME_TITLE	32
#define FLAME_CHAR	7.2	/* advance of a 12 px monospace character */
#define FLAME_MIN	0.1	/* px */

struct frame {
	const char *name;	/* the text and the colour */
	const char *file;	/* NULL: a synthetic frame, no file, no calls */
	int line;
	uint64_t bytes;		/* inclusive self memory: the width */
	uint64_t memory, calls;	/* the path's memory and calls */
};

struct flame {
	FILE *out;
	int height;
	double scale;		/* px per byte */
};

/* One report's tree, with each node's inclusive memory and depth. */
struct flame_tree {
	const struct report_entry *e;
	struct kids k;
	uint64_t *incl;
	int *depth;
	double *x;		/* left edge once drawn, < 0 when not */
	uint64_t total;
	int top;		/* the deepest depth with memory */
};

static void frame_title(FILE *out, const struct frame *f)
{
	fputs("<title>", out);
	xml_text(out, f->name, 0);
	if (f->file) {
		fputs(" (", out);
		xml_text(out, f->file, 0);
		fprintf(out, ":%d)", f->line);
	}
	fprintf(out, " \u2014 inclusive self %.4g MB", f->bytes / MB);
	if (f->file)
		fprintf(out, "; memory %.4g MB in %" PRIu64 " call%s",
			f->memory / MB, f->calls, f->calls == 1 ? "" : "s");
	fputs("</title>", out);
}

static void frame_draw(struct flame *fl, const struct frame *f, int level,
		       double x, double w)
{
	FILE *out = fl->out;
	int y = fl->height - FLAME_PAD - (level + 1) * FLAME_ROW;
	uint64_t h = name_hash(f->name);
	double room = (w - 6) / FLAME_CHAR;

	fputs("<g>", out);
	frame_title(out, f);
	fprintf(out, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
		"rx=\"2\" fill=\"rgb(%d,%d,%d)\"/>", x, y, w, FLAME_ROW - 1,
		f->file ? 205 + (int)(h % 51) : 200,
		f->file ? (int)(h / 51 % 231) : 200,
		f->file ? (int)(h / 51 / 231 % 56) : 200);
	if (room >= 3) {
		fprintf(out, "<text x=\"%.2f\" y=\"%d\">", x + 3, y + 12);
		xml_text(out, f->name, (size_t)room);
		fputs("</text>", out);
	}
	fputs("</g>\n", out);
}

static int name_cmp(const void *a, const void *b, void *arg)
{
	const struct report *r = arg;
	const struct func *x = &r->funcs[r->nodes[*(const int *)a].fn];
	const struct func *y = &r->funcs[r->nodes[*(const int *)b].fn];
	int c = strcmp(x->name, y->name);

	return c ? c : func_key_cmp(x, y);
}

static int tree_prepare(struct flame_tree *t, const struct report_entry *e)
{
	const struct report *r = e->rep;
	size_t n = r->nnodes ? r->nnodes : 1;

	memset(t, 0, sizeof(*t));
	t->e = e;
	t->incl = nodes_inclusive_self(r);
	t->depth = calloc(n, sizeof(*t->depth));
	t->x = malloc(n * sizeof(*t->x));
	if (!t->incl || !t->depth || !t->x ||
	    kids_build(r, name_cmp, &t->k) < 0)
		return -1;
	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].parent == REPORT_ROOT)
			t->total += t->incl[i];
	for (size_t i = 0; i < r->nnodes; i++) {
		int p = r->nodes[i].parent;

		t->depth[i] = p == REPORT_ROOT ? 0 : t->depth[p] + 1;
		if (t->incl[i] && t->depth[i] > t->top)
			t->top = t->depth[i];
	}
	return 0;
}

static void tree_release(struct flame_tree *t)
{
	free(t->incl);
	free(t->depth);
	free(t->x);
	kids_free(&t->k);
}

/* Draw p's children from x, if p was drawn (REPORT_ROOT always is). */
static void draw_children(struct flame *fl, struct flame_tree *t, int p,
			  double x, int base)
{
	const struct report *r = t->e->rep;

	for (size_t i = kids_first(&t->k, p); i < kids_end(&t->k, p); i++) {
		int c = t->k.ids[i];
		const struct func *f = &r->funcs[r->nodes[c].fn];
		struct frame fr = { f->name, f->file, f->line, t->incl[c],
				    r->nodes[c].bytes, r->nodes[c].calls };
		double w = t->incl[c] * fl->scale;

		if (t->incl[c] && w >= FLAME_MIN) {
			t->x[c] = x;
			frame_draw(fl, &fr, base + t->depth[c], x, w);
		}
		x += w;
	}
}

static void tree_draw(struct flame *fl, struct flame_tree *t, double x0)
{
	const struct report *r = t->e->rep;
	char label[32];
	int base = 1;

	if (t->e->pid) {
		struct frame fr = { label, NULL, 0, t->total, 0, 0 };

		snprintf(label, sizeof(label), "PID %d", t->e->pid);
		if (t->total && t->total * fl->scale >= FLAME_MIN)
			frame_draw(fl, &fr, base, x0, t->total * fl->scale);
		base++;
	}
	for (size_t i = 0; i < r->nnodes; i++)
		t->x[i] = -1;
	draw_children(fl, t, REPORT_ROOT, x0, base);
	for (size_t i = 0; i < r->nnodes && !ferror(fl->out); i++)
		if (t->x[i] >= 0)
			draw_children(fl, t, (int)i, t->x[i], base);
}

static void flame_draw(FILE *out, struct flame_tree *t, size_t n)
{
	struct flame fl = { out, 0, 0 };
	uint64_t total = 0;
	int top = 0;
	double x = FLAME_PAD, full = FLAME_WIDTH - 2 * FLAME_PAD;
	struct frame all = { "all", NULL, 0, 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		int levels = t[i].top + (t[i].e->pid ? 2 : 1);

		total += t[i].total;
		top = levels > top ? levels : top;
	}
	all.bytes = total;
	fl.scale = total ? full / total : 0;
	fl.height = FLAME_TITLE + (top + 1) * FLAME_ROW + FLAME_PAD;
	svg_open(out, FLAME_WIDTH, fl.height);
	fprintf(out, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" "
		"font-size=\"15\">Inclusive self memory by call path (MB)"
		"</text>\n", FLAME_WIDTH / 2);
	frame_draw(&fl, &all, 0, x, full);
	for (size_t i = 0; i < n; i++) {
		tree_draw(&fl, &t[i], x);
		x += t[i].total * fl.scale;
	}
}

int report_write_flamegraph(const struct report_entry *e, size_t n,
			    FILE *out)
{
	struct flame_tree *t = calloc(n ? n : 1, sizeof(*t));
	int ret = -1;
	size_t ready = 0;

	if (!t)
		return -1;
	while (ready < n && tree_prepare(&t[ready], &e[ready]) == 0)
		ready++;
	if (ready == n) {
		flame_draw(out, t, n);
		ret = svg_close(out);
	} else {
		ready++;	/* the one that failed holds allocations too */
	}
	for (size_t i = 0; i < ready; i++)
		tree_release(&t[i]);
	free(t);
	return ret;
}
