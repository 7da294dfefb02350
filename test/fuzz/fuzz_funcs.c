/* Fuzz target: funcs files and -e patterns (symbols/select.c).  The input
 * is read as a funcs file, and each of its lines is also given as an -e
 * pattern; whatever is accepted is then matched against a fixed set of
 * functions, C and C++, with and without line info, in the main executable
 * and in libraries, and the unmatched entries are listed. */
#include <stdlib.h>
#include <string.h>

#include "symbols/select.h"
#include "test/fuzz/fuzz.h"

struct func_key {
	const char *module;
	bool is_main;
	const char *name;
	const char *file;	/* NULL: no line info */
};

static const struct func_key keys[] = {
	{ "/usr/bin/prog", true, "main", "/src/prog/main.c" },
	{ "/usr/bin/prog", true, "parse_line", "/src/prog/lib/parse.c" },
	{ "/usr/bin/prog", true, "ns::Class::method", "/src/prog/x.cc" },
	{ "/usr/bin/prog", true, "operator new", "/src/prog/new.cpp" },
	{ "/usr/bin/prog", true, "asm_func", NULL },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", false, "malloc", NULL },
	{ "/usr/lib/x86_64-linux-gnu/libc.so.6", false, "__libc_malloc",
	  "./malloc/malloc.c" },
	{ "/opt/lib/libfoo.so.1", false, "foo::bar<int>", "/opt/src/foo.hh" },
	{ "[vdso]", false, "__vdso_clock_gettime", NULL },
	{ NULL, false, "anon", NULL },
};

static void note_unmatched(const char *origin, int line, const char *text,
			   bool pending, void *arg)
{
	size_t *n = arg;

	/* touch every string: a dangling one shows under ASan */
	*n += strlen(origin) + (size_t)line + strlen(text) + pending;
}

static void match_all(struct selection *s)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const struct func_key *k = &keys[i];

		if (selection_wants_module(s, k->module, k->is_main))
			selection_match(s, k->module, k->is_main, k->name,
					k->file);
		if (k->module)
			selection_module_loaded(s, k->module);
	}
	selection_pending(s);
	selection_unmatched(s, note_unmatched, &n);
	selection_report_unmatched(s, false, note_unmatched, &n);
	selection_report_unmatched(s, true, note_unmatched, &n);
	selection_is_default(s);
}

/* Each line of the input as an -e pattern. */
static void add_patterns(struct selection *s, const uint8_t *data,
			 size_t size)
{
	char *text = malloc(size + 1), *line, *next, err[512];

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		selection_add_entry(s, line, NULL, 0, err, sizeof(err));
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file(data, size);
	char err[512];

	for (int all = 0; all < 2; all++) {
		struct selection *s = selection_new();

		if (!s)
			abort();
		selection_set_all_modules(s, all);
		selection_add_file(s, path, err, sizeof(err));
		match_all(s);
		selection_free(s);

		s = selection_new();
		if (!s)
			abort();
		selection_set_all_modules(s, all);
		add_patterns(s, data, size);
		match_all(s);
		selection_free(s);
	}
	return 0;
}
