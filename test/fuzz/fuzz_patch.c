/* Fuzz target: the patch-window analysis (symbols/patch.c, with
 * symbols/disasm.c), on arbitrary function bytes.  ctl[0] is how many of
 * the last bytes are padding (0..15), ctl[1..2] where the function is
 * split into a hot and a cold range (past the end: one range).  Every
 * window found must hold whole, relocatable instructions copied from the
 * function's own bytes, contiguous from its start, at least 5 bytes long
 * and inside the ranges (and their padding); a plan over the function's
 * sites never grants two windows that share a byte.  The function is also
 * opened from the sweep's packed instructions (what iprofmem plans from):
 * its plan must be the decoded one's, site for site. */
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

	if (!in || w->len < PATCH_JMP_LEN || !w->ninsns ||
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
			const struct patch_window *w = &sites[s->covered_by].w;
			bool found = false;

			for (unsigned k = 0; k < w->ninsns; k++)
				found |= w->insns[k].addr == s->addr;
			if (!found || s->why != PATCH_OK)
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
