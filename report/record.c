/* record: report_save, the record file: everything the views need, so
 * that any view of a loaded record is byte for byte the live one.
 *
 *   record  = "iprofmem-record 2" NL [ program ] { process { item } }
 *             "end" NL
 *   program = "program" TAB path TAB build_id NL
 *   process = "process" TAB pid TAB cmdline NL
 *   item    = func | node | call | sample
 *   func    = "func" TAB id TAB file TAB line TAB name NL
 *   node    = "node" TAB id TAB parent TAB func-id TAB memory_bytes TAB
 *             calls TAB total_calls TAB self_bytes TAB peak_bytes NL
 *   call    = "call" TAB func-id TAB t_entry_ns TAB t_return_ns TAB
 *             delta_bytes NL
 *   sample  = "sample" TAB t_ns TAB rss_bytes NL
 *
 * Numbers are decimal (rss and line may be negative; parent is -1 for a
 * root).  Within a process, func ids and node ids count from 0 in the
 * order of their lines; a node names an earlier node as parent and an
 * earlier func; keys (file, line, name) and (parent, func) are unique.
 * "call" lines are the kept biggest calls, at most 8 per function, delta
 * > 0, t_entry <= t_return; "sample" lines the RSS samples, at most 4096
 * per process.  Strings escape backslash, tab, newline and carriage return
 * as \\ \t \n \r.  The writer puts funcs, then nodes, calls, samples; the
 * reader takes items in any order that respects the references.  A reader
 * rejects a newer version: a new field or line type bumps it.  The outer
 * figures need no field: they follow from the nodes' parents.
 *
 * "program": the traced executable's absolute path and its GNU build ID
 * (lowercase hex, an even number of digits; empty when it has none), for
 * the pprof mapping of `iprofmem report --format=pprof`; left out when
 * neither is known.  Format 1 is format 2 without it: a reader of 2 reads
 * 1 too, and its records have no mapping file or ID. */
#include "report/internal.h"

#include <inttypes.h>

static void record_string(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", out); break;
		case '\t': fputs("\\t", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		default: fputc(*s, out);
		}
	}
}

static void save_funcs(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->nfuncs && !ferror(out); i++) {
		fprintf(out, "func\t%zu\t", i);
		record_string(out, r->funcs[i].file);
		fprintf(out, "\t%d\t", r->funcs[i].line);
		record_string(out, r->funcs[i].name);
		fputc('\n', out);
	}
}

static void save_nodes(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->nnodes && !ferror(out); i++) {
		const struct node *nd = &r->nodes[i];

		fprintf(out, "node\t%zu\t%d\t%d\t%" PRIu64 "\t%" PRIu64 "\t%"
			PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n", i, nd->parent,
			nd->fn, nd->bytes, nd->calls, nd->total_calls,
			nd->self_bytes, nd->peak_bytes);
	}
}

static void save_calls_samples(FILE *out, const struct report *r)
{
	for (size_t i = 0; i < r->nfuncs && !ferror(out); i++)
		for (int j = 0; j < r->funcs[i].nkept; j++) {
			const struct kept_call *k = &r->funcs[i].kept[j];

			fprintf(out, "call\t%zu\t%" PRIu64 "\t%" PRIu64 "\t%"
				PRId64 "\n", i, k->t_entry, k->t_return,
				k->delta);
		}
	for (size_t i = 0; i < r->nsamples && !ferror(out); i++)
		fprintf(out, "sample\t%" PRIu64 "\t%" PRId64 "\n",
			r->samples[i].t, r->samples[i].rss);
}

/* The program line, when something is known of it. */
static void save_program(FILE *out, const struct report_program *prog)
{
	const char *path = prog && prog->path ? prog->path : "";
	const char *id = prog && prog->build_id ? prog->build_id : "";

	if (!*path && !*id)
		return;
	fputs("program\t", out);
	record_string(out, path);
	fputc('\t', out);
	record_string(out, id);
	fputc('\n', out);
}

int report_save(const struct report_entry *e, size_t n,
		const struct report_program *prog, FILE *out)
{
	fputs("iprofmem-record 2\n", out);
	save_program(out, prog);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		fprintf(out, "process\t%d\t", e[i].pid);
		record_string(out, e[i].cmdline ? e[i].cmdline : "");
		fputc('\n', out);
		save_funcs(out, e[i].rep);
		save_nodes(out, e[i].rep);
		save_calls_samples(out, e[i].rep);
	}
	fputs("end\n", out);
	if (fflush(out) == EOF)
		return -1;
	return out_status(out);
}
