/* report: what the tracer measured, per function and per call path, and
 * every view of it (table, tree, JSON, CSV, folded stacks, flame graph,
 * timeline, record file).  Pure: no ptrace, no libdw.
 *
 * The tracer registers functions (report_add_func), asks for the call-path
 * node of each call it enters (report_path), and records each completed
 * call on its node (report_record_call).  Functions that share a
 * file:line:name key share an id; the flat table sums each function's nodes,
 * so recursion counts every level, as the seed tool does.  The "outer"
 * figures sum only the calls of a function made with no call of the same
 * function on the path above them (worked out from the nodes when a view
 * is printed), so recursion counts once. */
#ifndef IPROFMEM_REPORT_H
#define IPROFMEM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct report;

struct report *report_new(void);
void report_free(struct report *r);

/* Register a function and return its id (>= 0), or -1 when out of memory.
 * A second registration of the same (file, line, name) key returns the id
 * of the first.  The strings are copied. */
int report_add_func(struct report *r, const char *file, int line,
		    const char *name);

/* A new report with the same functions and call-path nodes under the same
 * ids and nothing recorded: a forked child inherits its parent's
 * breakpoints (function ids) and frames (path ids).  NULL when out of
 * memory. */
struct report *report_clone_keys(const struct report *r);

/* Keep no call paths: report_path gives every call of a function its one
 * node under the root, whatever its caller.  The flat table is the same
 * but for its outer columns (a recursion counts once), which need paths,
 * as do the tree, JSON, CSV, pprof, folded stacks, flame graphs and
 * record files: only for a report that none of those will print.  On a
 * program with deep, varied call chains (an interpreter) it saves most of
 * the recording's time and memory.  Set before the first report_path;
 * report_clone_keys keeps it. */
void report_set_flat(struct report *r, bool flat);
bool report_is_flat(const struct report *r);

/* ---- recording (hot path: O(1) amortized, no allocation but growth) ---- */

#define REPORT_ROOT (-1)

/* The call-path node for a call of function fn made from the call whose
 * node is parent (REPORT_ROOT for a call with no traced caller).  Creates
 * it the first time.  Returns the node id (>= 0), or -1 when out of memory
 * (then the caller records nothing for that call). */
int report_path(struct report *r, int parent, int fn);

struct report_call {
	int64_t delta;		/* RSS at return - RSS at entry, bytes */
	int64_t self;		/* delta - what its direct traced callees
				   added (their positive deltas) */
	int64_t peak;		/* highest RSS seen during the call - RSS at
				   entry (>= 0) */
	uint64_t t_entry, t_return;	/* ns since the trace started */
};

/* A completed call on node `path`: every call counts in total calls; a
 * positive delta adds to memory and to calls; a positive self adds to self
 * memory; peak keeps the largest.  A few of each function's biggest calls
 * keep their times, for the timeline (bounded memory). */
void report_record_call(struct report *r, int path, const struct report_call *c);

/* Shorthand for a call of fn from the root with only a delta (tests). */
void report_record(struct report *r, int fn, int64_t delta);

/* RSS at a moment of the trace.  Kept in a bounded buffer: when it fills,
 * neighbouring samples merge (keeping the higher RSS), so memory stays
 * bounded however long the run. */
void report_sample(struct report *r, uint64_t t_ns, int64_t rss);
/* n samples alike at once: as n calls of report_sample. */
void report_sample_n(struct report *r, uint64_t t_ns, int64_t rss, uint64_t n);

/* ---- progress, for a status line drawn by another thread ---------------- */

/* Calls recorded so far, in every report. */
uint64_t report_progress_calls(void);
/* The tracer counts the events that cost a ptrace stop (int3), the others
 * being the probes'. */
void report_progress_stop(void);
uint64_t report_progress_stops(void);
/* Ask for the names of the most called functions: the recording thread
 * writes them at its next call (from the report that call goes to), and
 * report_progress_take_hot hands them over once (NULL until then): "f
 * (120000 calls), g (80000 calls); to leave them out: -x 'f' -x 'g'".
 * Free it. */
void report_progress_ask_hot(void);
char *report_progress_take_hot(void);

/* ---- views -------------------------------------------------------------- */

/* REPORT_PPROF is written by report_write_pprof (binary, gzipped), not by
 * report_print: a caller picks the writer by the format. */
enum report_format { REPORT_TABLE, REPORT_JSON, REPORT_CSV, REPORT_PPROF };

enum {
	REPORT_COL_SELF = 1 << 0,
	REPORT_COL_PEAK = 1 << 1,
	REPORT_COL_TOTAL_CALLS = 1 << 2,
	REPORT_COL_OUTER = 1 << 3,	/* outer memory and outer calls */
};

struct report_view {
	enum report_format format;
	double min_mb;		/* hide rows (tree: subtrees) at or below */
	size_t top;		/* only the `top` largest rows; 0: all */
	unsigned columns;	/* REPORT_COL_*: extra table columns (JSON and
				   CSV always carry every column) */
	bool tree;		/* call-path view instead of the flat table */
};

/* Parse "self,peak,total-calls,outer" (any subset, any order) into REPORT_COL_*
 * bits.  Returns 0, or -1 for an unknown name. */
int report_parse_columns(const char *list, unsigned *out);

/* One report of a set: pid 0 for the single, unlabelled report. */
struct report_entry {
	int pid;
	const char *cmdline;
	const struct report *rep;
};

/* Print the reports in the view's format.  One entry with pid 0: the plain
 * view (the default table is the seed's, byte for byte).  Entries with
 * pids (--per-process): each labelled by its pid and command line.
 * Returns 0, or -1 when a write failed (errno set). */
int report_print(const struct report_entry *e, size_t n, FILE *out,
		 const struct report_view *v);

/* Folded stacks, one line per call path with a positive self memory:
 * "main;setup;alloc_buffers 9437184" (bytes), for flamegraph.pl, inferno,
 * speedscope.  Several entries: each line starts with "PID;". */
int report_write_folded(const struct report_entry *e, size_t n, FILE *out);
/* A self-contained SVG flame graph of the same (no scripts, fonts or
 * network; a <title> per frame for hover). */
int report_write_flamegraph(const struct report_entry *e, size_t n,
			    FILE *out);
/* A self-contained SVG of RSS over time, with the recorded calls of the
 * `top` functions of largest memory marked as spans. */
int report_write_timeline(const struct report_entry *e, size_t n, FILE *out,
			  size_t top);

/* The traced program, for the pprof mapping: its path and GNU build ID in
 * hex; either may be NULL or "" when unknown (a record of format 1 keeps
 * neither). */
struct report_program {
	const char *path;
	const char *build_id;
};

/* A gzipped pprof profile (profile.proto, see report/pprof.c): sample
 * types memory (bytes, self per call path: pprof's cumulative figures are
 * the table's inclusive ones) and calls; one location per function with
 * its file, line and name; stacks from the call-path tree; the program as
 * the mapping.  Several entries: each sample has a "pid" label.  Needs
 * protobuf-c and zlib (link report/pprof.c and the generated
 * profile.pb-c.c).  Returns 0 or -1 (errno set). */
int report_write_pprof(const struct report_entry *e, size_t n, FILE *out,
		       const struct report_program *prog);

/* ---- record files ----------------------------------------------------- */

/* Write everything the views need, and the program (prog: NULL when
 * unknown) for the pprof mapping (a versioned format, see man/iprofmem.1,
 * RECORD FILES).  Returns 0 or -1 (errno set). */
int report_save(const struct report_entry *e, size_t n,
		const struct report_program *prog, FILE *out);
/* Read a record file, of this format or an older one.  Returns the
 * entries (reports and command lines owned by the array; free with
 * report_entries_free) and their count in *n, or NULL with a one-line
 * message in err: truncated, corrupt (with the line), a newer version,
 * not a record file.  prog (may be NULL) gets the program's path and
 * build ID, malloc'd (both NULL when the record has none, as in format 1,
 * and after a failure); free them with report_program_free. */
struct report_entry *report_load(FILE *in, size_t *n,
				 struct report_program *prog, char *err,
				 size_t errlen);
void report_entries_free(struct report_entry *e, size_t n);
void report_program_free(struct report_program *prog);

/* ---- diff and budgets ------------------------------------------------- */

/* iprofmem diff: the change from the old record's entries to the new's,
 * per function, in the view's format (report/diff.c).  Functions are
 * matched by (file, name), not line: lines move between builds.  Entries
 * (processes) are paired by command line, then in order.  v->min_mb hides
 * rows whose change is at or below it (0: every function with memory in
 * either run is shown); v->top keeps the `top` largest changes.  Returns
 * 0, or -1 when a write failed (errno set). */
int report_diff_print(const struct report_entry *old, size_t nold,
		      const struct report_entry *new, size_t nnew, FILE *out,
		      const struct report_view *v);
/* The same change as a gzipped pprof profile (report/pprof.c), the sample
 * types, locations and stacks of report_write_pprof: each call path's self
 * memory and calls in the new record less those in the old (negative when
 * they shrank), call paths matched through the functions the diff pairs.
 * pprof's cum of a function is then the diff's Change, its flat calls the
 * new Calls less the old.  prog: the new program, for the mapping.  Entries
 * paired as by report_diff_print; a "pid" label (the new process's, or the
 * old's when it is only there) when the records hold processes.  --min and
 * --top do not apply.  Returns 0 or -1 (errno set). */
int report_diff_write_pprof(const struct report_entry *old, size_t nold,
			    const struct report_entry *new, size_t nnew,
			    FILE *out, const struct report_program *prog);
/* --fail-above: print one line on out for each function that grew by more
 * than mb megabytes (all of them, whatever the view hides).  Returns how
 * many did, or -1 when out of memory. */
long report_diff_grew(const struct report_entry *old, size_t nold,
		      const struct report_entry *new, size_t nnew, double mb,
		      FILE *out);

/* --budget=FILE (report/budget.c): lines "PATTERN MB", the patterns of
 * --funcs files; the first line whose pattern matches a function gives its
 * budget. */
struct budget;

/* NULL with a one-line message in err ("FILE:LINE: what") when the file
 * cannot be read or a line is malformed. */
struct budget *budget_load(const char *path, char *err, size_t errlen);
void budget_free(struct budget *b);
/* Print one line on out for each function of each entry over its budget,
 * and a warning for each budget line that matched no function.  Returns
 * how many functions are over, or -1 when out of memory. */
long budget_check(struct budget *b, const struct report_entry *e, size_t n,
		  FILE *out);

#endif
