/* Unit tests for symbols/select: parsing funcs files and -e entries, their
 * error messages, and matching (module, function, source file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbols/select.h"

#define EXE	"/home/u/app/bin/app"
#define LIBC	"/usr/lib/x86_64-linux-gnu/libc.so.6"
#define LIBSQL	"/usr/lib/x86_64-linux-gnu/libsqlite3.so.0"
#define LIBFOO	"/opt/foo/lib/libfoo.so"
#define SRC	"/x/y/src/parse.c"

static int setup(void **state)
{
	*state = selection_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	selection_free(*state);
	return 0;
}

static void add(struct selection *s, const char *text)
{
	char err[256] = "";
	int ret = selection_add_entry(s, text, "-e", 0, err, sizeof(err));

	if (ret != 0)
		fail_msg("-e '%s' rejected: %s", text, err);
}

/* What every message about a malformed entry ends with. */
#define ENTRY_HINT "; an entry is NAME, GLOB, MODULE:GLOB or FILE.c:GLOB"

/* -e text is rejected with exactly want and ENTRY_HINT, and adds nothing. */
static void assert_entry_error(const char *text, const char *want)
{
	struct selection *s = selection_new();
	char err[256] = "", expect[256];

	assert_non_null(s);
	assert_int_equal(selection_add_entry(s, text, "-e", 0, err,
					     sizeof(err)), -1);
	snprintf(expect, sizeof(expect), "%s%s", want, ENTRY_HINT);
	assert_string_equal(err, expect);
	assert_true(selection_is_default(s));
	selection_free(s);
}

/* A funcs file holding len bytes of content; the caller unlinks it. */
static char *write_file(const char *content, size_t len)
{
	char *path = strdup("/tmp/test_select.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static int add_file(struct selection *s, const char *content, size_t len,
		    char *err, size_t errlen, char **pathp)
{
	char *path = write_file(content, len);
	int ret = selection_add_file(s, path, err, errlen);

	unlink(path);
	*pathp = path;
	return ret;
}

/* The file is rejected with its path followed by want, and leaves the
 * selection as it was. */
static void assert_file_error_len(struct selection *s, const char *content,
				  size_t len, const char *want)
{
	char err[256] = "", expect[512];
	bool was_default = selection_is_default(s);
	char *path;

	assert_int_equal(add_file(s, content, len, err, sizeof(err), &path), -1);
	snprintf(expect, sizeof(expect), "%s%s", path, want);
	assert_string_equal(err, expect);
	assert_int_equal(selection_is_default(s), was_default);
	free(path);
}

static void assert_file_error(struct selection *s, const char *content,
			      const char *want)
{
	assert_file_error_len(s, content, strlen(content), want);
}

/* What selection_unmatched reports, one "origin:line:text:pending|nothing"
 * line per entry. */
struct unmatched {
	char buf[2048];
	size_t len;
};

static void collect(const char *origin, int line, const char *text,
		    bool pending, void *arg)
{
	struct unmatched *u = arg;

	u->len += snprintf(u->buf + u->len, sizeof(u->buf) - u->len,
			   "%s:%d:%s:%s\n", origin, line, text,
			   pending ? "pending" : "nothing");
}

static void assert_unmatched(struct selection *s, size_t count,
			     const char *want)
{
	struct unmatched u = { .len = 0 };

	u.buf[0] = '\0';
	assert_int_equal(selection_unmatched(s, collect, &u), count);
	assert_string_equal(u.buf, want);
}

static bool match_main(struct selection *s, const char *name)
{
	return selection_match(s, EXE, true, name, SRC);
}

/* ---- parsing ------------------------------------------------------------ */

static void test_file_comments_blanks(void **state)
{
	struct selection *s = *state;
	const char *text = "  # a comment\n"
			   "\n"
			   "malloc   # trailing comment\n"
			   "\t  free\t\r\n"
			   "   \n"
			   "#only\n"
			   "libc.so.6:calloc";	/* no final newline */
	char err[256] = "", want[1024];
	char *path;

	assert_int_equal(add_file(s, text, strlen(text), err, sizeof(err),
				  &path), 0);
	assert_false(selection_is_default(s));
	snprintf(want, sizeof(want),
		 "%s:3:malloc:nothing\n%s:4:free:nothing\n"
		 "%s:7:libc.so.6:calloc:pending\n", path, path, path);
	assert_unmatched(s, 3, want);
	free(path);
}

static void test_empty_file_is_default(void **state)
{
	struct selection *s = *state;
	char err[256] = "";
	char *path;

	assert_int_equal(add_file(s, "", 0, err, sizeof(err), &path), 0);
	free(path);
	assert_true(selection_is_default(s));
}

static void test_comment_only_file_is_default(void **state)
{
	struct selection *s = *state;
	const char *text = "# nothing here\n   # nor here\n\n\t\n";
	char err[256] = "";
	char *path;

	assert_int_equal(add_file(s, text, strlen(text), err, sizeof(err),
				  &path), 0);
	free(path);
	assert_true(selection_is_default(s));
	assert_true(match_main(s, "anything"));
}

static void test_cpp_scope_is_not_a_qualifier(void **state)
{
	struct selection *s = *state;

	add(s, "ns::Class::*");
	add(s, "ns::f");
	assert_true(match_main(s, "ns::Class::get"));
	assert_true(match_main(s, "ns::f"));
	assert_false(match_main(s, "ns::g"));
	/* Unqualified: the main executable only. */
	assert_false(selection_match(s, LIBFOO, false, "ns::f", NULL));
	assert_false(selection_wants_module(s, LIBFOO, false));
}

static void test_cpp_scope_after_module(void **state)
{
	struct selection *s = *state;

	add(s, "libfoo.so:ns::f");
	assert_true(selection_match(s, LIBFOO, false, "ns::f", NULL));
	assert_false(selection_match(s, LIBFOO, false, "f", NULL));
	assert_false(match_main(s, "ns::f"));
}

/* Three colons: the first separates, the pattern keeps the "::". */
static void test_odd_colon_run(void **state)
{
	struct selection *s = *state;

	add(s, "libfoo.so:::f");
	assert_true(selection_match(s, LIBFOO, false, "::f", NULL));
	assert_false(selection_match(s, LIBFOO, false, "f", NULL));
}

/* Is "QUAL:f" a FILE qualifier (rather than a MODULE one)?  path is a
 * path whose base name QUAL matches. */
static bool is_file_qualifier(const char *qual, const char *path)
{
	struct selection *s = selection_new();
	char entry[128];
	bool as_file, as_module;

	assert_non_null(s);
	snprintf(entry, sizeof(entry), "%s:f", qual);
	add(s, entry);
	/* A FILE entry never matches a function without line info. */
	as_file = selection_match(s, EXE, true, "f", path) &&
		  !selection_match(s, EXE, true, "f", NULL);
	as_module = selection_match(s, path, false, "f", NULL);
	assert_true(as_file != as_module);
	selection_free(s);
	return as_file;
}

static void test_module_or_file_qualifier(void **state)
{
	(void)state;
	assert_true(is_file_qualifier("parse.c", "/s/parse.c"));
	assert_true(is_file_qualifier("parse.h", "/s/parse.h"));
	assert_true(is_file_qualifier("engine.cc", "/s/engine.cc"));
	assert_true(is_file_qualifier("engine.cpp", "/s/engine.cpp"));
	assert_true(is_file_qualifier("engine.cxx", "/s/engine.cxx"));
	assert_true(is_file_qualifier("engine.c++", "/s/engine.c++"));
	assert_true(is_file_qualifier("Engine.C", "/s/Engine.C"));
	assert_true(is_file_qualifier("vec.hpp", "/s/vec.hpp"));
	assert_true(is_file_qualifier("start.S", "/s/start.S"));
	assert_true(is_file_qualifier("lib.rs", "/s/lib.rs"));
	assert_true(is_file_qualifier("main.go", "/s/main.go"));
	assert_true(is_file_qualifier("solve.f90", "/s/solve.f90"));
	assert_true(is_file_qualifier("*.c", "/s/any.c"));
	assert_true(is_file_qualifier("parse.[ch]", "/s/parse.h"));
	assert_true(is_file_qualifier("src/parse.c", "/s/src/parse.c"));
	assert_false(is_file_qualifier("libfoo.so", "/l/libfoo.so"));
	assert_false(is_file_qualifier("libc.so.6", "/l/libc.so.6"));
	assert_false(is_file_qualifier("libc.so.?", "/l/libc.so.6"));
	assert_false(is_file_qualifier("libsqlite3*", "/l/libsqlite3.so.0"));
	assert_false(is_file_qualifier("app", "/b/app"));
	assert_false(is_file_qualifier("*", "/l/libz.so.1"));
	assert_false(is_file_qualifier("lib.c/libfoo.so", "/p/lib.c/libfoo.so"));
}

static void test_entry_errors(void **state)
{
	(void)state;
	assert_entry_error("", "-e '': empty pattern");
	assert_entry_error("libc.so.6:", "-e 'libc.so.6:': empty pattern");
	assert_entry_error(":foo", "-e ':foo': nothing before ':' "
			   "(MODULE:PATTERN or FILE:PATTERN)");
	assert_entry_error("foo bar", "-e 'foo bar': white space inside the pattern");
	assert_entry_error(" foo", "-e ' foo': white space inside the pattern");
	assert_entry_error("f\to", "-e 'f\to': white space inside the pattern");
	assert_entry_error("libc.so.6: malloc",
			   "-e 'libc.so.6: malloc': white space inside the pattern");
	assert_entry_error("foo[", "-e 'foo[': an unbalanced '[' in the pattern");
	assert_entry_error("[[:alpha:]x",
			   "-e '[[:alpha:]x': an unbalanced '[' in the pattern");
	assert_entry_error("[[:alpha:x]",
			   "-e '[[:alpha:x]': an unbalanced '[' in the pattern");
	assert_entry_error("lib[c.so:f",
			   "-e 'lib[c.so:f': an unbalanced '[' in the module name");
	assert_entry_error("pa[rse.c:f",
			   "-e 'pa[rse.c:f': an unbalanced '[' in the file name");
	assert_entry_error("foo\\", "-e 'foo\\': a trailing '\\' in the pattern");
	assert_entry_error("libc.so.6:parse.c:f",
			   "-e 'libc.so.6:parse.c:f': more than one ':' qualifier");
}

static void test_valid_globs(void **state)
{
	struct selection *s = *state;

	add(s, "[[:upper:]]*");
	add(s, "[]]x");
	add(s, "[!a-z]y");
	add(s, "lit\\*");
	assert_true(match_main(s, "Foo"));
	assert_true(match_main(s, "]x"));
	assert_true(match_main(s, "_y"));
	assert_false(match_main(s, "ay"));
	assert_true(match_main(s, "lit*"));
	assert_false(match_main(s, "lit1"));
}

/* Messages name the origin and line given with the entry. */
static void test_entry_error_with_line(void **state)
{
	struct selection *s = *state;
	char err[256] = "";

	assert_int_equal(selection_add_entry(s, "x y", "cfg", 7, err,
					     sizeof(err)), -1);
	assert_string_equal(err, "cfg:7: white space inside the pattern (x y)"
			    ENTRY_HINT);
}

static void test_file_errors(void **state)
{
	struct selection *s = *state;

	assert_file_error(s, "malloc\nlibc.so.6:\n",
			  ":2: empty pattern (libc.so.6:)" ENTRY_HINT);
	assert_file_error(s, "# ok\n  :foo  # bad\n",
			  ":2: nothing before ':' (MODULE:PATTERN or "
			  "FILE:PATTERN) (:foo)" ENTRY_HINT);
	assert_file_error(s, "foo bar\n", ":1: white space inside the pattern "
			  "(foo bar)" ENTRY_HINT);
	assert_file_error(s, "a\nb\nfoo[\n", ":3: an unbalanced '[' in the "
			  "pattern (foo[)" ENTRY_HINT);
}

/* A file with an error adds none of its entries; earlier ones stay. */
static void test_file_error_adds_nothing(void **state)
{
	struct selection *s = *state;

	add(s, "keep");
	assert_file_error(s, "one\ntwo\nthree four\n",
			  ":3: white space inside the pattern (three four)"
			  ENTRY_HINT);
	assert_unmatched(s, 1, "-e:0:keep:nothing\n");
}

static void test_nul_byte(void **state)
{
	struct selection *s = *state;

	assert_file_error_len(s, "malloc\nfr\0ee\n", 13,
			      ": not a text file (a NUL byte on line 2); "
			      "give a list of functions, one per line");
	assert_file_error_len(s, "\177ELF\2\1\1\0\0", 9,
			      ": not a text file (a NUL byte on line 1); "
			      "give a list of functions, one per line");
	/* A NUL byte is the news even after a malformed line. */
	assert_file_error_len(s, "foo bar\nx\n\0", 11,
			      ": not a text file (a NUL byte on line 3); "
			      "give a list of functions, one per line");
	assert_true(selection_is_default(s));
}

/* Invalid UTF-8 and control characters make a binary file too; UTF-8
 * (in a comment, say) and CRLF line ends do not. */
static void test_not_utf8(void **state)
{
	struct selection *s = *state;
	char err[256] = "", *path;

	assert_file_error(s, "malloc\nfr\xff" "ee\n",
			  ": not a text file (bytes that are not UTF-8 on line 2); "
			  "give a list of functions, one per line");
	assert_file_error(s, "malloc\n\xc0\x80\n",
			  ": not a text file (bytes that are not UTF-8 on line 2); "
			  "give a list of functions, one per line");
	assert_file_error(s, "\x1b[0mmalloc\n",
			  ": not a text file (a control character on line 1); "
			  "give a list of functions, one per line");
	assert_true(selection_is_default(s));
	const char *text = "# caf\xc3\xa9\r\nmalloc\r\n";

	assert_int_equal(add_file(s, text, strlen(text), err, sizeof(err),
				  &path), 0);
	free(path);
	assert_false(selection_is_default(s));
}

/* More than 100000 entries: an error naming the entry that is one too
 * many. */
static void test_too_many_entries(void **state)
{
	struct selection *s = *state;
	char err[256] = "";

	for (int i = 0; i < 100000; i++)
		assert_int_equal(selection_add_entry(s, "f*", "-e", 0, err,
						     sizeof(err)), 0);
	assert_int_equal(selection_add_entry(s, "g", "-e", 0, err,
					     sizeof(err)), -1);
	assert_string_equal(err, "-e 'g': more than 100000 entries; select "
			    "with globs instead");
}

static void test_missing_file(void **state)
{
	struct selection *s = *state;
	char err[256] = "";

	assert_int_equal(selection_add_file(s, "/nonexistent/funcs", err,
					    sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/funcs: No such file or directory; "
			    "check the --funcs file");
}

static void test_directory(void **state)
{
	struct selection *s = *state;
	char err[256] = "";

	assert_int_equal(selection_add_file(s, "/tmp", err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: Is a directory; check the --funcs file");
}

static void test_long_line(void **state)
{
	struct selection *s = *state;
	char buf[4097 + 2];
	char err[256] = "";
	char *path;

	/* 4096 characters: the limit, accepted. */
	memset(buf, 'a', 4096);
	buf[4096] = '\n';
	assert_int_equal(add_file(s, buf, 4097, err, sizeof(err), &path), 0);
	free(path);
	assert_int_equal(selection_unmatched(s, NULL, NULL), 1);
	/* 4097: too long. */
	memset(buf, 'a', 4097);
	buf[4097] = '\n';
	assert_file_error_len(s, buf, 4098, ":1: line too long (more than "
			      "4096 characters); give one entry per line");
	assert_int_equal(selection_unmatched(s, NULL, NULL), 1);
}

/* ---- matching ----------------------------------------------------------- */

static void test_plain_name(void **state)
{
	struct selection *s = *state;

	add(s, "malloc");
	assert_true(match_main(s, "malloc"));
	assert_false(match_main(s, "xmalloc"));
	assert_false(match_main(s, "malloc2"));
	/* Without line info too. */
	assert_true(selection_match(s, EXE, true, "malloc", NULL));
}

static void test_globs(void **state)
{
	struct selection *s = *state;

	add(s, "lua*");
	add(s, "*_alloc");
	assert_true(match_main(s, "luaL_newstate"));
	assert_true(match_main(s, "lua_pushnil"));
	assert_true(match_main(s, "lua"));
	assert_false(match_main(s, "xlua"));
	assert_true(match_main(s, "l_alloc"));
	assert_true(match_main(s, "_alloc"));
	assert_false(match_main(s, "alloc"));
	assert_false(match_main(s, "l_alloc2"));
}

static void test_cpp_glob(void **state)
{
	struct selection *s = *state;

	add(s, "ns::*");
	assert_true(match_main(s, "ns::f"));
	assert_true(match_main(s, "ns::Class::method"));
	assert_false(match_main(s, "other::ns::f"));
	assert_false(match_main(s, "ns"));
}

static void test_module_glob(void **state)
{
	struct selection *s = *state;

	add(s, "libsqlite3*:sqlite3_*");
	assert_true(selection_match(s, LIBSQL, false, "sqlite3_open", NULL));
	assert_true(selection_match(s, LIBSQL, false, "sqlite3_exec", "/b/sqlite3.c"));
	assert_false(selection_match(s, LIBSQL, false, "open", NULL));
	assert_false(selection_match(s, LIBC, false, "sqlite3_open", NULL));
	/* The main executable is a module like another: its name decides. */
	assert_false(selection_match(s, EXE, true, "sqlite3_open", SRC));
}

static void test_module_name_against_path(void **state)
{
	struct selection *s = *state;

	add(s, "libc.so.6:malloc");
	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	assert_false(selection_match(s, LIBC, false, "free", NULL));
	assert_false(selection_match(s, "/usr/lib/libc.so.6.bak", false,
				     "malloc", NULL));
	assert_false(match_main(s, "malloc"));
}

static void test_module_qualifies_main(void **state)
{
	struct selection *s = *state;

	add(s, "app:main");
	assert_true(selection_match(s, EXE, true, "main", SRC));
	assert_true(selection_wants_module(s, EXE, true));
	assert_false(selection_wants_module(s, LIBC, false));
}

static void test_module_full_path(void **state)
{
	struct selection *s = *state;

	add(s, "/usr/lib/*/libc.so.6:malloc");
	add(s, "x86_64-linux-gnu/libc.so.6:free");
	add(s, "/usr/*/libc.so.6:calloc");	/* '*' stops at '/' */
	add(s, "/lib/libc.so.6:realloc");
	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	assert_true(selection_match(s, LIBC, false, "free", NULL));
	assert_false(selection_match(s, LIBC, false, "calloc", NULL));
	assert_false(selection_match(s, LIBC, false, "realloc", NULL));
	assert_false(selection_match(s, "/usr/lib/libc.so.6", false,
				     "malloc", NULL));
	assert_false(selection_match(s, "/opt/x86_64-linux-gnu-not/libc.so.6",
				     false, "free", NULL));
}

static void test_file_qualifier_basename(void **state)
{
	struct selection *s = *state;

	add(s, "parse.c:*");
	assert_true(selection_match(s, EXE, true, "parse_header", SRC));
	assert_false(selection_match(s, EXE, true, "parse_header",
				     "/x/y/src/parse.cc"));
	assert_false(selection_match(s, EXE, true, "parse_header",
				     "/x/y/src/xparse.c"));
	assert_false(selection_match(s, EXE, true, "parse_header", NULL));
}

static void test_file_qualifier_path(void **state)
{
	struct selection *s = *state;

	add(s, "src/parse.c:*");
	add(s, "y/*/lex.c:lex_*");
	add(s, "/x/y/src/eval.c:eval");
	add(s, "*.h:inline_*");
	assert_true(selection_match(s, EXE, true, "f", SRC));
	assert_false(selection_match(s, EXE, true, "f", "/x/y/lib/parse.c"));
	assert_false(selection_match(s, EXE, true, "f", "/x/y/mysrc/parse.c"));
	assert_false(selection_match(s, EXE, true, "f", "parse.c"));
	assert_true(selection_match(s, EXE, true, "f", "src/parse.c"));
	assert_true(selection_match(s, EXE, true, "lex_next", "/x/y/src/lex.c"));
	assert_false(selection_match(s, EXE, true, "lex_next", "/x/z/src/lex.c"));
	assert_false(selection_match(s, EXE, true, "lex_next", "/y/a/b/lex.c"));
	assert_true(selection_match(s, EXE, true, "eval", "/x/y/src/eval.c"));
	assert_false(selection_match(s, EXE, true, "eval", "/w/x/y/src/eval.c"));
	assert_true(selection_match(s, EXE, true, "inline_max", "/inc/util.h"));
	assert_false(selection_match(s, EXE, true, "inline_max", NULL));
}

static void test_main_only_vs_all_modules(void **state)
{
	struct selection *s = *state;

	add(s, "malloc");
	add(s, "parse.c:parse");
	assert_false(selection_match(s, LIBC, false, "malloc", NULL));
	assert_false(selection_match(s, LIBFOO, false, "parse", "/f/parse.c"));
	assert_false(selection_wants_module(s, LIBC, false));
	selection_set_all_modules(s, true);
	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	assert_true(selection_match(s, LIBFOO, false, "parse", "/f/parse.c"));
	assert_false(selection_match(s, LIBFOO, false, "parse", NULL));
	assert_true(selection_wants_module(s, LIBC, false));
	selection_set_all_modules(s, false);
	assert_false(selection_match(s, LIBC, false, "malloc", NULL));
}

static void test_default_set(void **state)
{
	struct selection *s = *state;

	assert_true(selection_is_default(s));
	assert_true(selection_match(s, EXE, true, "f", SRC));
	assert_true(selection_match(s, EXE, true, "f", NULL));
	assert_false(selection_match(s, LIBC, false, "malloc", "/g/malloc.c"));
	assert_false(selection_match(s, LIBC, false, "malloc", NULL));
	assert_true(selection_wants_module(s, EXE, true));
	assert_false(selection_wants_module(s, LIBC, false));

	selection_set_all_modules(s, true);
	assert_true(selection_match(s, EXE, true, "f", NULL));
	assert_true(selection_match(s, LIBC, false, "malloc", "/g/malloc.c"));
	assert_false(selection_match(s, LIBC, false, "malloc", NULL));
	assert_true(selection_wants_module(s, LIBC, false));
	assert_int_equal(selection_unmatched(s, NULL, NULL), 0);

	add(s, "only_this");
	assert_false(selection_is_default(s));
	assert_false(selection_match(s, EXE, true, "f", SRC));
}

static void test_wants_module(void **state)
{
	struct selection *s = *state;

	add(s, "libsqlite3*:sqlite3_*");
	assert_true(selection_wants_module(s, LIBSQL, false));
	assert_false(selection_wants_module(s, LIBC, false));
	assert_false(selection_wants_module(s, EXE, true));
	add(s, "parse.c:parse");
	assert_true(selection_wants_module(s, EXE, true));
	assert_false(selection_wants_module(s, LIBC, false));
	selection_set_all_modules(s, true);
	assert_true(selection_wants_module(s, LIBC, false));
}

static void test_marking_and_unmatched(void **state)
{
	struct selection *s = *state;

	add(s, "lua*");
	add(s, "luaL_*");
	add(s, "nothing");
	add(s, "libc.so.6:malloc");
	add(s, "libz.so.1:inflate");
	add(s, "libm.so.6:nope");
	assert_int_equal(selection_unmatched(s, NULL, NULL), 6);

	/* Every entry that matches is marked, not only the first. */
	assert_true(match_main(s, "luaL_newstate"));
	selection_module_loaded(s, EXE);
	selection_module_loaded(s, LIBC);
	selection_module_loaded(s, "/usr/lib/x86_64-linux-gnu/libm.so.6");
	assert_unmatched(s, 4,
			 "-e:0:nothing:nothing\n"
			 "-e:0:libc.so.6:malloc:nothing\n"
			 "-e:0:libz.so.1:inflate:pending\n"
			 "-e:0:libm.so.6:nope:nothing\n");

	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	selection_module_loaded(s, "/usr/lib/x86_64-linux-gnu/libz.so.1");
	assert_unmatched(s, 3,
			 "-e:0:nothing:nothing\n"
			 "-e:0:libz.so.1:inflate:nothing\n"
			 "-e:0:libm.so.6:nope:nothing\n");
}

/* Which entries apply is cached per module: switching modules, adding an
 * entry and --all-modules must each be seen. */
static void test_module_cache(void **state)
{
	struct selection *s = *state;

	add(s, "libc.so.6:malloc");
	add(s, "free");
	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	assert_false(selection_match(s, LIBC, false, "free", NULL));
	assert_true(selection_match(s, EXE, true, "free", SRC));
	assert_false(selection_match(s, EXE, true, "malloc", SRC));
	assert_true(selection_match(s, LIBC, false, "malloc", NULL));
	/* Same path, now said to be the main executable. */
	assert_true(selection_match(s, LIBC, true, "free", NULL));

	assert_false(selection_match(s, LIBSQL, false, "sqlite3_open", NULL));
	add(s, "libsqlite3.so.0:sqlite3_open");
	assert_true(selection_match(s, LIBSQL, false, "sqlite3_open", NULL));
	assert_false(selection_match(s, LIBSQL, false, "free", NULL));
	selection_set_all_modules(s, true);
	assert_true(selection_match(s, LIBSQL, false, "free", NULL));
}

/* Tens of thousands of functions against a real-sized list stay cheap. */
static void test_many_functions(void **state)
{
	struct selection *s = *state;
	char name[32];
	int hits = 0;

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "%s%d", i % 2 ? "fn_" : "*_x", i);
		add(s, name);
	}
	add(s, "libsqlite3*:sqlite3_*");
	for (int i = 0; i < 50000; i++) {
		snprintf(name, sizeof(name), "fn_%d", i);
		hits += selection_match(s, EXE, true, name, SRC);
		hits += selection_match(s, LIBSQL, false, name, NULL);
	}
	assert_int_equal(hits, 50);
}

/* ---- exclusions --------------------------------------------------------- */

static void exclude(struct selection *s, const char *text)
{
	char err[256] = "";
	int ret = selection_add_exclusion(s, text, NULL, 0, err, sizeof(err));

	if (ret != 0)
		fail_msg("-x '%s' rejected: %s", text, err);
}

/* Exclusions alone: the default set less what they match; they do not
 * make a module wanted. */
static void test_exclude_from_default(void **state)
{
	struct selection *s = *state;

	exclude(s, "hot_*");
	exclude(s, "libc.so.6:malloc");
	assert_true(selection_is_default(s));
	assert_true(match_main(s, "f"));
	assert_false(match_main(s, "hot_loop"));
	assert_false(selection_match(s, LIBC, false, "free", "/g/free.c"));
	assert_true(selection_wants_module(s, EXE, true));
	assert_false(selection_wants_module(s, LIBC, false));
	/* the symbol-table callers ask selection_excludes directly */
	assert_true(selection_excludes(s, EXE, true, "hot_2", NULL));
	assert_false(selection_excludes(s, EXE, true, "cold", NULL));
	selection_module_loaded(s, LIBC);
	assert_unmatched(s, 1, "-x:0:libc.so.6:malloc:nothing\n");
	selection_set_all_modules(s, true);
	assert_false(selection_match(s, LIBC, false, "malloc", "/g/malloc.c"));
	assert_true(selection_match(s, LIBC, false, "free", "/g/free.c"));
	assert_unmatched(s, 0, "");
}

/* With entries: what they select less what the exclusions match, in any
 * order; an exclusion that removes nothing the entries chose is
 * unmatched, and an entry whose matches were all excluded is not. */
static void test_exclude_from_entries(void **state)
{
	struct selection *s = *state;

	exclude(s, "parse.c:parse_hex");
	add(s, "parse_*");
	exclude(s, "lex_*");
	add(s, "gone");
	exclude(s, "gone");
	assert_false(selection_is_default(s));
	assert_true(match_main(s, "parse_int"));
	assert_false(match_main(s, "parse_hex"));
	assert_true(selection_match(s, EXE, true, "parse_hex", "/x/other.c"));
	assert_false(match_main(s, "lex_token"));
	assert_false(match_main(s, "gone"));
	assert_false(match_main(s, "main"));
	assert_unmatched(s, 1, "-x:0:lex_*:nothing\n");
}

static void test_exclude_in_file(void **state)
{
	struct selection *s = *state;
	const char text[] = "parse_*\n  !parse_hex  # not this one\n";
	char err[256] = "", *path;

	assert_int_equal(add_file(s, text, strlen(text), err, sizeof(err),
				  &path), 0);
	free(path);
	assert_true(match_main(s, "parse_int"));
	assert_false(match_main(s, "parse_hex"));
	assert_unmatched(s, 0, "");
	/* "!" then white space: the pattern is malformed */
	assert_file_error(s, "f\n!\tlex\n", ":2: white space inside the "
			  "pattern (!\tlex)" ENTRY_HINT);
	assert_file_error(s, "!\n", ":1: empty pattern (!)" ENTRY_HINT);
}

static void test_exclusion_errors(void **state)
{
	struct selection *s = *state;
	char err[256] = "";

	assert_int_equal(selection_add_exclusion(s, "", NULL, 0, err,
						 sizeof(err)), -1);
	assert_string_equal(err, "-x '': empty pattern" ENTRY_HINT);
	assert_int_equal(selection_add_exclusion(s, "a[", NULL, 0, err,
						 sizeof(err)), -1);
	assert_string_equal(err, "-x 'a[': an unbalanced '[' in the pattern"
			    ENTRY_HINT);
	assert_true(selection_is_default(s));
	assert_true(match_main(s, "a["));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_file_comments_blanks),
		T(test_empty_file_is_default),
		T(test_comment_only_file_is_default),
		T(test_cpp_scope_is_not_a_qualifier),
		T(test_cpp_scope_after_module),
		T(test_odd_colon_run),
		T(test_module_or_file_qualifier),
		T(test_entry_errors),
		T(test_valid_globs),
		T(test_entry_error_with_line),
		T(test_file_errors),
		T(test_file_error_adds_nothing),
		T(test_nul_byte),
		T(test_not_utf8),
		T(test_too_many_entries),
		T(test_missing_file),
		T(test_directory),
		T(test_long_line),
		T(test_plain_name),
		T(test_globs),
		T(test_cpp_glob),
		T(test_module_glob),
		T(test_module_name_against_path),
		T(test_module_qualifies_main),
		T(test_module_full_path),
		T(test_file_qualifier_basename),
		T(test_file_qualifier_path),
		T(test_main_only_vs_all_modules),
		T(test_default_set),
		T(test_wants_module),
		T(test_marking_and_unmatched),
		T(test_module_cache),
		T(test_many_functions),
		T(test_exclude_from_default),
		T(test_exclude_from_entries),
		T(test_exclude_in_file),
		T(test_exclusion_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
