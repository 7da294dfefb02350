/* Load a process's main executable with libdwfl: its functions from DWARF
 * (or the ELF symbol table when there is no DWARF), their address ranges,
 * and their probe sites (entry and every return) decoded with capstone from
 * the ELF file's bytes -- not from tracee memory, which may hold int3s. */
#include "symbols/symbols.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <elf.h>

#include "procfs.h"
#include "symbols/linefiles.h"
#include "symbols/select.h"
#include "util.h"


/* Open-addressing set of entry addresses, so that aliases (two DWARF
 * functions at one address) get a single entry breakpoint. */
struct addr_set {
	uint64_t *slots;
	size_t cap, n;
};

/* DIE offset -> qualified name, for functions declared inside namespaces
 * and classes (C++): an out-of-line definition refers to its declaration
 * (DW_AT_specification), whose enclosing scopes give the qualification. */
struct name_map {
	Dwarf_Off *offs;	/* 0: free slot (no DIE lives at offset 0) */
	char **names;
	size_t cap, n;
};

struct dwarf_loc {
	uint64_t entry;
	char *file;
	int line;
};

/* A function registered, its return sites still to find (scan_pending). */
struct pending {
	uint32_t id;
	uint32_t ranges_at, nranges;
	struct addr_range *rng;	/* its ranges, a copy the scan may read
				   while the walk grows the table's */
	struct insn entry;
	struct insn *rets;
	size_t nrets;
	struct insn_pack pk;	/* every instruction swept */
	bool whole;		/* every range was swept from end to end */
	bool oom;
};

/* The return sites are found beside the DWARF walk.  The pending
 * functions are kept in chunks that never move; each full chunk is handed
 * over (published) as the walk goes on.  Once a few are, a helper thread
 * (with a second CPU) starts decoding them, and the walking thread joins
 * in when the walk is over.  Which thread scans which chunk changes
 * nothing: each function's sites are its own, and they are added in the
 * functions' order at the end. */
#define PEND_CHUNK	256
#define HELPER_AFTER	4	/* chunks published before a helper starts:
				   a small program is decoded by one thread */

struct scan_pool {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct pending **chunks;
	size_t nchunks, cap_chunks;
	size_t published;	/* chunks [0, published) may be taken */
	size_t npublished;	/* functions in them */
	size_t next;		/* the next chunk to take */
	bool done;		/* the walk is over: nothing more comes */
	bool helper;		/* th runs */
	pthread_t th;
};

struct loader {
	struct sym_table *t;
	struct scan_pool pool;
	size_t npend;
	size_t cap_funcs, cap_sites, cap_ranges;
	struct code_section *secs;
	size_t nsecs;
	struct addr_set entries;
	struct name_map qnames;
	struct dwarf_loc *locs;	/* sorted by entry before the symtab pass */
	size_t nlocs;
	uint64_t *starts;	/* where every function or part starts */
	size_t nstarts, cap_starts;
	struct selection *sel;
	const struct sym_module *m;
	const char *comp_dir;
	/* the file names of the unit being walked (linefiles.h), for the
	 * decl_file attributes found in it; nfiles -1: libdw names them */
	struct Dwarf_CU *files_cu;
	char **files;
	long nfiles;
	/* the sections they are read from, of the Dwarf dbg_of */
	Dwarf *dbg_of;
	struct line_sections secs_of;
	char dwarf_error[128];	/* libdw's words when the DWARF is corrupt */
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static uint64_t hash_addr(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdULL;
	a ^= a >> 33;
	return a;
}

/* Insert a; returns false when it was already there.  0 is never an entry. */
static bool addr_set_add(struct addr_set *s, uint64_t a)
{
	if (2 * (s->n + 1) > s->cap) {
		struct addr_set big = { .cap = s->cap ? 2 * s->cap : 1024 };

		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i])
				addr_set_add(&big, s->slots[i]);
		free(s->slots);
		*s = big;
	}
	for (size_t i = hash_addr(a) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == a)
			return false;
		if (!s->slots[i]) {
			s->slots[i] = a;
			s->n++;
			return true;
		}
	}
}

/* The executable sections of the module's ELF file, at run-time addresses. */
static int collect_code_sections(struct loader *L, Elf *elf, GElf_Addr bias)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || !sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < sh.sh_size)
			continue;
		L->secs = xreallocarray(L->secs, L->nsecs + 1, sizeof(*L->secs));
		L->secs[L->nsecs++] = (struct code_section){
			.lo = sh.sh_addr + bias,
			.hi = sh.sh_addr + bias + sh.sh_size,
			.bytes = d->d_buf,
		};
	}
	return L->nsecs ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The module's allocated sections that are not code, and its RELATIVE
 * relocations (see struct sym_table).  data_ok stays false when they
 * cannot all be had (packed RELR relocations, unreadable sections). */
static void collect_data(struct sym_table *t, Elf *elf, GElf_Addr bias)
{
	Elf_Scn *scn = NULL;
	size_t cap = 0;

	t->data_ok = true;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh)) {
			t->data_ok = false;
			continue;
		}
		if (sh.sh_type == 19 /* SHT_RELR */) {
			t->data_ok = false;
			continue;
		}
		if (sh.sh_type == SHT_RELA && (sh.sh_flags & SHF_ALLOC)) {
			size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;

			d = elf_getdata(scn, NULL);
			if (!d) {
				t->data_ok = false;
				continue;
			}
			for (size_t k = 0; k < n; k++) {
				GElf_Rela r;

				if (!gelf_getrela(d, (int)k, &r) ||
				    GELF_R_TYPE(r.r_info) != R_X86_64_RELATIVE)
					continue;
				if (t->nrelative == cap) {
					cap = cap ? 2 * cap : 1024;
					t->relative = xreallocarray(t->relative, cap,
								    sizeof(*t->relative));
				}
				t->relative[t->nrelative++] = (uint64_t)r.r_addend + bias;
			}
			continue;
		}
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC) ||
		    (sh.sh_flags & SHF_EXECINSTR) || !sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < sh.sh_size) {
			t->data_ok = false;
			continue;
		}
		t->data = xreallocarray(t->data, t->ndata + 1, sizeof(*t->data));
		t->data[t->ndata++] = (struct code_section){
			.lo = sh.sh_addr + bias,
			.hi = sh.sh_addr + bias + sh.sh_size,
			.bytes = d->d_buf,
		};
	}
	if (t->nrelative)
		qsort(t->relative, t->nrelative, sizeof(*t->relative), cmp_u64);
}

static const uint8_t *sections_at(const struct code_section *secs, size_t n,
				  uint64_t a, size_t *avail)
{
	for (size_t i = 0; i < n; i++) {
		if (a >= secs[i].lo && a < secs[i].hi) {
			*avail = secs[i].hi - a;
			return secs[i].bytes + (a - secs[i].lo);
		}
	}
	return NULL;
}

/* Bytes at run-time address a, and how many follow within the section. */
static const uint8_t *code_at(const struct loader *L, uint64_t a, size_t *avail)
{
	return sections_at(L->secs, L->nsecs, a, avail);
}

const uint8_t *symbols_data_at(const struct sym_table *t, uint64_t a,
			       size_t *avail)
{
	return sections_at(t->data, t->ndata, a, avail);
}

const uint8_t *symbols_code_at(const struct sym_table *t, uint64_t a,
			       size_t *avail)
{
	return sections_at(t->code, t->ncode, a, avail);
}

static void add_start(struct loader *L, uint64_t a)
{
	if (L->nstarts == L->cap_starts) {
		L->cap_starts = L->cap_starts ? 2 * L->cap_starts : 1024;
		L->starts = xreallocarray(L->starts, L->cap_starts,
					  sizeof(*L->starts));
	}
	L->starts[L->nstarts++] = a;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every function's start, from the symbol table and DWARF, selected or
 * not, sorted: the bytes between a function's end and the next start are
 * padding that belongs to nobody. */
static void collect_starts(struct loader *L, Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod);
	size_t k = 0;

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   &shndx, NULL, NULL);

		if (name && GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
		    shndx != SHN_UNDEF)
			add_start(L, addr);
	}
	for (size_t i = 0; i < L->t->nranges; i++)
		add_start(L, L->t->ranges[i].lo);
	if (!L->nstarts)
		return;
	qsort(L->starts, L->nstarts, sizeof(*L->starts), u64_cmp);
	for (size_t i = 0; i < L->nstarts; i++)
		if (!k || L->starts[i] != L->starts[k - 1])
			L->starts[k++] = L->starts[i];
	L->t->starts = L->starts;
	L->t->nstarts = k;
	L->starts = NULL;
}

uint64_t symbols_next_start(const struct sym_table *t, uint64_t a)
{
	size_t lo = 0, hi = t->nstarts;
	uint64_t sec_end = 0, next;

	for (size_t i = 0; i < t->ncode; i++)
		if (a >= t->code[i].lo && a <= t->code[i].hi)
			sec_end = t->code[i].hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->starts[mid] < a)
			lo = mid + 1;
		else
			hi = mid;
	}
	next = lo < t->nstarts ? t->starts[lo] : sec_end;
	return next < sec_end ? next : sec_end;
}

static void add_site(struct loader *L, uint32_t func, bool is_entry,
		     const struct insn *in, uint32_t ranges_at, uint32_t nranges)
{
	struct sym_table *t = L->t;

	if (t->nsites == L->cap_sites) {
		L->cap_sites = L->cap_sites ? 2 * L->cap_sites : 1024;
		t->sites = xreallocarray(t->sites, L->cap_sites, sizeof(*t->sites));
	}
	t->sites[t->nsites++] = (struct sym_site){
		.addr = in->addr, .func = func, .is_entry = is_entry, .insn = *in,
		.ranges_at = ranges_at, .nranges = nranges,
	};
}

/* Keep a function's ranges for the tracer: an indirect jmp is a return
 * only when it leaves them.  Returns where they start. */
static uint32_t add_ranges(struct loader *L, const struct addr_range *r,
			   size_t nr)
{
	struct sym_table *t = L->t;
	uint32_t at = (uint32_t)t->nranges;

	while (t->nranges + nr > L->cap_ranges) {
		L->cap_ranges = L->cap_ranges ? 2 * L->cap_ranges : 1024;
		t->ranges = xreallocarray(t->ranges, L->cap_ranges,
					  sizeof(*t->ranges));
	}
	memcpy(t->ranges + t->nranges, r, nr * sizeof(*r));
	t->nranges += nr;
	return at;
}

/* A selected function that cannot be traced: listed, never dropped
 * silently. */
static void add_untraced(struct loader *L, const char *name, const char *file,
			 int line, uint64_t entry, const char *why)
{
	struct sym_table *t = L->t;

	t->untraced = xreallocarray(t->untraced, t->nuntraced + 1,
				    sizeof(*t->untraced));
	t->untraced[t->nuntraced++] = (struct sym_untraced){
		.name = xstrdup(name), .file = xstrdup(file), .line = line,
		.entry = entry, .why = why,
	};
}

static struct pending *pend_at(const struct loader *L, size_t k)
{
	return &L->pool.chunks[k / PEND_CHUNK][k % PEND_CHUNK];
}

static void scan_chunk(const struct loader *L, struct pending *c, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		struct pending *pf = &c[k];
		const struct addr_range *r = pf->rng;

		pf->whole = true;
		for (size_t i = 0; i < pf->nranges && !pf->oom; i++) {
			size_t avail;
			const uint8_t *code = code_at(L, r[i].lo, &avail);

			if (!code) {
				pf->whole = false;
				continue;
			}
			if (avail < r[i].hi - r[i].lo)
				pf->whole = false;
			else
				avail = r[i].hi - r[i].lo;
			if (find_return_sites(code, avail, r[i].lo, r,
					      pf->nranges, &pf->rets,
					      &pf->nrets, &pf->pk) < 0)
				pf->oom = true;
		}
		if (pf->whole)
			insn_pack_shrink(&pf->pk);
	}
}

/* Take the next published chunk and scan it; false when there is none
 * left (and none to come: until the walk is over, wait for one). */
static bool scan_next(struct loader *L)
{
	struct scan_pool *P = &L->pool;
	struct pending *c;
	size_t k, n;

	pthread_mutex_lock(&P->lock);
	while (P->next == P->published && !P->done)
		pthread_cond_wait(&P->more, &P->lock);
	if (P->next == P->published) {
		pthread_mutex_unlock(&P->lock);
		return false;
	}
	k = P->next++;
	c = P->chunks[k];
	n = P->npublished - k * PEND_CHUNK;
	pthread_mutex_unlock(&P->lock);
	scan_chunk(L, c, n < PEND_CHUNK ? n : PEND_CHUNK);
	return true;
}

static void *scan_thread(void *arg)
{
	while (scan_next(arg))
		;
	disasm_thread_done();
	return NULL;
}

/* Hand the chunks filled so far to the scan (all of them, the last one
 * partial, once `done`). */
static void pool_publish(struct loader *L, bool done)
{
	struct scan_pool *P = &L->pool;

	pthread_mutex_lock(&P->lock);
	P->published = done ? P->nchunks : L->npend / PEND_CHUNK;
	P->npublished = done ? L->npend : P->published * PEND_CHUNK;
	P->done = done;
	pthread_cond_broadcast(&P->more);
	pthread_mutex_unlock(&P->lock);
	/* it takes no signal: those are the tracer thread's */
	if (!P->helper && P->published >= HELPER_AFTER)
		P->helper = helper_thread_start(&P->th, scan_thread, L);
}

static void pend_add(struct loader *L, const struct pending *pf,
		     const struct addr_range *r)
{
	struct scan_pool *P = &L->pool;
	struct pending *to;

	if (L->npend == P->nchunks * PEND_CHUNK) {
		pthread_mutex_lock(&P->lock);
		if (P->nchunks == P->cap_chunks) {
			P->cap_chunks = P->cap_chunks ? 2 * P->cap_chunks : 64;
			P->chunks = xreallocarray(P->chunks, P->cap_chunks,
						  sizeof(*P->chunks));
		}
		P->chunks[P->nchunks++] = xcalloc(PEND_CHUNK, sizeof(**P->chunks));
		pthread_mutex_unlock(&P->lock);
	}
	to = pend_at(L, L->npend);
	*to = *pf;
	to->rng = xreallocarray(NULL, pf->nranges, sizeof(*r));
	memcpy(to->rng, r, pf->nranges * sizeof(*r));
	if (++L->npend % PEND_CHUNK == 0)
		pool_publish(L, false);
}

/* The walk is over (or given up): let the helper finish and join it. */
static void pool_finish(struct loader *L)
{
	struct scan_pool *P = &L->pool;

	pool_publish(L, true);
	while (scan_next(L))
		;
	if (P->helper)
		pthread_join(P->th, NULL);
	P->helper = false;
}

static void pool_free(struct loader *L)
{
	struct scan_pool *P = &L->pool;

	for (size_t k = 0; k < L->npend; k++) {
		free(pend_at(L, k)->rets);
		free(pend_at(L, k)->rng);
		insn_pack_free(&pend_at(L, k)->pk);
	}
	for (size_t k = 0; k < P->nchunks; k++)
		free(P->chunks[k]);
	free(P->chunks);
	P->chunks = NULL;
	P->nchunks = P->cap_chunks = 0;
	P->published = P->npublished = P->next = 0;
	P->done = false;
	L->npend = 0;
}

/* Register one function given its ranges: decode its entry; its returns
 * are found later, with every other function's (scan_pending).  A
 * function whose entry instruction cannot be replayed is left out (and
 * listed with the reason), never traced halfway. */
static void add_func(struct loader *L, const char *name, const char *file,
		     int line, uint64_t entry, const struct addr_range *r,
		     size_t nr)
{
	struct sym_table *t = L->t;
	struct insn in;
	size_t avail;
	const uint8_t *code = code_at(L, entry, &avail);
	uint32_t id = t->nfuncs;

	if (!code) {
		if (addr_set_add(&L->entries, entry))
			add_untraced(L, name, file, line, entry,
				     "no code in the file at its entry");
		return;
	}
	if (insn_decode(code, avail, entry, &in) != 0 ||
	    in.op == INSN_UNSUPPORTED) {
		if (addr_set_add(&L->entries, entry))
			add_untraced(L, name, file, line, entry,
				     "its first instruction cannot be replayed");
		return;
	}
	if (!addr_set_add(&L->entries, entry))
		return;
	if (t->nfuncs == L->cap_funcs) {
		L->cap_funcs = L->cap_funcs ? 2 * L->cap_funcs : 256;
		t->funcs = xreallocarray(t->funcs, L->cap_funcs, sizeof(*t->funcs));
	}
	t->funcs[t->nfuncs++] = (struct sym_func){
		.name = xstrdup(name), .file = xstrdup(file), .line = line,
		.entry = entry,
	};
	pend_add(L, &(struct pending){
		.id = id, .ranges_at = add_ranges(L, r, nr),
		.nranges = (uint32_t)nr, .entry = in,
	}, r);
}

/* Find every pending function's return sites (what the helper has not
 * done yet, with it), then add the sites in the functions' order: each
 * entry, then its returns. */
static void scan_pending(struct loader *L)
{
	struct sym_table *t = L->t;

	pool_finish(L);
	for (size_t k = 0; k < L->npend; k++) {
		struct pending *pf = pend_at(L, k);

		if (pf->oom)
			out_of_memory();
		/* the sweep goes to the function, for the probes' plans */
		if (pf->whole) {
			t->funcs[pf->id].pack = pf->pk.v;
			t->funcs[pf->id].pack_whole = pf->pk.whole;
			pf->pk = (struct insn_pack){ 0 };
		}
		add_site(L, pf->id, true, &pf->entry, pf->ranges_at,
			 pf->nranges);
		for (size_t i = 0; i < pf->nrets; i++)
			add_site(L, pf->id, false, &pf->rets[i], pf->ranges_at,
				 pf->nranges);
	}
	pool_free(L);
}

/* Drop "." segments, empty segments and "dir/.." pairs, in place: DWARF
 * joins directories and names as the compiler saw them
 * ("/src/./lib/../x.c"). */
static void normalize_path(char *path)
{
	bool abs = path[0] == '/';
	char *out = path, *seg = path;
	size_t kept = 0;	/* segments written, that ".." may remove */

	while (*seg) {
		char *end = seg + strcspn(seg, "/");
		size_t len = (size_t)(end - seg);
		bool last = !*end;

		bool dotdot = len == 2 && seg[0] == '.' && seg[1] == '.';

		if ((len == 1 && seg[0] == '.') || len == 0 ||
		    (dotdot && abs && !kept)) {
			/* nothing ("/.." is "/") */
		} else if (dotdot && kept) {
			out = memrchr(path, '/', (size_t)(out - path)) ?: path;
			kept--;
		} else {
			if (out != path || abs)
				*out++ = '/';
			memmove(out, seg, len);
			out += len;
			if (!dotdot)
				kept++;
		}
		seg = last ? end : end + 1;
	}
	if (abs && out == path)
		*out++ = '/';
	*out = '\0';
}

/* The declaring file as the key shows it: the path the line table records
 * for it (its directory entry joined to its name by libdw; entry 0 is the
 * compilation directory), joined to the CU's compilation directory when
 * that is absolute and the path is not.  Builds that record a relative one
 * (Debian's -fdebug-prefix-map=$PWD=.: libc's "./malloc", python3.11d's
 * "./build-debug") keep the relative path, which nothing could make
 * absolute: "malloc/malloc.c", "../Programs/python.c". */
static char *decl_file_path(const char *file, const char *comp_dir)
{
	char *out;

	if (file[0] == '/' || !comp_dir || comp_dir[0] != '/')
		out = xstrdup(file);
	else if (asprintf(&out, "%s/%s", comp_dir, file) < 0) {
		out_of_memory();
	}
	normalize_path(out);
	return out;
}

static size_t name_slot(const struct name_map *m, Dwarf_Off off)
{
	size_t i = hash_addr(off) & (m->cap - 1);

	while (m->offs[i] && m->offs[i] != off)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void name_map_put(struct name_map *m, Dwarf_Off off, char *name)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		struct name_map big = { .cap = m->cap ? 2 * m->cap : 256 };

		big.offs = xcalloc(big.cap, sizeof(*big.offs));
		big.names = xcalloc(big.cap, sizeof(*big.names));
		for (size_t j = 0; j < m->cap; j++)
			if (m->offs[j])
				name_map_put(&big, m->offs[j], m->names[j]);
		free(m->offs);
		free(m->names);
		*m = big;
	}
	i = name_slot(m, off);
	if (m->offs[i]) {
		free(name);
		return;
	}
	m->offs[i] = off;
	m->names[i] = name;
	m->n++;
}

static const char *name_map_get(const struct name_map *m, Dwarf_Off off)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = name_slot(m, off);
	return m->offs[i] ? m->names[i] : NULL;
}

static void name_map_free(struct name_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->names[i]);
	free(m->offs);
	free(m->names);
}

static char *join(const char *prefix, const char *name, const char *suffix)
{
	char *out;

	if (asprintf(&out, "%s%s%s", prefix, name, suffix) < 0) {
		out_of_memory();
	}
	return out;
}

/* libdw tells the end of a list (1) from a DIE it cannot read (-1): the
 * latter means corrupt DWARF, whose functions further on are lost. */
static void note_corrupt(struct loader *L, const char *why)
{
	if (!L->dwarf_error[0])
		snprintf(L->dwarf_error, sizeof(L->dwarf_error), "%s", why);
}

static bool dwarf_ok(struct loader *L, int r)
{
	if (r < 0)
		note_corrupt(L, dwarf_errmsg(-1));
	return r == 0;
}

static bool first_child(struct loader *L, Dwarf_Die *scope, Dwarf_Die *child)
{
	return dwarf_ok(L, dwarf_child(scope, child));
}

static bool next_sibling(struct loader *L, Dwarf_Die *die)
{
	return dwarf_ok(L, dwarf_siblingof(die, die));
}

static bool is_scope_tag(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

/* First pass: the qualified name of every subprogram declared or defined
 * inside a named scope. */
static void collect_qualified(struct loader *L, Dwarf_Die *scope,
			      const char *prefix)
{
	Dwarf_Die child;

	if (!first_child(L, scope, &child))
		return;
	do {
		int tag = dwarf_tag(&child);
		const char *name = dwarf_diename(&child);

		if (tag == DW_TAG_subprogram && name && *prefix) {
			name_map_put(&L->qnames, dwarf_dieoffset(&child),
				     join(prefix, name, ""));
		} else if (is_scope_tag(tag)) {
			char *inner = join(prefix, name ? name :
					   tag == DW_TAG_namespace ?
					   "(anonymous namespace)" : "(anonymous)",
					   "::");

			collect_qualified(L, &child, inner);
			free(inner);
		}
	} while (next_sibling(L, &child));
}

/* A function's name, qualified with its namespaces and classes: its own
 * scope, or that of the declaration it specifies (or of the abstract
 * instance it is a copy of). */
static const char *qualified_name(struct loader *L, Dwarf_Die *die)
{
	Dwarf_Die cur = *die, next;
	Dwarf_Attribute a;
	const char *q;

	for (int hops = 0; hops < 4; hops++) {
		q = name_map_get(&L->qnames, dwarf_dieoffset(&cur));
		if (q)
			return q;
		if (!dwarf_formref_die(dwarf_attr(&cur, DW_AT_specification, &a),
				       &next) &&
		    !dwarf_formref_die(dwarf_attr(&cur, DW_AT_abstract_origin, &a),
				       &next))
			break;
		cur = next;
	}
	return dwarf_diename(die);
}

/* Where a function starts: DW_AT_entry_pc or DW_AT_low_pc, else (code in
 * several ranges, like a .cold part) the start of its first range. */
static bool die_entry(Dwarf_Die *die, Dwarf_Addr bias, uint64_t *entry)
{
	Dwarf_Addr a, base, lo, hi;

	if (dwarf_entrypc(die, &a) == 0) {
		*entry = a + bias;
		return true;
	}
	if (dwarf_ranges(die, 0, &base, &lo, &hi) > 0) {
		*entry = lo + bias;
		return true;
	}
	return false;
}

/* Every DWARF function's position, by entry address, for the symbol-table
 * names of the same code (libc's malloc is DWARF's __libc_malloc). */
static void remember_location(struct loader *L, uint64_t entry,
			      const char *file, int line)
{
	L->locs = xreallocarray(L->locs, L->nlocs + 1, sizeof(*L->locs));
	L->locs[L->nlocs++] = (struct dwarf_loc){
		.entry = entry, .file = xstrdup(file), .line = line,
	};
}

/* A section of dbg's ELF file by name, as libdw reads it (a compressed
 * one is left to libdw). */
static void dwarf_section(Dwarf *dbg, const char *name, const uint8_t **data,
			  size_t *len)
{
	Elf *elf = dwarf_getelf(dbg);
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	size_t shstrndx;

	*data = NULL;
	*len = 0;
	/* a relocatable object's sections need relocating first */
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_type == ET_REL ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		const char *n;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    !(n = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(n, name) != 0)
			continue;
		if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED))
			return;
		d = elf_getdata(scn, NULL);
		if (d && d->d_buf && d->d_size) {
			*data = d->d_buf;
			*len = d->d_size;
		}
		return;
	}
}

/* The file names of the unit cu, from its line table's header: the
 * decl_file attributes of its functions name them (elfutils 0.188's
 * dwarf_decl_file would decode the unit's whole line program for that,
 * 27 MB on python3.11d). */
static void unit_files(struct loader *L, Dwarf_Die *cu)
{
	Dwarf *dbg = dwarf_cu_getdwarf(cu->cu);
	Dwarf_Attribute a;
	Dwarf_Word off;
	uint8_t asize;
	Dwarf_Die cudie;

	line_files_free(L->files, L->nfiles);
	L->files = NULL;
	L->nfiles = -1;
	L->files_cu = cu->cu;
	if (!dbg)
		return;
	if (dbg != L->dbg_of) {
		L->dbg_of = dbg;
		dwarf_section(dbg, ".debug_line", &L->secs_of.line,
			      &L->secs_of.line_len);
		dwarf_section(dbg, ".debug_line_str", &L->secs_of.line_str,
			      &L->secs_of.line_str_len);
		dwarf_section(dbg, ".debug_str", &L->secs_of.str,
			      &L->secs_of.str_len);
	}
	if (!L->secs_of.line ||
	    dwarf_formudata(dwarf_attr(cu, DW_AT_stmt_list, &a), &off) != 0 ||
	    !dwarf_diecu(cu, &cudie, &asize, NULL))
		return;
	L->nfiles = line_files(&L->secs_of, off, asize, L->comp_dir,
			       &L->files);
}

static void unit_files_done(struct loader *L)
{
	line_files_free(L->files, L->nfiles);
	L->files = NULL;
	L->nfiles = -1;
	L->files_cu = NULL;
}

/* dwarf_decl_file, from the unit's names where they have it. */
static const char *decl_file(struct loader *L, Dwarf_Die *die)
{
	Dwarf_Attribute a;
	Dwarf_Word idx;

	if (L->nfiles >= 0 &&
	    dwarf_attr_integrate(die, DW_AT_decl_file, &a) &&
	    a.cu == L->files_cu && dwarf_formudata(&a, &idx) == 0 &&
	    idx < (Dwarf_Word)L->nfiles)
		return L->files[idx];
	return dwarf_decl_file(die);
}

/* A function's line where its DIE has no DW_AT_decl_line (Go's
 * compiler before 1.21 gives none): the line of its entry in the unit's
 * line table, the one its code starts at.  0 when none says. */
static int entry_line(Dwarf_Die *die, Dwarf_Addr entry)
{
	Dwarf_Die cu;
	Dwarf_Line *l;
	int line = 0;

	if (!dwarf_diecu(die, &cu, NULL, NULL) ||
	    !(l = dwarf_getsrc_die(&cu, entry)) ||
	    dwarf_lineno(l, &line) != 0 || line < 0)
		return 0;
	return line;
}

static void add_dwarf_func(struct loader *L, Dwarf_Die *die, Dwarf_Addr bias)
{
	struct addr_range *r = NULL;
	size_t nr = 0;
	Dwarf_Addr base, lo, hi;
	uint64_t entry;
	ptrdiff_t off = 0;
	const char *name, *decl;
	char *file;
	int line = 0;

	if (dwarf_hasattr(die, DW_AT_declaration))
		return;
	name = qualified_name(L, die);
	decl = decl_file(L, die);
	if (!name || !decl || !die_entry(die, bias, &entry))
		return;
	file = decl_file_path(decl, L->comp_dir);
	if (dwarf_decl_line(die, &line) != 0 || line <= 0)
		line = entry_line(die, entry - bias);
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0)
		if (hi > lo)
			add_start(L, lo + bias);
	off = 0;
	if (!selection_is_default(L->sel))
		remember_location(L, entry, file, line);
	if (!selection_match(L->sel, L->m->path, L->m->is_main, name, file)) {
		free(file);
		return;
	}
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		if (hi <= lo)
			continue;
		r = xreallocarray(r, nr + 1, sizeof(*r));
		r[nr++] = (struct addr_range){ lo + bias, hi + bias };
	}
	if (nr)
		add_func(L, name, file, line, entry, r, nr);
	free(file);
	free(r);
}

/* Functions are children of the CU, or of namespaces and classes (C++).
 * Nested scopes inside a subprogram hold only inlined copies and local
 * declarations: not walked. */
static void walk_scope(struct loader *L, Dwarf_Die *scope, Dwarf_Addr bias)
{
	Dwarf_Die child;

	if (!first_child(L, scope, &child))
		return;
	do {
		switch (dwarf_tag(&child)) {
		case DW_TAG_subprogram:
			add_dwarf_func(L, &child, bias);
			break;
		default:
			if (is_scope_tag(dwarf_tag(&child)))
				walk_scope(L, &child, bias);
			break;
		}
	} while (next_sibling(L, &child));
}

/* The next CU; NULL at the end, or at a unit header libdw cannot read
 * (which is noted as corrupt DWARF). */
static Dwarf_Die *next_cu(struct loader *L, Dwfl_Module *mod, Dwarf_Die *cu,
			  Dwarf_Addr *bias)
{
	int err;

	dwfl_errno();	/* clear: NULL says "end" and "error" alike */
	cu = dwfl_module_nextcu(mod, cu, bias);
	err = dwfl_errno();
	if (!cu && err)
		note_corrupt(L, dwfl_errmsg(err));
	return cu;
}

/* C has no scope a function can be declared in but the file: the first
 * pass would walk every struct of the unit for nothing. */
static bool is_c_unit(Dwarf_Die *cu)
{
	switch (dwarf_srclang(cu)) {
	case DW_LANG_C89:
	case DW_LANG_C:
	case DW_LANG_C99:
	case DW_LANG_C11:
		return true;
	}
	return false;
}

static void load_dwarf_funcs(struct loader *L, Dwfl_Module *mod)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;

	while ((cu = next_cu(L, mod, cu, &bias)))
		if (!is_c_unit(cu))
			collect_qualified(L, cu, "");
	cu = NULL;
	while ((cu = next_cu(L, mod, cu, &bias))) {
		Dwarf_Attribute a;

		L->comp_dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &a));
		unit_files(L, cu);
		walk_scope(L, cu, bias);
	}
	unit_files_done(L);
	L->comp_dir = NULL;
}

/* Once per module: with -f, every child running the same image would
 * say it again. */
static void warn_corrupt_dwarf(const char *module, const char *why)
{
	static char **warned;
	static size_t nwarned;

	for (size_t i = 0; i < nwarned; i++)
		if (strcmp(warned[i], module) == 0)
			return;
	warned = xreallocarray(warned, nwarned + 1, sizeof(*warned));
	warned[nwarned++] = xstrdup(module);
	warn_msg("%s: corrupt DWARF debug info (%s): the functions it does "
		 "not describe are traced from the symbol table; rebuild it "
		 "with -g", module, why);
}

static int loc_cmp(const void *a, const void *b)
{
	const struct dwarf_loc *x = a, *y = b;

	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

static const struct dwarf_loc *find_location(const struct loader *L,
					     uint64_t entry)
{
	struct dwarf_loc key = { .entry = entry };

	return L->nlocs ? bsearch(&key, L->locs, L->nlocs, sizeof(*L->locs),
				  loc_cmp) : NULL;
}

/* libstdc++'s demangler, with a C interface (the Itanium C++ ABI's). */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
			    int *status);

/* Where the parameter list that ends s begins, or NULL. */
static char *parameter_list(char *s)
{
	char *close = strrchr(s, ')');
	int depth = 0;

	if (!close)
		return NULL;
	for (char *c = close; c >= s; c--) {
		depth += *c == ')';
		depth -= *c == '(';
		if (!depth)
			return c;
	}
	return NULL;
}

/* A C++ symbol as the table shows C++ functions: its qualified name,
 * without parameters or (template functions) return type:
 * "_ZN2ns5twiceIiEET_S1_" -> "int ns::twice<int>(int)" -> "ns::twice<int>".
 * NULL when sym is not a mangled name. */
static char *demangle(const char *sym)
{
	char *d, *params, *start;
	int status = -1, depth = 0;

	if (strncmp(sym, "_Z", 2) != 0)
		return NULL;
	d = __cxa_demangle(sym, NULL, NULL, &status);
	if (!d || status != 0) {
		free(d);
		return NULL;
	}
	params = parameter_list(d);
	if (params && params != d)
		*params = '\0';
	start = d;
	if (!strstr(d, "operator"))
		for (char *c = d; *c; c++) {
			depth += *c == '<' || *c == '(';
			depth -= *c == '>' || *c == ')';
			if (*c == ' ' && !depth)
				start = c + 1;
		}
	memmove(d, start, strlen(start) + 1);
	return d;
}

/* A symbol that names a function defined in the module, with a size. */
static bool is_code_symbol(const char *name, const GElf_Sym *sym,
			   GElf_Word shndx)
{
	return name && *name && GELF_ST_TYPE(sym->st_info) == STT_FUNC &&
	       sym->st_size && shndx != SHN_UNDEF;
}

/* Symbol-table functions: named by their symbol, placed by the DWARF
 * function at the same address when there is one. */
/* gcc splits the unlikely paths of a function into a symbol of their own,
 * NAME.cold (or NAME.cold.N), reached by jumps from NAME and returning for
 * it.  They are ranges of NAME, not functions: a jump there is no call. */
struct cold_part {
	char *parent;
	struct addr_range r;
	bool adopted;		/* the parent is in the symbol table */
};

static size_t cold_parent_len(const char *name)
{
	const char *c = strstr(name, ".cold");

	if (!c || c == name || (c[5] && (c[5] != '.' || !c[6])))
		return 0;
	for (const char *d = c + 6; c[5] && *d; d++)
		if (*d < '0' || *d > '9')
			return 0;
	return (size_t)(c - name);
}

static size_t collect_cold_parts(Dwfl_Module *mod, int n,
				 struct cold_part **out)
{
	size_t ncold = 0;

	*out = NULL;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   &shndx, NULL, NULL);
		size_t len;

		if (!is_code_symbol(name, &sym, shndx) ||
		    !(len = cold_parent_len(name)))
			continue;
		*out = xreallocarray(*out, ncold + 1, sizeof(**out));
		(*out)[ncold] = (struct cold_part){
			.parent = xstrdup(name),
			.r = { addr, addr + sym.st_size },
		};
		(*out)[ncold++].parent[len] = '\0';
	}
	/* a part whose parent is not there stays a function of its own */
	for (int i = 1; ncold && i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   &shndx, NULL, NULL);

		if (!is_code_symbol(name, &sym, shndx) || cold_parent_len(name))
			continue;
		for (size_t k = 0; k < ncold; k++)
			if (strcmp((*out)[k].parent, name) == 0)
				(*out)[k].adopted = true;
	}
	return ncold;
}

static bool cold_adopted(const struct cold_part *cold, size_t ncold,
			 uint64_t addr)
{
	for (size_t k = 0; k < ncold; k++)
		if (cold[k].r.lo == addr)
			return cold[k].adopted;
	return false;
}

static void load_symtab_funcs(struct loader *L, Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod);
	struct cold_part *cold = NULL;
	size_t ncold = n > 0 ? collect_cold_parts(mod, n, &cold) : 0;
	struct addr_range *r = xcalloc(ncold + 1, sizeof(*r));

	if (L->nlocs)
		qsort(L->locs, L->nlocs, sizeof(*L->locs), loc_cmp);
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   &shndx, NULL, NULL);
		const struct dwarf_loc *loc;
		size_t nr = 1;
		char *plain;

		if (!is_code_symbol(name, &sym, shndx) ||
		    (ncold && cold_parent_len(name) && cold_adopted(cold, ncold, addr)))
			continue;
		r[0] = (struct addr_range){ addr, addr + sym.st_size };
		for (size_t k = 0; k < ncold; k++)
			if (cold[k].adopted && strcmp(cold[k].parent, name) == 0)
				r[nr++] = cold[k].r;
		loc = find_location(L, addr);
		plain = demangle(name);
		if (plain)
			name = plain;
		if (selection_is_default(L->sel) ?
		    !selection_excludes(L->sel, L->m->path, L->m->is_main,
					name, loc ? loc->file : NULL) :
		    selection_match(L->sel, L->m->path, L->m->is_main, name,
				    loc ? loc->file : NULL))
			add_func(L, name, loc ? loc->file : L->t->module,
				 loc ? loc->line : 0, addr, r, nr);
		free(plain);
	}
	for (size_t k = 0; k < ncold; k++)
		free(cold[k].parent);
	free(cold);
	free(r);
}

/* ---- sessions: the modules of a process ---------------------------- */

struct sym_session {
	pid_t pid;
	Dwfl *dwfl;
	struct sym_module *mods;
	Dwfl_Module **dmods;
	size_t n;
	dev_t exe_dev;
	ino_t exe_ino;
	uint64_t ldso_base;	/* AT_BASE: where the dynamic linker is */
};

static uint64_t auxv_base(pid_t pid)
{
	char path[64];
	uint64_t buf[128];	/* some 30 pairs on x86-64 */
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0 ? procfs_auxv_value(buf, (size_t)n, AT_BASE) : 0;
}

static bool is_elf_file(const char *path)
{
	char magic[SELFMAG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool elf;

	if (fd < 0)
		return true;	/* deleted or unreadable: let libdwfl judge */
	elf = read(fd, magic, SELFMAG) == SELFMAG &&
	      memcmp(magic, ELFMAG, SELFMAG) == 0;
	close(fd);
	return elf;
}

static int collect_module(Dwfl_Module *mod, void **ud, const char *name,
			  Dwarf_Addr start, void *arg)
{
	struct sym_session *s = arg;
	struct sym_module *m;
	Dwarf_Addr lo, hi;
	struct stat st;

	(void)ud;
	(void)start;
	dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL);
	s->mods = xreallocarray(s->mods, s->n + 1, sizeof(*s->mods));
	s->dmods = xreallocarray(s->dmods, s->n + 1, sizeof(*s->dmods));
	m = &s->mods[s->n];
	memset(m, 0, sizeof(*m));
	m->path = xstrdup(name ? name : "?");
	m->lo = lo;
	m->hi = hi;
	/* [vdso], and mapped files that are no ELF object (ld.so.cache,
	 * locale-archive, a memfd: the probe engine's ring) */
	m->is_special = !name || name[0] != '/' ||
			strncmp(name, "/memfd:", 7) == 0 || !is_elf_file(name);
	m->is_main = !m->is_special && stat(name, &st) == 0 &&
		     st.st_dev == s->exe_dev && st.st_ino == s->exe_ino;
	m->is_ldso = !m->is_main && s->ldso_base && lo == s->ldso_base;
	s->dmods[s->n++] = mod;
	return DWARF_CB_OK;
}

/* A session whose main executable is the file exe (its identity is what
 * collect_module compares), with a libdwfl handle and no module yet. */
static struct sym_session *session_new(const char *exe,
				       const Dwfl_Callbacks *callbacks,
				       char *err, size_t errlen)
{
	struct sym_session *s = xcalloc(1, sizeof(*s));
	struct stat st;

	if (stat(exe, &st) != 0) {
		snprintf(err, errlen, "%s: %s", exe, strerror(errno));
		free(s);
		return NULL;
	}
	s->exe_dev = st.st_dev;
	s->exe_ino = st.st_ino;
	errno = 0;
	s->dwfl = dwfl_begin(callbacks);
	if (!s->dwfl) {
		int e = errno;

		snprintf(err, errlen, "libdwfl: %s", dwfl_errmsg(-1));
		free(s);
		errno = e == ENOMEM ? ENOMEM : EIO;
		return NULL;
	}
	return s;
}

struct sym_session *symbols_open(pid_t pid, char *err, size_t errlen)
{
	struct sym_session *s;
	char exe[64];
	int r;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	s = session_new(exe, &proc_callbacks, err, errlen);
	if (!s)
		return NULL;
	s->pid = pid;
	s->ldso_base = auxv_base(pid);
	/* the report gives an errno value of its own (its maps reading
	 * out of memory), or -1 for a libdwfl error, after which errno
	 * says whether an allocation failed inside (which libdwfl does not
	 * always record) */
	errno = 0;
	r = dwfl_linux_proc_report(s->dwfl, pid);
	if (r == 0 && dwfl_report_end(s->dwfl, NULL, NULL) != 0)
		r = -1;
	if (r != 0) {
		int e = r > 0 ? r : errno;

		snprintf(err, errlen, "reading the modules of %d: %s", (int)pid,
			 r > 0 || e == ENOMEM ? strerror(e) : dwfl_errmsg(-1));
		symbols_close(s);
		errno = e == ENOMEM ? ENOMEM : EIO;
		return NULL;
	}
	dwfl_getmodules(s->dwfl, collect_module, s, 0);
	return s;
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

struct sym_session *symbols_open_file(const char *path, char *err,
				      size_t errlen)
{
	struct sym_session *s = session_new(path, &offline_callbacks, err,
					    errlen);

	if (!s)
		return NULL;
	if (!dwfl_report_offline(s->dwfl, path, path, -1) ||
	    dwfl_report_end(s->dwfl, NULL, NULL) != 0) {
		snprintf(err, errlen, "%s: %s", path, dwfl_errmsg(-1));
		symbols_close(s);
		return NULL;
	}
	dwfl_getmodules(s->dwfl, collect_module, s, 0);
	return s;
}

size_t symbols_nmodules(const struct sym_session *s)
{
	return s->n;
}

const struct sym_module *symbols_module(const struct sym_session *s, size_t i)
{
	return &s->mods[i];
}

void symbols_close(struct sym_session *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->mods[i].path);
	free(s->mods);
	free(s->dmods);
	dwfl_end(s->dwfl);
	free(s);
}

static bool module_has_dwarf(Dwfl_Module *mod)
{
	Dwarf_Addr bias;

	return dwfl_module_getdwarf(mod, &bias) &&
	       dwfl_module_nextcu(mod, NULL, &bias);
}

/* A function of its own in the symbol table, or an exec* it imports: an
 * image without either can neither be traced nor bring another that can
 * (a stripped launcher like env or sh execs the program in its place). */
static bool has_code_or_exec(Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod);

	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &addr,
							   &shndx, NULL, NULL);

		if (is_code_symbol(name, &sym, shndx))
			return true;
		if (name && shndx == SHN_UNDEF &&
		    (strncmp(name, "exec", 4) == 0 ||
		     strncmp(name, "fexecve", 7) == 0))
			return true;
	}
	return false;
}

bool symbols_file_has_functions(const char *path)
{
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	Dwfl_Module *mod;
	bool ret = true;	/* not an ELF file: the tracer will say */

	if (!dwfl)
		return true;
	mod = dwfl_report_offline(dwfl, path, path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	if (mod)
		ret = module_has_dwarf(mod) || has_code_or_exec(mod);
	dwfl_end(dwfl);
	return ret;
}

static bool has_section(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) &&
		    strcmp(elf_strptr(elf, shstrndx, sh.sh_name) ?: "", name) == 0)
			return true;
	return false;
}

/* Debug info that yields no unit: corrupt, not absent.  libdw may refuse
 * it whole (dwfl_module_getdwarf fails), or fail at the first unit. */
static bool has_corrupt_dwarf(struct loader *L, Dwfl_Module *mod, Elf *elf)
{
	Dwarf_Addr bias;

	if (!dwfl_module_getdwarf(mod, &bias)) {
		if (has_section(elf, ".debug_info"))
			note_corrupt(L, dwfl_errmsg(-1));
	} else {
		next_cu(L, mod, NULL, &bias);
	}
	return L->dwarf_error[0] != '\0';
}

int symbols_load_module(struct sym_session *s, size_t i,
			struct selection *sel, struct sym_table *t, char *err,
			size_t errlen)
{
	const struct sym_module *m = &s->mods[i];
	struct loader L = {
		.t = t, .sel = sel, .m = m,
		.pool = { .lock = PTHREAD_MUTEX_INITIALIZER,
			  .more = PTHREAD_COND_INITIALIZER },
	};
	Dwarf_Addr bias;
	Elf *elf;
	int ret = -1;

	memset(t, 0, sizeof(*t));
	t->module = xstrdup(m->path);
	t->lo = m->lo;
	t->hi = m->hi;
	elf = dwfl_module_getelf(s->dmods[i], &bias);
	if (!elf) {
		snprintf(err, errlen, "%s: %s", m->path, dwfl_errmsg(-1));
		goto out;
	}
	collect_data(t, elf, bias);
	if (collect_code_sections(&L, elf, bias) != 0) {
		snprintf(err, errlen, "%s: no executable code sections", m->path);
		goto out;
	}
	t->has_dwarf = module_has_dwarf(s->dmods[i]) ||
		       has_corrupt_dwarf(&L, s->dmods[i], elf);
	if (t->has_dwarf)
		load_dwarf_funcs(&L, s->dmods[i]);
	if (L.dwarf_error[0])
		warn_corrupt_dwarf(m->path, L.dwarf_error);
	/* The symbol table: the whole default set of an executable without
	 * DWARF, or of an object whose DWARF broke off (functions DWARF did
	 * describe keep their keys: one entry per address); otherwise the
	 * functions that entries name and DWARF lacks (assembly, or objects
	 * without debug info). */
	if (!selection_is_default(sel) || (m->is_main && !t->has_dwarf) ||
	    L.dwarf_error[0])
		load_symtab_funcs(&L, s->dmods[i]);
	scan_pending(&L);
	collect_starts(&L, s->dmods[i]);
	ret = 0;
	/* the bytes stay the library's, valid while the session is open */
	t->code = L.secs;
	t->ncode = L.nsecs;
	L.secs = NULL;
out:
	pool_finish(&L);
	pool_free(&L);
	pthread_cond_destroy(&L.pool.more);
	pthread_mutex_destroy(&L.pool.lock);
	free(L.secs);
	free(L.starts);
	free(L.entries.slots);
	name_map_free(&L.qnames);
	for (size_t k = 0; k < L.nlocs; k++)
		free(L.locs[k].file);
	free(L.locs);
	if (ret != 0)
		symbols_free(t);
	return ret;
}

/* The address of a symbol of module i, from its symbol table, or 0. */
static uint64_t symbol_address(struct sym_session *s, size_t i,
			       const char *want)
{
	int n = dwfl_module_getsymtab(s->dmods[i]);

	for (int k = 1; k < n; k++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(s->dmods[i], k, &sym,
							   &addr, NULL, NULL,
							   NULL);

		if (name && strcmp(name, want) == 0 && sym.st_shndx != SHN_UNDEF)
			return addr;
	}
	return 0;
}

/* The kind of a watched function's name (SYM_WATCH_*), or -1. */
static int watch_kind(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "prctl") == 0)
		return SYM_WATCH_PRCTL;
	return strcmp(name, "syscall") == 0 ? SYM_WATCH_SYSCALL : -1;
}

/* The 8 bytes the file holds at link-time address vaddr, or 0. */
static uint64_t file_word(Elf *elf, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;
		uint64_t v;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    vaddr < sh.sh_addr || vaddr + 8 > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || vaddr - sh.sh_addr + 8 > d->d_size)
			return 0;
		memcpy(&v, (const char *)d->d_buf + (vaddr - sh.sh_addr), 8);
		return v;
	}
	return 0;
}

/* One module's entries (appended to *out) and, when it is the C library
 * (it defines __libc_start_main), the functions' addresses. */
static void module_gots(Elf *elf, uint64_t bias, const struct sym_module *m,
		       struct sym_got **out, size_t *n, size_t *cap,
		       uint64_t real[2])
{
	uint64_t mine[2] = { 0, 0 };
	bool libc = false;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t k = 1; sh.sh_entsize &&
				   k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Sym sym;
			const char *name;
			int kind;

			if (!gelf_getsym(d, (int)k, &sym) ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			name = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (name && strcmp(name, "__libc_start_main") == 0)
				libc = true;
			kind = watch_kind(name);
			if (kind >= 0 && GELF_ST_TYPE(sym.st_info) == STT_FUNC)
				mine[kind] = sym.st_value + bias;
		}
	}
	if (libc) {
		real[0] = mine[0];
		real[1] = mine[1];
	}
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Scn *symscn;
		GElf_Shdr symsh;
		Elf_Data *d, *syms;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA ||
		    !(d = elf_getdata(scn, NULL)) ||
		    !(symscn = elf_getscn(elf, sh.sh_link)) ||
		    !gelf_getshdr(symscn, &symsh) ||
		    symsh.sh_type != SHT_DYNSYM ||
		    !(syms = elf_getdata(symscn, NULL)))
			continue;
		for (size_t k = 0; sh.sh_entsize &&
				   k < sh.sh_size / sh.sh_entsize; k++) {
			GElf_Rela r;
			GElf_Sym sym;
			unsigned type;
			int kind;

			if (!gelf_getrela(d, (int)k, &r))
				break;
			type = GELF_R_TYPE(r.r_info);
			if ((type != R_X86_64_JUMP_SLOT &&
			     type != R_X86_64_GLOB_DAT) ||
			    !gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) ||
			    sym.st_shndx != SHN_UNDEF)
				continue;
			kind = watch_kind(elf_strptr(elf, symsh.sh_link,
						     sym.st_name));
			if (kind < 0)
				continue;
			if (*n == *cap) {
				*cap = *cap ? 2 * *cap : 8;
				*out = xrealloc(*out, *cap * sizeof(**out));
			}
			(*out)[(*n)++] = (struct sym_got){
				.addr = r.r_offset + bias,
				.file = file_word(elf, r.r_offset),
				.lo = m->lo, .hi = m->hi,
				.relative = bias != 0,
				.kind = (uint8_t)kind,
			};
		}
	}
}

size_t symbols_seccomp_gots(struct sym_session *s, struct sym_got **out,
			    uint64_t real[2])
{
	size_t n = 0, cap = 0;

	*out = NULL;
	real[0] = real[1] = 0;
	for (size_t i = 0; i < s->n; i++) {
		Dwarf_Addr bias;
		Elf *elf;

		if (s->mods[i].is_ldso || s->mods[i].is_special)
			continue;
		elf = dwfl_module_getelf(s->dmods[i], &bias);
		if (elf)
			module_gots(elf, bias, &s->mods[i], out, &n, &cap, real);
	}
	return n;
}

int symbols_rendezvous(struct sym_session *s, uint64_t *r_debug,
		       struct insn *brk)
{
	for (size_t i = 0; i < s->n; i++) {
		struct loader L = { 0 };
		const uint8_t *code;
		Dwarf_Addr bias;
		uint64_t at;
		size_t avail;
		Elf *elf;
		int ok;

		if (!s->mods[i].is_ldso)
			continue;
		at = symbol_address(s, i, "_dl_debug_state");
		*r_debug = symbol_address(s, i, "_r_debug");
		elf = dwfl_module_getelf(s->dmods[i], &bias);
		if (!at || !*r_debug || !elf ||
		    collect_code_sections(&L, elf, bias) != 0) {
			free(L.secs);
			return -1;
		}
		code = code_at(&L, at, &avail);
		ok = code && insn_decode(code, avail, at, brk) == 0 &&
		     brk->op != INSN_UNSUPPORTED;
		free(L.secs);
		return ok ? 0 : -1;
	}
	return -1;
}

void symbols_free(struct sym_table *t)
{
	for (size_t i = 0; i < t->nfuncs; i++) {
		free(t->funcs[i].name);
		free(t->funcs[i].file);
		free(t->funcs[i].pack);
		free(t->funcs[i].pack_whole);
	}
	for (size_t i = 0; i < t->nuntraced; i++) {
		free(t->untraced[i].name);
		free(t->untraced[i].file);
	}
	free(t->funcs);
	free(t->sites);
	free(t->code);
	free(t->data);
	free(t->relative);
	free(t->starts);
	free(t->ranges);
	free(t->untraced);
	free(t->module);
	memset(t, 0, sizeof(*t));
}
