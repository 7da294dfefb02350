/* csv: the table's rows of every process, one header line:
 *
 *   pid,file,line,function,memory_bytes,memory_mb,calls,total_calls,self_bytes,peak_bytes,outer_bytes,outer_calls
 *   0,/src/app/db.c,42,db_load,45308518,43.210000,1892,1900,45308518,1048576,45308518,1892
 *
 * Rows in the table's order per process (min_mb and top applied), pid 0
 * for the single report; lines end in "\n"; a field holding a comma, a
 * quote or a line break is quoted as RFC 4180 says. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>

static void csv_row(FILE *out, int pid, const struct row *w)
{
	fprintf(out, "%d,", pid);
	csv_field(out, w->f->file);
	fprintf(out, ",%d,", w->f->line);
	csv_field(out, w->f->name);
	fprintf(out, ",%" PRIu64 ",%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64
		",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", w->bytes,
		w->bytes / MB, w->calls, w->total_calls, w->self_bytes,
		w->peak_bytes, w->outer_bytes, w->outer_calls);
}

int csv_write(const struct report_entry *e, size_t n, FILE *out,
	      const struct report_view *v)
{
	fputs("pid,file,line,function,memory_bytes,memory_mb,calls,"
	      "total_calls,self_bytes,peak_bytes,outer_bytes,outer_calls\n",
	      out);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		struct row *rows;
		size_t k;

		if (rows_select(e[i].rep, v->min_mb, v->top, &rows, &k) < 0)
			return -1;
		for (size_t j = 0; j < k && !ferror(out); j++)
			csv_row(out, e[i].pid, &rows[j]);
		free(rows);
	}
	return out_status(out);
}
