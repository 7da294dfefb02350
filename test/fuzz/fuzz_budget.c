/* Fuzz target: budget files (report/budget.c, through symbols/select.c)
 * and the diff they are checked with (report/diff.c).  The input is read
 * as a budget file; whatever is accepted is checked against two fixed
 * reports (C and C++ names, functions with and without line info, one
 * that moved, one renamed, one in another tree) and their diff is printed
 * in every format, so that the matching and the printing run on
 * whatever budgets the input holds. */
#include <stdio.h>
#include <stdlib.h>

#include "report/report.h"
#include "test/fuzz/fuzz.h"

struct fn {
	const char *file;
	int line;
	const char *name;
	int64_t old_delta, new_delta;	/* 0: not in that report */
};

static const struct fn fns[] = {
	{ "/src/prog/main.c", 10, "main", 8192, 12288 },
	{ "/src/prog/lib/parse.c", 40, "parse_line", 4096, 1 << 20 },
	{ "/src/prog/x.cc", 7, "ns::Class::method", 4096, 4096 },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", 0, "malloc", 65536, 0 },
	{ "/src/prog/old.c", 3, "old_name", 4096, 0 },
	{ "/src/prog/old.c", 3, "new_name", 0, 8192 },
	{ "/tree2/prog/lib/parse.c", 41, "parse_line", 0, 4096 },
	{ "", 0, "", 1, 0 },
};

static struct report *fixed_report(bool is_new)
{
	struct report *r = report_new();

	if (!r)
		abort();
	for (size_t i = 0; i < sizeof(fns) / sizeof(*fns); i++) {
		int64_t d = is_new ? fns[i].new_delta : fns[i].old_delta;
		int id;

		if (!d)
			continue;
		id = report_add_func(r, fns[i].file, fns[i].line, fns[i].name);
		if (id < 0)
			abort();
		report_record(r, id, d);
	}
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size);
	struct report *o = fixed_report(false), *n = fixed_report(true);
	struct report_entry eo = { 0, "/v1/prog", o }, en = { 7, "/v2/prog", n };
	FILE *null = fopen("/dev/null", "w");
	char err[512];
	struct budget *b = budget_load(path, err, sizeof(err));

	if (!null)
		abort();
	if (b) {
		budget_check(b, &en, 1, null);
		budget_check(b, &eo, 1, null);
		budget_free(b);
	}
	for (int f = REPORT_TABLE; f <= REPORT_CSV; f++) {
		struct report_view v = { .format = (enum report_format)f,
					 .min_mb = size % 3 ? 0.001 : 0,
					 .top = size % 4 };

		report_diff_print(&eo, 1, &en, 1, null, &v);
	}
	report_diff_grew(&eo, 1, &en, 1, (double)(size % 5) / 10, null);
	fclose(null);
	report_free(o);
	report_free(n);
	return 0;
}
