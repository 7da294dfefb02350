/* Unit tests for report/: the default table, byte for byte as the seed
 * printed it, and the recording API.  The other views, the SVGs and the
 * record files have their own files, run from main here. */
#include "test_report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"

#define HEAD	"Memory (MB)   Calls  File:Line:Function\n" \
		"---------------------------------------\n"
#define FOOT	"---------------------------------------\n" \
		"Memory (MB)   Calls  File:Line:Function\n"
#define EMPTY	HEAD "No traced call increased memory.\n" FOOT

/* The table as report_print writes it for one entry with pid 0; the
 * caller frees it. */
static char *print_to_string(const struct report *r, double min_mb)
{
	struct report_view v = { .format = REPORT_TABLE, .min_mb = min_mb };

	return print_view(r, &v);
}

static int print_plain(const struct report *r, FILE *f)
{
	struct report_entry e = { 0, NULL, r };
	struct report_view v = { 0 };

	return report_print(&e, 1, f, &v);
}

static void assert_table(const struct report *r, double min_mb,
			 const char *want)
{
	char *got = print_to_string(r, min_mb);

	assert_string_equal(got, want);
	free(got);
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
	assert_int_equal(print_plain(r, f), -1);
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
	assert_int_equal(print_plain(r, f), -1);
	fclose(f);
}

/* ---- call paths and recording ------------------------------------------ */

static void test_path_same_key_same_node(void **state)
{
	struct report *r = *state;
	int f = add(r, "/a.c", 1, "f"), g = add(r, "/a.c", 2, "g");
	int pf = report_path(r, REPORT_ROOT, f);
	int pg = report_path(r, pf, g);

	assert_true(pf >= 0 && pg >= 0 && pf != pg);
	assert_int_equal(report_path(r, REPORT_ROOT, f), pf);
	assert_int_equal(report_path(r, pf, g), pg);
	/* the same function from another caller is another path */
	assert_int_not_equal(report_path(r, REPORT_ROOT, g), pg);
	assert_int_not_equal(report_path(r, pg, f), pf);
}

static void test_path_bad_arguments(void **state)
{
	struct report *r = *state;
	int f = add(r, "/a.c", 1, "f");
	int p = report_path(r, REPORT_ROOT, f);

	assert_int_equal(report_path(r, REPORT_ROOT, f + 1), -1);
	assert_int_equal(report_path(r, REPORT_ROOT, -1), -1);
	assert_int_equal(report_path(r, p + 1, f), -1);
	assert_int_equal(report_path(r, -2, f), -1);
	assert_int_equal(r->nnodes, 1);
}

/* A deep chain and a wide fan: the hash table grows many times and every
 * node is still found under its id. */
static void test_path_many(void **state)
{
	struct report *r = *state;
	enum { DEPTH = 50000, WIDE = 50000 };
	static int chain[DEPTH];
	char name[32];
	int f = add(r, "/r.c", 1, "recurse");
	int parent = REPORT_ROOT;

	for (int i = 0; i < DEPTH; i++)
		parent = chain[i] = report_path(r, parent, f);
	for (int i = 0; i < WIDE; i++) {
		snprintf(name, sizeof(name), "leaf%d", i);
		assert_int_equal(report_path(r, chain[0], add(r, "/l.c", i, name)),
				 DEPTH + i);
	}
	parent = REPORT_ROOT;
	for (int i = 0; i < DEPTH; i++) {
		assert_int_equal(report_path(r, parent, f), chain[i]);
		assert_int_equal(chain[i], i);
		parent = chain[i];
	}
	assert_int_equal(r->nnodes, DEPTH + WIDE);
}

static void test_record_call_counters(void **state)
{
	struct report *r = *state;
	int f = add(r, "/a.c", 1, "f");
	int p = report_path(r, REPORT_ROOT, f);
	const struct report_call calls[] = {
		{ .delta = 4096, .self = 1024, .peak = 8192 },
		{ .delta = -4096, .self = -4096, .peak = 65536 },
		{ .delta = 0, .self = 0, .peak = 0 },
		{ .delta = 8192, .self = 8192, .peak = 8192 },
	};
	const struct node *nd = &r->nodes[p];

	for (size_t i = 0; i < 4; i++)
		report_record_call(r, p, &calls[i]);
	report_record_call(r, p + 1, &calls[0]);	/* a bad path: ignored */
	report_record_call(r, -1, &calls[0]);
	assert_int_equal(nd->bytes, 12288);
	assert_int_equal(nd->calls, 2);
	assert_int_equal(nd->total_calls, 4);
	assert_int_equal(nd->self_bytes, 9216);
	assert_int_equal(nd->peak_bytes, 65536);
}

/* Every level of a recursion is its own path; the flat row sums them, as
 * the seed's single counter did. */
static void test_flat_sums_paths(void **state)
{
	struct report *r = *state;
	int f = add(r, "/r.c", 1, "recurse");
	int g = add(r, "/g.c", 2, "g");
	int p = REPORT_ROOT;

	for (int i = 0; i < 3; i++) {
		p = report_path(r, p, f);
		report_record_call(r, p, &(struct report_call){
			.delta = 4096 * (i + 1), .self = 4096, .peak = 4096 });
		report_record_call(r, report_path(r, p, g),
				   &(struct report_call){ .delta = 4096 });
	}
	assert_table(r, 0, HEAD
		     "   0.01172        3  /g.c:2:g\n"
		     "   0.02344        3  /r.c:1:recurse\n"
		     FOOT);
}

/* The same calls recorded with and without call paths: a flat report
 * keeps one node per function and prints the same table, with every
 * column that does not need paths; its clone is flat too. */
static void feed(struct report *r, int f, int g, int h)
{
	int p = REPORT_ROOT;

	for (int i = 0; i < 40; i++) {
		int q = report_path(r, p, i % 3 ? f : g);

		report_record_call(r, q, &(struct report_call){
			.delta = 4096 * (i % 5) - 8192, .self = 4096 * (i % 2),
			.peak = 4096 * (i % 7) });
		report_record_call(r, report_path(r, q, h),
				   &(struct report_call){ .delta = 4096,
							  .peak = 4096 * i });
		p = i % 4 ? q : REPORT_ROOT;
	}
}

static void test_flat_same_table(void **state)
{
	struct report *r = *state, *flat = report_new(), *c;
	struct report_view v = {
		.format = REPORT_TABLE, .columns = REPORT_COL_SELF |
		REPORT_COL_PEAK | REPORT_COL_TOTAL_CALLS };
	const struct report *both[] = { r, flat };
	char *got[2];

	assert_non_null(flat);
	report_set_flat(flat, true);
	assert_true(report_is_flat(flat) && !report_is_flat(r));
	for (int k = 0; k < 2; k++) {
		struct report *x = (struct report *)both[k];

		feed(x, add(x, "/f.c", 1, "f"), add(x, "/g.c", 2, "g"),
		     add(x, "/h.c", 3, "h"));
		got[k] = print_view(x, &v);
	}
	assert_true(r->nnodes > 3);
	assert_int_equal(flat->nnodes, 3);
	for (size_t i = 0; i < flat->nnodes; i++)
		assert_int_equal(flat->nodes[i].parent, REPORT_ROOT);
	assert_string_equal(got[1], got[0]);
	assert_non_null(strstr(got[0], "/h.c:3:h"));
	c = report_clone_keys(flat);
	assert_non_null(c);
	assert_true(report_is_flat(c));
	assert_int_equal(c->nnodes, 3);
	assert_int_equal(report_path(c, 2, 1), report_path(flat, 0, 1));
	assert_int_equal(c->nnodes, 3);
	free(got[0]);
	free(got[1]);
	report_free(c);
	report_free(flat);
}

static void test_kept_calls_biggest(void **state)
{
	struct report *r = *state;
	int f = add(r, "/a.c", 1, "f");
	int p = report_path(r, REPORT_ROOT, f);
	int64_t seen = 0;

	/* deltas 1..20 in a scrambled order, and non-positive ones */
	for (int i = 0; i < 20; i++) {
		int64_t d = (i * 7) % 20 + 1;

		report_record_call(r, p, &(struct report_call){
			.delta = d, .t_entry = (uint64_t)d * 10,
			.t_return = (uint64_t)d * 10 + 5 });
		report_record_call(r, p, &(struct report_call){ .delta = -d });
	}
	assert_int_equal(r->funcs[f].nkept, KEPT_CALLS);
	for (int i = 0; i < KEPT_CALLS; i++) {
		const struct kept_call *k = &r->funcs[f].kept[i];

		assert_true(k->delta > 20 - KEPT_CALLS);
		assert_int_equal(k->t_entry, k->delta * 10);
		assert_int_equal(k->t_return, k->delta * 10 + 5);
		seen |= (int64_t)1 << k->delta;
	}
	assert_int_equal(seen, ((int64_t)1 << 21) - ((int64_t)1 << 13));
}

static void test_clone_keys(void **state)
{
	struct report *r = fixture(), *c;
	(void)state;

	c = report_clone_keys(r);
	assert_non_null(c);
	assert_int_equal(c->nfuncs, r->nfuncs);
	assert_int_equal(c->nnodes, r->nnodes);
	for (size_t i = 0; i < r->nnodes; i++) {
		assert_int_equal(c->nodes[i].parent, r->nodes[i].parent);
		assert_int_equal(c->nodes[i].fn, r->nodes[i].fn);
		assert_int_equal(report_path(c, r->nodes[i].parent,
					     r->nodes[i].fn), (int)i);
		assert_int_equal(c->nodes[i].total_calls, 0);
	}
	for (size_t i = 0; i < r->nfuncs; i++) {
		assert_string_equal(c->funcs[i].name, r->funcs[i].name);
		assert_int_equal(c->funcs[i].nkept, 0);
	}
	assert_int_equal(c->nsamples, 0);
	assert_table(c, 0, EMPTY);
	report_free(c);
	report_free(r);
}

/* Millions of samples, a spike among them: at most SAMPLES_MAX kept, the
 * first time and the spike survive, the times stay in order. */
static void test_samples_bounded(void **state)
{
	struct report *r = *state;
	enum { N = 5000000, SPIKE = 3333333 };

	for (uint64_t i = 0; i < N; i++)
		report_sample(r, 1000 + i * 10, i == SPIKE ? 1 << 30 : 4096);
	assert_true(r->nsamples <= SAMPLES_MAX);
	assert_true(r->nsamples >= SAMPLES_MAX / 2);
	assert_int_equal(r->samples[0].t, 1000);
	for (size_t i = 1; i < r->nsamples; i++)
		assert_true(r->samples[i].t > r->samples[i - 1].t);
	assert_true(r->samples[r->nsamples - 1].t >= 1000 + (N - 2 * r->stride) * 10);
	{
		size_t spikes = 0;

		for (size_t i = 0; i < r->nsamples; i++)
			spikes += r->samples[i].rss == 1 << 30;
		assert_int_equal(spikes, 1);
	}
}

static void test_samples_merge_pairs(void **state)
{
	struct report *r = *state;

	for (int i = 0; i < SAMPLES_MAX; i++)
		report_sample(r, (uint64_t)i, i % 2 ? 100 : 200 + i);
	assert_int_equal(r->nsamples, SAMPLES_MAX);
	report_sample(r, SAMPLES_MAX, 7);
	/* halved: (t0, max(rss0, rss1)), ...; then the new one */
	assert_int_equal(r->nsamples, SAMPLES_MAX / 2 + 1);
	assert_int_equal(r->samples[1].t, 2);
	assert_int_equal(r->samples[1].rss, 202);
	assert_int_equal(r->samples[SAMPLES_MAX / 2].rss, 7);
	/* the next raw sample merges into the last kept one */
	report_sample(r, SAMPLES_MAX + 1, 9);
	assert_int_equal(r->nsamples, SAMPLES_MAX / 2 + 1);
	assert_int_equal(r->samples[SAMPLES_MAX / 2].rss, 9);
	assert_int_equal(r->samples[SAMPLES_MAX / 2].t, SAMPLES_MAX);
}

/* report_sample_n is n calls of report_sample: runs of every length, the
 * buffer halved several times on the way (a drain gives a run of records
 * with one RSS at once). */
static void test_samples_n_as_singles(void **state)
{
	struct report *one = *state, *many = report_new();
	uint64_t t = 0, seed = 12345, total = 0;

	assert_non_null(many);
	while (total < 6 * (uint64_t)SAMPLES_MAX) {
		uint64_t n, rss;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		n = seed >> 60 == 0 ? (seed >> 20) % 5000 : (seed >> 33) % 9;
		rss = (seed >> 40) % 97 * 4096;
		for (uint64_t i = 0; i < n; i++)
			report_sample(one, t, (int64_t)rss);
		report_sample_n(many, t, (int64_t)rss, n);
		total += n;
		t += 10;
	}
	assert_true(one->stride >= 4);
	assert_int_equal(many->nsamples, one->nsamples);
	assert_int_equal(many->stride, one->stride);
	assert_int_equal(many->last_fill, one->last_fill);
	for (size_t i = 0; i < one->nsamples; i++) {
		assert_int_equal(many->samples[i].t, one->samples[i].t);
		assert_int_equal(many->samples[i].rss, one->samples[i].rss);
	}
	report_free(many);
}

/* The counter a status line reads, and the names of the most called
 * functions, written by the recording thread when asked. */
static void test_progress(void **state)
{
	struct report *r = *state;
	int f = report_add_func(r, "/f.c", 1, "f");
	int g = report_add_func(r, "/g.c", 2, "g");
	int h = report_add_func(r, "/h.c", 3, "h");
	int k = report_add_func(r, "/k.c", 4, "k");
	uint64_t before = report_progress_calls();
	char *names;

	report_add_func(r, "/never.c", 5, "never");
	for (int i = 0; i < 5; i++)
		report_record(r, g, 0);
	for (int i = 0; i < 3; i++)
		report_record(r, f, 4096);
	report_record(r, h, 0);
	report_record(r, k, 0);
	report_record(r, k, 0);
	assert_int_equal(report_progress_calls() - before, 11);
	assert_null(report_progress_take_hot());
	report_progress_ask_hot();
	assert_null(report_progress_take_hot());
	report_record(r, g, 0);
	assert_int_equal(report_progress_calls() - before, 12);
	names = report_progress_take_hot();
	assert_non_null(names);
	assert_string_equal(names, "g (6 calls), f (3 calls), k (2 calls); "
			    "to leave them out: -x 'g' -x 'f' -x 'k'");
	free(names);
	assert_null(report_progress_take_hot());
}

static void test_parse_columns(void **state)
{
	unsigned c = 99;
	(void)state;

	assert_int_equal(report_parse_columns("self", &c), 0);
	assert_int_equal(c, REPORT_COL_SELF);
	assert_int_equal(report_parse_columns("total-calls,peak,self", &c), 0);
	assert_int_equal(c, REPORT_COL_SELF | REPORT_COL_PEAK |
			 REPORT_COL_TOTAL_CALLS);
	assert_int_equal(report_parse_columns("outer,self", &c), 0);
	assert_int_equal(c, REPORT_COL_SELF | REPORT_COL_OUTER);
	assert_int_equal(report_parse_columns("peak,peak", &c), 0);
	assert_int_equal(c, REPORT_COL_PEAK);
	c = 99;
	assert_int_equal(report_parse_columns("self,bogus", &c), -1);
	assert_int_equal(report_parse_columns("", &c), -1);
	assert_int_equal(report_parse_columns("self,", &c), -1);
	assert_int_equal(report_parse_columns("sel", &c), -1);
	assert_int_equal(report_parse_columns("selfish", &c), -1);
	assert_int_equal(c, 99);
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
		T(test_path_same_key_same_node),
		T(test_path_bad_arguments),
		T(test_path_many),
		T(test_record_call_counters),
		T(test_flat_sums_paths),
		T(test_flat_same_table),
		T(test_kept_calls_biggest),
		T(test_clone_keys),
		T(test_samples_bounded),
		T(test_samples_merge_pairs),
		T(test_samples_n_as_singles),
		T(test_parse_columns),
		T(test_progress),
	};
	int failed = cmocka_run_group_tests_name("report", tests, NULL, NULL);

	failed += run_view_tests();
	failed += run_svg_tests();
	failed += run_record_tests();
	failed += run_diff_tests();
	return failed ? 1 : 0;
}
