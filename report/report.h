/* report: aggregate per-call memory deltas per file:line:function key and print
 * them.  Pure: no ptrace, no libdw.  The tracer records (function id, delta)
 * pairs; functions that share a key share an id, so their calls are summed. */
#ifndef IPROFMEM_REPORT_H
#define IPROFMEM_REPORT_H

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

/* A new report with the same functions under the same ids and nothing
 * recorded: a forked child's table starts from its parent's keys, because
 * it inherits the parent's breakpoints and their ids.  NULL when out of
 * memory. */
struct report *report_clone_keys(const struct report *r);

/* One completed call of function `id` changed RSS by `delta` bytes.  Only a
 * positive delta counts: it is added to the function's sum and to its calls.
 * Hot path: O(1), no allocation. */
void report_record(struct report *r, int id, int64_t delta);

/* Print the table (format in man/iprofmem.1, section OUTPUT): rows whose sum
 * in MB (2^20 bytes) is at or below min_mb are hidden; rows ascend by memory,
 * ties by file, then line, then function name.  Returns 0, or -1 when a write
 * to `out` failed (errno set). */
int report_print(const struct report *r, FILE *out, double min_mb);

#endif
