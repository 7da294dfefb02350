/* Unit tests for report/: 'iprofmem diff' (report/diff.c) and budgets
 * (report/budget.c): exact tables, the matching of functions and
 * processes, and every line a budget check or a malformed budget file
 * prints. */
#include "test_report.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/internal.h"

#define PAGE	4096

#define DHEAD	"   Old (MB)    Calls     New (MB)    Calls   Change (MB)  File:Line:Function\n"
#define DRULE	"----------------------------------------------------------------------------\n"

/* A function of r with `calls` calls of `pages` pages each (0: one call
 * that grew nothing). */
static void func(struct report *r, const char *file, int line,
		 const char *name, int pages, int calls)
{
	int id = add(r, file, line, name);

	if (!calls)
		report_record(r, id, 0);
	for (int i = 0; i < calls; i++)
		report_record(r, id, (int64_t)pages * PAGE);
}

/* The two versions most tests diff:
 *   steady     3 pages in both
 *   grows      4 (2 calls of 2) -> 20 (2 of 10), its line moved 10 -> 40
 *   shrinks    6 -> 2
 *   gone       5 in old only; born 7 in new only
 *   quiet      grew nothing in either: no row
 *   stopped    2 in old; traced in new but grew nothing: 0 0 */
static struct report *old_version(void)
{
	struct report *r = report_new();

	func(r, "/s/a.c", 5, "steady", 3, 1);
	func(r, "/s/a.c", 10, "grows", 2, 2);
	func(r, "/s/b.c", 3, "shrinks", 6, 1);
	func(r, "/s/b.c", 9, "gone", 5, 1);
	func(r, "/s/b.c", 20, "quiet", 0, 0);
	func(r, "/s/c.c", 1, "stopped", 2, 1);
	return r;
}

static struct report *new_version(void)
{
	struct report *r = report_new();

	func(r, "/s/a.c", 5, "steady", 3, 1);
	func(r, "/s/a.c", 40, "grows", 10, 2);
	func(r, "/s/b.c", 3, "shrinks", 2, 1);
	func(r, "/s/b.c", 30, "born", 7, 1);
	func(r, "/s/b.c", 20, "quiet", 0, 0);
	func(r, "/s/c.c", 1, "stopped", 0, 0);
	return r;
}

static char *diff_text(const struct report *o, const struct report *n,
		       const struct report_view *v)
{
	struct report_entry eo = { 0, "", o }, en = { 0, "", n };
	struct mem m;

	assert_int_equal(report_diff_print(&eo, 1, &en, 1, mem_open(&m), v), 0);
	return mem_close(&m);
}

static void assert_diff(const struct report_view *v, const char *want)
{
	struct report *o = old_version(), *n = new_version();
	char *got = diff_text(o, n, v);

	assert_string_equal(got, want);
	free(got);
	report_free(o);
	report_free(n);
}

/* Rows ascending by change, the worst growth last; a side blank when the
 * function is not in that record; the new line shown; a function that
 * grew nothing in either run left out. */
static void test_diff_table(void **state)
{
	struct report_view v = { .format = REPORT_TABLE };

	(void)state;
	assert_diff(&v, DHEAD DRULE
		    "    0.01953        1                            -0.01953  /s/b.c:9:gone\n"
		    "    0.02344        1     0.007812        1      -0.01562  /s/b.c:3:shrinks\n"
		    "   0.007812        1            0        0     -0.007812  /s/c.c:1:stopped\n"
		    "    0.01172        1      0.01172        1            +0  /s/a.c:5:steady\n"
		    "                          0.02734        1      +0.02734  /s/b.c:30:born\n"
		    "    0.01562        2      0.07812        2       +0.0625  /s/a.c:40:grows\n"
		    DRULE DHEAD);
}

/* --min on the size of the change (either way), --top the last rows. */
static void test_diff_min_top(void **state)
{
	struct report_view v = { .format = REPORT_TABLE, .min_mb = 0.016 };

	(void)state;
	assert_diff(&v, DHEAD DRULE
		    "    0.01953        1                            -0.01953  /s/b.c:9:gone\n"
		    "                          0.02734        1      +0.02734  /s/b.c:30:born\n"
		    "    0.01562        2      0.07812        2       +0.0625  /s/a.c:40:grows\n"
		    DRULE DHEAD);
	v.top = 1;
	assert_diff(&v, DHEAD DRULE
		    "    0.01562        2      0.07812        2       +0.0625  /s/a.c:40:grows\n"
		    DRULE DHEAD);
	v = (struct report_view){ .min_mb = 1 };
	assert_diff(&v, DHEAD DRULE
		    "No function's memory changed by more than 1 MB.\n"
		    DRULE DHEAD);
}

static void test_diff_empty(void **state)
{
	struct report *a = report_new(), *b = report_new();
	struct report_view v = { 0 };
	char *got;

	(void)state;
	func(a, "/s/a.c", 1, "f", 0, 3);
	got = diff_text(a, b, &v);
	assert_string_equal(got, DHEAD DRULE
			    "No traced call increased memory in either run.\n"
			    DRULE DHEAD);
	free(got);
	report_free(a);
	report_free(b);
}

static void test_diff_csv(void **state)
{
	struct report_view v = { .format = REPORT_CSV, .top = 3 };

	(void)state;
	assert_diff(&v,
		    "old_pid,new_pid,file,line,function,old_memory_bytes,"
		    "old_calls,new_memory_bytes,new_calls,change_bytes,change_mb\n"
		    "0,0,/s/a.c,5,steady,12288,1,12288,1,0,0.000000\n"
		    "0,0,/s/b.c,30,born,,,28672,1,28672,0.027344\n"
		    "0,0,/s/a.c,40,grows,16384,2,81920,2,65536,0.062500\n");
}

static void test_diff_json(void **state)
{
	struct report_view v = { .format = REPORT_JSON, .min_mb = 0.02 };
	struct report *o = old_version(), *n = new_version();
	char *got = diff_text(o, n, &v);

	(void)state;
	assert_string_equal(got,
		"{\"format\":\"iprofmem-diff\",\"version\":1,\"processes\":[\n"
		"{\"old_pid\":0,\"new_pid\":0,\"cmdline\":\"\",\"functions\":[\n"
		"{\"file\":\"/s/b.c\",\"line\":30,\"name\":\"born\",\"old\":null,"
		"\"new\":{\"memory_bytes\":28672,\"calls\":1},"
		"\"change_bytes\":28672,\"change_mb\":0.027344},\n"
		"{\"file\":\"/s/a.c\",\"line\":40,\"name\":\"grows\","
		"\"old\":{\"memory_bytes\":16384,\"calls\":2},"
		"\"new\":{\"memory_bytes\":81920,\"calls\":2},"
		"\"change_bytes\":65536,\"change_mb\":0.062500}\n"
		"]}\n]}\n");
	assert_true(json_ok(got));
	free(got);
	report_free(o);
	report_free(n);
}

/* Same name in two files: two functions.  Same name and file twice (C++
 * overloads): paired in line order.  A rename: two rows. */
static void test_diff_matching(void **state)
{
	struct report *o = report_new(), *n = report_new();
	struct diff_row *d;
	size_t k;

	(void)state;
	func(o, "/s/x.c", 1, "init", 1, 1);
	func(o, "/s/y.c", 1, "init", 2, 1);
	func(o, "/s/o.cc", 10, "ns::f", 3, 1);
	func(o, "/s/o.cc", 20, "ns::f", 4, 1);
	func(o, "/s/r.c", 1, "before", 5, 1);
	func(n, "/s/y.c", 7, "init", 2, 1);
	func(n, "/s/o.cc", 25, "ns::f", 8, 1);
	func(n, "/s/o.cc", 15, "ns::f", 6, 1);
	func(n, "/s/x.c", 1, "init", 1, 1);
	func(n, "/s/r.c", 1, "after", 5, 1);
	assert_int_equal(diff_rows(o, n, &d, &k), 0);
	assert_int_equal(k, 6);
	/* ascending change: before -5, init +0 (x, y), ns::f +3, +4, after */
	assert_string_equal(d[0].name, "before");
	assert_false(d[0].new.present);
	assert_int_equal(d[0].change, -5 * PAGE);
	assert_string_equal(d[1].file, "/s/x.c");
	assert_int_equal(d[1].change, 0);
	assert_string_equal(d[2].file, "/s/y.c");
	assert_int_equal(d[2].line, 7);
	assert_int_equal(d[2].change, 0);
	assert_int_equal(d[3].line, 15);	/* 10 -> 15: 3 -> 6 pages */
	assert_int_equal(d[3].change, 3 * PAGE);
	assert_int_equal(d[4].line, 25);	/* 20 -> 25: 4 -> 8 */
	assert_int_equal(d[4].change, 4 * PAGE);
	assert_string_equal(d[5].name, "after");
	assert_false(d[5].old.present);
	assert_int_equal(d[5].new.bytes, 5 * PAGE);
	free(d);
	assert_int_equal(diff_rows(NULL, n, &d, &k), 0);
	assert_int_equal(k, 5);
	for (size_t i = 0; i < k; i++)
		assert_false(d[i].old.present);
	free(d);
	report_free(o);
	report_free(n);
}

/* Two builds in two trees: a function whose file is not in the other
 * record meets the one of the same name and base name, the k-th path of
 * one tree with the k-th of the other; an exact path still wins. */
static void test_diff_two_trees(void **state)
{
	struct report *o = report_new(), *n = report_new();
	struct diff_row *d;
	size_t k;

	(void)state;
	func(o, "/b/lua-5.4.6/src/lapi.c", 10, "lua_push", 1, 1);
	func(o, "/b/lua-5.4.6/lib/util.c", 1, "init", 2, 1);
	func(o, "/b/lua-5.4.6/src/util.c", 1, "init", 3, 1);
	func(o, "/usr/include/x.h", 5, "inl", 1, 1);
	func(o, "/b/lua-5.4.6/src/old.c", 1, "moved", 1, 1);
	func(n, "/b/lua-5.4.7/src/util.c", 2, "init", 13, 1);
	func(n, "/b/lua-5.4.7/lib/util.c", 2, "init", 12, 1);
	func(n, "/b/lua-5.4.7/src/lapi.c", 12, "lua_push", 5, 1);
	func(n, "/usr/include/x.h", 5, "inl", 2, 1);
	func(n, "/b/lua-5.4.7/src/new.c", 1, "moved", 1, 1);
	assert_int_equal(diff_rows(o, n, &d, &k), 0);
	assert_int_equal(k, 6);
	/* moved: another base name, two rows (-1, +1) */
	assert_string_equal(d[0].name, "moved");
	assert_false(d[0].new.present);
	assert_string_equal(d[1].name, "moved");
	assert_false(d[1].old.present);
	assert_string_equal(d[2].file, "/usr/include/x.h");
	assert_int_equal(d[2].change, PAGE);
	assert_string_equal(d[3].name, "lua_push");
	assert_string_equal(d[3].file, "/b/lua-5.4.7/src/lapi.c");
	assert_int_equal(d[3].change, 4 * PAGE);
	assert_string_equal(d[4].file, "/b/lua-5.4.7/lib/util.c");
	assert_int_equal(d[4].old.bytes, 2 * PAGE);
	assert_int_equal(d[4].change, 10 * PAGE);
	assert_string_equal(d[5].file, "/b/lua-5.4.7/src/util.c");
	assert_int_equal(d[5].old.bytes, 3 * PAGE);
	assert_int_equal(d[5].change, 10 * PAGE);
	free(d);
	report_free(o);
	report_free(n);
}

/* Processes: equal command lines (the program's directory aside) first,
 * the k-th with the k-th, then what is left in order; new's order, then
 * the old-only ones. */
static void test_diff_pairs(void **state)
{
	struct report_entry o[] = {
		{ 10, "/v1/app serve", NULL }, { 11, "/v1/app worker", NULL },
		{ 12, "/v1/app worker", NULL }, { 13, "sh -c x", NULL },
		{ 14, "old-only", NULL },
	};
	struct report_entry n[] = {
		{ 20, "/v2/app worker", NULL }, { 21, "/v2/app serve", NULL },
		{ 22, "/v2/app worker", NULL }, { 23, "renamed", NULL },
	};
	struct diff_pair *p;
	long k = diff_pairs(o, 5, n, 4, &p);

	(void)state;
	assert_int_equal(k, 5);
	assert_int_equal(p[0].old->pid, 11);
	assert_int_equal(p[0].new->pid, 20);
	assert_int_equal(p[1].old->pid, 10);
	assert_int_equal(p[1].new->pid, 21);
	assert_int_equal(p[2].old->pid, 12);
	assert_int_equal(p[2].new->pid, 22);
	assert_int_equal(p[3].old->pid, 13);	/* left over: in order */
	assert_int_equal(p[3].new->pid, 23);
	assert_int_equal(p[4].old->pid, 14);
	assert_null(p[4].new);
	free(p);
	k = diff_pairs(o, 1, n, 0, &p);
	assert_int_equal(k, 1);
	assert_null(p[0].new);
	free(p);
}

/* Several processes: a labelled table each, the missing side "none". */
static void test_diff_per_process(void **state)
{
	struct report *a = report_new(), *b = report_new(), *c = report_new();
	struct report_entry o[] = { { 7, "/v1/app", a } };
	struct report_entry n[] = { { 8, "/v2/app", b }, { 9, "/v2/app kid", c } };
	struct report_view v = { 0 };
	struct mem m;
	char *got;

	(void)state;
	func(a, "/s/a.c", 1, "f", 1, 1);
	func(b, "/s/a.c", 1, "f", 2, 1);
	func(c, "/s/a.c", 1, "f", 1, 1);
	assert_int_equal(report_diff_print(o, 1, n, 2, mem_open(&m), &v), 0);
	got = mem_close(&m);
	assert_string_equal(got, "PID 7 -> 8: /v2/app\n" DHEAD DRULE
		"   0.003906        1     0.007812        1     +0.003906  /s/a.c:1:f\n"
		DRULE DHEAD "\nPID none -> 9: /v2/app kid\n" DHEAD DRULE
		"                         0.003906        1     +0.003906  /s/a.c:1:f\n"
		DRULE DHEAD);
	free(got);
	report_free(a);
	report_free(b);
	report_free(c);
}

/* --fail-above: growth strictly above, every row whatever the view. */
static void test_diff_grew(void **state)
{
	struct report *o = old_version(), *n = new_version();
	struct report_entry eo = { 0, "", o }, en = { 0, "", n };
	struct mem m;
	char *got;

	(void)state;
	assert_int_equal(report_diff_grew(&eo, 1, &en, 1, 0.02, mem_open(&m)), 2);
	got = mem_close(&m);
	assert_string_equal(got,
		"iprofmem: over budget: /s/b.c:30:born grew by 0.02734 MB, "
		"more than --fail-above=0.02 by 0.007344 MB\n"
		"iprofmem: over budget: /s/a.c:40:grows grew by 0.0625 MB, "
		"more than --fail-above=0.02 by 0.0425 MB\n");
	free(got);
	/* exactly 0.0625 MB is not above 0.0625 */
	assert_int_equal(report_diff_grew(&eo, 1, &en, 1, 0.0625, mem_open(&m)), 0);
	got = mem_close(&m);
	assert_string_equal(got, "");
	free(got);
	assert_int_equal(report_diff_grew(&eo, 1, &en, 1, 0, mem_open(&m)), 2);
	free(mem_close(&m));
	report_free(o);
	report_free(n);
}

/* ---- budgets ------------------------------------------------------------ */

static char budget_path[] = "/tmp/iprofmem-budget-XXXXXX";

/* A budget file holding text; budget_load's result (err filled). */
static struct budget *budget_from(const char *text, char *err, size_t len)
{
	int fd = mkstemp(budget_path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return budget_load(budget_path, err, len);
}

static void budget_done(struct budget *b)
{
	budget_free(b);
	unlink(budget_path);
	strcpy(budget_path + strlen(budget_path) - 6, "XXXXXX");
}

/* "FILE:LINE: ..." of a malformed file, with the temporary name as FILE. */
static void assert_budget_error(const char *text, const char *want)
{
	char err[512], expect[512];
	struct budget *b = budget_from(text, err, sizeof(err));

	assert_null(b);
	snprintf(expect, sizeof(expect), "%s:%s", budget_path, want);
	assert_string_equal(err, expect);
	budget_done(b);
}

static void test_budget_malformed(void **state)
{
	(void)state;
	assert_budget_error("f 1\n\ngrows\n",
			    "3: no budget after the pattern (grows); a line is "
			    "PATTERN MB");
	assert_budget_error("grows 1x\n", "1: '1x' is not a number of "
			    "megabytes; a line is PATTERN MB");
	assert_budget_error("grows -1\n", "1: '-1' is not a number of "
			    "megabytes; a line is PATTERN MB");
	assert_budget_error("# ok\ngrows 1 2\n", "2: '1 2' is not a number "
			    "of megabytes; a line is PATTERN MB");
	assert_budget_error("a:b:c 1\n", "1: more than one ':' qualifier "
			    "(a:b:c); an entry is NAME, GLOB, MODULE:GLOB or "
			    "FILE.c:GLOB");
	assert_budget_error("foo[ 1\n", "1: an unbalanced '[' in the pattern "
			    "(foo[); an entry is NAME, GLOB, MODULE:GLOB or "
			    "FILE.c:GLOB");
}

static void test_budget_missing_file(void **state)
{
	char err[256];

	(void)state;
	assert_null(budget_load("/nonexistent/budget", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/budget: No such file or "
			    "directory");
}

/* First matching line wins; FILE.c:GLOB on the source, MODULE:GLOB on a
 * function without line info; exactly the budget is not over; a line that
 * applies to nothing is warned about. */
static void test_budget_check(void **state)
{
	char err[256], want[2048];
	struct budget *b;
	struct report *r = new_version();
	struct report_entry e = { 0, "", r };
	struct mem m;
	char *got;
	long over;

	(void)state;
	func(r, "/usr/lib/libz.so.1", 0, "inflate", 256, 1);
	b = budget_from("  # budgets\n"
			"grows 0.078125	# exactly: passes\n"
			"b.c:b* 0.02\n"
			"libz.so.*:* 0.5\n"
			"st* 0.001 \n"
			"nothing* 9\n"
			"* 100\n", err, sizeof(err));
	assert_non_null(b);
	over = budget_check(b, &e, 1, mem_open(&m));
	got = mem_close(&m);
	assert_int_equal(over, 3);
	snprintf(want, sizeof(want),
		 "iprofmem: over budget: /s/a.c:5:steady used 0.01172 MB, more "
		 "than its budget of 0.001 MB (%1$s:5) by 0.01072 MB\n"
		 "iprofmem: over budget: /s/b.c:30:born used 0.02734 MB, more "
		 "than its budget of 0.02 MB (%1$s:3) by 0.007344 MB\n"
		 "iprofmem: over budget: /usr/lib/libz.so.1:0:inflate used 1 "
		 "MB, more than its budget of 0.5 MB (%1$s:4) by 0.5 MB\n"
		 "iprofmem: warning: %1$s:6: 'nothing*' applies to no "
		 "function\n", budget_path);
	assert_string_equal(got, want);
	free(got);
	budget_done(b);
	report_free(r);
}

static void test_budget_per_process(void **state)
{
	char err[256], want[512];
	struct report *a = report_new(), *c = report_new();
	struct report_entry e[] = { { 40, "app", a }, { 41, "app kid", c } };
	struct budget *b;
	struct mem m;
	char *got;

	(void)state;
	func(a, "/s/a.c", 1, "f", 1, 1);
	func(c, "/s/a.c", 1, "f", 3, 1);
	b = budget_from("f 0.005\n", err, sizeof(err));
	assert_non_null(b);
	assert_int_equal(budget_check(b, e, 2, mem_open(&m)), 1);
	got = mem_close(&m);
	snprintf(want, sizeof(want), "iprofmem: over budget: /s/a.c:1:f used "
		 "0.01172 MB, more than its budget of 0.005 MB (%s:1) by "
		 "0.006719 MB (PID 41)\n", budget_path);
	assert_string_equal(got, want);
	free(got);
	budget_done(b);
	report_free(a);
	report_free(c);
}

int run_diff_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diff_table),
		cmocka_unit_test(test_diff_min_top),
		cmocka_unit_test(test_diff_empty),
		cmocka_unit_test(test_diff_csv),
		cmocka_unit_test(test_diff_json),
		cmocka_unit_test(test_diff_matching),
		cmocka_unit_test(test_diff_two_trees),
		cmocka_unit_test(test_diff_pairs),
		cmocka_unit_test(test_diff_per_process),
		cmocka_unit_test(test_diff_grew),
		cmocka_unit_test(test_budget_malformed),
		cmocka_unit_test(test_budget_missing_file),
		cmocka_unit_test(test_budget_check),
		cmocka_unit_test(test_budget_per_process),
	};

	return cmocka_run_group_tests_name("report diff", tests, NULL, NULL);
}
