/* budget: --budget=FILE, a memory ceiling per function.
 *
 *   # PATTERN          MB
 *   parse_*            2
 *   src/db.c:db_load   40
 *   *                  100
 *
 * The patterns are those of --funcs files, matched by symbols/select.c
 * (pure: libc and fnmatch only), one selection per line so that each line
 * keeps its own ceiling.  The first line that matches a function gives its
 * budget, so specific lines go before catch-alls.  A record keys a
 * function without line info by its module's path (line 0): only those
 * can match MODULE:GLOB. */
#include "report/internal.h"
#include "symbols/select.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct budget_line {
	struct selection *sel;
	double mb;
	int line;
	char *text;		/* the pattern, for messages */
	bool matched;
};

struct budget {
	char *path;
	struct budget_line *v;
	size_t n;
};

void budget_free(struct budget *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		selection_free(b->v[i].sel);
		free(b->v[i].text);
	}
	free(b->v);
	free(b->path);
	free(b);
}

static int __attribute__((format(printf, 3, 4)))
say(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "12", "0.5", "1e3": a non-negative number of megabytes. */
static int parse_mb(const char *s, double *mb)
{
	char *end;

	errno = 0;
	*mb = strtod(s, &end);
	return !*s || *end || errno || !isfinite(*mb) || *mb < 0 ? -1 : 0;
}

/* Cut the comment and the surrounding white space off; returns the text. */
static char *line_text(char *s)
{
	char *end;

	s[strcspn(s, "#")] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int add_line(struct budget *b, char *text, int lineno, char *err,
		    size_t errlen)
{
	char *pat = text, *mb_text = text + strcspn(text, " \t");
	struct budget_line *l, *v;

	if (!*mb_text)
		return say(err, errlen, "%s:%d: no budget after the pattern "
			   "(%s); a line is PATTERN MB", b->path, lineno, text);
	*mb_text++ = '\0';
	mb_text += strspn(mb_text, " \t");
	v = realloc(b->v, (b->n + 1) * sizeof(*v));
	if (!v)
		return say(err, errlen, "out of memory");
	b->v = v;
	l = &b->v[b->n];
	*l = (struct budget_line){ .line = lineno };
	if (strpbrk(mb_text, " \t") || parse_mb(mb_text, &l->mb) < 0)
		return say(err, errlen, "%s:%d: '%s' is not a number of "
			   "megabytes; a line is PATTERN MB", b->path, lineno,
			   mb_text);
	l->sel = selection_new();
	l->text = strdup(pat);
	if (!l->sel || !l->text) {
		selection_free(l->sel);
		free(l->text);
		return say(err, errlen, "out of memory");
	}
	b->n++;	/* from here budget_free frees it */
	return selection_add_entry(l->sel, pat, b->path, lineno, err, errlen);
}

static int read_lines(struct budget *b, FILE *in, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, ret = 0;

	while (ret == 0 && (len = getline(&buf, &cap, in)) >= 0) {
		char *text;

		lineno++;
		if (strlen(buf) != (size_t)len) {
			ret = say(err, errlen, "%s:%d: a NUL byte: not a budget "
				  "file", b->path, lineno);
			break;
		}
		text = line_text(buf);
		if (*text)
			ret = add_line(b, text, lineno, err, errlen);
	}
	if (ret == 0 && ferror(in))
		ret = say(err, errlen, "%s: %s", b->path, strerror(errno));
	free(buf);
	return ret;
}

struct budget *budget_load(const char *path, char *err, size_t errlen)
{
	struct budget *b = calloc(1, sizeof(*b));
	FILE *in;
	int ret;

	if (!b || !(b->path = strdup(path))) {
		free(b);
		say(err, errlen, "out of memory");
		return NULL;
	}
	in = fopen(path, "re");
	if (!in) {
		say(err, errlen, "%s: %s", path, strerror(errno));
		budget_free(b);
		return NULL;
	}
	ret = read_lines(b, in, err, errlen);
	fclose(in);
	if (ret < 0) {
		budget_free(b);
		return NULL;
	}
	return b;
}

/* The first line whose pattern matches the function, or NULL. */
static struct budget_line *budget_of(struct budget *b, const struct func *f)
{
	/* without line info the "file" is the module's path */
	const char *module = f->line ? NULL : f->file;
	const char *file = f->line ? f->file : NULL;

	for (size_t i = 0; i < b->n; i++)
		if (selection_match(b->v[i].sel, module, true, f->name, file)) {
			b->v[i].matched = true;
			return &b->v[i];
		}
	return NULL;
}

static long check_entry(struct budget *b, const struct report_entry *e,
			FILE *out)
{
	struct row *rows;
	size_t n;
	long count = 0;

	if (rows_select(e->rep, -1.0, 0, &rows, &n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct budget_line *l = budget_of(b, rows[i].f);
		double mb = rows[i].bytes / MB;

		if (!l || mb <= l->mb)
			continue;
		fprintf(out, "iprofmem: over budget: %s:%d:%s used %.4g MB, "
			"more than its budget of %g MB (%s:%d) by %.4g MB",
			rows[i].f->file, rows[i].f->line, rows[i].f->name, mb,
			l->mb, b->path, l->line, mb - l->mb);
		if (e->pid)
			fprintf(out, " (PID %d)", e->pid);
		fputc('\n', out);
		count++;
	}
	free(rows);
	return count;
}

long budget_check(struct budget *b, const struct report_entry *e, size_t n,
		  FILE *out)
{
	long count = 0;

	for (size_t i = 0; i < n; i++) {
		long c = check_entry(b, &e[i], out);

		if (c < 0)
			return -1;
		count += c;
	}
	/* a typo in a pattern would pass every function silently */
	for (size_t i = 0; i < b->n; i++)
		if (!b->v[i].matched)
			fprintf(out, "iprofmem: warning: %s:%d: '%s' applies to no "
				"function\n", b->path, b->v[i].line,
				b->v[i].text);
	return count;
}
