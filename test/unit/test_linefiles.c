/* Unit tests for symbols/linefiles: line table headers encoded by hand
 * (versions 2 to 5, 32- and 64-bit DWARF, the forms gcc and clang use),
 * their file names as dwarf_decl_file gives them, and every header the
 * reader must leave to libdw (-1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dwarf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/linefiles.h"

/* A .debug_line being written: one unit, its lengths patched at the end. */
struct buf {
	uint8_t b[4096];
	size_t n;
	size_t unit_len_at, hdr_len_at, hdr_from;
	unsigned offset_size;
};

static void put(struct buf *w, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		w->b[w->n++] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

static void uleb(struct buf *w, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;

		v >>= 7;
		w->b[w->n++] = byte | (v ? 0x80 : 0);
	} while (v);
}

static void cstr(struct buf *w, const char *s)
{
	size_t n = strlen(s) + 1;

	memcpy(w->b + w->n, s, n);
	w->n += n;
}

/* The unit's start, up to its standard_opcode_lengths (opcode_base 13). */
static void header(struct buf *w, unsigned version, unsigned offset_size)
{
	static const uint8_t lengths[12] = { 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1 };

	w->offset_size = offset_size;
	if (offset_size == 8)
		put(w, 0xffffffff, 4);
	w->unit_len_at = w->n;
	put(w, 0, offset_size);
	put(w, version, 2);
	if (version >= 5) {
		put(w, 8, 1);	/* address_size */
		put(w, 0, 1);	/* segment_selector_size */
	}
	w->hdr_len_at = w->n;
	put(w, 0, offset_size);
	w->hdr_from = w->n;
	put(w, 1, 1);		/* minimum_instruction_length */
	if (version >= 4)
		put(w, 1, 1);	/* maximum_operations_per_instruction */
	put(w, 1, 1);		/* default_is_stmt */
	put(w, (uint8_t)-5, 1);	/* line_base */
	put(w, 14, 1);		/* line_range */
	put(w, 13, 1);		/* opcode_base */
	memcpy(w->b + w->n, lengths, sizeof(lengths));
	w->n += sizeof(lengths);
}

/* End the header, add a line program of a few bytes, patch the lengths. */
static void finish(struct buf *w)
{
	size_t hdr_len = w->n - w->hdr_from, unit_len;

	put(w, 0x00, 1);	/* DW_LNE_end_sequence, as a program would */
	put(w, 0x01, 1);
	put(w, 0x01, 1);
	unit_len = w->n - (w->unit_len_at + w->offset_size);
	for (unsigned i = 0; i < w->offset_size; i++) {
		w->b[w->unit_len_at + i] = (uint8_t)(unit_len >> (8 * i));
		w->b[w->hdr_len_at + i] = (uint8_t)(hdr_len >> (8 * i));
	}
}

static const char line_str[] = "/src/app\0include\0main.c\0util.h\0";
static const char str[] = "\0/usr/include\0stdio.h\0";

static struct line_sections secs(const struct buf *w)
{
	return (struct line_sections){
		.line = w->b, .line_len = w->n,
		.line_str = (const uint8_t *)line_str,
		.line_str_len = sizeof(line_str),
		.str = (const uint8_t *)str, .str_len = sizeof(str),
	};
}

/* The names of the unit at off, each as expected (NULL ends want). */
static void expect_names(const struct buf *w, uint64_t off, const char *comp_dir,
			 const char *const *want)
{
	struct line_sections s = secs(w);
	char **names;
	long n = line_files(&s, off, 8, comp_dir, &names), k = 0;

	assert_true(n >= 0);
	for (; want[k]; k++) {
		assert_true(k < n);
		assert_string_equal(names[k], want[k]);
	}
	assert_int_equal(n, k);
	line_files_free(names, n);
}

static void expect_refused(const struct buf *w, uint64_t off)
{
	struct line_sections s = secs(w);
	char **names = (char **)&names;

	assert_int_equal(line_files(&s, off, 8, "/cu", &names), -1);
	assert_null(names);
}

/* Version 4: directory 0 is comp_dir, files count from 1 ("???" at 0),
 * absolute names stay, relative directories stay relative. */
static void v4_files(unsigned version)
{
	struct buf w = { .n = 0 };

	header(&w, version, 4);
	cstr(&w, "/usr/include");
	cstr(&w, "sub/dir");
	cstr(&w, "");
	cstr(&w, "main.c"), uleb(&w, 0), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "stdio.h"), uleb(&w, 1), uleb(&w, 1234567), uleb(&w, 99);
	cstr(&w, "x.h"), uleb(&w, 2), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "/abs/y.c"), uleb(&w, 2), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "");
	finish(&w);
	expect_names(&w, 0, "/src/app", (const char *const[]){
		"???", "/src/app/main.c", "/usr/include/stdio.h",
		"sub/dir/x.h", "/abs/y.c", NULL });
	/* without comp_dir, a name of directory 0 stays as it is */
	expect_names(&w, 0, NULL, (const char *const[]){
		"???", "main.c", "/usr/include/stdio.h", "sub/dir/x.h",
		"/abs/y.c", NULL });
}

static void test_v4(void **state)
{
	(void)state;
	v4_files(4);
}

static void test_v2_v3(void **state)
{
	(void)state;
	v4_files(2);
	v4_files(3);
}

/* A second unit after the first: read at its own offset. */
static void test_second_unit(void **state)
{
	struct buf w = { .n = 0 };
	size_t second;

	(void)state;
	header(&w, 4, 4);
	cstr(&w, "");
	cstr(&w, "a.c"), uleb(&w, 0), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "");
	finish(&w);
	second = w.n;
	header(&w, 4, 4);
	cstr(&w, "");
	cstr(&w, "b.c"), uleb(&w, 0), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "");
	finish(&w);
	expect_names(&w, 0, "/cu", (const char *const[]){ "???", "/cu/a.c", NULL });
	expect_names(&w, second, "/cu", (const char *const[]){ "???", "/cu/b.c", NULL });
}

/* Version 5 as gcc 12 writes it: paths by line_strp, directory index by
 * udata; both tables explicit, files from 0. */
static void v5_gcc(unsigned offset_size)
{
	struct buf w = { .n = 0 };

	header(&w, 5, offset_size);
	put(&w, 1, 1);				/* directory entry formats */
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_line_strp);
	uleb(&w, 2);				/* directories */
	put(&w, 0, offset_size);		/* "/src/app" */
	put(&w, 9, offset_size);		/* "include" */
	put(&w, 2, 1);				/* file entry formats */
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_line_strp);
	uleb(&w, DW_LNCT_directory_index), uleb(&w, DW_FORM_udata);
	uleb(&w, 3);				/* files */
	put(&w, 17, offset_size), uleb(&w, 0);	/* main.c */
	put(&w, 17, offset_size), uleb(&w, 0);	/* main.c again */
	put(&w, 24, offset_size), uleb(&w, 1);	/* util.h in include */
	finish(&w);
	expect_names(&w, 0, "/ignored", (const char *const[]){
		"/src/app/main.c", "/src/app/main.c", "include/util.h", NULL });
}

static void test_v5_gcc(void **state)
{
	(void)state;
	v5_gcc(4);
}

static void test_v5_dwarf64(void **state)
{
	(void)state;
	v5_gcc(8);
}

/* Version 5 with the other forms: inline strings, strp, data1/data2
 * indexes, and an MD5 (data16) and a size (udata) to skip. */
static void test_v5_forms(void **state)
{
	struct buf w = { .n = 0 };

	(void)state;
	header(&w, 5, 4);
	put(&w, 1, 1);
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_string);
	uleb(&w, 2);
	cstr(&w, "/build");
	cstr(&w, "/usr/include");
	put(&w, 4, 1);
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_strp);
	uleb(&w, DW_LNCT_directory_index), uleb(&w, DW_FORM_data2);
	uleb(&w, DW_LNCT_MD5), uleb(&w, DW_FORM_data16);
	uleb(&w, DW_LNCT_size), uleb(&w, DW_FORM_udata);
	uleb(&w, 2);
	put(&w, 14, 4), put(&w, 1, 2);		/* stdio.h in /usr/include */
	for (int i = 0; i < 16; i++)
		put(&w, 0xab, 1);
	uleb(&w, 300);
	put(&w, 1, 4), put(&w, 0, 2);		/* "/usr/include", absolute */
	for (int i = 0; i < 16; i++)
		put(&w, 0xcd, 1);
	uleb(&w, 0);
	finish(&w);
	expect_names(&w, 0, NULL, (const char *const[]){
		"/usr/include/stdio.h", "/usr/include", NULL });
}

/* What libdw must judge: each gives -1 and allocates nothing. */
static void test_refused(void **state)
{
	struct buf w = { .n = 0 };
	size_t at;

	(void)state;
	/* a version out of range */
	header(&w, 6, 4);
	cstr(&w, "");
	cstr(&w, "");
	finish(&w);
	expect_refused(&w, 0);

	/* a directory index past the table */
	w.n = 0;
	header(&w, 4, 4);
	cstr(&w, "");
	cstr(&w, "a.c"), uleb(&w, 1), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "");
	finish(&w);
	expect_refused(&w, 0);

	/* version 5: a strx path (the unit's str_offsets_base) */
	w.n = 0;
	header(&w, 5, 4);
	put(&w, 1, 1);
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_strx1);
	uleb(&w, 1);
	put(&w, 0, 1);
	put(&w, 0, 1);
	uleb(&w, 0);
	finish(&w);
	expect_refused(&w, 0);

	/* version 5: files without a directory index */
	w.n = 0;
	header(&w, 5, 4);
	put(&w, 1, 1);
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_string);
	uleb(&w, 1);
	cstr(&w, "/d");
	put(&w, 1, 1);
	uleb(&w, DW_LNCT_path), uleb(&w, DW_FORM_string);
	uleb(&w, 1);
	cstr(&w, "a.c");
	finish(&w);
	expect_refused(&w, 0);

	/* version 5: an address size that is not the unit's */
	w.n = 0;
	header(&w, 5, 4);
	w.b[w.unit_len_at + 4 + 2] = 4;
	put(&w, 0, 1);
	uleb(&w, 0);
	put(&w, 0, 1);
	uleb(&w, 0);
	finish(&w);
	expect_refused(&w, 0);

	/* a unit longer than the section, every cut of a good header, and
	 * an offset past the end */
	w.n = 0;
	header(&w, 4, 4);
	cstr(&w, "/inc");
	cstr(&w, "");
	cstr(&w, "a.c"), uleb(&w, 1), uleb(&w, 0), uleb(&w, 0);
	cstr(&w, "");
	at = w.n;
	finish(&w);
	for (size_t cut = 0; cut < at; cut++) {
		struct buf c = w;

		c.n = cut;
		expect_refused(&c, 0);
	}
	expect_refused(&w, w.n);
	expect_refused(&w, w.n + 100);
	/* the reserved unit lengths */
	w.n = 0;
	put(&w, 0xfffffff0, 4);
	put(&w, 0, 32);
	expect_refused(&w, 0);
}

/* No .debug_line at all. */
static void test_no_section(void **state)
{
	struct line_sections s = { 0 };
	char **names;

	(void)state;
	assert_int_equal(line_files(&s, 0, 8, "/cu", &names), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v2_v3),
		cmocka_unit_test(test_second_unit),
		cmocka_unit_test(test_v5_gcc),
		cmocka_unit_test(test_v5_dwarf64),
		cmocka_unit_test(test_v5_forms),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
