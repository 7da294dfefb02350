/* select: the entries of --funcs files and -e options, and matching them
 * against functions.
 *
 * An entry is PATTERN, MODULE:PATTERN or FILE:PATTERN; an exclusion (-x, or
 * a funcs file line "!ENTRY") is written the same way and removes what it
 * matches from what the other entries (or, without any, the default set)
 * select, as uftrace's -N does: tracing all but a few hot small functions
 * is the usual way to make a run affordable.  selection_match
 * runs for every function of every module the tracer loads (tens of
 * thousands), so each entry is split and classified once, when it is added;
 * globs without a glob character are compared with strcmp; and which
 * entries apply to a module is worked out once per module, not once per
 * function.  Links against nothing but libc, so its unit test stands alone:
 * allocation failures are reported, not fatal. */
#include "symbols/select.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest line of a funcs file: longer is not a list of functions. */
#define LINE_MAX_LEN	4096

/* Most entries in all: matching costs entries x functions x modules,
 * and every entry that matches nothing is a warning line.  A list this
 * long wants globs. */
#define MAX_ENTRIES	100000

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum qual_kind {
	QUAL_NONE,	/* PATTERN */
	QUAL_MODULE,	/* MODULE:PATTERN */
	QUAL_FILE,	/* FILE:PATTERN */
};

/* A glob, with what matching it needs to know. */
struct glob {
	const char *pat;
	bool literal;	/* no glob character: strcmp will do */
	bool path;	/* has a '/': matched against a path */
	bool absolute;	/* starts with '/': the whole path, not its end */
	int slashes;	/* how many '/' it holds */
};

struct entry {
	const char *text;	/* as written (trimmed), for messages */
	const char *origin;	/* the funcs file, or "-e" */
	int line;		/* 0 for -e */
	enum qual_kind kind;
	struct glob qual;	/* QUAL_MODULE, QUAL_FILE */
	struct glob pat;
	char *mem;		/* the one allocation all the strings live in */
	bool exclude;		/* -x, "!ENTRY": matching functions are left out */
	bool matched;
	bool reported;		/* passed by selection_report_unmatched */
	bool module_seen;	/* QUAL_MODULE: a loaded module matched qual */
	bool applies;		/* to selection's cur_module */
};

struct selection {
	struct entry *v;
	size_t n, cap;
	size_t nexclude;	/* how many of the entries are exclusions */
	bool all_modules;
	/* The module selection_match saw last, for which every e->applies is
	 * valid when cur_valid: functions come module by module. */
	char *cur_module;
	bool cur_is_main;
	bool cur_valid;
};

/* Extensions that make a qualifier a source file rather than a module.
 * Case matters: .C and .H are C++, .S is preprocessed assembler. */
static const char *const source_exts[] = {
	"c", "h", "i",
	"cc", "cp", "cpp", "cxx", "c++", "C", "CC", "CPP", "ii",
	"hh", "hpp", "hxx", "h++", "H", "HH", "ipp", "tpp", "tcc", "inl",
	"m", "mm", "M",
	"s", "S", "sx", "asm",
	"f", "F", "for", "FOR", "ftn", "f77", "F77", "f90", "F90",
	"f95", "F95", "f03", "F03", "f08", "F08",
	"rs", "go", "d", "di", "zig", "swift", "adb", "ads", "cu", "cuh",
	"y", "yy", "l", "ll",
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* ---- parsing ---------------------------------------------------------- */

static bool has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* Past the ']' that closes the bracket expression opened at p, or NULL. */
static const char *bracket_end(const char *p)
{
	p++;
	if (*p == '!' || *p == '^')
		p++;
	if (*p == ']')		/* first: a member, not the end */
		p++;
	while (*p && *p != ']') {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			const char close[3] = { p[1], ']', '\0' };
			const char *q = strstr(p + 2, close);

			if (!q)
				return NULL;
			p = q + 2;
		} else if (*p == '\\' && p[1]) {
			p += 2;
		} else {
			p++;
		}
	}
	return *p ? p + 1 : NULL;
}

/* The qualifier separator: the first ':' that is not part of a C++ "::"
 * nor inside a bracket expression ("[[:upper:]]*").  In a run of an odd
 * number of colons the first one separates ("lib.so:::f" is lib.so and
 * "::f"). */
static char *find_separator(const char *s)
{
	const char *p = s, *end;

	while (*p) {
		if (*p == '[' && (end = bracket_end(p))) {
			p = end;
		} else if (*p == '\\' && p[1]) {
			p += 2;
		} else if (*p == ':') {
			size_t run = strspn(p, ":");

			if (run % 2)
				return (char *)p;
			p += run;
		} else {
			p++;
		}
	}
	return NULL;
}

/* What is wrong with the glob, or NULL.  fnmatch reports no malformed
 * pattern: glibc takes an unclosed '[' literally, so "foo[" would silently
 * match nothing a user meant. */
static const char *glob_problem(const char *p)
{
	while (*p) {
		if (*p == '\\') {
			if (!p[1])
				return "a trailing '\\'";
			p += 2;
		} else if (*p == '[') {
			p = bracket_end(p);
			if (!p)
				return "an unbalanced '['";
		} else {
			p++;
		}
	}
	return NULL;
}

static void glob_init(struct glob *g, const char *pat)
{
	g->pat = pat;
	g->literal = !strpbrk(pat, "*?[\\");
	g->path = strchr(pat, '/') != NULL;
	g->absolute = pat[0] == '/';
	g->slashes = 0;
	for (const char *p = pat; *p; p++)
		g->slashes += *p == '/';
}

/* Is ext (possibly a bracket glob like "[ch]") a source extension?  '*' and
 * '?' do not count: "libc.so.?" is a module. */
static bool is_source_ext(const char *ext)
{
	bool bracket = strchr(ext, '[') && !strpbrk(ext, "*?");

	for (size_t i = 0; i < ARRAY_SIZE(source_exts); i++) {
		if (strcmp(ext, source_exts[i]) == 0)
			return true;
		if (bracket && fnmatch(ext, source_exts[i], 0) == 0)
			return true;
	}
	return false;
}

static enum qual_kind qualifier_kind(const char *qual)
{
	const char *dot = strrchr(base_name(qual), '.');

	return dot && is_source_ext(dot + 1) ? QUAL_FILE : QUAL_MODULE;
}

/* Split and check text into e (whose mem holds a copy to cut up).  Returns
 * NULL, or what is wrong, in what. */
static const char *entry_parse(struct entry *e, char *copy, char *what,
			       size_t whatlen)
{
	char *sep = find_separator(copy);
	const char *pat = copy, *problem;

	if (!*copy)
		return "empty pattern";
	if (has_space(copy))
		return "white space inside the pattern";
	e->kind = QUAL_NONE;
	if (sep) {
		if (sep == copy)
			return "nothing before ':' "
			       "(MODULE:PATTERN or FILE:PATTERN)";
		*sep = '\0';
		pat = sep + 1;
		if (!*pat)
			return "empty pattern";
		if (find_separator(pat))
			return "more than one ':' qualifier";
		e->kind = qualifier_kind(copy);
		problem = glob_problem(copy);
		if (problem) {
			snprintf(what, whatlen, "%s in the %s name", problem,
				 e->kind == QUAL_FILE ? "file" : "module");
			return what;
		}
		glob_init(&e->qual, copy);
	}
	problem = glob_problem(pat);
	if (problem) {
		snprintf(what, whatlen, "%s in the pattern", problem);
		return what;
	}
	glob_init(&e->pat, pat);
	return NULL;
}

/* "FILE:LINE: what (text)hint" or "-e 'text': whathint". */
static void entry_error(char *err, size_t errlen, const char *origin,
			int line, const char *text, const char *what,
			const char *hint)
{
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s (%s)%s", origin, line, what,
			 text, hint);
	else
		snprintf(err, errlen, "%s '%s': %s%s", origin, text, what,
			 hint);
}

/* Drop the entries from the n-th on: a file with an error adds none. */
static void truncate_entries(struct selection *s, size_t n)
{
	while (s->n > n) {
		s->nexclude -= s->v[s->n - 1].exclude;
		free(s->v[--s->n].mem);
	}
}

static int grow(struct selection *s)
{
	struct entry *v;
	size_t cap;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? 2 * s->cap : 16;
	v = reallocarray(s->v, cap, sizeof(*v));
	if (!v)
		return -1;
	s->v = v;
	s->cap = cap;
	return 0;
}

/* text as written, for messages; its pattern starts `skip` bytes in (past
 * the '!' of a funcs file's exclusion). */
static int add_entry(struct selection *s, const char *text, size_t skip,
		     bool exclude, const char *origin, int line, char *err,
		     size_t errlen)
{
	size_t tlen = strlen(text), olen;
	struct entry e = { .line = line, .exclude = exclude };
	char what[96];
	const char *problem;
	char *copy;

	if (s->n >= MAX_ENTRIES) {
		snprintf(what, sizeof(what), "more than %d entries",
			 MAX_ENTRIES);
		entry_error(err, errlen, origin, line, text, what,
			    "; select with globs instead");
		return -1;
	}
	olen = strlen(origin);
	/* text, the copy entry_parse cuts up, origin: one allocation. */
	e.mem = malloc(2 * (tlen + 1) + olen + 1);
	if (!e.mem || grow(s) < 0) {
		free(e.mem);
		entry_error(err, errlen, origin, line, text, "out of memory",
			    "");
		return -1;
	}
	e.text = memcpy(e.mem, text, tlen + 1);
	copy = memcpy(e.mem + tlen + 1, text, tlen + 1);
	e.origin = memcpy(copy + tlen + 1, origin, olen + 1);
	problem = entry_parse(&e, copy + skip, what, sizeof(what));
	if (problem) {
		entry_error(err, errlen, origin, line, text, problem,
			    "; an entry is NAME, GLOB, MODULE:GLOB or "
			    "FILE.c:GLOB");
		free(e.mem);
		return -1;
	}
	s->v[s->n++] = e;
	s->nexclude += exclude;
	s->cur_valid = false;
	return 0;
}

int selection_add_entry(struct selection *s, const char *text,
			const char *origin, int line, char *err, size_t errlen)
{
	return add_entry(s, text, 0, false, origin ? origin : "-e", line, err,
			 errlen);
}

int selection_add_exclusion(struct selection *s, const char *text,
			    const char *origin, int line, char *err,
			    size_t errlen)
{
	return add_entry(s, text, 0, true, origin ? origin : "-x", line, err,
			 errlen);
}

/* ---- funcs files -------------------------------------------------------- */

/* One line of a funcs file. */
struct line {
	char buf[LINE_MAX_LEN + 1];
	bool nul;	/* it held a NUL byte */
	bool too_long;	/* longer than LINE_MAX_LEN (the rest was dropped) */
};

/* Read the next line, without its '\n'.  Returns false at the end of the
 * file (or on a read error: see ferror).  Reads a too long line to its end
 * rather than failing at once, so a NUL byte further on is still seen. */
static bool read_line(FILE *f, struct line *l)
{
	size_t n = 0;
	bool any = false;
	int c;

	l->nul = l->too_long = false;
	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			l->nul = true;
		if (n < LINE_MAX_LEN)
			l->buf[n++] = (char)c;
		else
			l->too_long = true;
	}
	l->buf[n] = '\0';
	return any;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 :
		     (*s & 0xf0) == 0xe0 ? 3 : (*s & 0xf8) == 0xf0 ? 4 : 0;

	if (!len || len > n || (len == 2 && *s < 0xc2))
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* What makes a line binary rather than text: NULL if it is text (UTF-8,
 * no control character but tab and carriage return). */
static const char *binary_in(const struct line *l)
{
	const unsigned char *b = (const unsigned char *)l->buf;
	size_t n = strlen(l->buf), k;

	if (l->nul)
		return "a NUL byte";
	for (size_t i = 0; i < n; i += k) {
		if ((b[i] < 0x20 && b[i] != '\t' && b[i] != '\r') || b[i] == 0x7f)
			return "a control character";
		k = utf8_len(b + i, n - i);
		if (!k)
			return "bytes that are not UTF-8";
	}
	return NULL;
}

/* The entry on a line: comment dropped, white space trimmed ("" if none). */
static char *line_entry(char *buf)
{
	char *end = strchr(buf, '#');

	if (end)
		*end = '\0';
	else
		end = buf + strlen(buf);
	while (end > buf && isspace((unsigned char)end[-1]))
		*--end = '\0';
	while (isspace((unsigned char)*buf))
		buf++;
	return buf;
}

/* Add every entry of f.  Returns 0, or -1 with err set.  After a first
 * error, reading goes on only to look for a NUL byte: a binary file given
 * by mistake is best called that, not "line 1: white space inside...". */
static int add_lines(struct selection *s, FILE *f, const char *path,
		     struct line *l, char *err, size_t errlen)
{
	int lineno = 0, ret = 0;

	while (read_line(f, l)) {
		const char *binary = binary_in(l);
		char *text;

		lineno++;
		if (binary) {
			snprintf(err, errlen, "%s: not a text file (%s on line "
				 "%d); give a list of functions, one per line",
				 path, binary, lineno);
			return -1;
		}
		if (ret < 0)
			continue;
		if (l->too_long) {
			snprintf(err, errlen, "%s:%d: line too long "
				 "(more than %d characters); give one entry "
				 "per line", path, lineno, LINE_MAX_LEN);
			ret = -1;
			continue;
		}
		text = line_entry(l->buf);
		if (*text && add_entry(s, text, *text == '!', *text == '!',
				       path, lineno, err, errlen) < 0)
			ret = -1;
	}
	return ret;
}

static void file_error(char *err, size_t errlen, const char *path, int errnum)
{
	snprintf(err, errlen, "%s: %s; check the --funcs file", path,
		 strerror(errnum));
}

int selection_add_file(struct selection *s, const char *path, char *err,
		       size_t errlen)
{
	size_t old_n = s->n;
	struct line *l;
	int ret;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		file_error(err, errlen, path, errno);
		return -1;
	}
	l = malloc(sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		fclose(f);
		return -1;
	}
	errno = 0;
	ret = add_lines(s, f, path, l, err, errlen);
	/* A directory opens, and fails at the first read (EISDIR). */
	if (ferror(f)) {
		file_error(err, errlen, path, errno ? errno : EIO);
		ret = -1;
	}
	fclose(f);
	free(l);
	if (ret < 0)
		truncate_entries(s, old_n);
	return ret;
}

/* ---- matching ----------------------------------------------------------- */

static bool glob_match(const struct glob *g, const char *s, int flags)
{
	if (g->literal)
		return strcmp(g->pat, s) == 0;
	return fnmatch(g->pat, s, flags) == 0;
}

/* The last n components of path, or NULL if it has fewer. */
static const char *path_tail(const char *path, int n)
{
	const char *p = path + strlen(path);

	while (p > path) {
		if (*--p == '/' && --n == 0)
			return p + 1;
	}
	return n == 1 ? path : NULL;
}

/* A qualifier against a module or source file path: against its base name;
 * with a '/' in the qualifier, against the whole path when the qualifier
 * starts with '/', else against as many of the path's last components as
 * the qualifier has ("src/parse.c" matches "/x/src/parse.c").  '*' does not
 * match '/' in a path, as in the shell. */
static bool qual_match(const struct glob *g, const char *path,
		       const char *base)
{
	if (!g->path)
		return glob_match(g, base, 0);
	if (!g->absolute)
		path = path_tail(path, g->slashes + 1);
	return path && glob_match(g, path, FNM_PATHNAME);
}

static bool module_match(const struct glob *g, const char *module)
{
	return module && qual_match(g, module, base_name(module));
}

static bool entry_applies(const struct selection *s, const struct entry *e,
			  const char *module, bool is_main)
{
	if (e->kind == QUAL_MODULE)
		return module_match(&e->qual, module);
	return is_main || s->all_modules;
}

/* Work out e->applies for module, unless done already. */
static void set_module(struct selection *s, const char *module, bool is_main)
{
	if (s->cur_valid && s->cur_is_main == is_main &&
	    (module && s->cur_module ? strcmp(module, s->cur_module) == 0
				     : module == s->cur_module))
		return;
	for (size_t i = 0; i < s->n; i++)
		s->v[i].applies = entry_applies(s, &s->v[i], module, is_main);
	free(s->cur_module);
	s->cur_module = module ? strdup(module) : NULL;
	s->cur_is_main = is_main;
	/* Out of memory: still right, just worked out again next time. */
	s->cur_valid = !module || s->cur_module;
}

/* The default set: everything in the main executable (the tracer handles
 * an executable without DWARF itself); with --all-modules, the functions
 * with line info of the other modules, so that a libc without debug info
 * does not bring its whole symbol table. */
static bool default_match(const struct selection *s, bool is_main,
			  const char *file)
{
	return is_main || (s->all_modules && file);
}

/* Mark and count the entries of one kind (exclusions or not) that match
 * the function; set_module has run. */
static bool entries_match(struct selection *s, bool exclude, const char *name,
			  const char *file)
{
	const char *base = file ? base_name(file) : NULL;
	bool any = false;

	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = &s->v[i];

		if (e->exclude != exclude || !e->applies ||
		    !glob_match(&e->pat, name, 0))
			continue;
		if (e->kind == QUAL_FILE &&
		    (!file || !qual_match(&e->qual, file, base)))
			continue;
		e->matched = true;
		any = true;
	}
	return any;
}

bool selection_excludes(struct selection *s, const char *module, bool is_main,
			const char *name, const char *file)
{
	if (!s->nexclude)
		return false;
	set_module(s, module, is_main);
	return entries_match(s, true, name, file);
}

bool selection_match(struct selection *s, const char *module, bool is_main,
		     const char *name, const char *file)
{
	bool any;

	if (s->n == 0)
		return default_match(s, is_main, file);
	set_module(s, module, is_main);
	any = s->n == s->nexclude ? default_match(s, is_main, file)
				  : entries_match(s, false, name, file);
	/* An exclusion counts as matched only when it left a selected
	 * function out: one that removes nothing is worth a warning. */
	return any && !entries_match(s, true, name, file);
}

bool selection_wants_module(const struct selection *s, const char *module,
			    bool is_main)
{
	if (s->n == s->nexclude)
		return is_main || s->all_modules;
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].exclude &&
		    entry_applies(s, &s->v[i], module, is_main))
			return true;
	return false;
}

void selection_module_loaded(struct selection *s, const char *module)
{
	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = &s->v[i];

		if (e->kind == QUAL_MODULE && !e->module_seen &&
		    module_match(&e->qual, module))
			e->module_seen = true;
	}
}

/* A module-qualified entry whose module was never loaded. */
static bool module_missing(const struct entry *e)
{
	return e->kind == QUAL_MODULE && !e->module_seen;
}

size_t selection_unmatched(const struct selection *s,
			   void (*fn)(const char *origin, int line,
				      const char *text, bool pending,
				      void *arg),
			   void *arg)
{
	size_t count = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->v[i];

		if (e->matched)
			continue;
		count++;
		if (fn)
			fn(e->origin, e->line, e->text, module_missing(e), arg);
	}
	return count;
}

/* Could the entry still match, through an object not loaded yet? */
static bool may_match_later(const struct selection *s, const struct entry *e)
{
	return e->kind == QUAL_MODULE ? module_missing(e) : s->all_modules;
}

size_t selection_report_unmatched(struct selection *s, bool final,
				  void (*fn)(const char *origin, int line,
					     const char *text, bool pending,
					     void *arg),
				  void *arg)
{
	size_t count = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct entry *e = &s->v[i];

		if (e->matched || e->reported)
			continue;
		if (!final && may_match_later(s, e))
			continue;
		e->reported = true;
		count++;
		if (fn)
			fn(e->origin, e->line, e->text,
			   final && module_missing(e), arg);
	}
	return count;
}

size_t selection_pending(const struct selection *s)
{
	size_t count = 0;

	for (size_t i = 0; i < s->n; i++)
		count += !s->v[i].matched && !s->v[i].reported &&
			 may_match_later(s, &s->v[i]);
	return count;
}

/* ---- the rest ----------------------------------------------------------- */

struct selection *selection_new(void)
{
	return calloc(1, sizeof(struct selection));
}

void selection_free(struct selection *s)
{
	if (!s)
		return;
	truncate_entries(s, 0);
	free(s->v);
	free(s->cur_module);
	free(s);
}

void selection_set_all_modules(struct selection *s, bool all)
{
	s->all_modules = all;
	s->cur_valid = false;
}

bool selection_is_default(const struct selection *s)
{
	return s->n == s->nexclude;
}

bool selection_all_modules(const struct selection *s)
{
	return s->all_modules;
}
