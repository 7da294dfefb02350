/* Unit tests for report/pprof.c: the profile is gunzipped and decoded
 * with protobuf-c (the generated profile.pb-c.c, the same code as the
 * writer's, but the decoding side), and every field checked exactly on the
 * hand-built fixture of the report tests: sample types, samples (stack,
 * self bytes, calls), functions and locations, the mapping, the string
 * table, per-process labels; the same bytes twice; a failed write. */
#include "test_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;

static const struct report_program prog = { "/bin/prog", "00ff" };

/* The gzipped profile of n entries, in *len bytes (free it). */
static unsigned char *write_pprof(const struct report_entry *e, size_t n,
				  size_t *len)
{
	struct mem m;

	mem_open(&m);
	assert_int_equal(report_write_pprof(e, n, m.f, &prog), 0);
	mem_close(&m);
	*len = m.len;
	return (unsigned char *)m.buf;
}

/* gunzip, then unpack. */
static Profile *decode(const unsigned char *gz, size_t len)
{
	size_t room = 1 << 16;
	unsigned char *raw = malloc(room);
	z_stream zs = { 0 };
	Profile *p;
	int rc;

	assert_non_null(raw);
	assert_true(len > 2 && gz[0] == 0x1f && gz[1] == 0x8b);
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (unsigned char *)gz;
	zs.avail_in = (uInt)len;
	for (;;) {
		zs.next_out = raw + zs.total_out;
		zs.avail_out = (uInt)(room - zs.total_out);
		rc = inflate(&zs, Z_FINISH);
		if (rc == Z_STREAM_END)
			break;
		assert_true(rc == Z_BUF_ERROR || rc == Z_OK);
		room *= 2;
		raw = realloc(raw, room);
		assert_non_null(raw);
	}
	p = perftools__profiles__profile__unpack(NULL, zs.total_out, raw);
	assert_non_null(p);
	inflateEnd(&zs);
	free(raw);
	return p;
}

static const char *str(const Profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->n_string_table);
	return p->string_table[i];
}

static const Perftools__Profiles__Function *func_by_id(const Profile *p,
							uint64_t id)
{
	for (size_t i = 0; i < p->n_function; i++)
		if (p->function[i]->id == id)
			return p->function[i];
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

/* The name of location id (one line, one function). */
static const char *loc_name(const Profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->n_location; i++) {
		const Perftools__Profiles__Location *l = p->location[i];

		if (l->id != id)
			continue;
		assert_int_equal(l->n_line, 1);
		assert_int_equal(l->mapping_id, 1);
		return str(p, func_by_id(p, l->line[0]->function_id)->name);
	}
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each sample as "main;setup;alloc SELF CALLS [pid]" (root first), the
 * lines sorted and joined by newlines (free it). */
static char *samples_text(const Profile *p)
{
	char **lines = calloc(p->n_sample + 1, sizeof(*lines));
	struct mem m;

	assert_non_null(lines);
	for (size_t i = 0; i < p->n_sample; i++) {
		const Perftools__Profiles__Sample *s = p->sample[i];
		struct mem l;

		mem_open(&l);
		for (size_t k = s->n_location_id; k-- > 0;)
			fprintf(l.f, "%s%s", loc_name(p, s->location_id[k]),
				k ? ";" : "");
		assert_int_equal(s->n_value, 2);
		fprintf(l.f, " %lld %lld", (long long)s->value[0],
			(long long)s->value[1]);
		for (size_t k = 0; k < s->n_label; k++)
			fprintf(l.f, " %s=%lld", str(p, s->label[k]->key),
				(long long)s->label[k]->num);
		lines[i] = mem_close(&l);
	}
	qsort(lines, p->n_sample, sizeof(*lines), line_cmp);
	mem_open(&m);
	for (size_t i = 0; i < p->n_sample; i++) {
		fprintf(m.f, "%s\n", lines[i]);
		free(lines[i]);
	}
	free(lines);
	return mem_close(&m);
}

static void test_fixture_exact(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, "", r };
	size_t len;
	unsigned char *gz = write_pprof(&e, 1, &len);
	Profile *p = decode(gz, len);
	char *got;

	(void)state;
	assert_string_equal(str(p, 0), "");
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str(p, p->sample_type[0]->type), "memory");
	assert_string_equal(str(p, p->sample_type[0]->unit), "bytes");
	assert_string_equal(str(p, p->sample_type[1]->type), "calls");
	assert_string_equal(str(p, p->sample_type[1]->unit), "count");
	assert_string_equal(str(p, p->default_sample_type), "memory");
	assert_int_equal(p->n_mapping, 1);
	assert_int_equal(p->mapping[0]->id, 1);
	assert_string_equal(str(p, p->mapping[0]->filename), "/bin/prog");
	assert_string_equal(str(p, p->mapping[0]->build_id), "00ff");
	assert_true(p->mapping[0]->has_functions &&
		    p->mapping[0]->has_filenames &&
		    p->mapping[0]->has_line_numbers);

	/* free_all (no positive delta, nothing of its own) has no sample and
	 * is on no stack: no function for it */
	got = samples_text(p);
	assert_string_equal(got,
		"atexit_hook 4096 1\n"
		"main 0 1\n"
		"main;run 2097152 1\n"
		"main;run;alloc 1048576 1\n"
		"main;setup 0 1\n"
		"main;setup;alloc 9437184 3\n");
	free(got);
	assert_int_equal(p->n_function, 5);
	assert_int_equal(p->n_location, 5);
	for (size_t i = 0; i < p->n_function; i++) {
		const Perftools__Profiles__Function *f = p->function[i];

		if (strcmp(str(p, f->name), "alloc") == 0) {
			assert_string_equal(str(p, f->filename), "/src/buf.c");
			assert_int_equal(f->start_line, 5);
			assert_string_equal(str(p, f->system_name), "alloc");
		}
		assert_string_not_equal(str(p, f->name), "free_all");
	}
	/* each string once */
	for (size_t i = 0; i < p->n_string_table; i++)
		for (size_t j = i + 1; j < p->n_string_table; j++)
			assert_string_not_equal(p->string_table[i],
						p->string_table[j]);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(r);
}

/* pprof's cum of a function (the memory of the samples whose stack holds
 * it, once per stack) is the table's Memory; its flat calls the Calls. */
static void test_cum_is_table(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, "", r };
	static const struct { const char *name; int64_t bytes, calls; } want[] = {
		{ "main", 12 * MIB, 1 }, { "setup", 9 * MIB, 1 },
		{ "alloc", 10 * MIB, 4 }, { "run", 3 * MIB, 1 },
		{ "atexit_hook", 4096, 1 },
	};
	size_t len;
	unsigned char *gz = write_pprof(&e, 1, &len);
	Profile *p = decode(gz, len);

	(void)state;
	for (size_t w = 0; w < sizeof(want) / sizeof(*want); w++) {
		int64_t cum = 0, calls = 0;

		for (size_t i = 0; i < p->n_sample; i++) {
			const Perftools__Profiles__Sample *s = p->sample[i];

			for (size_t k = 0; k < s->n_location_id; k++)
				if (!strcmp(loc_name(p, s->location_id[k]),
					    want[w].name)) {
					cum += s->value[0];
					break;
				}
			if (!strcmp(loc_name(p, s->location_id[0]), want[w].name))
				calls += s->value[1];
		}
		assert_int_equal(cum, want[w].bytes);
		assert_int_equal(calls, want[w].calls);
	}
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(r);
}

/* Per process: a "pid" label on each sample, each process's functions
 * under ids of their own. */
static void test_per_process_labels(void **state)
{
	struct report *a = report_new(), *b = report_new();
	struct report_entry e[2] = { { 10, "a", a }, { 20, "b", b } };
	size_t len;
	unsigned char *gz;
	Profile *p;
	char *got;

	(void)state;
	call(a, REPORT_ROOT, add(a, "/a.c", 1, "f"), 4096, 4096, 4096);
	call(b, REPORT_ROOT, add(b, "/b.c", 2, "g"), 8192, 8192, 8192);
	call(b, REPORT_ROOT, add(b, "/a.c", 1, "f"), 4096, 4096, 4096);
	gz = write_pprof(e, 2, &len);
	p = decode(gz, len);
	got = samples_text(p);
	assert_string_equal(got, "f 4096 1 pid=10\n"
				 "f 4096 1 pid=20\n"
				 "g 8192 1 pid=20\n");
	free(got);
	assert_int_equal(p->n_function, 3);
	for (size_t i = 0; i < p->n_function; i++)
		for (size_t j = i + 1; j < p->n_function; j++)
			assert_true(p->function[i]->id != p->function[j]->id);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(a);
	report_free(b);
}

/* Nothing recorded: a valid profile with no sample; the same report
 * twice: the same bytes. */
static void test_empty_and_deterministic(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, "", r };
	size_t len, len2;
	unsigned char *gz, *gz2;
	Profile *p;

	(void)state;
	add(r, "/a.c", 1, "never_called");
	gz = write_pprof(&e, 1, &len);
	p = decode(gz, len);
	assert_int_equal(p->n_sample, 0);
	assert_int_equal(p->n_function, 0);
	assert_int_equal(p->n_sample_type, 2);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(r);

	r = fixture();
	e.rep = r;
	gz = write_pprof(&e, 1, &len);
	gz2 = write_pprof(&e, 1, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(gz, gz2, len);
	free(gz);
	free(gz2);
	report_free(r);
}

/* A recursion 2000 levels deep: one sample per level, stacks as deep. */
static void test_deep_recursion(void **state)
{
	struct report *r = report_new();
	struct report_entry e = { 0, "", r };
	int fn = add(r, "/r.c", 1, "rec"), path = REPORT_ROOT;
	size_t len;
	unsigned char *gz;
	Profile *p;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		struct report_call c = { 4096, 4096, 4096, 0, 1 };

		path = report_path(r, path, fn);
		assert_true(path >= 0);
		report_record_call(r, path, &c);
	}
	gz = write_pprof(&e, 1, &len);
	p = decode(gz, len);
	assert_int_equal(p->n_sample, 2000);
	assert_int_equal(p->n_function, 1);
	for (size_t i = 0; i < p->n_sample; i++)
		assert_int_equal(p->sample[i]->n_location_id, i + 1);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(r);
}

/* The gzipped diff profile of two sets of entries (free it). */
static unsigned char *write_diff(const struct report_entry *old, size_t nold,
				 const struct report_entry *new, size_t nnew,
				 size_t *len)
{
	struct mem m;

	mem_open(&m);
	assert_int_equal(report_diff_write_pprof(old, nold, new, nnew, m.f,
						 &prog), 0);
	mem_close(&m);
	*len = m.len;
	return (unsigned char *)m.buf;
}

/* One run of main calling a, b and one of gone or came (once each); a
 * function of /old/h.c or /new/h.c, the same file in two trees. */
static struct report *diff_run(bool v2)
{
	struct report *r = report_new();
	int m = report_path(r, REPORT_ROOT, add(r, "/m.c", 1, "main"));

	call(r, m, add(r, "/m.c", v2 ? 9 : 5, "a"), v2 ? 3 * 4096 : 4096,
	     v2 ? 3 * 4096 : 4096, 0);
	call(r, m, add(r, "/m.c", 6, "b"), v2 ? 4096 : 8192,
	     v2 ? 4096 : 8192, 0);
	call(r, m, add(r, "/m.c", 7, v2 ? "came" : "gone"), 4096, 4096, 0);
	call(r, m, add(r, v2 ? "/new/h.c" : "/old/h.c", 2, "h"), 4096, 4096, 0);
	call(r, m, add(r, "/m.c", 8, "same"), 4096, 4096, 0);
	call(r, REPORT_ROOT, 0, v2 ? 6 * 4096 : 5 * 4096, 0, 0);
	return r;
}

/* diff: each path's new self and calls less the old, negative when they
 * shrank, a function in one run only with its sign, moved lines and two
 * trees matched; paths that did not change have no sample; cum of main
 * is the change of the table's main row. */
static void test_diff_signed(void **state)
{
	struct report *o = diff_run(false), *n = diff_run(true);
	struct report_entry eo = { 0, "", o }, en = { 0, "", n };
	size_t len;
	unsigned char *gz = write_diff(&eo, 1, &en, 1, &len);
	Profile *p = decode(gz, len);
	char *got = samples_text(p);
	int64_t cum = 0;

	(void)state;
	assert_string_equal(got, "main;a 8192 0\n"
				 "main;b -4096 0\n"
				 "main;came 4096 1\n"
				 "main;gone -4096 -1\n");
	for (size_t i = 0; i < p->n_sample; i++)
		cum += p->sample[i]->value[0];
	assert_int_equal(cum, 4096);	/* main: 6 pages less 5 */
	assert_int_equal(p->n_sample_type, 2);
	assert_string_equal(str(p, p->sample_type[0]->type), "memory");
	assert_string_equal(str(p, p->sample_type[0]->unit), "bytes");
	assert_string_equal(str(p, p->sample_type[1]->type), "calls");
	assert_string_equal(str(p, p->mapping[0]->filename), "/bin/prog");
	assert_string_equal(str(p, p->mapping[0]->build_id), "00ff");
	/* a's location is the new run's line */
	for (size_t i = 0; i < p->n_function; i++)
		if (!strcmp(str(p, p->function[i]->name), "a"))
			assert_int_equal(p->function[i]->start_line, 9);
	free(got);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	/* the other way round: every sign flips */
	gz = write_diff(&en, 1, &eo, 1, &len);
	p = decode(gz, len);
	got = samples_text(p);
	assert_string_equal(got, "main;a -8192 0\n"
				 "main;b 4096 0\n"
				 "main;came -4096 -1\n"
				 "main;gone 4096 1\n");
	free(got);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(o);
	report_free(n);
}

/* Per process: pairs labelled with the new pid (the old one's for a
 * process in the old record only); a run against itself: no sample. */
static void test_diff_processes(void **state)
{
	struct report *o = diff_run(false), *n = diff_run(true);
	struct report_entry eo[] = { { 10, "./app x", o }, { 11, "./gone", o } };
	struct report_entry en[] = { { 20, "/v2/app x", n } };
	size_t len;
	unsigned char *gz = write_diff(eo, 2, en, 1, &len);
	Profile *p = decode(gz, len);
	char *got = samples_text(p);

	(void)state;
	assert_string_equal(got, "main 0 -1 pid=11\n"
				 "main;a -4096 -1 pid=11\n"
				 "main;a 8192 0 pid=20\n"
				 "main;b -4096 0 pid=20\n"
				 "main;b -8192 -1 pid=11\n"
				 "main;came 4096 1 pid=20\n"
				 "main;gone -4096 -1 pid=11\n"
				 "main;gone -4096 -1 pid=20\n"
				 "main;h -4096 -1 pid=11\n"
				 "main;same -4096 -1 pid=11\n");
	free(got);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	gz = write_diff(eo, 1, eo, 1, &len);
	p = decode(gz, len);
	assert_int_equal(p->n_sample, 0);
	perftools__profiles__profile__free_unpacked(p, NULL);
	free(gz);
	report_free(o);
	report_free(n);
}

static void test_write_error(void **state)
{
	struct report *r = fixture();
	struct report_entry e = { 0, "", r };
	FILE *full = fopen("/dev/full", "w");

	(void)state;
	if (!full)
		skip();
	errno = 0;
	assert_int_equal(report_write_pprof(&e, 1, full, &prog), -1);
	assert_int_equal(errno, ENOSPC);
	fclose(full);
	report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_exact),
		cmocka_unit_test(test_cum_is_table),
		cmocka_unit_test(test_per_process_labels),
		cmocka_unit_test(test_empty_and_deterministic),
		cmocka_unit_test(test_deep_recursion),
		cmocka_unit_test(test_diff_signed),
		cmocka_unit_test(test_diff_processes),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests_name("pprof", tests, NULL, NULL);
}
