/* report: per-key aggregation of memory deltas and the text table.
 *
 * Functions live in a growing array indexed by id, so report_record is one
 * bounds check and two additions.  Keys are deduplicated at registration
 * through an open-addressing hash table of ids: a program can have tens of
 * thousands of functions, and inlined or duplicated copies (.constprop,
 * .isra, several CUs including one header) share a key and must share a row. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MB		1048576.0
#define HEADER		"Memory (MB)   Calls  File:Line:Function\n"
#define RULE		"---------------------------------------\n"
#define EMPTY_LINE	"No traced call increased memory.\n"

struct func {
	char *file;
	char *name;
	int line;
	uint64_t bytes;		/* sum of the positive deltas */
	uint64_t calls;		/* number of positive deltas */
};

struct report {
	struct func *funcs;
	size_t nfuncs, cap;
	int *slots;		/* hash table of ids, -1 when empty */
	size_t nslots;		/* a power of two, kept at most half full */
};

/* FNV-1a: short keys, no need for anything stronger. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t key_hash(const char *file, int line, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	/* The terminating NULs keep ("ab", "c") apart from ("a", "bc"). */
	h = hash_bytes(h, file, strlen(file) + 1);
	h = hash_bytes(h, &line, sizeof(line));
	return hash_bytes(h, name, strlen(name) + 1);
}

static int key_equal(const struct func *f, const char *file, int line,
		     const char *name)
{
	return f->line == line && !strcmp(f->file, file) &&
	       !strcmp(f->name, name);
}

struct report *report_new(void)
{
	return calloc(1, sizeof(struct report));
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfuncs; i++) {
		free(r->funcs[i].file);
		free(r->funcs[i].name);
	}
	free(r->funcs);
	free(r->slots);
	free(r);
}

/* The slot holding the id of the key, or the empty slot where it belongs. */
static size_t slot_find(const struct report *r, uint64_t h, const char *file,
			int line, const char *name)
{
	size_t mask = r->nslots - 1;
	size_t i = h & mask;

	while (r->slots[i] >= 0 &&
	       !key_equal(&r->funcs[r->slots[i]], file, line, name))
		i = (i + 1) & mask;
	return i;
}

static int slots_grow(struct report *r)
{
	size_t n = r->nslots ? r->nslots * 2 : 256;
	int *slots = malloc(n * sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < n; i++)
		slots[i] = -1;
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
	/* Every registered key is distinct, so reinsertion only needs an
	 * empty slot; the hash is recomputed rather than stored because this
	 * happens a handful of times per run. */
	for (size_t id = 0; id < r->nfuncs; id++) {
		const struct func *f = &r->funcs[id];
		size_t i = key_hash(f->file, f->line, f->name) & (n - 1);

		while (slots[i] >= 0)
			i = (i + 1) & (n - 1);
		slots[i] = (int)id;
	}
	return 0;
}

static int funcs_grow(struct report *r)
{
	size_t n = r->cap ? r->cap * 2 : 256;
	struct func *funcs;

	if (n > INT_MAX) {
		errno = ENOMEM;
		return -1;
	}
	funcs = realloc(r->funcs, n * sizeof(*funcs));
	if (!funcs)
		return -1;
	r->funcs = funcs;
	r->cap = n;
	return 0;
}

int report_add_func(struct report *r, const char *file, int line,
		    const char *name)
{
	uint64_t h;
	size_t slot;
	struct func *f;

	file = file ? file : "";
	name = name ? name : "";
	if (2 * (r->nfuncs + 1) > r->nslots && slots_grow(r) < 0)
		return -1;
	h = key_hash(file, line, name);
	slot = slot_find(r, h, file, line, name);
	if (r->slots[slot] >= 0)
		return r->slots[slot];

	if (r->nfuncs == r->cap && funcs_grow(r) < 0)
		return -1;
	f = &r->funcs[r->nfuncs];
	f->file = strdup(file);
	f->name = strdup(name);
	if (!f->file || !f->name) {
		free(f->file);
		free(f->name);
		return -1;
	}
	f->line = line;
	f->bytes = 0;
	f->calls = 0;
	r->slots[slot] = (int)r->nfuncs;
	return (int)r->nfuncs++;
}

struct report *report_clone_keys(const struct report *r)
{
	struct report *c = report_new();

	if (!c)
		return NULL;
	for (size_t i = 0; i < r->nfuncs; i++) {
		const struct func *f = &r->funcs[i];

		/* the keys are distinct, so each gets the next id: i */
		if (report_add_func(c, f->file, f->line, f->name) != (int)i) {
			report_free(c);
			return NULL;
		}
	}
	return c;
}

void report_record(struct report *r, int id, int64_t delta)
{
	struct func *f;

	/* A bad id is a tracer bug, but aborting mid-run would leave the
	 * tracee full of int3s: drop the record instead. */
	if (delta <= 0 || id < 0 || (size_t)id >= r->nfuncs)
		return;
	f = &r->funcs[id];
	f->bytes += (uint64_t)delta;
	f->calls++;
}

static int row_cmp(const void *a, const void *b)
{
	const struct func *x = *(const struct func *const *)a;
	const struct func *y = *(const struct func *const *)b;
	int c;

	/* Exact byte sums, not the rounded MB that is printed. */
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	c = strcmp(x->file, y->file);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The rows to print, sorted; *n is their count.  NULL with *n == 0 is a
 * valid empty answer; NULL with *n != 0 means out of memory. */
static const struct func **rows_select(const struct report *r, double min_mb,
				       size_t *n)
{
	const struct func **rows;
	size_t k = 0;

	*n = r->nfuncs;
	if (!r->nfuncs)
		return NULL;
	rows = malloc(r->nfuncs * sizeof(*rows));
	if (!rows)
		return NULL;
	for (size_t i = 0; i < r->nfuncs; i++)
		if (r->funcs[i].bytes / MB > min_mb)
			rows[k++] = &r->funcs[i];
	qsort(rows, k, sizeof(*rows), row_cmp);
	*n = k;
	return rows;
}

static int print_rows(const struct func **rows, size_t n, FILE *out)
{
	if (!n)
		return fputs(EMPTY_LINE, out) < 0 ? -1 : 0;
	for (size_t i = 0; i < n; i++) {
		const struct func *f = rows[i];

		/* calls is printed as %7d would print an int, without the
		 * overflow an int counter would risk on a long run. */
		if (fprintf(out, "%10.4g  %7" PRIu64 "  %s:%d:%s\n",
			    f->bytes / MB, f->calls, f->file, f->line,
			    f->name) < 0)
			return -1;
	}
	return 0;
}

int report_print(const struct report *r, FILE *out, double min_mb)
{
	const struct func **rows;
	size_t n;
	int ret = -1;

	rows = rows_select(r, min_mb, &n);
	if (!rows && n)
		return -1;
	if (fputs(HEADER RULE, out) < 0)
		goto out;
	if (print_rows(rows, n, out) < 0)
		goto out;
	if (fputs(RULE HEADER, out) < 0)
		goto out;
	if (fflush(out) == EOF)
		goto out;
	ret = 0;
out:
	free(rows);
	return ret;
}
