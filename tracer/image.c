/* Breakpoint insertion into a process's freshly exec'd image: symbols give
 * the sites; the instructions that must run out of line get slots in an
 * area mapped into the tracee; every site gets an int3. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "symbols/symbols.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

/* Where to map the slot area: just below the executable, so that rel32
 * operands re-aimed from the slots still reach their targets, and away from
 * the brk heap, which grows up from the executable's end. */
static uint64_t map_slots(struct process *p, pid_t tid,
			  const struct sym_table *t, size_t len)
{
	uint64_t code = t->sites[0].addr;	/* any code will do */
	const uint64_t gap = 1 << 20, floor = 1 << 20;
	uint64_t hint = 0, at;

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
	return arch_inject_mmap(tid, p->memfd, code, hint, len, false);
}

/* Fill the out-of-line slots; a function with a slot that cannot be built
 * is dropped whole (ok[func] = false), never traced halfway. */
static uint64_t *build_slots(struct process *p, pid_t tid,
			     const struct sym_table *t, bool *ok)
{
	uint64_t *slot_of = xcalloc(t->nsites, sizeof(*slot_of));
	size_t n = 0, len;
	uint8_t *buf;
	uint64_t base;

	for (size_t i = 0; i < t->nsites; i++)
		n += arch_needs_slot(&t->sites[i].insn);
	if (!n)
		return slot_of;
	len = (n * ARCH_SLOT_SIZE + 4095) & ~(size_t)4095;
	base = map_slots(p, tid, t, len);
	if (!base) {
		warn_msg("cannot map the out-of-line area into process %d: "
			 "functions that need it are not traced", (int)p->pid);
		for (size_t i = 0; i < t->nsites; i++)
			if (arch_needs_slot(&t->sites[i].insn))
				ok[t->sites[i].func] = false;
		return slot_of;
	}
	p->slot_lo = base;
	p->slot_hi = base + len;
	buf = xcalloc(1, len);
	n = 0;
	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];
		uint64_t at = base + n * ARCH_SLOT_SIZE;

		if (!arch_needs_slot(&s->insn))
			continue;
		if (arch_encode_slot(buf + n * ARCH_SLOT_SIZE, &s->insn, at) != 0) {
			ok[s->func] = false;
			continue;
		}
		slot_of[i] = at;
		n++;
	}
	if (mem_write(p->memfd, base, buf, len) != 0) {
		warn_msg("writing the out-of-line area: %s", strerror(errno));
		memset(ok, 0, t->nfuncs * sizeof(*ok));
	}
	free(buf);
	return slot_of;
}

static int insert_site(struct process *p, const struct sym_site *s,
		       int32_t fn, uint64_t slot)
{
	static const uint8_t int3 = ARCH_BREAKPOINT;
	struct bp *b = bp_table_get(&p->bps, s->addr);

	if (b->entry_fn < 0 && b->ret_fn < 0) {
		if (mem_read(p->memfd, s->addr, &b->orig, 1) != 0 ||
		    mem_write(p->memfd, s->addr, &int3, 1) != 0)
			return -1;
		b->insn = s->insn;
		b->slot = slot;
	}
	if (s->is_entry)
		b->entry_fn = fn;
	else
		b->ret_fn = fn;
	return 0;
}

/* One warning per module: with -f, every child running the same image
 * would say it again. */
static void warn_no_dwarf(struct tracer *tr, const char *module)
{
	for (size_t i = 0; i < tr->nwarned; i++)
		if (strcmp(tr->warned[i], module) == 0)
			return;
	tr->warned = xreallocarray(tr->warned, tr->nwarned + 1,
				   sizeof(*tr->warned));
	tr->warned[tr->nwarned++] = xstrdup(module);
	warn_msg("%s has no DWARF debug info: tracing its symbol-table "
		 "functions (rebuild with -g for file:line keys)", module);
}

int process_trace_image(struct tracer *tr, struct process *p, pid_t tid)
{
	struct sym_table t;
	char err[512];
	int32_t *ids;
	uint64_t *slot_of;
	bool *ok;
	int ret = 0;

	if (symbols_load_exe(p->pid, &t, err, sizeof(err)) != 0) {
		error_msg("%s", err);
		return -1;
	}
	if (!t.has_dwarf)
		warn_no_dwarf(tr, t.module);
	ids = xcalloc(t.nfuncs, sizeof(*ids));
	ok = xcalloc(t.nfuncs, sizeof(*ok));
	for (size_t i = 0; i < t.nfuncs; i++) {
		ids[i] = report_add_func(p->rep, t.funcs[i].file,
					 t.funcs[i].line, t.funcs[i].name);
		ok[i] = ids[i] >= 0;
	}
	slot_of = build_slots(p, tid, &t, ok);
	for (size_t i = 0; i < t.nsites && ret == 0; i++) {
		const struct sym_site *s = &t.sites[i];

		if (!ok[s->func])
			continue;
		if (insert_site(p, s, ids[s->func], slot_of[i]) != 0) {
			error_msg("inserting a breakpoint at %#llx: %s",
				  (unsigned long long)s->addr, strerror(errno));
			ret = -1;
		}
	}
	free(slot_of);
	free(ok);
	free(ids);
	symbols_free(&t);
	return ret;
}

void process_restore_bytes(const struct process *p, int fd)
{
	bp_table_for_each(&p->bps, b)
		mem_write(fd, b->addr, &b->orig, 1);
}
