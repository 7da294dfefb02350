/* Fuzz target: the symbol loader (symbols/symbols.c, symbols/disasm.c) on
 * an ELF file, through libdwfl as for a process's main executable: DWARF
 * functions (qualified names, decl file and line, address ranges), the ELF
 * symbol table, entry decoding and return sites found with capstone.  Each
 * input is loaded twice: with the default selection (DWARF, or the symbol
 * table without it) and with entries, which add the symbol-table pass over
 * DWARF's locations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/select.h"
#include "symbols/symbols.h"
#include "test/fuzz/fuzz.h"

static struct selection *with_entries(void)
{
	static const char *const pats[] = { "*", "main", "*.c:*", "ns::*" };
	struct selection *s = selection_new();
	char err[256];

	if (!s)
		abort();
	for (size_t i = 0; i < sizeof(pats) / sizeof(*pats); i++)
		if (selection_add_entry(s, pats[i], NULL, 0, err, sizeof(err)))
			abort();
	return s;
}

/* Read by check_table: the reads of every string are the point. */
static volatile size_t touched;

/* Use every site and name, so that a wrong length or index shows under
 * ASan. */
static void check_table(const struct sym_table *t)
{
	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *site = &t->sites[i];

		if (site->func >= t->nfuncs || site->insn.len > 15 ||
		    (site->is_entry && site->addr != t->funcs[site->func].entry)) {
			fprintf(stderr, "inconsistent site %zu\n", i);
			abort();
		}
	}
	for (size_t i = 0; i < t->nfuncs; i++)
		touched += strlen(t->funcs[i].name) + strlen(t->funcs[i].file);
}

static void load(struct sym_session *s, struct selection *sel)
{
	for (size_t i = 0; i < symbols_nmodules(s); i++) {
		struct sym_table t;
		char err[512];

		if (symbols_module(s, i)->is_special)
			continue;
		if (symbols_load_module(s, i, sel, &t, err, sizeof(err)) == 0) {
			check_table(&t);
			symbols_free(&t);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct selection *deflt = selection_new(), *entries = with_entries();
	struct sym_session *s;
	char err[512];

	if (!deflt)
		abort();
	s = symbols_open_file(fuzz_input_file(data, size), err, sizeof(err));
	if (s) {
		load(s, deflt);
		load(s, entries);
		symbols_close(s);
	}
	selection_free(deflt);
	selection_free(entries);
	return 0;
}
