/* Fuzz target: the patch-window analysis (symbols/patch.c, with
 * symbols/disasm.c), on arbitrary function bytes.  ctl[0] is how many of
 * the last bytes are padding (0..15), ctl[1..2] where the function is
 * split into a hot and a cold range (past the end: one range).  Every
 * window found must hold whole, relocatable instructions copied from the
 * function's own bytes, contiguous from its start, at least 5 bytes long
 * and inside the ranges (and their padding); a plan over the function's
 * sites never grants two windows that share a byte.  The function is also
 * opened from the sweep's packed instructions (what iprofmem plans from):
 * its plan must be the decoded one's, site for site.  The redirecting plan
 * (patch_plan_redirect) is held to the same, and to what its extras
 * promise: a window shorter than 5 bytes only with a springboard whose
 * jmp rel8 reaches its pad, fixups and windows of their own on the
 * function's branches, hops inside their host's window past its jmp and
 * within a rel8's reach, no two windows or extras sharing a byte. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "symbols/patch.h"
#include "test/fuzz/fuzz.h"

#define HOT	0x401000ULL
#define COLD	0x409000ULL
#define CTL	3

static const struct patch_range *range_of(const struct patch_range *r,
					  size_t nr, uint64_t a, uint64_t end)
{
	for (size_t i = 0; i < nr; i++)
		if (a >= r[i].addr && end <= r[i].addr + r[i].n + r[i].pad)
			return &r[i];
	return NULL;
}

static void check_window(const struct patch_range *r, size_t nr,
			 const struct patch_window *w)
{
	const struct patch_range *in = range_of(r, nr, w->start,
						w->start + w->len);
	uint64_t at = w->start;

	if (!in || w->len < (w->spring ? PATCH_SPRING_LEN : PATCH_JMP_LEN) ||
	    !w->ninsns ||
	    w->ninsns > PATCH_MAX_INSNS)
		abort();
	for (unsigned i = 0; i < w->ninsns; i++) {
		const struct insn *x = &w->insns[i];

		if (x->addr != at || x->op == INSN_UNSUPPORTED ||
		    x->addr + x->len > in->addr + in->n ||
		    memcmp(x->bytes, in->code + (x->addr - in->addr), x->len))
			abort();
		at += x->len;
	}
	if (w->padding ? at > w->start + w->len : at != w->start + w->len)
		abort();
	/* inner targets are strictly inside: never the first instruction */
	if ((w->inner & 1) || (w->ninsns < 8 && w->inner >> w->ninsns))
		abort();
}

/* Does w displace an instruction that starts at a? */
static bool displaces(const struct patch_window *w, uint64_t a)
{
	for (unsigned k = 0; k < w->ninsns; k++)
		if (w->insns[k].addr == a)
			return true;
	return false;
}

static bool reaches_rel8(uint64_t from_end, uint64_t to)
{
	int64_t d = (int64_t)(to - from_end);

	return d >= -128 && d <= 127;
}

/* Is the bytes' instruction at w a direct branch (jmp, jcc) of the
 * function's, with the bytes it has there? */
static bool function_branch(const struct patch_range *r, size_t nr,
			    const struct patch_window *w)
{
	const struct insn *x = &w->insns[0];
	const struct patch_range *in = range_of(r, nr, x->addr,
						x->addr + x->len);

	return w->ninsns == 1 && in && x->addr == w->start &&
	       x->addr + x->len <= in->addr + in->n &&
	       (x->op == INSN_JMP || x->op == INSN_JCC) &&
	       !memcmp(x->bytes, in->code + (x->addr - in->addr), x->len);
}

/* The redirecting plan of the same sites: its windows as check_window
 * wants them, covered sites displaced by their coverer, each extra what
 * its kind promises, and nothing granted (windows, extras) sharing a
 * byte; the packed function gets the same plan. */
static void check_redirect(const struct patch_func *f,
			   const struct patch_func *g,
			   const struct patch_range *r, size_t nr,
			   const struct patch_site *proto, size_t n)
{
	struct patch_site *s = malloc(n * sizeof(*s)), *t = malloc(n * sizeof(*t));
	struct patch_extra *x = NULL, *y = NULL;
	size_t nx, ny;

	if (!s || !t)
		abort();
	memcpy(s, proto, n * sizeof(*s));
	memcpy(t, proto, n * sizeof(*t));
	nx = patch_plan_redirect(f, s, n, &x);
	ny = patch_plan_redirect(g, t, n, &y);
	if (nx != ny || (nx && (!x || !y)))
		abort();
	for (size_t i = 0; i < n; i++)
		if (s[i].why != t[i].why || s[i].covered_by != t[i].covered_by ||
		    (s[i].why == PATCH_OK && s[i].covered_by < 0 &&
		     memcmp(&s[i].w, &t[i].w, sizeof(s[i].w))))
			abort();
	for (size_t e = 0; e < nx; e++)
		if (memcmp(&x[e], &y[e], sizeof(x[e])))
			abort();
	for (size_t i = 0; i < n; i++) {
		const struct patch_window *w = &s[i].w;
		bool sprung = false;

		if (s[i].covered_by >= 0) {
			if (s[i].covered_by >= (int)n || s[i].why != PATCH_OK ||
			    s[s[i].covered_by].covered_by >= 0 ||
			    !displaces(&s[s[i].covered_by].w, s[i].addr))
				abort();
			continue;
		}
		if (s[i].why != PATCH_OK)
			continue;
		check_window(r, nr, w);
		if (!displaces(w, s[i].addr) && !(i == 0 && w->start >= s[i].addr))
			abort();
		for (size_t e = 0; e < nx; e++)
			if (x[e].pad && x[e].owner == i) {
				if (sprung || w->spring != x[e].w.start)
					abort();
				sprung = true;
			}
		if (sprung != (w->spring != 0) ||
		    (w->spring && !reaches_rel8(w->start + PATCH_SPRING_LEN,
						w->spring)))
			abort();
		for (size_t j = 0; j < i; j++)
			if (s[j].why == PATCH_OK && s[j].covered_by < 0 &&
			    patch_overlap(&s[j].w, w))
				abort();
	}
	for (size_t e = 0; e < nx; e++) {
		const struct patch_extra *a = &x[e];

		if (a->owner >= n || s[a->owner].why != PATCH_OK ||
		    s[a->owner].covered_by >= 0 ||
		    ((a->hop || a->pad) && !a->fixup))
			abort();
		if (a->pad) {
			if (a->w.len != PATCH_JMP_LEN ||
			    !range_of(r, nr, a->w.start, a->w.start + a->w.len))
				abort();
			for (size_t i = 0; i < n; i++)
				if (s[i].addr >= a->w.start &&
				    s[i].addr < a->w.start + a->w.len)
					abort();
		} else if (a->hop) {
			const struct patch_site *h = &s[a->hop_host];

			if (!function_branch(r, nr, &a->w) || a->hop_host >= n ||
			    h->why != PATCH_OK || h->covered_by >= 0 ||
			    a->hop_at < h->w.start + PATCH_JMP_LEN ||
			    a->hop_at + PATCH_JMP_LEN > h->w.start + h->w.len ||
			    !reaches_rel8(a->w.start + a->w.len, a->hop_at))
				abort();
			for (size_t b = 0; b < e; b++)
				if (x[b].hop && x[b].hop_at < a->hop_at + PATCH_JMP_LEN &&
				    a->hop_at < x[b].hop_at + PATCH_JMP_LEN)
					abort();
		} else if (a->fixup) {
			if (!function_branch(r, nr, &a->w))
				abort();
		} else {
			/* a source window: plain, no site in it, a branch of
			 * the function's among what it displaces */
			bool branch = false;

			check_window(r, nr, &a->w);
			for (unsigned k = 0; k < a->w.ninsns; k++)
				branch |= a->w.insns[k].op == INSN_JMP ||
					  a->w.insns[k].op == INSN_JCC;
			if (!branch || a->w.inner || a->w.spring)
				abort();
			for (size_t i = 0; i < n; i++)
				if (displaces(&a->w, s[i].addr))
					abort();
		}
		for (size_t i = 0; i < n; i++)
			if (s[i].why == PATCH_OK && s[i].covered_by < 0 &&
			    patch_overlap(&s[i].w, &a->w))
				abort();
		for (size_t b = 0; b < e; b++)
			if (patch_overlap(&x[b].w, &a->w))
				abort();
	}
	free(x);
	free(y);
	free(s);
	free(t);
}

/* The plan over the entry and the return sites rets: granted windows
 * never share a byte, a covered site is one its coverer displaces, and
 * the function opened from its packed sweep (g) gets the same plan. */
static void check_plan(const struct patch_func *f, const struct patch_func *g,
		       const struct patch_range *r, size_t nr,
		       const struct insn *rets, size_t nrets)
{
	struct patch_site *sites, *again;

	sites = calloc(nrets + 1, sizeof(*sites));
	again = calloc(nrets + 1, sizeof(*again));
	if (!sites || !again)
		abort();
	sites[0].addr = again[0].addr = r[0].addr;
	for (size_t i = 0; i < nrets; i++)
		sites[i + 1].addr = again[i + 1].addr = rets[i].addr;
	check_redirect(f, g, r, nr, sites, nrets + 1);
	patch_plan(f, sites, nrets + 1);
	patch_plan(g, again, nrets + 1);
	for (size_t i = 0; i <= nrets; i++)
		if (sites[i].why != again[i].why ||
		    sites[i].covered_by != again[i].covered_by ||
		    (sites[i].why == PATCH_OK &&
		     (sites[i].w.start != again[i].w.start ||
		      sites[i].w.len != again[i].w.len ||
		      sites[i].w.ninsns != again[i].w.ninsns ||
		      memcmp(sites[i].w.insns, again[i].w.insns,
			     sites[i].w.ninsns * sizeof(*sites[i].w.insns)))))
			abort();
	free(again);
	for (size_t i = 0; i <= nrets; i++) {
		const struct patch_site *s = &sites[i];

		if (s->covered_by >= 0) {
			if (!displaces(&sites[s->covered_by].w, s->addr) ||
			    s->why != PATCH_OK)
				abort();
			continue;
		}
		if (s->why != PATCH_OK)
			continue;
		check_window(r, nr, &s->w);
		for (size_t j = 0; j < i; j++)
			if (sites[j].why == PATCH_OK && sites[j].covered_by < 0 &&
			    patch_overlap(&sites[j].w, &s->w))
				abort();
	}
	free(sites);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct patch_range r[2], rp[2];
	struct insn_pack pk[2] = { { 0 }, { 0 } };
	struct addr_range fn[2];
	struct insn *rets = NULL;
	struct patch_window w;
	struct patch_func *f, *g;
	size_t pad, split, nr = 1, nrets = 0;

	if (size < CTL)
		return 0;
	pad = data[0] % 16;
	split = (size_t)data[1] | (size_t)data[2] << 8;
	data += CTL;
	size -= CTL;
	if (pad > size)
		pad = size;
	r[0] = (struct patch_range){ HOT, data, size - pad, pad };
	if (split < size - pad) {
		/* the cold part gets the padding */
		r[0].n = split;
		r[0].pad = 0;
		r[1] = (struct patch_range){ COLD, data + split,
					     size - pad - split, pad };
		nr = 2;
	}
	for (size_t i = 0; i < nr; i++) {
		fn[i].lo = r[i].addr;
		fn[i].hi = r[i].addr + r[i].n;
	}
	for (size_t i = 0; i < nr; i++) {
		if (find_return_sites(r[i].code, r[i].n, r[i].addr, fn, nr,
				      &rets, &nrets, &pk[i]) < 0)
			abort();
		rp[i] = r[i];
		rp[i].packed = pk[i].v;
		rp[i].whole = pk[i].whole;
	}
	f = patch_func_open(r, nr, HOT);
	g = patch_func_open(rp, nr, HOT);
	if (!f || !g)
		abort();
	if (patch_entry(f, &w) == PATCH_OK)
		check_window(r, nr, &w);
	for (size_t i = 0; i < nr; i++)
		for (size_t off = 0; off < r[i].n + r[i].pad; off++)
			if (patch_return(f, r[i].addr + off, &w) == PATCH_OK)
				check_window(r, nr, &w);
	check_plan(f, g, r, nr, rets, nrets);
	patch_func_close(f);
	patch_func_close(g);
	for (size_t i = 0; i < nr; i++)
		insn_pack_free(&pk[i]);
	free(rets);
	return 0;
}
