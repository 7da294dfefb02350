/* Unit tests for report/: the flame graph and the timeline, both SVG:
 * well-formed, self-contained, and what they draw. */
#include "test_report.h"

#include <stdlib.h>
#include <string.h>

static char *flamegraph(const struct report_entry *e, size_t n)
{
	struct mem m;

	assert_int_equal(report_write_flamegraph(e, n, mem_open(&m)), 0);
	return mem_close(&m);
}

static char *timeline(const struct report_entry *e, size_t n, size_t top)
{
	struct mem m;

	assert_int_equal(report_write_timeline(e, n, mem_open(&m), top), 0);
	return mem_close(&m);
}

/* Well-formed, and nothing that runs or fetches. */
static void assert_svg(const char *s)
{
	assert_xml_ok(s);
	assert_true(!strncmp(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36));
	assert_non_null(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(s, " width=\"1200\""));
	assert_null(strstr(s, "<script"));
	assert_null(strstr(s, "href"));
	assert_null(strstr(s, "@import"));
	assert_null(strstr(s, "url("));
	assert_null(strstr(s, "<foreignObject"));
}

/* The checker itself must catch what it is there for. */
static void test_xml_checker(void **state)
{
	(void)state;
	assert_xml_ok("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/>t &amp; &#xfffd;</a>\n");
	assert_true(utf8_ok("\xc3\xa9\xe2\x82\xac"));
	assert_false(utf8_ok("\xc0\xaf"));
	assert_false(utf8_ok("\xed\xa0\x80"));
	assert_false(utf8_ok("\xe2\x82"));
	assert_true(json_ok("{\"a\":[1,-2.5,null,\"\\u00ff\"]}"));
	assert_false(json_ok("{\"a\":[1,]}"));
	assert_false(json_ok("\"\x01\""));
	assert_false(json_ok("{} x"));
}

static void test_flame_fixture(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, NULL, r };
	char *got = flamegraph(&e, 1);
	(void)state;

	assert_svg(got);
	/* all, main, setup, alloc, run, alloc, atexit_hook: free_all added
	 * nothing, so it has no frame */
	assert_int_equal(count_substr(got, "<g>"), 7);
	assert_int_equal(count_substr(got, "</g>"), 7);
	assert_int_equal(count_substr(got, "<rect"), 8);	/* + background */
	assert_non_null(strstr(got, "<title>all \xe2\x80\x94 inclusive self "
			       "12 MB</title>"));
	assert_non_null(strstr(got, "<title>main (/src/main.c:10) \xe2\x80\x94 "
			       "inclusive self 12 MB; memory 12 MB in 1 "
			       "call</title>"));
	assert_non_null(strstr(got, "<title>alloc (/src/buf.c:5) \xe2\x80\x94 "
			       "inclusive self 9 MB; memory 9 MB in 3 "
			       "calls</title>"));
	assert_non_null(strstr(got, "<title>alloc (/src/buf.c:5) \xe2\x80\x94 "
			       "inclusive self 1 MB; memory 1 MB in 1 "
			       "call</title>"));
	assert_non_null(strstr(got, "<title>run (/src/run.c:7) \xe2\x80\x94 "
			       "inclusive self 3 MB; memory 3 MB in 1 "
			       "call</title>"));
	assert_non_null(strstr(got, ">Inclusive self memory by call path "
			       "(MB)</text>"));
	assert_null(strstr(got, "free_all"));
	/* atexit_hook is 0.4 px wide: a frame, no text */
	assert_non_null(strstr(got, "atexit_hook (/src/exit.c:3)"));
	assert_null(strstr(got, ">atexit_hook</text>"));
	assert_non_null(strstr(got, ">main</text>"));
	/* the root is the bottom row; main just above it */
	assert_non_null(strstr(got, "height=\"106\""));
	assert_non_null(strstr(got, "<rect x=\"10.00\" y=\"80\" width=\"1180.00\""));
	free(got);
	report_free(r);
}

static void test_flame_deterministic(void **state)
{
	struct report *r = fixture(), *s = fixture();
	struct report_entry e = { 0, NULL, r }, f = { 0, NULL, s };
	char *a = flamegraph(&e, 1), *b = flamegraph(&f, 1);
	(void)state;

	assert_string_equal(a, b);
	free(a);
	free(b);
	report_free(r);
	report_free(s);
}

static void test_flame_escaping_and_fit(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, NULL, r };
	char *got;
	(void)state;

	call(r, REPORT_ROOT, add(r, "/w.c", 1, "wide<&>\"'\x01\xff"),
	     1000 * 4096, 1000 * 4096, 0);
	call(r, REPORT_ROOT, add(r, "/n.c", 1, "narrow_function_name"),
	     40 * 4096, 40 * 4096, 0);
	call(r, REPORT_ROOT, add(r, "/t.c", 1, "tiny"), 1, 1, 0);
	got = flamegraph(&e, 1);
	assert_svg(got);
	assert_non_null(strstr(got, ">wide&lt;&amp;&gt;&quot;&apos;"
			       "&#xfffd;&#xfffd;</text>"));
	/* 45 px: five characters, the last two the cut mark */
	assert_non_null(strstr(got, ">nar..</text>"));
	/* under 0.1 px: not drawn at all */
	assert_null(strstr(got, "tiny"));
	free(got);
	report_free(r);
}

/* A caller that frees what its callee touched: the table's memory is the
 * net growth of its call, the graph's width what grew along the path; the
 * tooltip names both. */
static void test_flame_tooltip_both_figures(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, NULL, r };
	int m = add(r, "/m.c", 1, "main");
	int pm = call(r, REPORT_ROOT, m, 2 * MIB, 0, 10 * MIB);
	char *got;
	(void)state;

	call(r, pm, add(r, "/b.c", 2, "build"), 10 * MIB, 10 * MIB, 10 * MIB);
	got = flamegraph(&e, 1);
	assert_svg(got);
	assert_non_null(strstr(got, "<title>main (/m.c:1) \xe2\x80\x94 "
			       "inclusive self 10 MB; memory 2 MB in 1 "
			       "call</title>"));
	free(got);
	report_free(r);
}

static void test_flame_per_process_and_empty(void **state)
{
	struct report *r = fixture(), *empty = report_new();
	struct report_entry e[] = { { 5, "p", r }, { 6, "q", empty } };
	char *got = flamegraph(e, 2);
	(void)state;

	assert_svg(got);
	assert_non_null(strstr(got, "<title>PID 5 \xe2\x80\x94 inclusive self "
			       "12 MB</title>"));
	assert_null(strstr(got, "PID 6"));
	assert_int_equal(count_substr(got, "<g>"), 8);
	free(got);
	got = flamegraph(e + 1, 1);
	assert_svg(got);
	assert_int_equal(count_substr(got, "<g>"), 1);
	free(got);
	got = flamegraph(e, 0);
	assert_svg(got);
	free(got);
	report_free(r);
	report_free(empty);
}

/* ---- timeline ----------------------------------------------------------- */

static void test_timeline_fixture(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, NULL, r };
	char *got = timeline(&e, 1, 2);
	const char *pts;
	(void)state;

	assert_svg(got);
	/* alloc's four calls and main's one */
	assert_int_equal(count_substr(got, "fill-opacity=\"0.3\""), 5);
	assert_int_equal(count_substr(got, "<title>alloc: memory +"), 4);
	assert_int_equal(count_substr(got, "<title>main: memory +12 MB"), 1);
	/* the legend, biggest first */
	assert_int_equal(count_substr(got, "fill-opacity=\"0.6\""), 2);
	assert_true(strstr(got, ">main (/src/main.c:10): memory 12 MB in 1 call<") <
		    strstr(got, ">alloc (/src/buf.c:5): memory 10 MB in 4 calls<"));
	assert_non_null(strstr(got, ">time (s)</text>"));
	assert_non_null(strstr(got, ">RSS (MB)</text>"));
	pts = strstr(got, "points=\"");
	assert_non_null(pts);
	assert_int_equal(count_substr(pts, ","), 10);
	free(got);
	/* top 0: five functions; every function with memory here */
	got = timeline(&e, 1, 0);
	assert_svg(got);
	assert_int_equal(count_substr(got, "fill-opacity=\"0.3\""), 8);
	assert_int_equal(count_substr(got, "fill-opacity=\"0.6\""), 5);
	free(got);
	report_free(r);
}

static void test_timeline_per_process_and_empty(void **state)
{
	struct report *r = fixture(), *empty = report_new();
	struct report_entry e[] = { { 5, "p <x> & \"y\"", r }, { 6, "q", empty } };
	char *got = timeline(e, 2, 1);
	(void)state;

	assert_svg(got);
	assert_non_null(strstr(got, ">PID 5: p &lt;x&gt; &amp; &quot;y&quot;</text>"));
	assert_non_null(strstr(got, ">PID 6: q</text>"));
	assert_int_equal(count_substr(got, ">No RSS samples.</text>"), 1);
	assert_int_equal(count_substr(got, "<polyline"), 1);
	free(got);
	e[1].pid = 0;
	got = timeline(e + 1, 1, 1);
	assert_svg(got);
	assert_non_null(strstr(got, ">RSS over time</text>"));
	free(got);
	got = timeline(e, 0, 1);
	assert_svg(got);
	free(got);
	report_free(r);
	report_free(empty);
}

/* A long run: the SVG stays small, however many samples came. */
static void test_timeline_bounded(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, NULL, r };
	char *got;
	(void)state;

	for (uint64_t i = 0; i < 2000000; i++)
		report_sample(r, i * 1000, (int64_t)(i % 1000) * 4096);
	got = timeline(&e, 1, 5);
	assert_svg(got);
	assert_true(strlen(got) < 100000);
	assert_true(count_substr(got, ",") <= 4096);
	free(got);
	report_free(r);
}

static void test_svg_write_error(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, NULL, r };
	FILE *f = fopen("/dev/full", "w");
	(void)state;

	if (!f) {
		report_free(r);
		skip();
	}
	assert_int_equal(report_write_flamegraph(&e, 1, f), -1);
	clearerr(f);
	assert_int_equal(report_write_timeline(&e, 1, f, 3), -1);
	clearerr(f);
	assert_int_equal(report_write_folded(&e, 1, f), -1);
	fclose(f);
	report_free(r);
}

int run_svg_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_checker),
		cmocka_unit_test(test_flame_fixture),
		cmocka_unit_test(test_flame_deterministic),
		cmocka_unit_test(test_flame_escaping_and_fit),
		cmocka_unit_test(test_flame_tooltip_both_figures),
		cmocka_unit_test(test_flame_per_process_and_empty),
		cmocka_unit_test(test_timeline_fixture),
		cmocka_unit_test(test_timeline_per_process_and_empty),
		cmocka_unit_test(test_timeline_bounded),
		cmocka_unit_test(test_svg_write_error),
	};

	return cmocka_run_group_tests_name("report svg", tests, NULL, NULL);
}
