/* Unit tests for report/: the table, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define HEAD	"Memory (MB)   Calls  File:Line:Function\n" \
		"---------------------------------------\n"
#define FOOT	"---------------------------------------\n" \
		"Memory (MB)   Calls  File:Line:Function\n"
#define EMPTY	HEAD "No traced call increased memory.\n" FOOT

/* The table as report_print writes it; the caller frees it. */
static char *print_to_string(const struct report *r, double min_mb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_print(r, f, min_mb), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void assert_table(const struct report *r, double min_mb,
			 const char *want)
{
	char *got = print_to_string(r, min_mb);

	assert_string_equal(got, want);
	free(got);
}

static int add(struct report *r, const char *file, int line, const char *name)
{
	int id = report_add_func(r, file, line, name);

	assert_true(id >= 0);
	return id;
}

static int setup(void **state)
{
	*state = report_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	report_free(*state);
	return 0;
}

/* The seed tool's own example row: one page in one call. */
static void test_seed_row(void **state)
{
	struct report *r = *state;
	int id = add(r, "/src/app/parse.c", 120, "parse_header");

	report_record(r, id, 4096);
	assert_table(r, 0, HEAD
		     "  0.003906        1  /src/app/parse.c:120:parse_header\n"
		     FOOT);
}

static void test_seed_mb_and_calls(void **state)
{
	struct report *r = *state;
	int id = add(r, "/src/app/db.c", 42, "db_load");
	int64_t total = llround(43.21 * 1048576);

	/* 1892 calls whose deltas add up to exactly 43.21 MB. */
	report_record(r, id, total - 1891);
	for (int i = 0; i < 1891; i++)
		report_record(r, id, 1);
	assert_table(r, 0, HEAD
		     "     43.21     1892  /src/app/db.c:42:db_load\n"
		     FOOT);
}

static void test_ascending_by_memory(void **state)
{
	struct report *r = *state;
	int big = add(r, "/a.c", 1, "big");
	int small = add(r, "/z.c", 1, "small");
	int mid = add(r, "/m.c", 1, "mid");

	report_record(r, big, 3 * 1048576);
	report_record(r, small, 8192);
	report_record(r, mid, 1048576);
	report_record(r, mid, 1048576);
	assert_table(r, 0, HEAD
		     "  0.007812        1  /z.c:1:small\n"
		     "         2        2  /m.c:1:mid\n"
		     "         3        1  /a.c:1:big\n"
		     FOOT);
}

/* Sums that print alike but differ by a byte sort by the exact sum. */
static void test_sort_exact_bytes(void **state)
{
	struct report *r = *state;
	int a = add(r, "/a.c", 1, "a");
	int b = add(r, "/b.c", 1, "b");

	report_record(r, a, 1048577);
	report_record(r, b, 1048576);
	assert_table(r, 0, HEAD
		     "         1        1  /b.c:1:b\n"
		     "         1        1  /a.c:1:a\n"
		     FOOT);
}

static void test_ties_file_line_name(void **state)
{
	struct report *r = *state;
	int ids[5];

	/* Registered in scrambled order; line 9 must precede line 10. */
	ids[0] = add(r, "/b.c", 1, "f");
	ids[1] = add(r, "/a.c", 10, "f");
	ids[2] = add(r, "/a.c", 9, "z");
	ids[3] = add(r, "/a.c", 9, "g");
	ids[4] = add(r, "/a.c", 10, "e");
	for (int i = 0; i < 5; i++)
		report_record(r, ids[i], 4096);
	assert_table(r, 0, HEAD
		     "  0.003906        1  /a.c:9:g\n"
		     "  0.003906        1  /a.c:9:z\n"
		     "  0.003906        1  /a.c:10:e\n"
		     "  0.003906        1  /a.c:10:f\n"
		     "  0.003906        1  /b.c:1:f\n"
		     FOOT);
}

static void test_dedup_same_key(void **state)
{
	struct report *r = *state;
	int a = add(r, "/x.c", 5, "f");
	int b = add(r, "/x.c", 5, "f");
	int other_line = add(r, "/x.c", 6, "f");
	int other_name = add(r, "/x.c", 5, "g");
	int other_file = add(r, "/y.c", 5, "f");

	assert_int_equal(a, b);
	assert_int_not_equal(a, other_line);
	assert_int_not_equal(a, other_name);
	assert_int_not_equal(a, other_file);
	report_record(r, a, 4096);
	report_record(r, b, 4096);
	assert_table(r, 0, HEAD
		     "  0.007812        2  /x.c:5:f\n"
		     FOOT);
}

/* Enough keys to grow the hash table several times. */
static void test_dedup_many(void **state)
{
	struct report *r = *state;
	enum { N = 20000 };
	static int ids[N];
	char name[32];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "fn%d", i);
		ids[i] = add(r, "/big.c", i % 7, name);
	}
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "fn%d", i);
		assert_int_equal(add(r, "/big.c", i % 7, name), ids[i]);
		assert_true(i == 0 || ids[i] != ids[i - 1]);
	}
}

/* Keys that would collide if fields were simply concatenated. */
static void test_dedup_field_boundaries(void **state)
{
	struct report *r = *state;

	assert_int_not_equal(add(r, "/ab", 1, "c"), add(r, "/a", 1, "bc"));
}

static void test_nonpositive_deltas_ignored(void **state)
{
	struct report *r = *state;
	int id = add(r, "/a.c", 3, "shrinks");
	int mixed = add(r, "/a.c", 4, "mixed");

	report_record(r, id, 0);
	report_record(r, id, -4096);
	report_record(r, mixed, -1048576);
	report_record(r, mixed, 4096);
	report_record(r, mixed, 0);
	report_record(r, mixed, 4096);
	assert_table(r, 0, HEAD
		     "  0.007812        2  /a.c:4:mixed\n"
		     FOOT);
}

static void test_min_mb_hides_at_or_below(void **state)
{
	struct report *r = *state;
	int at = add(r, "/a.c", 1, "at");
	int above = add(r, "/a.c", 2, "above");
	int below = add(r, "/a.c", 3, "below");

	report_record(r, at, 1048576);
	report_record(r, above, 1048576 + 4096);
	report_record(r, below, 4096);
	assert_table(r, 1.0, HEAD
		     "     1.004        1  /a.c:2:above\n"
		     FOOT);
}

static void test_empty_no_functions(void **state)
{
	assert_table(*state, 0, EMPTY);
}

static void test_empty_all_hidden(void **state)
{
	struct report *r = *state;
	int id = add(r, "/a.c", 1, "f");

	add(r, "/a.c", 2, "never_called");
	report_record(r, id, 4096);
	assert_table(r, 1.0, EMPTY);
}

static void test_bad_id_ignored(void **state)
{
	struct report *r = *state;

	report_record(r, -1, 4096);
	report_record(r, 0, 4096);
	report_record(r, 7, 4096);
	assert_table(r, 0, EMPTY);
}

static void test_write_error_dev_full(void **state)
{
	struct report *r = *state;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	report_record(r, add(r, "/a.c", 1, "f"), 4096);
	errno = 0;
	assert_int_equal(report_print(r, f, 0), -1);
	assert_int_equal(errno, ENOSPC);
	fclose(f);
}

static void test_write_error_small_buffer(void **state)
{
	struct report *r = *state;
	char buf[16];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(f);
	report_record(r, add(r, "/a.c", 1, "f"), 4096);
	assert_int_equal(report_print(r, f, 0), -1);
	fclose(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_seed_row),
		T(test_seed_mb_and_calls),
		T(test_ascending_by_memory),
		T(test_sort_exact_bytes),
		T(test_ties_file_line_name),
		T(test_dedup_same_key),
		T(test_dedup_many),
		T(test_dedup_field_boundaries),
		T(test_nonpositive_deltas_ignored),
		T(test_min_mb_hides_at_or_below),
		T(test_empty_no_functions),
		T(test_empty_all_hidden),
		T(test_bad_id_ignored),
		T(test_write_error_dev_full),
		T(test_write_error_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
