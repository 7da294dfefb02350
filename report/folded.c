/* folded: the call paths as folded stacks, the input format of
 * flamegraph.pl, inferno and speedscope:
 *
 *   main;setup;alloc_buffers 9437184
 *
 * One line per call-path node with a positive self memory: the function
 * names from the root to the node joined by ';', a space, the self bytes.
 * In a name, ';', spaces and control characters become '_' (they would
 * split the frame or the line).  Entries with a pid (per process) start
 * with the pid as a frame of its own: "4242;main;setup 4096".  Lines are
 * sorted (strcmp), so the output does not depend on recording order. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void folded_frame(FILE *m, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		fputc(*p == ';' || *p == ' ' || *p < 0x20 || *p == 0x7f ?
		      '_' : *p, m);
}

/* The frames of node id, root first: the path is walked up into `up`
 * (room for every node), then written down. */
static void folded_stack(FILE *m, const struct report *r, int id, int *up)
{
	size_t depth = 0;

	for (int p = id; p != REPORT_ROOT; p = r->nodes[p].parent)
		up[depth++] = p;
	while (depth--) {
		folded_frame(m, r->funcs[r->nodes[up[depth]].fn].name);
		if (depth)
			fputc(';', m);
	}
}

struct lines {
	char *buf;		/* NUL-separated lines, in an open_memstream */
	size_t len;
	size_t *offs;
	size_t n, cap;
};

static int lines_add_entry(struct lines *l, FILE *m,
			   const struct report_entry *e, int *up)
{
	const struct report *r = e->rep;

	for (size_t i = 0; i < r->nnodes; i++) {
		if (!r->nodes[i].self_bytes)
			continue;
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 256;
			size_t *offs = realloc(l->offs, cap * sizeof(*offs));

			if (!offs)
				return -1;
			l->offs = offs;
			l->cap = cap;
		}
		l->offs[l->n++] = (size_t)ftell(m);
		if (e->pid)
			fprintf(m, "%d;", e->pid);
		folded_stack(m, r, (int)i, up);
		fprintf(m, " %" PRIu64, r->nodes[i].self_bytes);
		fputc(0, m);	/* ends the line in the buffer */
	}
	return ferror(m) ? -1 : 0;
}

static int line_cmp(const void *a, const void *b, void *arg)
{
	const char *buf = arg;

	return strcmp(buf + *(const size_t *)a, buf + *(const size_t *)b);
}

static int lines_collect(struct lines *l, const struct report_entry *e,
			 size_t n)
{
	FILE *m = open_memstream(&l->buf, &l->len);
	size_t most = 1;
	int *up, ret = 0;

	if (!m)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (e[i].rep->nnodes > most)
			most = e[i].rep->nnodes;
	up = malloc(most * sizeof(*up));
	for (size_t i = 0; i < n && up && !ret; i++)
		ret = lines_add_entry(l, m, &e[i], up);
	free(up);
	if (fclose(m) == EOF || !up)
		return -1;
	return ret;
}

int report_write_folded(const struct report_entry *e, size_t n, FILE *out)
{
	struct lines l = { 0 };
	int ret = -1;

	if (lines_collect(&l, e, n) == 0) {
		if (l.n)
			qsort_r(l.offs, l.n, sizeof(*l.offs), line_cmp, l.buf);
		for (size_t i = 0; i < l.n && !ferror(out); i++)
			fprintf(out, "%s\n", l.buf + l.offs[i]);
		ret = fflush(out) == EOF ? -1 : out_status(out);
	}
	free(l.buf);
	free(l.offs);
	return ret;
}
