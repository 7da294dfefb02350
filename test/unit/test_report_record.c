/* Unit tests for report/: record files.  Every view of a loaded record is
 * the live one byte for byte; bad input fails with one clear line and
 * never crashes, whatever the bytes. */
#include "test_report.h"

#include <stdlib.h>
#include <string.h>

/* The program of the round trips: strings that need escaping. */
static const struct report_program prog = { "/bin/a\tb\\c", "00ff7e" };

static char *save_prog(const struct report_entry *e, size_t n,
		       const struct report_program *p)
{
	struct mem m;

	assert_int_equal(report_save(e, n, p, mem_open(&m)), 0);
	return mem_close(&m);
}

static char *save(const struct report_entry *e, size_t n)
{
	return save_prog(e, n, &prog);
}

/* Load text and the program line (p may be NULL); NULL (err filled)
 * when rejected. */
static struct report_entry *load_prog(const char *text, size_t len,
				      size_t *n, struct report_program *p,
				      char *err, size_t errlen)
{
	FILE *f = fmemopen((void *)text, len, "r");
	struct report_entry *e;

	assert_non_null(f);
	e = report_load(f, n, p, err, errlen);
	fclose(f);
	return e;
}

static struct report_entry *load(const char *text, size_t len, size_t *n,
				 char *err, size_t errlen)
{
	return load_prog(text, len, n, NULL, err, errlen);
}

/* Every view of the entries, concatenated, with a separator line. */
static char *all_views(const struct report_entry *e, size_t n)
{
	static const struct report_view views[] = {
		{ .format = REPORT_TABLE },
		{ .format = REPORT_TABLE, .min_mb = 2, .top = 2,
		  .columns = REPORT_COL_SELF | REPORT_COL_PEAK |
			     REPORT_COL_TOTAL_CALLS },
		{ .format = REPORT_TABLE, .tree = true,
		  .columns = REPORT_COL_PEAK },
		{ .format = REPORT_JSON },
		{ .format = REPORT_JSON, .min_mb = 1, .top = 3 },
		{ .format = REPORT_CSV },
	};
	struct mem m;
	FILE *f = mem_open(&m);

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		assert_int_equal(report_print(e, n, f, &views[i]), 0);
		fputs("\n=====\n", f);
	}
	assert_int_equal(report_write_folded(e, n, f), 0);
	assert_int_equal(report_write_flamegraph(e, n, f), 0);
	assert_int_equal(report_write_timeline(e, n, f, 3), 0);
	assert_int_equal(report_save(e, n, &prog, f), 0);
	return mem_close(&m);
}

static void assert_round_trip(const struct report_entry *e, size_t n)
{
	char *text = save(e, n), *live = all_views(e, n), *again;
	char err[256] = "unset";
	size_t m = 99;
	struct report_program p;
	struct report_entry *back = load_prog(text, strlen(text), &m, &p, err,
					      sizeof(err));

	assert_non_null(back);
	assert_string_equal(err, "");
	assert_int_equal(m, n);
	assert_string_equal(p.path, prog.path);
	assert_string_equal(p.build_id, prog.build_id);
	report_program_free(&p);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(back[i].pid, e[i].pid);
		assert_string_equal(back[i].cmdline,
				    e[i].cmdline ? e[i].cmdline : "");
	}
	again = all_views(back, m);
	assert_string_equal(again, live);
	free(again);
	report_entries_free(back, m);
	free(live);
	free(text);
}

/* The fixture, with strings that need escaping, recursion, samples that
 * were merged, and a function never called. */
static struct report *rich_report(void)
{
	struct report *r = fixture();
	int f = add(r, "/odd\tdir\\x\n.c", -3, "weird\r\nname\\t");
	int p = REPORT_ROOT;

	add(r, "", 0, "");
	for (int i = 0; i < 12; i++)
		p = call(r, p, f, (i + 1) * 4096, 4096, (i + 2) * 4096);
	for (uint64_t i = 0; i < 10000; i++)
		report_sample(r, 2000000000 + i * 1000, (int64_t)(i % 77) * MIB);
	return r;
}

static void test_round_trip_single(void **state)
{
	struct report *r = rich_report();
	struct report_entry e = { 0, NULL, r };
	(void)state;

	assert_round_trip(&e, 1);
	report_free(r);
}

static void test_round_trip_per_process(void **state)
{
	struct report *r = rich_report(), *s = fixture(), *empty = report_new();
	struct report_entry e[] = {
		{ 100, "prog --opt 'a b'\t\\", r },
		{ 101, "", empty },
		{ 2147483647, "child", s },
	};
	(void)state;

	assert_round_trip(e, 3);
	assert_round_trip(e, 0);
	report_free(r);
	report_free(s);
	report_free(empty);
}

/* What follows the header and the program line in test_record_text. */
#define TEXT_ITEMS "process\t7\ta\\tb\n" \
		   "func\t0\t/a b.c\t4\tf\\\\\n" \
		   "node\t0\t-1\t0\t8192\t1\t1\t4096\t12288\n" \
		   "node\t1\t0\t0\t0\t0\t1\t0\t0\n" \
		   "call\t0\t10\t20\t8192\n" \
		   "sample\t5\t-1\n" \
		   "end\n"

static void test_record_text(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 7, "a\tb", r };
	int f = add(r, "/a b.c", 4, "f\\");
	int p = report_path(r, REPORT_ROOT, f);
	char *text;
	(void)state;

	report_record_call(r, p, &(struct report_call){ 8192, 4096, 12288,
							10, 20 });
	report_record_call(r, report_path(r, p, f),
			   &(struct report_call){ -5, -5, 0, 30, 40 });
	report_sample(r, 5, -1);
	text = save(&e, 1);
	assert_string_equal(text,
			    "iprofmem-record 2\n"
			    "program\t/bin/a\\tb\\\\c\t00ff7e\n" TEXT_ITEMS);
	free(text);
	/* nothing known of the program: no program line */
	text = save_prog(&e, 1, NULL);
	assert_string_equal(text, "iprofmem-record 2\n" TEXT_ITEMS);
	free(text);
	text = save_prog(&e, 1, &(struct report_program){ "", "ab" });
	assert_non_null(strstr(text, "\nprogram\t\tab\nprocess\t"));
	free(text);
	report_free(r);
}

/* Format 1, as iprofmem wrote it before the program line: it loads, with
 * no program, and saves as format 2 with the same items. */
static void test_format_1(void **state)
{
	static const char v1[] = "iprofmem-record 1\n"
				 "process\t7\ta\\tb\n"
				 "func\t0\t/a b.c\t4\tf\\\\\n"
				 "node\t0\t-1\t0\t8192\t1\t1\t4096\t12288\n"
				 "call\t0\t10\t20\t8192\n"
				 "sample\t5\t-1\n"
				 "end\n";
	struct report_program p = { "stale", "stale" };
	char err[256];
	size_t n;
	struct report_entry *e = load_prog(v1, strlen(v1), &n, &p, err,
					   sizeof(err));
	char *text;

	(void)state;
	assert_non_null(e);
	assert_int_equal(n, 1);
	assert_null(p.path);
	assert_null(p.build_id);
	text = save_prog(e, n, &p);
	assert_string_equal(text + strlen("iprofmem-record 2"),
			    v1 + strlen("iprofmem-record 1"));
	free(text);
	report_entries_free(e, n);
}

/* ---- rejections --------------------------------------------------------- */

#define NOT_RECORD "not an iprofmem record file; give one that --record wrote"
#define TRUNCATED "truncated record file (no end line): the recording did " \
		  "not finish; record again"

static void assert_rejected(const char *text, const char *want)
{
	struct report_program p;
	char err[256];
	size_t n = 5;

	/* a program line read before the failure is freed, nothing leaks */
	assert_null(load_prog(text, strlen(text), &n, &p, err, sizeof(err)));
	assert_string_equal(err, want);
	assert_int_equal(n, 0);
	assert_null(p.path);
	assert_null(p.build_id);
}

#define HDR "iprofmem-record 2\n"
#define HDR1 "iprofmem-record 1\n"
#define PROC "process\t1\tx\n"
#define FUNC "func\t0\t/a.c\t1\tf\n"

static void test_reject_not_record(void **state)
{
	(void)state;
	assert_rejected("", NOT_RECORD);
	assert_rejected("hello\n", NOT_RECORD);
	assert_rejected("\177ELF\2\1\1", NOT_RECORD);
	assert_rejected("iprofmem-record\n", NOT_RECORD);
}

static void test_reject_newer(void **state)
{
	(void)state;
	assert_rejected("iprofmem-record 3\nwhatever new\n",
			"version 3 is newer than this iprofmem reads (2); read it with a newer iprofmem");
	assert_rejected("iprofmem-record 10\n",
			"version 10 is newer than this iprofmem reads (2); read it with a newer iprofmem");
	assert_rejected("iprofmem-record 0\nend\n",
			"corrupt record file: line 1: bad version; record again");
	assert_rejected("iprofmem-record 1x\nend\n",
			"corrupt record file: line 1: bad version; record again");
}

static void test_reject_truncated(void **state)
{
	(void)state;
	assert_rejected(HDR, TRUNCATED);
	assert_rejected(HDR PROC FUNC, TRUNCATED);
	assert_rejected(HDR PROC "en", TRUNCATED);
	assert_rejected(HDR PROC "end", TRUNCATED);
	assert_rejected("iprofmem-record 1", TRUNCATED);
	assert_rejected("iprofmem-record 2", TRUNCATED);
	assert_rejected(HDR "program\t/p\t00", TRUNCATED);
}

static void test_reject_corrupt(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ HDR FUNC "end\n", "line 2: no process line before this one" },
		{ HDR PROC "bogus\t1\nend\n", "line 3: unknown line type" },
		{ HDR PROC "\nend\n", "line 3: unknown line type" },
		{ HDR "process\t-1\tx\nend\n", "line 2: bad pid" },
		{ HDR "process\t1\nend\n", "line 2: bad process line" },
		{ HDR "process\t1\tx\\q\nend\n",
		  "line 2: bad escape in the command line" },
		{ HDR PROC "func\t1\t/a.c\t1\tf\nend\n",
		  "line 3: function id out of order" },
		{ HDR PROC "func\t0\t/a.c\tx\tf\nend\n", "line 3: bad line number" },
		{ HDR PROC FUNC "func\t1\t/a.c\t1\tf\nend\n",
		  "line 4: duplicate function" },
		{ HDR PROC FUNC "func\t1\t/a.c\t1\tf\\\nend\n", "line 4: bad escape" },
		{ HDR PROC FUNC "node\t0\t0\t0\t1\t1\t1\t1\t1\nend\n",
		  "line 4: bad parent node" },
		{ HDR PROC FUNC "node\t0\t-1\t1\t1\t1\t1\t1\t1\nend\n",
		  "line 4: bad function id" },
		{ HDR PROC FUNC "node\t0\t-1\t0\t1\t1\t1\t+1\t1\nend\n",
		  "line 4: bad number" },
		{ HDR PROC FUNC "node\t0\t-1\t0\t1\t1\t1\t1\t18446744073709551616\nend\n",
		  "line 4: bad number" },
		{ HDR PROC FUNC "node\t0\t-1\t0\t1\t1\t1\t1\nend\n",
		  "line 4: bad node line" },
		{ HDR PROC FUNC "node\t0\t-1\t0\t1\t1\t1\t1\t1\t\nend\n",
		  "line 4: bad node line" },
		{ HDR PROC FUNC "node\t0\t-1\t0\t1\t1\t1\t1\t1\n"
		  "node\t1\t-1\t0\t1\t1\t1\t1\t1\nend\n", "line 5: duplicate node" },
		{ HDR PROC FUNC "node\t3\t-1\t0\t1\t1\t1\t1\t1\nend\n",
		  "line 4: node id out of order" },
		{ HDR PROC FUNC "call\t0\t5\t4\t1\nend\n", "line 4: bad call times" },
		{ HDR PROC FUNC "call\t0\t4\t5\t0\nend\n", "line 4: bad call delta" },
		{ HDR PROC FUNC "call\t1\t4\t5\t1\nend\n", "line 4: bad function id" },
		{ HDR PROC "sample\t1\t-\nend\n", "line 3: bad sample" },
		{ HDR PROC "sample\t1\t9223372036854775808\nend\n", "line 3: bad sample" },
		{ HDR PROC "end\nextra\n", "line 4: data after the end line" },
		{ HDR1 "program\t/p\t00\n" PROC "end\n",
		  "line 2: unknown line type" },
		{ HDR PROC "program\t/p\t00\nend\n",
		  "line 3: program line after a process line" },
		{ HDR "program\t/p\t00\nprogram\t/p\t00\nend\n",
		  "line 3: second program line" },
		{ HDR "program\t/p\nend\n", "line 2: bad program line" },
		{ HDR "program\t/p\t00\t\nend\n", "line 2: bad program line" },
		{ HDR "program\t/p\\q\t00\nend\n",
		  "line 2: bad escape in the program line" },
		{ HDR "program\t/p\t0\nend\n", "line 2: bad build ID" },
		{ HDR "program\t/p\t00FF\nend\n", "line 2: bad build ID" },
		{ HDR "program\t/p\t0x\nend\n", "line 2: bad build ID" },
		{ HDR PROC "end\n\n", "line 4: data after the end line" },
	};
	char want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(want, sizeof(want), "corrupt record file: %s; record "
			 "again", cases[i].err);
		assert_rejected(cases[i].text, want);
	}
}

static void test_reject_nul_and_limits(void **state)
{
	static const char nul[] = HDR PROC "func\t0\t/a\0.c\t1\tf\nend\n";
	char err[256], *text;
	size_t n, len;
	FILE *f;
	(void)state;

	assert_null(load(nul, sizeof(nul) - 1, &n, err, sizeof(err)));
	assert_string_equal(err, "corrupt record file: line 3: NUL byte; "
			    "record again");
	/* a ninth call for one function, a 4097th sample */
	f = open_memstream(&text, &len);
	fputs(HDR PROC FUNC, f);
	for (int i = 0; i < 9; i++)
		fprintf(f, "call\t0\t1\t2\t%d\n", i + 1);
	fputs("end\n", f);
	fclose(f);
	assert_null(load(text, len, &n, err, sizeof(err)));
	assert_string_equal(err, "corrupt record file: line 12: too many calls "
			    "for one function; record again");
	free(text);
	f = open_memstream(&text, &len);
	fputs(HDR PROC, f);
	for (int i = 0; i < 4097; i++)
		fprintf(f, "sample\t%d\t4096\n", i);
	fputs("end\n", f);
	fclose(f);
	assert_null(load(text, len, &n, err, sizeof(err)));
	assert_string_equal(err, "corrupt record file: line 4099: too many "
			    "samples; record again");
	free(text);
	/* no room for the message: still rejected, nothing written */
	assert_null(load("x", 1, &n, NULL, 0));
	assert_null(load("x", 1, &n, err, 1));
	assert_string_equal(err, "");
}

/* ---- fuzz --------------------------------------------------------------- */

/* A loaded record must survive every view. */
static void exercise(const struct report_entry *e, size_t n)
{
	char *s = all_views(e, n);

	free(s);
}

static void assert_one_line(const char *err)
{
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
}

static void test_fuzz_prefixes(void **state)
{
	struct report *r = rich_report();
	struct report_entry e[] = { { 3, "p", r }, { 4, "q", r } };
	char *text = save(e, 2), err[256];
	size_t len = strlen(text), n;
	(void)state;

	/* every prefix is an incomplete record; the samples are 70% of the
	 * text, so step through them faster */
	for (size_t cut = 0; cut < len; cut += cut < 4000 || cut > len - 400 ? 1 : 37) {
		assert_null(load(text, cut, &n, err, sizeof(err)));
		assert_one_line(err);
	}
	free(text);
	report_free(r);
}

/* xorshift64: the same "random" flips on every run. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_fuzz_flips(void **state)
{
	static const char flips[] = "\t\n\\-0123456789 x\xff\0";
	struct report *r = fixture();
	struct report_entry e[] = { { 3, "p", r }, { 0, "", r } };
	char *text = save(e, 2), *copy, err[256];
	size_t len = strlen(text), n, loaded = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	(void)state;

	copy = malloc(len);
	assert_non_null(copy);
	for (int round = 0; round < 3000; round++) {
		struct report_entry *back;
		int k = 1 + (int)(next_rand(&seed) % 4);

		memcpy(copy, text, len);
		while (k--) {
			size_t at = next_rand(&seed) % len;
			uint64_t v = next_rand(&seed);

			copy[at] = v % 2 ? (char)(v >> 8) :
				   flips[(v >> 8) % (sizeof(flips) - 1)];
		}
		back = load(copy, len, &n, err, sizeof(err));
		if (!back) {
			assert_one_line(err);
			continue;
		}
		loaded++;
		exercise(back, n);
		report_entries_free(back, n);
	}
	/* some flips land in numbers and stay valid: those were viewed */
	assert_true(loaded > 0);
	free(copy);
	free(text);
	report_free(r);
}

int run_record_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_single),
		cmocka_unit_test(test_round_trip_per_process),
		cmocka_unit_test(test_record_text),
		cmocka_unit_test(test_format_1),
		cmocka_unit_test(test_reject_not_record),
		cmocka_unit_test(test_reject_newer),
		cmocka_unit_test(test_reject_truncated),
		cmocka_unit_test(test_reject_corrupt),
		cmocka_unit_test(test_reject_nul_and_limits),
		cmocka_unit_test(test_fuzz_prefixes),
		cmocka_unit_test(test_fuzz_flips),
	};

	return cmocka_run_group_tests_name("report record", tests, NULL, NULL);
}
