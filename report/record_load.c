/* record_load: report_load, the reader of record files (format in
 * record.c).  Whatever the input, it returns the entries or fails with a
 * one-line message: a record file may be cut short by a full disk or a
 * killed run, or be any file given by mistake.  No allocation is sized by
 * a number read from the file: ids must come in order, so memory grows
 * with the input only. */
#include "report/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_VERSION	2	/* and 1: 2 without the program line */
#define MAGIC		"iprofmem-record "
#define MAX_FIELDS	10

struct loader {
	FILE *in;
	char *line;
	size_t cap;
	size_t lineno;
	bool complete;		/* the line ended in a newline */
	int version;		/* of the file: 1 or 2 */
	struct report_program *prog;	/* where the program line goes */
	struct report_entry *e;
	size_t n, e_cap;
	char *err;
	size_t errlen;
};

#define TRUNCATED "truncated record file (no end line): the recording did " \
		  "not finish; record again"

static int fail(struct loader *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	if (l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err, l->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int corrupt(struct loader *l, const char *what)
{
	return fail(l, "corrupt record file: line %zu: %s; record again",
		    l->lineno, what);
}

/* 1: a line (without its newline), 0: end of input, -1: failure. */
static int read_line(struct loader *l)
{
	ssize_t len;

	errno = 0;
	len = getline(&l->line, &l->cap, l->in);
	if (len < 0) {
		if (errno == ENOMEM)
			return fail(l, "out of memory");
		if (ferror(l->in))
			return fail(l, "read error: %s",
				    strerror(errno ? errno : EIO));
		return 0;
	}
	l->lineno++;
	l->complete = l->line[len - 1] == '\n';
	if (l->complete)
		l->line[--len] = '\0';
	/* getline keeps NUL bytes, which would silently cut a field */
	if (strlen(l->line) != (size_t)len)
		return corrupt(l, "NUL byte");
	return 1;
}

/* A line of the body: cut short is truncation, not corruption. */
static int body_line(struct loader *l)
{
	int r = read_line(l);

	if (r == 0 || (r > 0 && !l->complete))
		return fail(l, TRUNCATED);
	return r < 0 ? -1 : 0;
}

static int read_header(struct loader *l)
{
	const char *v;
	int r = read_line(l);

	if (r < 0 && !l->lineno)
		return -1;
	if (r == 0 || strncmp(l->line, MAGIC, strlen(MAGIC)))
		return fail(l, "not an iprofmem record file; give one that "
			    "--record wrote");
	if (r < 0)
		return -1;
	if (!l->complete)
		return fail(l, TRUNCATED);
	v = l->line + strlen(MAGIC);
	if (!strcmp(v, "1") || !strcmp(v, "2")) {
		l->version = v[0] - '0';
		return 0;
	}
	if (v[0] < '1' || v[0] > '9' || strspn(v, "0123456789") != strlen(v))
		return corrupt(l, "bad version");
	return fail(l, "version %.20s is newer than this iprofmem reads (%d); "
		    "read it with a newer iprofmem", v, RECORD_VERSION);
}

/* ---- fields ------------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool parse_i64(const char *s, int64_t *v)
{
	bool neg = *s == '-';
	uint64_t x;

	if (!parse_u64(s + neg, &x) || x > (uint64_t)INT64_MAX + neg)
		return false;
	*v = neg ? (int64_t)(~x + 1) : (int64_t)x;
	return true;
}

static bool parse_int(const char *s, int lo, int hi, int *v)
{
	int64_t x;

	if (!parse_i64(s, &x) || x < lo || x > hi)
		return false;
	*v = (int)x;
	return true;
}

/* Undo record_string in place. */
static bool unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '\\': *o++ = '\\'; break;
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		default: return false;
		}
	}
	*o = '\0';
	return true;
}

/* Split the line at tabs; returns the number of fields. */
static int split(char *line, char **f)
{
	int n = 0;

	for (;;) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (!line || n == MAX_FIELDS + 1)
			return n;
		*line++ = '\0';
	}
}

/* ---- items -------------------------------------------------------------- */

static struct report *current(struct loader *l)
{
	return l->n ? (struct report *)l->e[l->n - 1].rep : NULL;
}

static int item_process(struct loader *l, char **f)
{
	struct report_entry *e;
	int pid;

	if (!parse_int(f[1], 0, INT32_MAX, &pid))
		return corrupt(l, "bad pid");
	if (!unescape(f[2]))
		return corrupt(l, "bad escape in the command line");
	if (l->n == l->e_cap) {
		size_t cap = l->e_cap ? 2 * l->e_cap : 4;

		e = realloc(l->e, cap * sizeof(*e));
		if (!e)
			return fail(l, "out of memory");
		l->e = e;
		l->e_cap = cap;
	}
	e = &l->e[l->n];
	e->pid = pid;
	e->cmdline = strdup(f[2]);
	e->rep = report_new();
	if (e->cmdline && e->rep) {
		l->n++;
		return 0;
	}
	free((char *)e->cmdline);
	report_free((struct report *)e->rep);
	return fail(l, "out of memory");
}

static bool is_build_id(const char *s)
{
	size_t len = strlen(s);

	return len % 2 == 0 && strspn(s, "0123456789abcdef") == len;
}

/* "program" (format 2): once, before the first process. */
static int item_program(struct loader *l, char **f)
{
	if (l->n)
		return corrupt(l, "program line after a process line");
	if (l->prog->path || l->prog->build_id)
		return corrupt(l, "second program line");
	if (!unescape(f[1]) || !unescape(f[2]))
		return corrupt(l, "bad escape in the program line");
	if (!is_build_id(f[2]))
		return corrupt(l, "bad build ID");
	l->prog->path = strdup(f[1]);
	l->prog->build_id = strdup(f[2]);
	if (!l->prog->path || !l->prog->build_id)
		return fail(l, "out of memory");
	return 0;
}

static int item_func(struct loader *l, struct report *r, char **f)
{
	int id, line, got;

	if (!parse_int(f[1], 0, INT32_MAX, &id) || (size_t)id != r->nfuncs)
		return corrupt(l, "function id out of order");
	if (!parse_int(f[3], INT32_MIN, INT32_MAX, &line))
		return corrupt(l, "bad line number");
	if (!unescape(f[2]) || !unescape(f[4]))
		return corrupt(l, "bad escape");
	got = report_add_func(r, f[2], line, f[4]);
	if (got < 0)
		return fail(l, "out of memory");
	return got == id ? 0 : corrupt(l, "duplicate function");
}

static int item_node(struct loader *l, struct report *r, char **f)
{
	int id, parent, fn, got;
	uint64_t v[5];

	if (!parse_int(f[1], 0, INT32_MAX, &id) || (size_t)id != r->nnodes)
		return corrupt(l, "node id out of order");
	if (!parse_int(f[2], REPORT_ROOT, id - 1, &parent))
		return corrupt(l, "bad parent node");
	if (!parse_int(f[3], 0, INT32_MAX, &fn) || (size_t)fn >= r->nfuncs)
		return corrupt(l, "bad function id");
	for (int i = 0; i < 5; i++)
		if (!parse_u64(f[4 + i], &v[i]))
			return corrupt(l, "bad number");
	/* parent and fn are valid: -1 can only mean out of memory */
	got = report_path(r, parent, fn);
	if (got != id)
		return got < 0 ? fail(l, "out of memory") :
		       corrupt(l, "duplicate node");
	r->nodes[id].bytes = v[0];
	r->nodes[id].calls = v[1];
	r->nodes[id].total_calls = v[2];
	r->nodes[id].self_bytes = v[3];
	r->nodes[id].peak_bytes = v[4];
	return 0;
}

static int item_call(struct loader *l, struct report *r, char **f)
{
	struct kept_call k;
	int fn;

	if (!parse_int(f[1], 0, INT32_MAX, &fn) || (size_t)fn >= r->nfuncs)
		return corrupt(l, "bad function id");
	if (!parse_u64(f[2], &k.t_entry) || !parse_u64(f[3], &k.t_return) ||
	    k.t_entry > k.t_return)
		return corrupt(l, "bad call times");
	if (!parse_i64(f[4], &k.delta) || k.delta <= 0)
		return corrupt(l, "bad call delta");
	if (report_append_kept(r, fn, &k) < 0)
		return corrupt(l, "too many calls for one function");
	return 0;
}

static int item_sample(struct loader *l, struct report *r, char **f)
{
	uint64_t t;
	int64_t rss;

	if (!parse_u64(f[1], &t) || !parse_i64(f[2], &rss))
		return corrupt(l, "bad sample");
	if (r->nsamples == SAMPLES_MAX)
		return corrupt(l, "too many samples");
	if (report_append_sample(r, t, rss) < 0)
		return fail(l, "out of memory");
	return 0;
}

static int read_item(struct loader *l)
{
	char *f[MAX_FIELDS + 1];
	int n = split(l->line, f);
	struct report *r = current(l);

	if (!strcmp(f[0], "process"))
		return n == 3 ? item_process(l, f) : corrupt(l, "bad process line");
	if (!strcmp(f[0], "program") && l->version < 2)
		return corrupt(l, "unknown line type");
	if (!strcmp(f[0], "program"))
		return n == 3 ? item_program(l, f) : corrupt(l, "bad program line");
	if (!r)
		return corrupt(l, "no process line before this one");
	if (!strcmp(f[0], "func"))
		return n == 5 ? item_func(l, r, f) : corrupt(l, "bad func line");
	if (!strcmp(f[0], "node"))
		return n == 9 ? item_node(l, r, f) : corrupt(l, "bad node line");
	if (!strcmp(f[0], "call"))
		return n == 5 ? item_call(l, r, f) : corrupt(l, "bad call line");
	if (!strcmp(f[0], "sample"))
		return n == 3 ? item_sample(l, r, f) :
		       corrupt(l, "bad sample line");
	return corrupt(l, "unknown line type");
}

static int read_record(struct loader *l)
{
	int r;

	if (read_header(l) < 0)
		return -1;
	for (;;) {
		if (body_line(l) < 0)
			return -1;
		if (!strcmp(l->line, "end"))
			break;
		if (read_item(l) < 0)
			return -1;
	}
	r = read_line(l);
	if (r > 0)
		return corrupt(l, "data after the end line");
	return r;
}

struct report_entry *report_load(FILE *in, size_t *n,
				 struct report_program *prog, char *err,
				 size_t errlen)
{
	struct report_program ignored = { 0 };
	struct loader l = { .in = in, .err = err, .errlen = err ? errlen : 0,
			    .prog = prog ? prog : &ignored };

	*l.prog = (struct report_program){ 0 };
	if (l.errlen)
		err[0] = '\0';
	l.e = malloc(sizeof(*l.e));
	l.e_cap = 1;
	if (!l.e) {
		fail(&l, "out of memory");
		return NULL;
	}
	if (read_record(&l) < 0) {
		free(l.line);
		report_entries_free(l.e, l.n);
		report_program_free(l.prog);
		*n = 0;
		return NULL;
	}
	free(l.line);
	report_program_free(&ignored);
	*n = l.n;
	return l.e;
}

void report_program_free(struct report_program *prog)
{
	if (!prog)
		return;
	free((char *)prog->path);
	free((char *)prog->build_id);
	*prog = (struct report_program){ 0 };
}

void report_entries_free(struct report_entry *e, size_t n)
{
	if (!e)
		return;
	for (size_t i = 0; i < n; i++) {
		free((char *)e[i].cmdline);
		report_free((struct report *)e[i].rep);
	}
	free(e);
}
