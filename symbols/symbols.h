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
	/* its instructions as the sweep for its returns decoded them (its
	 * ranges in order, each whole), and those kept whole; pack NULL when
	 * a range was not swept whole */
	struct insn_packed *pack;
	struct insn *pack_whole;
};

/* A probe site: where an int3 goes and what it means. */
struct sym_site {
	uint64_t addr;
	uint32_t func;		/* index into sym_table.funcs */
	bool is_entry;		/* entry of func, else one of its returns */
	uint32_t ranges_at;	/* func's address ranges: sym_table.ranges */
	uint32_t nranges;	/* [ranges_at, ranges_at + nranges) */
	struct insn insn;	/* the displaced instruction */
};

/* A selected function that cannot be traced, and why. */
struct sym_untraced {
	char *name, *file;
	int line;
	uint64_t entry;
	const char *why;	/* a static phrase */
};

/* An executable section of the module's file, at run-time addresses. */
struct code_section {
	uint64_t lo, hi;
	const uint8_t *bytes;
};

struct sym_table {
	char *module;		/* path of the main executable */
	uint64_t lo, hi;	/* its mapped extent */
	bool has_dwarf;		/* the module has DWARF (else: symbol table) */
	struct sym_func *funcs;
	size_t nfuncs;
	struct sym_site *sites;
	size_t nsites;
	struct addr_range *ranges;	/* of every function, see sym_site */
	size_t nranges;
	struct sym_untraced *untraced;
	size_t nuntraced;
	struct code_section *code;	/* the file's bytes, valid until the
					   session is closed */
	size_t ncode;
	uint64_t *starts;	/* every function's start, sorted */
	size_t nstarts;
	/* Where indirect jumps may land, for the probes' windows: the
	 * module's other allocated sections (jump tables), and the run-time
	 * addresses the dynamic linker writes (RELATIVE relocations'
	 * addends), sorted.  data_ok: both are complete. */
	struct code_section *data;
	size_t ndata;
	uint64_t *relative;
	size_t nrelative;
	bool data_ok;
};

/* The module's bytes at a (an allocated section that is not code), or
 * NULL; *avail: how many from there. */
const uint8_t *symbols_data_at(const struct sym_table *t, uint64_t a,
			       size_t *avail);

/* The modules (executable, shared objects) mapped in a stopped process. */
struct sym_module {
	char *path;
	uint64_t lo, hi;	/* mapped extent */
	bool is_main;		/* the executable */
	bool is_ldso;		/* the dynamic linker: never traced */
	bool is_special;	/* [vdso] and other objects without a file */
};

struct sym_session;
struct selection;

/* Read the modules of process pid from /proc/PID/maps.  NULL with a
 * message (the library's own words) in err, and errno ENOMEM when what
 * failed was an allocation. */
struct sym_session *symbols_open(pid_t pid, char *err, size_t errlen);
/* The same for one ELF file alone, at its link-time addresses, without a
 * process (its one module is the main executable): for tests and fuzzing
 * of the loader. */
struct sym_session *symbols_open_file(const char *path, char *err,
				      size_t errlen);
size_t symbols_nmodules(const struct sym_session *s);
const struct sym_module *symbols_module(const struct sym_session *s, size_t i);
void symbols_close(struct sym_session *s);

/* The functions of module i that `sel` selects, with their probe sites.
 * DWARF first (separate debug files are found by build-id or debuglink,
 * as libdwfl does); the ELF symbol table for an executable without DWARF,
 * or for functions that entries name and DWARF does not describe.
 * Returns 0, or -1 with a message in err. */
int symbols_load_module(struct sym_session *s, size_t i,
			struct selection *sel, struct sym_table *t, char *err,
			size_t errlen);
void symbols_free(struct sym_table *t);
/* The file's bytes at run-time address a (the code as built, never the
 * process's, which may hold breakpoints, and reading which would make its
 * pages resident), and how many follow in the section; NULL if none. */
const uint8_t *symbols_code_at(const struct sym_table *t, uint64_t a,
			       size_t *avail);
/* Where the next function (of any kind, selected or not) starts at or
 * after a, or its code section's end: the bytes before are padding. */
uint64_t symbols_next_start(const struct sym_table *t, uint64_t a);

/* Before launching: does the executable file at path have functions to
 * trace by default, from DWARF (its own or a separate debug file) or its
 * symbol table, or can it exec a program that has?  True also when path
 * cannot be read as ELF. */
bool symbols_file_has_functions(const char *path);

/* The GNU build ID of the ELF file at path, in lower-case hex, into out
 * (len bytes; 41 hold a SHA-1 ID).  Returns 0, or -1 with out empty: no
 * such note, or the file cannot be read. */
int symbols_build_id(const char *path, char *out, size_t len);

/* Was the executable at path linked with glibc's start files (its
 * NT_GNU_ABI_TAG note): are its threads' thread pointers glibc's thread
 * control blocks?  False also when path cannot be read as ELF. */
bool symbols_glibc_abi(const char *path);

/* The seccomp watch's slots: the entries for prctl and syscall in the
 * global offset tables of the modules (a jump slot or a GLOB_DAT import),
 * where a program's calls of the C library's functions that install a
 * seccomp filter go through. */
enum { SYM_WATCH_PRCTL = 0, SYM_WATCH_SYSCALL = 1 };
struct sym_got {
	uint64_t addr;		/* the entry, in the process */
	uint64_t file;		/* what the file holds there: the entry
				   before the dynamic linker relocated it */
	uint64_t lo, hi;	/* its module's extent */
	bool relative;		/* the module is not at its link address */
	uint8_t kind;		/* SYM_WATCH_* */
};
/* Every such entry in the modules of the session (*out, malloc'ed, to be
 * freed; returns how many, 0 on any error), and the addresses of the
 * functions themselves, real[SYM_WATCH_*] (0: not found), in the module
 * that defines __libc_start_main. */
size_t symbols_seccomp_gots(struct sym_session *s, struct sym_got **out,
			    uint64_t real[2]);

/* The dynamic linker's rendezvous: the address of _r_debug and the
 * decoded first instruction of the function it calls at every change of
 * the link map (_dl_debug_state).  Returns -1 when there is none (a static
 * executable) or it cannot be read. */
int symbols_rendezvous(struct sym_session *s, uint64_t *r_debug,
		       struct insn *brk);

#endif
