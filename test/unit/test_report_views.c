/* Unit tests for report/: the views other than the default table:
 * columns, top, per process, the tree, JSON, CSV, folded stacks. */
#include "test_report.h"

#include <stdlib.h>
#include <string.h>

#define FLAT_HEAD	"Memory (MB)   Calls  File:Line:Function\n" \
			"---------------------------------------\n"
#define FLAT_FOOT	"---------------------------------------\n" \
			"Memory (MB)   Calls  File:Line:Function\n"
#define TREE_HEAD	"Memory (MB)   Calls  Call path\n" \
			"------------------------------\n"
#define TREE_FOOT	"------------------------------\n" \
			"Memory (MB)   Calls  Call path\n"
#define NONE		"No traced call increased memory.\n"

static void assert_view(const struct report *r, const struct report_view *v,
			const char *want)
{
	char *got = print_view(r, v);

	assert_string_equal(got, want);
	free(got);
}

static int setup_fixture(void **state)
{
	*state = fixture();
	return 0;
}

static int teardown_report(void **state)
{
	report_free(*state);
	return 0;
}

/* ---- flat table --------------------------------------------------------- */

static void test_fixture_table(void **state)
{
	struct report_view v = { 0 };

	assert_view(*state, &v, FLAT_HEAD
		    "  0.003906        1  /src/exit.c:3:atexit_hook\n"
		    "         3        1  /src/run.c:7:run\n"
		    "         9        1  /src/setup.c:20:setup\n"
		    "        10        4  /src/buf.c:5:alloc\n"
		    "        12        1  /src/main.c:10:main\n"
		    FLAT_FOOT);
}

static void test_columns_all(void **state)
{
	struct report_view v = { .columns = REPORT_COL_TOTAL_CALLS |
				 REPORT_COL_SELF | REPORT_COL_PEAK };
#define COLS_HEAD "Memory (MB)   Calls   Self (MB)   Peak (MB)    Total" \
		  "  File:Line:Function\n"
#define COLS_RULE "-------------------------------------------------" \
		  "-----------------------\n"

	assert_int_equal(strlen(COLS_HEAD), strlen(COLS_RULE));
	assert_view(*state, &v, COLS_HEAD COLS_RULE
		    "  0.003906        1    0.003906    0.003906        1"
		    "  /src/exit.c:3:atexit_hook\n"
		    "         3        1           2           4        2"
		    "  /src/run.c:7:run\n"
		    "         9        1           0           9        1"
		    "  /src/setup.c:20:setup\n"
		    "        10        4          10       3.008        4"
		    "  /src/buf.c:5:alloc\n"
		    "        12        1           0          13        1"
		    "  /src/main.c:10:main\n"
		    COLS_RULE COLS_HEAD);
}

static void test_columns_one(void **state)
{
	struct report_view v = { .columns = REPORT_COL_PEAK, .top = 1 };

	assert_view(*state, &v,
		    "Memory (MB)   Calls   Peak (MB)  File:Line:Function\n"
		    "---------------------------------------------------\n"
		    "        12        1          13  /src/main.c:10:main\n"
		    "---------------------------------------------------\n"
		    "Memory (MB)   Calls   Peak (MB)  File:Line:Function\n");
}

static void test_columns_empty(void **state)
{
	struct report *r = report_new();
	struct report_view v = { .columns = REPORT_COL_TOTAL_CALLS };
	(void)state;

	assert_view(r, &v,
		    "Memory (MB)   Calls    Total  File:Line:Function\n"
		    "------------------------------------------------\n"
		    NONE
		    "------------------------------------------------\n"
		    "Memory (MB)   Calls    Total  File:Line:Function\n");
	report_free(r);
}

/* top keeps the largest, after min_mb, still ascending. */
static void test_top(void **state)
{
	struct report_view v = { .top = 2 };

	assert_view(*state, &v, FLAT_HEAD
		    "        10        4  /src/buf.c:5:alloc\n"
		    "        12        1  /src/main.c:10:main\n"
		    FLAT_FOOT);
	v.top = 99;
	v.min_mb = 9;
	assert_view(*state, &v, FLAT_HEAD
		    "        10        4  /src/buf.c:5:alloc\n"
		    "        12        1  /src/main.c:10:main\n"
		    FLAT_FOOT);
	v.min_mb = 12;
	assert_view(*state, &v, FLAT_HEAD NONE FLAT_FOOT);
}

static void test_per_process(void **state)
{
	struct report *empty = report_new();
	struct report_entry e[] = {
		{ 12, "prog a", *state },
		{ 13, "b --x", empty },
	};
	struct report_view v = { .top = 1 };
	char *got = print_entries(e, 2, &v);

	assert_string_equal(got, "PID 12: prog a\n" FLAT_HEAD
			    "        12        1  /src/main.c:10:main\n"
			    FLAT_FOOT "\n"
			    "PID 13: b --x\n" FLAT_HEAD NONE FLAT_FOOT);
	free(got);
	report_free(empty);
}

/* ---- tree --------------------------------------------------------------- */

static void test_tree(void **state)
{
	struct report_view v = { .tree = true };

	assert_view(*state, &v, TREE_HEAD
		    "        12        1  main  (/src/main.c:10)\n"
		    "         9        1    setup  (/src/setup.c:20)\n"
		    "         9        3      alloc  (/src/buf.c:5)\n"
		    "         3        1    run  (/src/run.c:7)\n"
		    "         1        1      alloc  (/src/buf.c:5)\n"
		    "  0.003906        1  atexit_hook  (/src/exit.c:3)\n"
		    TREE_FOOT);
}

/* min_mb prunes whole subtrees; top does not apply to the tree. */
static void test_tree_min(void **state)
{
	struct report_view v = { .tree = true, .min_mb = 2, .top = 1 };

	assert_view(*state, &v, TREE_HEAD
		    "        12        1  main  (/src/main.c:10)\n"
		    "         9        1    setup  (/src/setup.c:20)\n"
		    "         9        3      alloc  (/src/buf.c:5)\n"
		    "         3        1    run  (/src/run.c:7)\n"
		    TREE_FOOT);
	v.min_mb = 9;
	assert_view(*state, &v, TREE_HEAD
		    "        12        1  main  (/src/main.c:10)\n"
		    TREE_FOOT);
	v.min_mb = 12;
	assert_view(*state, &v, TREE_HEAD NONE TREE_FOOT);
}

static void test_tree_columns(void **state)
{
	struct report_view v = { .tree = true, .min_mb = 3,
				 .columns = REPORT_COL_SELF |
					    REPORT_COL_TOTAL_CALLS };

	assert_view(*state, &v,
		    "Memory (MB)   Calls   Self (MB)    Total  Call path\n"
		    "---------------------------------------------------\n"
		    "        12        1           0        1  main  (/src/main.c:10)\n"
		    "         9        1           0        1    setup  (/src/setup.c:20)\n"
		    "         9        3           9        3      alloc  (/src/buf.c:5)\n"
		    "---------------------------------------------------\n"
		    "Memory (MB)   Calls   Self (MB)    Total  Call path\n");
}

/* Siblings of equal memory in key order; a caller with no memory hides
 * its callees; the same function under two callers is two lines. */
static void test_tree_ties_and_pruning(void **state)
{
	struct report *r = report_new();
	struct report_view v = { .tree = true };
	int a = add(r, "/m.c", 1, "a");
	int b = add(r, "/z.c", 1, "b");
	int c = add(r, "/a.c", 9, "c");
	int d = add(r, "/a.c", 2, "d");
	int pa = call(r, REPORT_ROOT, a, 3 * 4096, 0, 0);
	int pd;
	(void)state;

	call(r, pa, b, 4096, 4096, 0);
	call(r, pa, c, 4096, 4096, 0);
	call(r, pa, d, 4096, 4096, 0);
	pd = call(r, REPORT_ROOT, d, 0, 0, 0);
	call(r, pd, c, 8 * 4096, 8 * 4096, 0);
	/* d at the root has no memory, but its callee c has: d stays, as
	 * the link to c */
	assert_view(r, &v, TREE_HEAD
		    "   0.01172        1  a  (/m.c:1)\n"
		    "  0.003906        1    d  (/a.c:2)\n"
		    "  0.003906        1    c  (/a.c:9)\n"
		    "  0.003906        1    b  (/z.c:1)\n"
		    "         0        0  d  (/a.c:2)\n"
		    "   0.03125        1    c  (/a.c:9)\n"
		    TREE_FOOT);
	report_free(r);
}

/* A deep recursion: every level a line, indented one step further (the
 * walk is iterative, so no depth can exhaust the stack). */
static void test_tree_deep(void **state)
{
	struct report *r = report_new();
	struct report_view v = { .tree = true };
	int f = add(r, "/r.c", 1, "f");
	int p = REPORT_ROOT;
	char *got, *last;
	(void)state;

	for (int i = 0; i < 2000; i++)
		p = call(r, p, f, 4096, 0, 0);
	got = print_view(r, &v);
	assert_int_equal(count_substr(got, "f  (/r.c:1)\n"), 2000);
	last = strstr(strstr(got, "\n-") + 1, "\n-");
	while (last[-1] != '\n')
		last--;
	assert_int_equal(strspn(last + 21, " "), 2 * 1999);
	free(got);
	v.format = REPORT_JSON;
	got = print_view(r, &v);
	assert_true(json_ok(got));
	assert_int_equal(count_substr(got, "\"id\":"), 2000);
	free(got);
	report_free(r);
}

static void test_tree_per_process(void **state)
{
	struct report_entry e[] = { { 7, "x", *state }, { 8, "y", *state } };
	struct report_view v = { .tree = true, .min_mb = 9 };
	char *got = print_entries(e, 2, &v);

	assert_string_equal(got,
			    "PID 7: x\n" TREE_HEAD
			    "        12        1  main  (/src/main.c:10)\n"
			    TREE_FOOT "\n"
			    "PID 8: y\n" TREE_HEAD
			    "        12        1  main  (/src/main.c:10)\n"
			    TREE_FOOT);
	free(got);
}

/* ---- JSON --------------------------------------------------------------- */

static struct report *small_report(void)
{
	struct report *r = report_new();
	int f = add(r, "/a.c", 1, "f");
	int g = add(r, "/b.c", 2, "g");
	int pf;

	add(r, "/c.c", 3, "never");
	pf = call(r, REPORT_ROOT, f, 12288, 4096, 12288);
	call(r, pf, g, 8192, 8192, 8192);
	call(r, pf, g, -4096, -4096, 0);
	return r;
}

static void test_json_exact(void **state)
{
	struct report *r = small_report();
	struct report_view v = { .format = REPORT_JSON };
	(void)state;

	assert_view(r, &v,
		    "{\"format\":\"iprofmem\",\"version\":1,\"processes\":[\n"
		    "{\"pid\":0,\"cmdline\":\"\",\"functions\":[\n"
		    "{\"file\":\"/b.c\",\"line\":2,\"name\":\"g\","
		    "\"memory_bytes\":8192,\"memory_mb\":0.007812,\"calls\":1,"
		    "\"total_calls\":2,\"self_bytes\":8192,\"peak_bytes\":8192,"
		    "\"outer_bytes\":8192,\"outer_calls\":1},\n"
		    "{\"file\":\"/a.c\",\"line\":1,\"name\":\"f\","
		    "\"memory_bytes\":12288,\"memory_mb\":0.011719,\"calls\":1,"
		    "\"total_calls\":1,\"self_bytes\":4096,\"peak_bytes\":12288,"
		    "\"outer_bytes\":12288,\"outer_calls\":1}\n"
		    "],\"paths\":[\n"
		    "{\"id\":0,\"parent\":null,\"function\":1,"
		    "\"memory_bytes\":12288,\"calls\":1,\"total_calls\":1,"
		    "\"self_bytes\":4096,\"peak_bytes\":12288,"
		    "\"outer_bytes\":12288,\"outer_calls\":1,"
		    "\"inclusive_self_bytes\":12288},\n"
		    "{\"id\":1,\"parent\":0,\"function\":0,"
		    "\"memory_bytes\":8192,\"calls\":1,\"total_calls\":2,"
		    "\"self_bytes\":8192,\"peak_bytes\":8192,"
		    "\"outer_bytes\":8192,\"outer_calls\":1,"
		    "\"inclusive_self_bytes\":8192}\n"
		    "]}\n"
		    "]}\n");
	report_free(r);
}

static void test_json_empty(void **state)
{
	struct report *r = report_new();
	struct report_view v = { .format = REPORT_JSON };
	(void)state;

	assert_view(r, &v,
		    "{\"format\":\"iprofmem\",\"version\":1,\"processes\":[\n"
		    "{\"pid\":0,\"cmdline\":\"\",\"functions\":[],\"paths\":[]}\n"
		    "]}\n");
	report_free(r);
}

/* min_mb and top cut the functions; paths keep to listed functions and
 * shown ancestors, and "function" indexes the list. */
static void test_json_filtered(void **state)
{
	struct report_view v = { .format = REPORT_JSON, .top = 2 };
	char *got = print_view(*state, &v);

	assert_true(json_ok(got));
	assert_int_equal(count_substr(got, "\"file\":"), 2);
	/* main, and alloc under setup and under run, which are not listed:
	 * their parent is the nearest listed ancestor, main */
	assert_int_equal(count_substr(got, "\"id\":"), 3);
	assert_int_equal(count_substr(got, "\"parent\":0,\"function\":0,"), 2);
	assert_non_null(strstr(got, "{\"id\":0,\"parent\":null,\"function\":1,"
			       "\"memory_bytes\":12582912,"));
	free(got);
	v.top = 0;
	got = print_view(*state, &v);
	assert_true(json_ok(got));
	assert_int_equal(count_substr(got, "\"file\":"), 5);
	assert_int_equal(count_substr(got, "\"id\":"), 6);
	/* run's alloc: node 4 under run (node 3), alloc is functions[3] */
	assert_non_null(strstr(got, "{\"id\":4,\"parent\":3,\"function\":3,"
			       "\"memory_bytes\":1048576,\"calls\":1,"
			       "\"total_calls\":1,\"self_bytes\":1048576,"
			       "\"peak_bytes\":1048576,\"outer_bytes\":1048576,"
			       "\"outer_calls\":1,\"inclusive_self_bytes\":1048576}"));
	free(got);
}

static void test_json_escaping(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 42, "a\"b\\c\nd\te\x01\x7f\xff\xc3\xa9", r };
	struct report_view v = { .format = REPORT_JSON };
	char *got;
	(void)state;

	call(r, REPORT_ROOT, add(r, "/x/\xe2\x82\xac\xc0\xaf.c", 1, "q\"\r"),
	     4096, 4096, 4096);
	got = print_entries(&e, 1, &v);
	assert_true(json_ok(got));
	assert_non_null(strstr(got, "\"pid\":42,\"cmdline\":"
			       "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f\\u00ff\xc3\xa9\""));
	assert_non_null(strstr(got, "\"file\":\"/x/\xe2\x82\xac\\u00c0\\u00af.c\""));
	assert_non_null(strstr(got, "\"name\":\"q\\\"\\u000d\""));
	free(got);
	report_free(r);
}

static void test_json_per_process(void **state)
{
	struct report *empty = report_new();
	struct report_entry e[] = { { 5, "p", *state }, { 6, "q", empty } };
	struct report_view v = { .format = REPORT_JSON, .min_mb = 1 };
	char *got = print_entries(e, 2, &v);

	assert_true(json_ok(got));
	assert_non_null(strstr(got, "\n{\"pid\":5,\"cmdline\":\"p\",\"functions\":[\n"));
	assert_non_null(strstr(got, ",\n{\"pid\":6,\"cmdline\":\"q\",\"functions\":[],\"paths\":[]}\n]}\n"));
	free(got);
	report_free(empty);
}

/* ---- CSV ---------------------------------------------------------------- */

#define CSV_HEAD "pid,file,line,function,memory_bytes,memory_mb,calls," \
		 "total_calls,self_bytes,peak_bytes,outer_bytes,outer_calls\n"

static void test_csv(void **state)
{
	struct report_entry e[] = { { 0, NULL, *state } };
	struct report_view v = { .format = REPORT_CSV, .min_mb = 3 };
	char *got = print_entries(e, 1, &v);

	assert_string_equal(got, CSV_HEAD
			    "0,/src/setup.c,20,setup,9437184,9.000000,1,1,0,9437184,9437184,1\n"
			    "0,/src/buf.c,5,alloc,10485760,10.000000,4,4,10485760,3153920,10485760,4\n"
			    "0,/src/main.c,10,main,12582912,12.000000,1,1,0,13631488,12582912,1\n");
	free(got);
}

static void test_csv_quoting(void **state)
{
	struct report *r = report_new();
	struct report_entry e[] = { { 3, "c", r }, { 4, "d", r } };
	struct report_view v = { .format = REPORT_CSV };
	char *got;
	(void)state;

	call(r, REPORT_ROOT, add(r, "/src/a,b.c", 1, "say \"hi\""), 4096, 0, 0);
	call(r, REPORT_ROOT, add(r, "/src/plain.c", 2, "two\nlines"), 8192, 0, 0);
	call(r, REPORT_ROOT, add(r, "/src/cr.c", 3, "x\ry"), 12288, 0, 0);
	got = print_entries(e, 2, &v);
	assert_string_equal(got, CSV_HEAD
			    "3,\"/src/a,b.c\",1,\"say \"\"hi\"\"\",4096,0.003906,1,1,0,0,4096,1\n"
			    "3,/src/plain.c,2,\"two\nlines\",8192,0.007812,1,1,0,0,8192,1\n"
			    "3,/src/cr.c,3,\"x\ry\",12288,0.011719,1,1,0,0,12288,1\n"
			    "4,\"/src/a,b.c\",1,\"say \"\"hi\"\"\",4096,0.003906,1,1,0,0,4096,1\n"
			    "4,/src/plain.c,2,\"two\nlines\",8192,0.007812,1,1,0,0,8192,1\n"
			    "4,/src/cr.c,3,\"x\ry\",12288,0.011719,1,1,0,0,12288,1\n");
	free(got);
	report_free(r);
}

/* ---- folded stacks ------------------------------------------------------ */

static char *folded(const struct report_entry *e, size_t n)
{
	struct mem m;

	assert_int_equal(report_write_folded(e, n, mem_open(&m)), 0);
	return mem_close(&m);
}

static void test_folded(void **state)
{
	struct report_entry e = { 0, NULL, *state };
	char *got = folded(&e, 1);

	assert_string_equal(got,
			    "atexit_hook 4096\n"
			    "main;run 2097152\n"
			    "main;run;alloc 1048576\n"
			    "main;setup;alloc 9437184\n");
	free(got);
}

static void test_folded_per_process_and_names(void **state)
{
	struct report *r = report_new();
	struct report_entry e[] = { { 300, "x", r }, { 21, "y", *state } };
	int op = add(r, "/n.cc", 1, "operator new(unsigned long)");
	char *got;
	(void)state;

	call(r, call(r, REPORT_ROOT, add(r, "/n.cc", 2, "a;b"), 8192, 4096, 0),
	     op, 4096, 4096, 0);
	call(r, REPORT_ROOT, add(r, "/n.cc", 3, "tab\there"), 4096, 4096, 0);
	got = folded(e, 2);
	assert_string_equal(got,
			    "21;atexit_hook 4096\n"
			    "21;main;run 2097152\n"
			    "21;main;run;alloc 1048576\n"
			    "21;main;setup;alloc 9437184\n"
			    "300;a_b 4096\n"
			    "300;a_b;operator_new(unsigned_long) 4096\n"
			    "300;tab_here 4096\n");
	free(got);
	report_free(r);
}

static void test_folded_empty(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, NULL, r };
	char *got;
	(void)state;

	call(r, REPORT_ROOT, add(r, "/a.c", 1, "f"), 4096, 0, 4096);
	got = folded(&e, 1);
	assert_string_equal(got, "");
	free(got);
	report_free(r);
}

/* ---- outer ------------------------------------------------------------- */

/* main -> f -> g -> f -> f, pages 5, 4, 3, 2, 1 (inclusive), and f once
 * more straight from main (the same path), 1 page: f's nested calls (under f, directly or
 * through g) count in its memory and not in its outer figures. */
static struct report *recursive_report(void)
{
	struct report *r = report_new();
	int m = add(r, "/m.c", 1, "main");
	int f = add(r, "/f.c", 2, "f");
	int g = add(r, "/g.c", 3, "g");
	int pm = call(r, REPORT_ROOT, m, 5 * 4096, 0, 0);
	int pf = call(r, pm, f, 4 * 4096, 0, 0);
	int pg = call(r, pf, g, 3 * 4096, 0, 0);

	call(r, call(r, pg, f, 2 * 4096, 0, 0), f, 4096, 0, 0);
	call(r, pm, f, 4096, 0, 0);
	return r;
}

static void test_outer_table(void **state)
{
	struct report *r = recursive_report();
	struct report_view v = { .columns = REPORT_COL_OUTER };
	(void)state;

	assert_view(r, &v,
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  File:Line:Function\n"
		    "----------------------------------------------------------------\n"
		    "   0.01172        1     0.01172            1  /g.c:3:g\n"
		    "   0.01953        1     0.01953            1  /m.c:1:main\n"
		    "   0.03125        4     0.01953            2  /f.c:2:f\n"
		    "----------------------------------------------------------------\n"
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  File:Line:Function\n");
	report_free(r);
}

static void test_outer_tree_json_csv(void **state)
{
	struct report *r = recursive_report();
	struct report_view v = { .tree = true, .columns = REPORT_COL_OUTER };
	char *got;
	(void)state;

	assert_view(r, &v,
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  Call path\n"
		    "-------------------------------------------------------\n"
		    "   0.01953        1     0.01953            1  main  (/m.c:1)\n"
		    "   0.01953        2     0.01953            2    f  (/f.c:2)\n"
		    "   0.01172        1     0.01172            1      g  (/g.c:3)\n"
		    "  0.007812        1           0            0        f  (/f.c:2)\n"
		    "  0.003906        1           0            0          f  (/f.c:2)\n"
		    "-------------------------------------------------------\n"
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  Call path\n");
	v = (struct report_view){ .format = REPORT_JSON };
	got = print_view(r, &v);
	assert_true(json_ok(got));
	assert_non_null(strstr(got, "\"name\":\"f\",\"memory_bytes\":32768,"
			       "\"memory_mb\":0.031250,\"calls\":4,"
			       "\"total_calls\":4,\"self_bytes\":0,"
			       "\"peak_bytes\":0,\"outer_bytes\":20480,"
			       "\"outer_calls\":2}"));
	assert_non_null(strstr(got, "{\"id\":3,\"parent\":2,\"function\":2,"
			       "\"memory_bytes\":8192,\"calls\":1,"
			       "\"total_calls\":1,\"self_bytes\":0,"
			       "\"peak_bytes\":0,\"outer_bytes\":0,"
			       "\"outer_calls\":0,\"inclusive_self_bytes\":0}"));
	free(got);
	v.format = REPORT_CSV;
	got = print_view(r, &v);
	assert_non_null(strstr(got, "\n0,/f.c,2,f,32768,0.031250,4,4,0,0,"
			       "20480,2\n"));
	free(got);
	report_free(r);
}

/* A recursion 100,000 levels deep: one outer call, and no recursion in
 * the walk that finds it. */
static void test_outer_deep(void **state)
{
	struct report *r = report_new();
	struct report_view v = { .columns = REPORT_COL_OUTER };
	int f = add(r, "/f.c", 1, "f");
	int p = REPORT_ROOT;
	(void)state;

	for (int i = 0; i < 100000; i++)
		p = call(r, p, f, 4096, 0, 0);
	assert_view(r, &v,
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  File:Line:Function\n"
		    "----------------------------------------------------------------\n"
		    "     390.6   100000    0.003906            1  /f.c:1:f\n"
		    "----------------------------------------------------------------\n"
		    "Memory (MB)   Calls  Outer (MB)  Outer calls  File:Line:Function\n");
	report_free(r);
}

#define F(fn) cmocka_unit_test_setup_teardown(fn, setup_fixture, \
					      teardown_report)

int run_view_tests(void)
{
	const struct CMUnitTest tests[] = {
		F(test_fixture_table),
		F(test_columns_all),
		F(test_columns_one),
		F(test_columns_empty),
		F(test_top),
		F(test_per_process),
		F(test_tree),
		F(test_tree_min),
		F(test_tree_columns),
		F(test_tree_ties_and_pruning),
		F(test_tree_deep),
		F(test_tree_per_process),
		F(test_json_exact),
		F(test_json_empty),
		F(test_json_filtered),
		F(test_json_escaping),
		F(test_json_per_process),
		F(test_csv),
		F(test_csv_quoting),
		F(test_folded),
		F(test_folded_per_process_and_names),
		F(test_folded_empty),
		F(test_outer_table),
		F(test_outer_tree_json_csv),
		F(test_outer_deep),
	};

	return cmocka_run_group_tests_name("report views", tests, NULL, NULL);
}
