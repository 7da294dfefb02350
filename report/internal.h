/* report/internal.h: the recorded data every view reads, and the helpers
 * the views share.  Only the files of report/ and its unit tests include it. */
#ifndef IPROFMEM_REPORT_INTERNAL_H
#define IPROFMEM_REPORT_INTERNAL_H

#include "report/report.h"

#define MB		1048576.0
#define KEPT_CALLS	8	/* biggest calls kept per function (timeline) */
#define SAMPLES_MAX	4096	/* RSS samples kept per report */
#define EMPTY_LINE	"No traced call increased memory.\n"

struct kept_call {
	uint64_t t_entry, t_return;	/* ns since the trace started */
	int64_t delta;			/* > 0 */
};

struct func {
	char *file;
	char *name;
	int line;
	int nkept;
	struct kept_call kept[KEPT_CALLS];	/* the biggest, unordered */
};

/* One call path: function fn called from the call path `parent`. */
struct node {
	int parent;		/* a smaller node id, or REPORT_ROOT */
	int fn;
	uint64_t bytes;		/* sum of the positive deltas */
	uint64_t calls;		/* number of positive deltas */
	uint64_t total_calls;	/* every completed call */
	uint64_t self_bytes;	/* sum of the positive selfs */
	uint64_t peak_bytes;	/* the largest peak of any call */
	/* the child report_path found last (a loop calls the same function
	 * again and again): fn, then id; id -1 when none */
	int last_fn, last_child;
};

/* A slot of the call paths' hash table: the key is kept in it, so that a
 * lookup in a big tree costs one cache miss, not two. */
struct node_slot {
	int parent, fn;
	int id;			/* -1: free */
};

struct sample {
	uint64_t t;		/* ns */
	int64_t rss;		/* bytes */
};

struct report {
	struct func *funcs;
	size_t nfuncs, funcs_cap;
	int *func_slots;	/* key -> id hash table, -1 when empty */
	size_t nfunc_slots;	/* a power of two, kept at most half full */

	struct node *nodes;
	size_t nnodes, nodes_cap;
	struct node_slot *node_slots;	/* (parent, fn) -> id, likewise */
	size_t nnode_slots;
	/* the call paths used lately, direct-mapped by (parent, fn): small
	 * enough to stay in the cache, where the table's slots miss */
	struct node_slot *path_cache;
	int root_last_fn, root_last_child;	/* as in struct node, for
						   REPORT_ROOT */
	bool flat;		/* report_set_flat: nodes by function alone */
	int *flat_ids;		/* flat: fn -> its node id, -1 when none */
	size_t flat_cap;

	struct sample *samples;	/* SAMPLES_MAX of them once the first comes */
	size_t nsamples;
	uint64_t stride;	/* raw samples merged into one kept sample */
	uint64_t last_fill;	/* raw samples merged into the last one */
};

/* report.c: appending what a record file holds (no merging, no ranking).
 * Each returns 0, or -1 when the report is full (samples, kept calls). */
int report_append_sample(struct report *r, uint64_t t, int64_t rss);
int report_append_kept(struct report *r, int fn, const struct kept_call *k);

/* progress.c: one more call recorded in r (by the recording thread). */
void progress_count(const struct report *r);

/* rows.c: the flat table's rows, one per function, summed over its nodes. */
struct row {
	int fn;
	const struct func *f;
	uint64_t bytes, calls, total_calls, self_bytes, peak_bytes;
	uint64_t outer_bytes, outer_calls;	/* of its outer nodes only */
};

/* The rows above min_mb, ascending by memory (exact bytes), ties by file,
 * line, name; with top, only the `top` largest.  *rows is NULL when there
 * are none; free it.  Returns 0, or -1 when out of memory. */
int rows_select(const struct report *r, double min_mb, size_t top,
		struct row **rows, size_t *n);

/* paths.c: the children of every node, for the views that walk the tree. */
struct kids {
	int *ids;	/* roots first, then the children of node 0, 1, ... */
	size_t *start;	/* children of p (REPORT_ROOT too) start at
			   ids[start[p + 1]] and end before ids[start[p + 2]] */
};

/* Group the nodes by parent, each group sorted by cmp (qsort_r, called
 * with the node ids and the report; NULL: in id order).  Returns 0, or -1
 * (out of memory). */
int kids_build(const struct report *r,
	       int (*cmp)(const void *, const void *, void *),
	       struct kids *k);
void kids_free(struct kids *k);

static inline size_t kids_first(const struct kids *k, int p)
{
	return k->start[p + 1];
}

static inline size_t kids_end(const struct kids *k, int p)
{
	return k->start[p + 2];
}

/* outer[i]: node i is an outermost activation of its function, no node
 * on the path above it being of the same function (recursion, direct or
 * not, nests the others).  The report_path ids are the call paths, so this
 * needs nothing recorded.  Free it; NULL when out of memory. */
bool *nodes_outer(const struct report *r);

/* incl[i]: the inclusive self memory of node i, its self memory plus that
 * of every node under it: what grew along the path, whether or not it was
 * freed before the path's calls returned (the flame graph's widths).  Free
 * it; NULL when out of memory. */
uint64_t *nodes_inclusive_self(const struct report *r);

/* Compare two functions by key: file, line, name. */
int func_key_cmp(const struct func *a, const struct func *b);

/* table.c: the numeric columns shared by the table and the tree. */
struct counts {
	uint64_t bytes, calls, total_calls, self_bytes, peak_bytes;
	uint64_t outer_bytes, outer_calls;
};

/* "Memory (MB)   Calls", the extra columns, two spaces, `what`; then a
 * line of as many dashes. */
void table_header(FILE *out, unsigned columns, const char *what);
void table_rule(FILE *out, unsigned columns, const char *what);
void table_numbers(FILE *out, unsigned columns, const struct counts *c);
int table_write(const struct report *r, FILE *out, const struct report_view *v);

/* tree.c, json.c, csv.c */
int tree_write(const struct report *r, FILE *out, const struct report_view *v);
int json_write(const struct report_entry *e, size_t n, FILE *out,
	       const struct report_view *v);
int csv_write(const struct report_entry *e, size_t n, FILE *out,
	      const struct report_view *v);

/* diff.c: one row of a diff; a side is absent when the function (or the
 * whole process) is not in that record. */
struct diff_side {
	bool present;
	uint64_t bytes, calls;
};

struct diff_row {
	const char *file, *name;
	int line;		/* the new run's, or the old's when gone */
	struct diff_side old, new;
	int64_t change;		/* new bytes - old bytes */
};

/* The rows of two reports (either may be NULL: a process in one record
 * only) with memory in either, ascending by change, ties by file, line,
 * name.  *rows is NULL when there are none.  Returns 0, or -1 when out of
 * memory. */
int diff_rows(const struct report *old, const struct report *new,
	      struct diff_row **rows, size_t *n);

/* Two reports as one tree of signed figures, for the pprof diff: rep has
 * every function of both (a paired function once, under the key the diff
 * shows) and every call path of either, paths matched through the paired
 * functions; vals[2 * i] and vals[2 * i + 1] are node i's self memory and
 * calls in new less those in old (cap: nodes vals has room for, at least
 * rep->nnodes).  old or new may be NULL (a process in one record only).
 * Returns 0, or -1 when out of memory (t freed). */
struct diff_tree {
	struct report *rep;
	int64_t *vals;
	size_t cap;
};

int diff_tree_build(const struct report *old, const struct report *new,
		    struct diff_tree *t);
void diff_tree_free(struct diff_tree *t);

/* Entries paired across two records: old or new is NULL when the process
 * is in one record only. */
struct diff_pair {
	const struct report_entry *old, *new;
};

/* First the processes of equal command lines (the program's directory
 * aside: two builds live in two places), the k-th with the k-th; then
 * those left, in order.  In the new record's order, then the old-only
 * ones.  Returns the count, or -1 when out of memory. */
long diff_pairs(const struct report_entry *old, size_t nold,
		const struct report_entry *new, size_t nnew,
		struct diff_pair **pairs);

/* escape.c */
int utf8_len(const unsigned char *s);
void json_string(FILE *out, const char *s);
void csv_field(FILE *out, const char *s);
/* XML character data or attribute value; at most maxchars characters
 * (0: no limit), ending in ".." when cut. */
void xml_text(FILE *out, const char *s, size_t maxchars);
size_t utf8_chars(const char *s);

/* svg.c */
void svg_open(FILE *out, int width, int height);
int svg_close(FILE *out);
uint64_t name_hash(const char *s);

/* The stream's state after writing: 0, or -1 when a write failed. */
int out_status(FILE *out);

#endif
