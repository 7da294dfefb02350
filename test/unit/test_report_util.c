/* Helpers of the report unit tests: streams, the fixture, checkers. */
#include "test_report.h"

#include <stdlib.h>
#include <string.h>

FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

char *mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return m->buf;
}

int add(struct report *r, const char *file, int line, const char *name)
{
	int id = report_add_func(r, file, line, name);

	assert_true(id >= 0);
	return id;
}

static uint64_t clock_ns;

int call(struct report *r, int parent, int fn, int64_t delta, int64_t self,
	 int64_t peak)
{
	int path = report_path(r, parent, fn);
	struct report_call c = { delta, self, peak, clock_ns,
				 clock_ns + 1000000 };

	assert_true(path >= 0);
	clock_ns += 100000000;		/* each call 0.1 s after the last */
	report_record_call(r, path, &c);
	return path;
}

char *print_entries(const struct report_entry *e, size_t n,
		    const struct report_view *v)
{
	struct mem m;

	assert_int_equal(report_print(e, n, mem_open(&m), v), 0);
	return mem_close(&m);
}

char *print_view(const struct report *r, const struct report_view *v)
{
	struct report_entry e = { 0, NULL, r };

	return print_entries(&e, 1, v);
}

struct report *fixture(void)
{
	struct report *r = report_new();
	int main_fn, setup, alloc, run, free_all, hook;
	int m, s, u;

	assert_non_null(r);
	clock_ns = 0;
	main_fn = add(r, "/src/main.c", 10, "main");
	setup = add(r, "/src/setup.c", 20, "setup");
	alloc = add(r, "/src/buf.c", 5, "alloc");
	run = add(r, "/src/run.c", 7, "run");
	free_all = add(r, "/src/buf.c", 30, "free_all");
	hook = add(r, "/src/exit.c", 3, "atexit_hook");
	m = report_path(r, REPORT_ROOT, main_fn);
	s = report_path(r, m, setup);
	for (int i = 0; i < 3; i++)
		call(r, s, alloc, 3 * MIB, 3 * MIB, 3 * MIB + i * 4096);
	call(r, m, setup, 9 * MIB, 0, 9 * MIB);
	u = report_path(r, m, run);
	call(r, u, alloc, MIB, MIB, MIB);
	call(r, m, run, 3 * MIB, 2 * MIB, 4 * MIB);
	call(r, u, free_all, -2 * MIB, -2 * MIB, 0);
	call(r, m, run, -MIB, -MIB, MIB);
	call(r, REPORT_ROOT, main_fn, 12 * MIB, 0, 13 * MIB);
	call(r, REPORT_ROOT, hook, 4096, 4096, 4096);
	for (int i = 0; i < 10; i++)
		report_sample(r, (uint64_t)i * 100000000, (int64_t)i * MIB);
	return r;
}

/* ---- checkers ----------------------------------------------------------- */

/* Strict UTF-8, written apart from report/escape.c so as not to share its
 * mistakes. */
bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		int n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : *p >= 0xc0 ? 1 : -1;
		if (n < 0 || *p > 0xf4)
			return false;
		cp = *p & (0x3f >> n);
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < (n == 1 ? 0x80u : n == 2 ? 0x800u : 0x10000u) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;

	while ((s = strstr(s, sub))) {
		n++;
		s += strlen(sub);
	}
	return n;
}

/* Character data up to `stop`: references must be known, no control
 * characters, no '<'. */
static const char *xml_chars(const char *p, char stop)
{
	while (*p && *p != stop) {
		assert_true(*p != '<');
		assert_true((unsigned char)*p >= 0x20 || *p == '\n' ||
			    *p == '\t' || *p == '\r');
		if (*p == '&') {
			size_t n = strspn(p + 1, "#xabcdefghijklmnopqrstuvwyz"
					  "0123456789ABCDEF");

			assert_true(n > 0 && p[1 + n] == ';');
			if (p[1] != '#')
				assert_true(!strncmp(p, "&amp;", 5) ||
					    !strncmp(p, "&lt;", 4) ||
					    !strncmp(p, "&gt;", 4) ||
					    !strncmp(p, "&quot;", 6) ||
					    !strncmp(p, "&apos;", 6));
			p += n + 1;
		}
		p++;
	}
	return p;
}

static const char *xml_name(const char *p, size_t *len)
{
	*len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789-_:.");
	assert_true(*len > 0);
	return p + *len;
}

/* A start tag from its '<'; returns after its '>', *empty if "/>". */
static const char *xml_start_tag(const char *p, const char **name,
				 size_t *len, bool *empty)
{
	*name = p + 1;
	p = xml_name(p + 1, len);
	for (;;) {
		size_t n;
		char q;

		p += strspn(p, " \t\n");
		if (*p == '>' || (p[0] == '/' && p[1] == '>'))
			break;
		p = xml_name(p, &n);
		assert_true(*p == '=');
		q = *++p;
		assert_true(q == '"' || q == '\'');
		p = xml_chars(p + 1, q);
		assert_true(*p == q);
		p++;
	}
	*empty = *p == '/';
	return p + (*empty ? 2 : 1);
}

void assert_xml_ok(const char *s)
{
	const char *stack[64], *p = s;
	size_t lens[64], depth = 0, roots = 0;

	assert_true(utf8_ok(s));
	if (!strncmp(p, "<?xml", 5)) {
		p = strstr(p, "?>");
		assert_non_null(p);
		p += 2;
	}
	while (*p) {
		const char *name;
		size_t len;
		bool empty;

		if (*p != '<') {
			const char *q = xml_chars(p, '<');

			/* nothing but blanks outside the root */
			if (!depth)
				assert_int_equal(strspn(p, " \n\t\r"),
						 (size_t)(q - p));
			p = q;
			continue;
		}
		if (p[1] == '/') {
			p = xml_name(p + 2, &len);
			assert_true(depth > 0);
			depth--;
			assert_int_equal(len, lens[depth]);
			assert_memory_equal(stack[depth], p - len, len);
			assert_true(*p == '>');
			p++;
			continue;
		}
		assert_true(p[1] != '!' && p[1] != '?');
		roots += depth == 0;
		p = xml_start_tag(p, &name, &len, &empty);
		if (!empty) {
			assert_true(depth < 64);
			stack[depth] = name;
			lens[depth++] = len;
		}
	}
	assert_int_equal(depth, 0);
	assert_int_equal(roots, 1);
}

/* ---- JSON --------------------------------------------------------------- */

static bool json_value(const char **p);

static void json_ws(const char **p)
{
	*p += strspn(*p, " \t\n\r");
}

static bool json_str(const char **p)
{
	const char *s = *p;

	if (*s++ != '"')
		return false;
	while (*s != '"') {
		if ((unsigned char)*s < 0x20)
			return false;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				if (strspn(s + 1, "0123456789abcdefABCDEF") < 4)
					return false;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return false;
			}
		}
		s++;
	}
	*p = s + 1;
	return true;
}

static bool json_num(const char **p)
{
	const char *s = *p;

	s += *s == '-';
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		s += strspn(s, "0123456789");
	else
		return false;
	if (*s == '.') {
		if (!strspn(++s, "0123456789"))
			return false;
		s += strspn(s, "0123456789");
	}
	*p = s;
	return true;
}

/* An array or object; kind '[' or '{'. */
static bool json_list(const char **p, char kind)
{
	char close = kind == '[' ? ']' : '}';

	(*p)++;
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return true;
	}
	for (;;) {
		json_ws(p);
		if (kind == '{') {
			if (!json_str(p))
				return false;
			json_ws(p);
			if (*(*p)++ != ':')
				return false;
		}
		if (!json_value(p))
			return false;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return true;
		}
		if (*(*p)++ != ',')
			return false;
	}
}

static bool json_value(const char **p)
{
	json_ws(p);
	if (**p == '"')
		return json_str(p);
	if (**p == '[' || **p == '{')
		return json_list(p, **p);
	if (!strncmp(*p, "null", 4) || !strncmp(*p, "true", 4)) {
		*p += 4;
		return true;
	}
	if (!strncmp(*p, "false", 5)) {
		*p += 5;
		return true;
	}
	return json_num(p);
}

bool json_ok(const char *s)
{
	if (!utf8_ok(s) || !json_value(&s))
		return false;
	json_ws(&s);
	return !*s;
}
