/* print: report_print, which picks the view, and the --columns parser. */
#include "report/internal.h"

#include <errno.h>
#include <string.h>

int out_status(FILE *out)
{
	if (ferror(out)) {
		/* The failed write set errno; keep it unless it is lost. */
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

int report_parse_columns(const char *list, unsigned *out)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "self", REPORT_COL_SELF },
		{ "peak", REPORT_COL_PEAK },
		{ "total-calls", REPORT_COL_TOTAL_CALLS },
		{ "outer", REPORT_COL_OUTER },
	};
	unsigned bits = 0;

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (len == strlen(names[i].name) &&
			    !strncmp(p, names[i].name, len))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return -1;
		bits |= names[i].bit;
		p += len;
		if (!*p)
			break;
	}
	*out = bits;
	return 0;
}

/* The table or the tree of each entry; entries with a pid are headed by
 * "PID n: cmdline", with a blank line between tables. */
static int text_write(const struct report_entry *e, size_t n, FILE *out,
		      const struct report_view *v)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc('\n', out);
		if (e[i].pid)
			fprintf(out, "PID %d: %s\n", e[i].pid,
				e[i].cmdline ? e[i].cmdline : "");
		if ((v->tree ? tree_write : table_write)(e[i].rep, out, v) < 0)
			return -1;
	}
	return 0;
}

int report_print(const struct report_entry *e, size_t n, FILE *out,
		 const struct report_view *v)
{
	static const struct report_view plain = { .format = REPORT_TABLE };
	int ret;

	if (!v)
		v = &plain;
	switch (v->format) {
	case REPORT_TABLE:
		ret = text_write(e, n, out, v);
		break;
	case REPORT_JSON:
		ret = json_write(e, n, out, v);
		break;
	case REPORT_CSV:
		ret = csv_write(e, n, out, v);
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (fflush(out) == EOF)
		return -1;
	return ret < 0 ? -1 : out_status(out);
}
