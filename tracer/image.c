/* Breakpoint insertion: symbols give the sites of a module's selected
 * functions; the instructions that must run out of line get slots in an
 * area mapped into the tracee near the module; every site gets an int3.
 * Modules come and go (start-up, dlopen, dlclose): the dynamic linker's
 * rendezvous breakpoint says when to look again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "procfs.h"
#include "report/report.h"
#include "symbols/select.h"
#include "symbols/symbols.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

/* Where to map a slot area: just below the module, so that rel32 operands
 * re-aimed from the slots still reach their targets, and away from the brk
 * heap, which grows up from the executable's end. */
uint64_t process_map_near(struct process *p, pid_t tid,
			  const struct sym_table *t, size_t len)
{
	const uint64_t gap = 1 << 20, floor = 1 << 20;
	uint64_t code = t->sites[0].addr;	/* any code of it will do */
	uint64_t hint = 0, at;
	char *maps;

	if (!tid)
		return 0;	/* no thread can run the mmap now */
	if (t->lo > len + gap + floor)
		hint = (t->lo - len - gap) & ~(uint64_t)0xfff;
	for (int i = 0; hint && i < 16; i++, hint -= 16 * gap) {
		at = arch_inject_mmap(tid, p->memfd, code, hint, len, true);
		if (at)
			return at;
		if (hint < floor + 16 * gap)
			break;
	}
	/* the free space closest under the module: under a non-PIE
	 * executable at 4 MB there is little, and the areas of earlier
	 * attaches stay mapped there */
	maps = xmalloc(MAPS_MAX);
	hint = read_proc_file(p->pid, "maps", maps, MAPS_MAX) ?
		procfs_maps_gap_below(maps, t->lo, floor, len, 0x1000) : 0;
	free(maps);
	if (hint && t->lo - hint < (1ull << 31) &&
	    (at = arch_inject_mmap(tid, p->memfd, code, hint, len, true)))
		return at;
	return arch_inject_mmap(tid, p->memfd, code, 0, len, false);
}

/* Fill the out-of-line slots; a function with a slot that cannot be built
 * is dropped whole (why[func] says why), never traced halfway. */
static uint64_t *build_slots(struct process *p, pid_t tid,
			     const struct sym_table *t, const char **why,
			     const bool *probed)
{
	uint64_t *slot_of = xcalloc(t->nsites, sizeof(*slot_of));
	/* an area starts with its tag (areas.c), the process's first then
	 * goes on with its system call stub */
	const size_t head = AREA_TAG_BYTES / ARCH_SLOT_SIZE;
	struct retired_area *old;
	size_t n = 0, len;
	uint8_t *buf;
	uint64_t base;
	bool stub = !p->stub;

	for (size_t i = 0; i < t->nsites; i++)
		n += !probed[i] && arch_needs_slot(&t->sites[i].insn);
	if (!n && !stub)
		return slot_of;
	len = ((head + n + stub) * ARCH_SLOT_SIZE + 4095) & ~(size_t)4095;
	areas_look(p);
	old = areas_reuse(p, AREA_SLOTS, t->lo, t->hi, len);
	if (old) {
		base = old->at;
		len = old->len;
	} else {
		base = process_map_near(p, tid, t, len);
	}
	if (!base) {
		warn_msg("cannot map an out-of-line area into process %d: "
			 "functions of %s that need it are not traced",
			 (int)p->pid, t->module);
		for (size_t i = 0; i < t->nsites; i++)
			if (arch_needs_slot(&t->sites[i].insn))
				why[t->sites[i].func] =
					"no out-of-line area could be mapped";
		return slot_of;
	}
	if (!old || !range_listed(p->slot_areas, p->nslot_areas, base)) {
		p->slot_areas = xreallocarray(p->slot_areas, p->nslot_areas + 1,
					      sizeof(*p->slot_areas));
		p->slot_areas[p->nslot_areas++] =
			(struct addr_range){ base, base + len };
	}
	buf = xcalloc(1, len);
	area_tag_fill(buf, AREA_SLOTS, len, t->lo, 0);
	if (stub)
		arch_encode_stub(buf + head * ARCH_SLOT_SIZE);
	n = head + stub;
	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];
		uint64_t at = base + n * ARCH_SLOT_SIZE;

		if (probed[i] || !arch_needs_slot(&s->insn))
			continue;
		if (arch_encode_slot(buf + n * ARCH_SLOT_SIZE, &s->insn, at) != 0) {
			why[s->func] = "an operand out of reach of its "
				       "out-of-line copy";
			continue;
		}
		slot_of[i] = at;
		n++;
	}
	if (mem_write(p->memfd, base, buf, len) != 0) {
		warn_msg("writing the out-of-line area: %s", strerror(errno));
		for (size_t i = 0; i < t->nfuncs; i++)
			why[i] = "its out-of-line area could not be written";
	} else {
		areas_add(p, base, AREA_SLOTS);
		if (stub)
			p->stub = base + head * ARCH_SLOT_SIZE;
	}
	free(buf);
	return slot_of;
}

/* Put an int3 at addr (once) and return its entry. */
static struct bp *arm_site(struct process *p, uint64_t addr,
			   const struct insn *in, uint64_t slot)
{
	static const uint8_t int3 = ARCH_BREAKPOINT;
	struct bp *b = bp_table_get(&p->bps, addr);

	if (b->entry_fn < 0 && b->ret_fn < 0 && !b->rendezvous) {
		b->orig = in->bytes[0];
		if (mem_write(p->memfd, addr, &int3, 1) != 0)
			return NULL;
		b->insn = *in;
		b->slot = slot;
	}
	return b;
}

/* Functions with a site whose code is not the file's (the instruction's
 * bytes) are not traced; says how many.  It may not be: the program
 * patched itself, or a tracer that was killed left its int3s.  Replaying
 * the file's instruction there would be wrong.  The sites are read
 * together (mem_read_pieces: the same pages as one by one). */
static void drop_changed_functions(const struct process *p,
				   const struct sym_table *t, const char **why,
				   bool quiet)
{
	struct mem_piece *v = xcalloc(t->nsites ? t->nsites : 1, sizeof(*v));
	uint8_t (*now)[sizeof(t->sites[0].insn.bytes)] =
		xcalloc(t->nsites ? t->nsites : 1, sizeof(*now));
	size_t n = 0, nv = 0;

	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];

		if (!why[s->func] && !bp_table_find(&p->bps, s->addr))
			v[nv++] = (struct mem_piece){ s->addr, s->insn.len,
						      now[i], false };
	}
	qsort(v, nv, sizeof(*v), mem_piece_cmp);
	/* runs of sites that do not overlap (in a sane table none does) */
	for (size_t k = 0, j; k < nv; k = j) {
		for (j = k + 1; j < nv && v[j].addr >= v[j - 1].addr + v[j - 1].len; j++)
			;
		mem_read_pieces(p->memfd, v + k, j - k);
	}
	for (size_t k = 0; k < nv; k++) {
		size_t i = (size_t)((uint8_t *)v[k].buf - now[0]) / sizeof(*now);
		const struct sym_site *s = &t->sites[i];

		if (why[s->func] || (v[k].ok &&
				     memcmp(now[i], s->insn.bytes, s->insn.len) == 0))
			continue;
		why[s->func] = "its code in memory is not the file's";
		n++;
	}
	free(now);
	free(v);
	if (n && !quiet)
		warn_msg("%s: the code of %zu function%s in process %d is not "
			 "the file's (patched at run time?): not traced",
			 t->module, n, n == 1 ? "" : "s", (int)p->pid);
}

/* Has the warning `key` been given already?  Remembers it.  With -f,
 * every child running the same image would say it again. */
static bool warned_before(struct tracer *tr, const char *key)
{
	for (size_t i = 0; i < tr->nwarned; i++)
		if (strcmp(tr->warned[i], key) == 0)
			return true;
	tr->warned = xreallocarray(tr->warned, tr->nwarned + 1,
				   sizeof(*tr->warned));
	tr->warned[tr->nwarned++] = xstrdup(key);
	return false;
}

/* One warning per module. */
static void warn_no_dwarf(struct tracer *tr, const char *module)
{
	if (warned_before(tr, module))
		return;
	warn_msg("%s has no DWARF debug info: tracing its symbol-table "
		 "functions (rebuild with -g for file:line keys)", module);
}

/* --list-funcs: one line per selected function; those that cannot be
 * traced say why. */
static void list_functions(FILE *out, const struct sym_table *t,
			   const char **why, const bool *probed,
			   const bool *follows, const bool *stubbed)
{
	size_t *nrets = xcalloc(t->nfuncs, sizeof(*nrets));
	size_t *nsites = xcalloc(t->nfuncs, sizeof(*nsites));
	size_t *nprobed = xcalloc(t->nfuncs, sizeof(*nprobed));
	char probes[32];

	for (size_t i = 0; i < t->nsites; i++) {
		nrets[t->sites[i].func] += !t->sites[i].is_entry;
		nsites[t->sites[i].func]++;
		nprobed[t->sites[i].func] += probed[i] || follows[i];
	}
	for (size_t i = 0; i < t->nfuncs; i++) {
		const struct sym_func *f = &t->funcs[i];

		/* how its sites are traced: those without an int3 (probes,
		 * and a ret seen at its callee's return) of all its sites;
		 * a * when its direct calls reach a stub of its own */
		snprintf(probes, sizeof(probes), "%zu/%zu%s", nprobed[i],
			 nsites[i], stubbed[i] ? "*" : "");
		if (!why[i])
			fprintf(out, "%#18llx  %7zu  %7s  %s  %s:%d:%s\n",
				(unsigned long long)f->entry, nrets[i], probes,
				t->module, f->file, f->line, f->name);
		else
			fprintf(out, "%#18llx  %7s  %7s  %s  %s:%d:%s  (not "
				"traced: %s)\n", (unsigned long long)f->entry,
				"-", "-", t->module, f->file, f->line, f->name,
				why[i]);
	}
	for (size_t i = 0; i < t->nuntraced; i++) {
		const struct sym_untraced *u = &t->untraced[i];

		fprintf(out, "%#18llx  %7s  %7s  %s  %s:%d:%s  (not traced: %s)\n",
			(unsigned long long)u->entry, "-", "-", t->module,
			u->file, u->line, u->name, u->why);
	}
	free(nprobed);
	free(nsites);
	free(nrets);
}

enum { UNTRACED_NAMED = 10 };

/* Selected functions that cannot be traced are never dropped silently:
 * named when the selection chose them, counted for the default set. */
static void warn_untraced(struct tracer *tr, const struct sym_table *t,
			  const char **why)
{
	bool named = !selection_is_default(tr->opts->sel);
	size_t n = 0;
	char key[4096];

	for (size_t i = 0; i < t->nfuncs + t->nuntraced; i++) {
		const char *w = i < t->nfuncs ? why[i] : t->untraced[i - t->nfuncs].why;
		const char *name = i < t->nfuncs ? t->funcs[i].name :
				   t->untraced[i - t->nfuncs].name;

		if (!w)
			continue;
		n++;
		if (named && tr->untraced_named++ < UNTRACED_NAMED)
			warn_msg("%s: cannot be traced: %s", name, w);
	}
	snprintf(key, sizeof(key), "untraced:%s", t->module);
	if (!n || tr->opts->list_out || warned_before(tr, key))
		return;
	if (!named)
		warn_msg("%s: %zu function%s cannot be traced (--list-funcs "
			 "says which and why)", t->module, n, n == 1 ? "" : "s");
	else if (tr->untraced_named > UNTRACED_NAMED)
		warn_msg("... %zu selected functions cannot be traced in all",
			 tr->untraced_named);
}

/* Keep the function ranges that the sites refer to, in the process. */
static uint32_t keep_ranges(struct process *p, const struct sym_table *t)
{
	uint32_t base = (uint32_t)p->nranges;

	if (!t->nranges)
		return base;
	p->ranges = xreallocarray(p->ranges, p->nranges + t->nranges,
				  sizeof(*p->ranges));
	memcpy(p->ranges + p->nranges, t->ranges,
	       t->nranges * sizeof(*t->ranges));
	p->nranges += t->nranges;
	return base;
}

/* Are this module's sites to be probed?  The process is set up on the
 * first one.  Patching needs the process stopped as a whole: here, with
 * one thread (the exec, the start-up rendezvous), or with every thread
 * stopped (an attach; a later dlopen in a program with threads, whose
 * rendezvous waits for world_sync in tracer.c).  Returns 0 to probe, -1
 * (said when --engine=probe asked for it: tr->fatal) not to. */
static int may_probe(struct tracer *tr, struct process *p, pid_t tid,
		     const struct sym_table *t)
{
	const char *why;
	size_t nthreads = 0;

	if (p->probes.failed || tr->opts->engine == ENGINE_INT3 || !tid)
		return -1;
	for (size_t i = 0; i < tr->threads.n; i++)
		nthreads += tr->threads.threads[i].proc == p;
	if (p->probes.on) {
		probes_filter_check(tr, p);
		return (nthreads == 1 || tr->world_stopped) &&
		       !p->probes.nosys ? 0 : -1;
	}
	why = probes_refusal(tr, p);
	if (!why && nthreads != 1 && !tr->world_stopped)
		why = "the program runs threads already";
	if (why) {
		if (tr->opts->engine == ENGINE_PROBE && !tr->pstats.why_not)
			error_msg("--engine=probe: no probes in process %d: %s",
				  (int)p->pid, why);
		/* one warning when it is not what the user asked for (an
		 * option, which the man page says falls back) */
		if (tr->opts->engine == ENGINE_AUTO && why[0] != '-' &&
		    !warned_before(tr, why))
			warn_msg("process %d: no probes (%s): the int3 engine "
				 "traces it, a ptrace stop per event", (int)p->pid,
				 why);
		tr->pstats.why_not = why;
		p->probes.failed = true;
		if (tr->opts->engine == ENGINE_PROBE) {
			tr->fatal = true;
			tr->exit_code = EXIT_IPROFMEM;
		}
		return -1;
	}
	if (probes_setup(tr, p, tid, t->sites[0].addr, t->lo) != 0)
		return -1;
	tr->probing = true;
	return 0;
}

/* Take back the int3s that arm_module wrote: a module is armed whole or
 * not at all.  Its sites lie in its extent, where no other site is. */
static void unarm_sites(struct process *p, const struct sym_table *t,
			const uint64_t *armed, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct bp *b = bp_table_find(&p->bps, armed[i]);

		if (b)
			mem_write(p->memfd, b->addr, &b->orig, 1);
	}
	bp_table_remove_range(&p->bps, t->lo, t->hi);
}

/* Put the loaded module's sites in place, all of them or none.  Returns
 * -1 (message printed) when an int3 cannot be written. */
static int arm_module(struct tracer *tr, struct process *p, pid_t tid,
		      const struct sym_table *t)
{
	int32_t *ids = xcalloc(t->nfuncs, sizeof(*ids));
	const char **why = xcalloc(t->nfuncs, sizeof(*why));
	uint64_t *armed = xcalloc(t->nsites, sizeof(*armed));
	uint64_t *slot_of;
	bool *probed, *follows, *stubbed;
	uint32_t ranges_base;
	size_t narmed = 0;
	int ret = 0;

	for (size_t i = 0; i < t->nfuncs; i++) {
		ids[i] = report_add_func(p->rep, t->funcs[i].file,
					 t->funcs[i].line, t->funcs[i].name);
		if (ids[i] < 0)
			why[i] = "out of memory";
	}
	drop_changed_functions(p, t, why, tr->rearming);
	ranges_base = keep_ranges(p, t);
	probed = xcalloc(t->nsites ? t->nsites : 1, sizeof(*probed));
	follows = xcalloc(t->nsites ? t->nsites : 1, sizeof(*follows));
	stubbed = xcalloc(t->nfuncs ? t->nfuncs : 1, sizeof(*stubbed));
	if (t->nsites && may_probe(tr, p, tid, t) == 0)
		probes_arm(tr, p, tid, t, ids, why, ranges_base, probed,
			   follows, stubbed);
	slot_of = t->nsites ? build_slots(p, tid, t, why, probed) : NULL;
	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];
		bool fresh;
		struct bp *b;

		if (why[s->func] || probed[i] || follows[i])
			continue;
		fresh = !bp_table_find(&p->bps, s->addr);
		b = arm_site(p, s->addr, &s->insn, slot_of[i]);
		if (!b) {
			error_msg("inserting a breakpoint at %#llx in %s: %s",
				  (unsigned long long)s->addr, t->module,
				  strerror(errno));
			unarm_sites(p, t, armed, narmed);
			ret = -1;
			break;
		}
		if (fresh)
			armed[narmed++] = s->addr;
		if (!tr->rearming)
			tr->pstats.sites_int3[!s->is_entry]++;
		if (s->is_entry) {
			b->entry_fn = ids[s->func];
		} else {
			b->ret_fn = ids[s->func];
			b->ranges_at = ranges_base + s->ranges_at;
			b->nranges = s->nranges;
		}
	}
	/* our writes (int3s, jumps, injected code) may have made pages of
	 * the module resident in the kernel's name, which fires no event of
	 * the program's: the fault gate must read statm again */
	probes_gate_touch(p);
	for (size_t i = 0; i < t->nfuncs && ret == 0; i++)
		p->nfuncs += !why[i];
	if (ret == 0 && !tr->rearming)
		warn_untraced(tr, t, why);
	if (tr->opts->list_out && ret == 0)
		list_functions(tr->opts->list_out, t, why, probed, follows,
			       stubbed);
	free(slot_of);
	free(probed);
	free(follows);
	free(stubbed);
	free(armed);
	free(why);
	free(ids);
	return ret;
}

/* The rendezvous: an internal breakpoint on the function the dynamic
 * linker calls whenever its list of objects changes (start-up, dlopen,
 * dlclose), so modules are armed before any of their code runs.  for_libs:
 * the selection follows libraries (else it is armed only for the probes'
 * seccomp watch, and a failure is not worth a warning). */
static void arm_rendezvous(struct process *p, struct sym_session *s,
			   bool for_libs)
{
	struct insn brk;
	uint64_t r_debug;
	struct bp *b;

	if (symbols_rendezvous(s, &r_debug, &brk) != 0) {
		if (!for_libs)
			return;	/* only the seccomp watch loses it */
		warn_msg("the dynamic linker of process %d has no rendezvous "
			 "(_r_debug): shared objects are not traced", (int)p->pid);
		return;
	}
	b = arm_site(p, brk.addr, &brk, 0);
	if (!b) {
		if (for_libs)
			warn_msg("cannot arm the dynamic linker's "
				 "rendezvous: %s", strerror(errno));
		return;
	}
	b->rendezvous = true;
	p->r_debug = r_debug;
}

static struct traced_module *find_module(struct process *p,
					 const struct sym_module *m)
{
	for (size_t i = 0; i < p->nmods; i++)
		if (p->mods[i].lo == m->lo && strcmp(p->mods[i].path, m->path) == 0)
			return &p->mods[i];
	return NULL;
}

/* A module that was unmapped (dlclose): its sites are gone with it. */
static void drop_unseen_modules(struct process *p)
{
	for (size_t i = 0; i < p->nmods; ) {
		struct traced_module *m = &p->mods[i];

		if (m->seen) {
			i++;
			continue;
		}
		bp_table_remove_range(&p->bps, m->lo, m->hi);
		/* a plugin host loads the same library again and again:
		 * its areas wait for it rather than more being mapped */
		probes_module_gone(p, m->lo, m->hi);
		areas_module_gone(p, m->lo);
		free(m->path);
		*m = p->mods[--p->nmods];
	}
}

/* Load and arm one new module.  Returns -1 on an error that ends tracing
 * (the main executable); other modules are skipped with a warning. */
static int add_module(struct tracer *tr, struct process *p, pid_t tid,
		      struct sym_session *s, size_t i)
{
	const struct sym_module *m = symbols_module(s, i);
	struct selection *sel = tr->opts->sel;
	struct sym_table t;
	char err[512];
	uint64_t t0;
	int ret;

	p->mods = xreallocarray(p->mods, p->nmods + 1, sizeof(*p->mods));
	p->mods[p->nmods++] = (struct traced_module){
		.path = xstrdup(m->path), .lo = m->lo, .hi = m->hi, .seen = true,
	};
	selection_module_loaded(sel, m->path);
	if (!selection_wants_module(sel, m->path, m->is_main))
		return 0;
	t0 = monotonic_ns();
	ret = symbols_load_module(s, i, sel, &t, err, sizeof(err));
	tr->pstats.load_ns += monotonic_ns() - t0;
	if (ret != 0) {
		if (m->is_main) {
			error_msg("%s", err);
			return -1;
		}
		warn_msg("%s: not traced", err);
		return 0;
	}
	/* only the default set falls back on the symbol table wholesale */
	if (m->is_main && !t.has_dwarf && selection_is_default(sel))
		warn_no_dwarf(tr, t.module);
	t0 = monotonic_ns();
	ret = arm_module(tr, p, tid, &t);
	tr->pstats.arm_ns += monotonic_ns() - t0;
	tr->pstats.modules++;
	symbols_free(&t);
	if (ret != 0 && !m->is_main)
		warn_msg("%s: not traced", m->path);
	return m->is_main ? ret : 0;
}

/* Does the selection trace functions of libraries (which the rendezvous
 * then says come)? */
static bool follows_libs(const struct selection *sel)
{
	return !selection_is_default(sel) || selection_all_modules(sel);
}

bool process_follows_libs(const struct tracer *tr)
{
	return follows_libs(tr->opts->sel);
}

int process_sync_modules(struct tracer *tr, struct process *p, pid_t tid,
			 bool at_exec)
{
	const struct selection *sel = tr->opts->sel;
	struct sym_session *s;
	char err[512];
	bool *fresh;
	int ret = 0;

	s = symbols_open(p->pid, err, sizeof(err));
	if (!s && errno == ENOMEM)
		out_of_memory();	/* the program runs on untraced */
	if (!s && !at_exec && !follows_libs(sel)) {
		/* a rendezvous armed for the seccomp watch alone: every
		 * traced function is in place, only the watch loses */
		warn_msg("%s: the seccomp watch does not see the objects "
			 "loaded now", err);
		return 0;
	}
	if (!s) {
		error_msg("%s", err);
		return -1;
	}
	for (size_t i = 0; i < p->nmods; i++)
		p->mods[i].seen = false;
	fresh = xcalloc(symbols_nmodules(s), sizeof(*fresh));
	for (size_t i = 0; i < symbols_nmodules(s); i++) {
		const struct sym_module *m = symbols_module(s, i);
		struct traced_module *known;

		if (m->is_special)
			continue;
		/* the rendezvous says when objects come: to trace their
		 * functions, and for the probes' seccomp watch to look at
		 * their offset tables even when they are not traced */
		if (m->is_ldso) {
			if (at_exec && (follows_libs(sel) ||
					tr->opts->engine != ENGINE_INT3))
				arm_rendezvous(p, s, follows_libs(sel));
			continue;
		}
		known = find_module(p, m);
		if (known)
			known->seen = true;
		else
			fresh[i] = true;
	}
	/* what is gone first: a new object may be mapped where an old one
	 * (or a mapped file that is no object, like ld.so.cache) was */
	drop_unseen_modules(p);
	for (size_t i = 0; i < symbols_nmodules(s) && ret == 0; i++)
		if (fresh[i]) {
			ret = add_module(tr, p, tid, s, i);
			/* the seccomp watch looks at it once relocated */
			if (!at_exec)
				probes_watch_ask(p);
		}
	free(fresh);
	symbols_close(s);
	return ret;
}

int process_rearm(struct tracer *tr, struct process *p, pid_t tid)
{
	int ret;

	/* every module is new again; its functions keep their ids
	 * (report_add_func), its sites armed already their int3s */
	for (size_t i = 0; i < p->nmods; i++)
		free(p->mods[i].path);
	free(p->mods);
	p->mods = NULL;
	p->nmods = 0;
	p->nfuncs = 0;
	tr->rearming = true;
	ret = process_sync_modules(tr, p, tid, false);
	tr->rearming = false;
	return ret;
}

void process_forget_modules(struct process *p)
{
	for (size_t i = 0; i < p->nmods; i++)
		free(p->mods[i].path);
	free(p->mods);
	p->mods = NULL;
	p->nmods = 0;
	free(p->slot_areas);
	p->slot_areas = NULL;
	p->nslot_areas = 0;
	free(p->ranges);
	p->ranges = NULL;
	p->nranges = 0;
	p->r_debug = 0;
	p->stub = 0;
	p->trap_guard = false;
	p->rss_bias = 0;
	bp_table_free(&p->bps);
	areas_forget(p);
}

void process_copy_image(struct process *child, const struct process *parent)
{
	bp_table_copy(&child->bps, &parent->bps);
	child->mods = xcalloc(parent->nmods, sizeof(*child->mods));
	for (size_t i = 0; i < parent->nmods; i++) {
		child->mods[i] = parent->mods[i];
		child->mods[i].path = xstrdup(parent->mods[i].path);
	}
	child->nmods = parent->nmods;
	child->slot_areas = xcalloc(parent->nslot_areas,
				    sizeof(*child->slot_areas));
	if (parent->nslot_areas)
		memcpy(child->slot_areas, parent->slot_areas,
		       parent->nslot_areas * sizeof(*child->slot_areas));
	child->nslot_areas = parent->nslot_areas;
	child->ranges = xcalloc(parent->nranges, sizeof(*child->ranges));
	if (parent->nranges)
		memcpy(child->ranges, parent->ranges,
		       parent->nranges * sizeof(*child->ranges));
	child->nranges = parent->nranges;
	child->r_debug = parent->r_debug;
	child->stub = parent->stub;
	areas_copy(child, parent);
	child->nfuncs = parent->nfuncs;
	child->rss_bias = parent->rss_bias;
	child->started = parent->started;
}

/* Only where our int3 still is: a program that rewrote its code there, or
 * mapped something else at the address, keeps what it put. */
void process_restore_bytes(const struct process *p, int fd)
{
	uint8_t now;

	bp_table_for_each(&p->bps, b)
		if (!b->in_stub && mem_read(fd, b->addr, &now, 1) == 0 &&
		    now == ARCH_BREAKPOINT)
			mem_write(fd, b->addr, &b->orig, 1);
}
