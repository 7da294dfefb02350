/* symbols: which functions a process has, where their probe sites are.
 * Uses libdwfl/libdw/libelf and capstone internally; none of their types
 * leak out of this header.  All addresses are run-time addresses (load bias
 * applied). */
#ifndef IPROFMEM_SYMBOLS_H
#define IPROFMEM_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbols/disasm.h"

struct sym_func {
	char *name;		/* C++: qualified */
	char *file;		/* absolute declaring source file, or the module
				   path for symbol-table functions */
	int line;		/* declaration line; 0 without line info */
	uint64_t entry;
};

/* A probe site: where an int3 goes and what it means. */
struct sym_site {
	uint64_t addr;
	uint32_t func;		/* index into sym_table.funcs */
	bool is_entry;		/* entry of func, else one of its returns */
	struct insn insn;	/* the displaced instruction */
};

struct sym_table {
	char *module;		/* path of the main executable */
	uint64_t lo, hi;	/* its mapped extent */
	bool has_dwarf;		/* false: functions come from the symtab */
	struct sym_func *funcs;
	size_t nfuncs;
	struct sym_site *sites;
	size_t nsites;
};

/* Load the main executable of the stopped process `pid`.  Returns 0, or -1
 * with a message (library's own words) in err. */
int symbols_load_exe(pid_t pid, struct sym_table *t, char *err, size_t errlen);
void symbols_free(struct sym_table *t);

#endif
