/* table: the flat view, the seed tool's table byte for byte by default.
 *
 *   Memory (MB)   Calls  File:Line:Function
 *   ---------------------------------------
 *        43.21     1892  /src/app/db.c:42:db_load
 *   ---------------------------------------
 *   Memory (MB)   Calls  File:Line:Function
 *
 * Extra columns (REPORT_COL_*) go between Calls and the key, always in the
 * order self, peak, total calls, outer memory and outer calls, each as wide
 * as its header, and the dashes grow with the header.  The tree view shares the numeric part. */
#include "report/internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static size_t header_text(char *buf, size_t len, unsigned columns,
			  const char *what)
{
	int n = snprintf(buf, len, "Memory (MB)   Calls%s%s%s%s  %s",
			 columns & REPORT_COL_SELF ? "   Self (MB)" : "",
			 columns & REPORT_COL_PEAK ? "   Peak (MB)" : "",
			 columns & REPORT_COL_TOTAL_CALLS ? "    Total" : "",
			 columns & REPORT_COL_OUTER ?
			 "  Outer (MB)  Outer calls" : "",
			 what);

	return n < 0 ? 0 : (size_t)n;
}

void table_header(FILE *out, unsigned columns, const char *what)
{
	char buf[128];

	header_text(buf, sizeof(buf), columns, what);
	fprintf(out, "%s\n", buf);
}

void table_rule(FILE *out, unsigned columns, const char *what)
{
	char buf[128];
	size_t n = header_text(buf, sizeof(buf), columns, what);

	memset(buf, '-', n);
	buf[n] = '\0';
	fprintf(out, "%s\n", buf);
}

/* Counters are printed as %7d would print an int, without the overflow an
 * int counter would risk on a long run. */
void table_numbers(FILE *out, unsigned columns, const struct counts *c)
{
	fprintf(out, "%10.4g  %7" PRIu64, c->bytes / MB, c->calls);
	if (columns & REPORT_COL_SELF)
		fprintf(out, "  %10.4g", c->self_bytes / MB);
	if (columns & REPORT_COL_PEAK)
		fprintf(out, "  %10.4g", c->peak_bytes / MB);
	if (columns & REPORT_COL_TOTAL_CALLS)
		fprintf(out, "  %7" PRIu64, c->total_calls);
	if (columns & REPORT_COL_OUTER)
		fprintf(out, "  %10.4g  %11" PRIu64, c->outer_bytes / MB,
			c->outer_calls);
}

static void print_rows(const struct row *rows, size_t n, FILE *out,
		       unsigned columns)
{
	if (!n)
		fputs(EMPTY_LINE, out);
	for (size_t i = 0; i < n && !ferror(out); i++) {
		const struct row *w = &rows[i];
		struct counts c = { w->bytes, w->calls, w->total_calls,
				    w->self_bytes, w->peak_bytes,
				    w->outer_bytes, w->outer_calls };

		table_numbers(out, columns, &c);
		fprintf(out, "  %s:%d:%s\n", w->f->file, w->f->line,
			w->f->name);
	}
}

int table_write(const struct report *r, FILE *out, const struct report_view *v)
{
	static const char what[] = "File:Line:Function";
	struct row *rows;
	size_t n;

	if (rows_select(r, v->min_mb, v->top, &rows, &n) < 0)
		return -1;
	table_header(out, v->columns, what);
	table_rule(out, v->columns, what);
	print_rows(rows, n, out, v->columns);
	table_rule(out, v->columns, what);
	table_header(out, v->columns, what);
	free(rows);
	return out_status(out);
}
