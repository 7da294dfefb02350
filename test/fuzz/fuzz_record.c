/* Fuzz target: record files (report/record_load.c), as `iprofmem report`
 * reads them.  A record the loader accepts then goes through every view
 * (a record is the input of all of them, pprof and a pprof diff of its
 * processes included) and must survive a round trip: saving what was
 * loaded (its program line too) and loading that again gives the same
 * record back, byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "test/fuzz/fuzz.h"

static FILE *sink;

static void print_views(const struct report_entry *e, size_t n,
			const struct report_program *prog)
{
	static const struct report_view views[] = {
		{ .format = REPORT_TABLE },
		{ .format = REPORT_TABLE, .tree = true, .columns = 7 },
		{ .format = REPORT_TABLE, .min_mb = 0.5, .top = 2, .columns = 7 },
		{ .format = REPORT_JSON },
		{ .format = REPORT_JSON, .tree = true },
		{ .format = REPORT_CSV },
		{ .format = REPORT_CSV, .tree = true, .top = 1 },
	};

	for (size_t i = 0; i < sizeof(views) / sizeof(*views); i++)
		report_print(e, n, sink, &views[i]);
	report_write_folded(e, n, sink);
	report_write_flamegraph(e, n, sink);
	report_write_timeline(e, n, sink, 10);
	report_write_pprof(e, n, sink, prog);
	/* the first process against the others: pairs of different trees */
	report_diff_write_pprof(e, n > 1, e + (n > 1), n - (n > 1), sink, prog);
	fflush(sink);
}

/* report_save's output, malloc'd, in *len. */
static char *save(const struct report_entry *e, size_t n,
		  const struct report_program *prog, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f || report_save(e, n, prog, f) != 0 || fclose(f) != 0)
		abort();
	return buf;
}

static void round_trip(const struct report_entry *e, size_t n,
		       const struct report_program *prog)
{
	size_t len1, len2, n2;
	char *one = save(e, n, prog, &len1), *two, err[256];
	FILE *f = fmemopen(one, len1, "r");
	struct report_program prog2;
	struct report_entry *e2;

	if (!f)
		abort();
	e2 = report_load(f, &n2, &prog2, err, sizeof(err));
	fclose(f);
	if (!e2) {
		fprintf(stderr, "a saved record does not load: %s\n", err);
		abort();
	}
	two = save(e2, n2, &prog2, &len2);
	if (len1 != len2 || memcmp(one, two, len1) != 0) {
		fprintf(stderr, "a record changes through save and load\n");
		abort();
	}
	report_entries_free(e2, n2);
	report_program_free(&prog2);
	free(one);
	free(two);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in = fopen(fuzz_input_file(data, size), "r");
	struct report_program prog;
	struct report_entry *e;
	char err[256];
	size_t n;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!in || !sink)
		abort();
	e = report_load(in, &n, &prog, err, sizeof(err));
	fclose(in);
	if (!e)
		return 0;
	print_views(e, n, &prog);
	round_trip(e, n, &prog);
	report_entries_free(e, n);
	report_program_free(&prog);
	return 0;
}
