/* patch: choose the bytes a probe's jmp may overwrite at a site.
 *
 * The whole function is decoded once (every range, capstone through
 * insn_decode) into a sorted list of instructions and a sorted list of
 * every address something may jump to: direct branch targets, the return
 * points of calls, rip-relative addresses taken, the entry.  A window is
 * then safe when none of those lies strictly inside it: a jump may still
 * land on its first byte, which holds the new jmp, but nowhere else. */
#include "symbols/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An address something may jump to, and from where: src is the address
 * of a direct jmp or jcc of the function, which could be re-aimed, or 0
 * (anything else: a call's return point, a table, an address taken, the
 * entry, a loop instruction). */
struct patch_target {
	uint64_t addr, src;
};

struct patch_func {
	struct patch_range *ranges;	/* sorted by address */
	size_t nranges;
	struct insn *insns;		/* sorted by address */
	size_t ninsns;
	struct patch_target *targets;	/* sorted by address, may repeat */
	size_t ntargets;
	uint64_t entry;
	bool indirect;			/* an indirect jump of unknown targets */
	bool undecodable;		/* bytes capstone could not decode */
};

static const char *const why_str[] = {
	[PATCH_OK] = "ok",
	[PATCH_NO_SITE] = "no-site",
	[PATCH_SHORT] = "short",
	[PATCH_TARGET] = "target",
	[PATCH_INDIRECT] = "indirect",
	[PATCH_RELOC] = "reloc",
	[PATCH_BLOCK] = "block",
	[PATCH_DECODE] = "decode",
	[PATCH_OVERLAP] = "overlap",
	[PATCH_NOMEM] = "nomem",
};

const char *patch_why_str(enum patch_why why)
{
	if ((unsigned)why >= sizeof(why_str) / sizeof(*why_str))
		return "?";
	return why_str[why];
}

/* ---- decoding the function ---- */

struct vec {
	void *v;
	size_t n, cap, size;
};

static int vec_push(struct vec *s, const void *item)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		void *v = realloc(s->v, cap * s->size);

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	memcpy((char *)s->v + s->n++ * s->size, item, s->size);
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct patch_range *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static bool target_less(const struct patch_target *x,
			const struct patch_target *y)
{
	return x->addr < y->addr || (x->addr == y->addr && x->src < y->src);
}

static void target_swap(struct patch_target *x, struct patch_target *y)
{
	struct patch_target t = *x;

	*x = *y;
	*y = t;
}

/* Sort the targets: a quicksort with the comparison inline (qsort's calls
 * through a pointer were a tenth of the set-up of a big program), small
 * runs by insertion; the smaller side first, so the stack stays short. */
static void sort_targets(struct patch_target *v, size_t n)
{
	size_t lo[64], hi[64];
	int top = 0;

	lo[0] = 0;
	hi[0] = n;
	while (top >= 0) {
		size_t a = lo[top], b = hi[top--];

		while (b - a > 16) {
			size_t m = a + (b - a) / 2, i = a, j = b - 1;
			struct patch_target pivot;

			/* median of three at a, m, b - 1 */
			if (target_less(&v[m], &v[a]))
				target_swap(&v[m], &v[a]);
			if (target_less(&v[b - 1], &v[m])) {
				target_swap(&v[b - 1], &v[m]);
				if (target_less(&v[m], &v[a]))
					target_swap(&v[m], &v[a]);
			}
			pivot = v[m];
			for (;;) {
				while (target_less(&v[i], &pivot))
					i++;
				while (target_less(&pivot, &v[j]))
					j--;
				if (i >= j)
					break;
				target_swap(&v[i++], &v[j--]);
			}
			/* [a, j] and [j + 1, b): push the larger, go on with
			 * the smaller */
			if (j + 1 - a < b - (j + 1)) {
				lo[++top] = j + 1;
				hi[top] = b;
				b = j + 1;
			} else {
				lo[++top] = a;
				hi[top] = j + 1;
				a = j + 1;
			}
		}
		for (size_t i = a + 1; i < b; i++) {
			struct patch_target t = v[i];
			size_t k = i;

			for (; k > a && target_less(&t, &v[k - 1]); k--)
				v[k] = v[k - 1];
			v[k] = t;
		}
	}
}

/* A target reached from src (0: some other way). */
static int push_target(struct vec *t, uint64_t addr, uint64_t src)
{
	struct patch_target pt = { addr, src };

	return vec_push(t, &pt);
}

/* The opcode of an instruction capstone decoded but disasm.c could not
 * classify: past the legacy prefixes and REX.  Returns its offset. */
static unsigned opcode_at(const struct insn *in)
{
	unsigned i = 0;

	while (i < in->len) {
		switch (in->bytes[i]) {
		case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
			i++;
			continue;
		}
		break;
	}
	if (i < in->len && (in->bytes[i] & 0xf0) == 0x40)
		i++;
	return i;
}

/* What an unclassified instruction means for the targets: an indirect jmp
 * may go anywhere in the function (a jump table), except through a
 * rip-relative slot, which is a tail call through the GOT; an indirect call
 * returns to the next instruction; loop/jrcxz have a rel8 target; any other
 * relative branch disasm.c refused (a 0x66 prefix, xbegin) is unknown. */
static int note_unsupported(struct patch_func *f, const struct insn *in,
			    struct vec *t)
{
	unsigned i = opcode_at(in);
	uint8_t op = i < in->len ? in->bytes[i] : 0;
	uint8_t modrm = i + 1 < in->len ? in->bytes[i + 1] : 0;
	uint64_t a;

	if (op == 0xff && i + 1 < in->len) {
		unsigned reg = (modrm >> 3) & 7;

		if (reg == 2 || reg == 3) {
			a = in->addr + in->len;
			return push_target(t, a, 0);
		}
		if ((reg == 4 || reg == 5) && (modrm & 0xc7) != 0x05)
			f->indirect = true;
		return 0;
	}
	if (op >= 0xe0 && op <= 0xe3 && in->len == i + 2) {
		a = in->addr + in->len + (int8_t)in->bytes[i + 1];
		return push_target(t, a, 0);
	}
	if (op == 0xe8 || op == 0xe9 || op == 0xeb || (op & 0xf0) == 0x70 ||
	    (op == 0x0f && i + 1 < in->len && (modrm & 0xf0) == 0x80) ||
	    (op == 0xc7 && modrm == 0xf8))
		f->indirect = true;
	return 0;
}

/* The addresses an instruction may send control to, inside or outside the
 * function: only those inside a window matter, and which are is decided
 * per window. */
static int note_targets(struct patch_func *f, const struct insn *in,
			struct vec *t)
{
	uint64_t ret = in->addr + in->len;

	switch (in->op) {
	case INSN_CALL:
		if (push_target(t, ret, 0) < 0)
			return -1;
		return push_target(t, in->target, 0);
	case INSN_JMP:
	case INSN_JCC:
		return push_target(t, in->target, in->addr);
	case INSN_OOL:
		/* an address taken (lea): a function pointer or computed goto */
		return in->disp_off ? push_target(t, in->target, 0) : 0;
	case INSN_JMP_IND:
	case INSN_CALL_IND:
	case INSN_UNSUPPORTED:
		return note_unsupported(f, in, t);
	default:
		return 0;
	}
}

static int decode_range(struct patch_func *f, const struct patch_range *r,
			struct vec *insns, struct vec *t)
{
	const struct insn_packed *pk = r->packed;
	struct insn in;
	size_t off = 0;

	while (off < r->n) {
		bool ok;

		if (pk) {
			/* len 0: a byte the sweep could not decode */
			ok = pk->len != 0;
			if (ok)
				insn_unpack(pk, r->code + off, r->addr + off,
					    r->whole, &in);
			pk++;
		} else {
			ok = insn_decode(r->code + off, r->n - off,
					 r->addr + off, &in) == 0;
		}
		if (!ok) {
			f->undecodable = true;
			off++;
			continue;
		}
		if (vec_push(insns, &in) < 0 || note_targets(f, &in, t) < 0)
			return -1;
		off += in.len;
	}
	return 0;
}

static bool in_ranges(const struct patch_func *f, uint64_t a)
{
	for (size_t i = 0; i < f->nranges; i++)
		if (a >= f->ranges[i].addr && a - f->ranges[i].addr < f->ranges[i].n)
			return true;
	return false;
}

#define TABLE_MAX 65536		/* entries read from one anchor */

/* A table at `anchor` in the module's data: as many entries as land in
 * the function, read as 32-bit offsets from the anchor (a PIC switch
 * table) and as 64-bit addresses (an absolute one, a computed goto's),
 * until the first that does not.  Every real entry lands in the function,
 * so the table is covered whole; what follows it adds targets at worst. */
static int table_targets(const struct patch_func *f, const struct patch_data *d,
			 uint64_t anchor, struct vec *t)
{
	size_t avail, k;
	const uint8_t *p = d->at(d->arg, anchor, &avail);
	uint64_t a;

	if (!p)
		return 0;
	for (k = 0; k + 4 <= avail && k < 4 * TABLE_MAX; k += 4) {
		int32_t v;

		memcpy(&v, p + k, 4);
		a = anchor + (uint64_t)(int64_t)v;
		if (!in_ranges(f, a))
			break;
		if (push_target(t, a, 0) < 0)
			return -1;
	}
	for (k = 0; k + 8 <= avail && k < 8 * TABLE_MAX; k += 8) {
		memcpy(&a, p + k, 8);
		if (!in_ranges(f, a))
			break;
		if (push_target(t, a, 0) < 0)
			return -1;
	}
	return 0;
}

/* Where the function's indirect jumps may land, over-approximated: the
 * tables its instructions point at (rip-relative operands, absolute
 * displacements, any 32-bit immediate that is an address in the data),
 * the immediates that are addresses in the function (a label's, in
 * non-PIE code), and the addresses in the function that the dynamic
 * linker writes into the data (a PIE's computed-goto tables). */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every place of the data the function's instructions point at, each
 * read once (a big function names its jump table many times). */
static int anchor_targets(const struct patch_func *f,
			  const struct patch_data *d, struct vec *anchors,
			  struct vec *t)
{
	uint64_t *a = anchors->v;
	int ret = 0;

	if (anchors->n)
		qsort(a, anchors->n, sizeof(*a), cmp_u64);
	for (size_t i = 0; i < anchors->n && ret == 0; i++)
		if (!i || a[i] != a[i - 1])
			ret = table_targets(f, d, a[i], t);
	free(anchors->v);
	return ret;
}

static int indirect_targets(const struct patch_func *f,
			    const struct patch_data *d, struct vec *t)
{
	struct vec anchors = { .size = sizeof(uint64_t) };

	for (size_t i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];
		size_t avail;
		uint64_t a;

		if (in->op == INSN_OOL && in->disp_off &&
		    vec_push(&anchors, &in->target) < 0)
			goto nomem;
		a = (uint64_t)in->ind.disp;
		if ((in->op == INSN_JMP_IND || in->op == INSN_CALL_IND) &&
		    in->ind.reg == INSN_REG_NONE &&
		    (in->ind.base == INSN_REG_NONE || in->ind.base == INSN_REG_RIP) &&
		    vec_push(&anchors, &a) < 0)
			goto nomem;
		for (unsigned k = 1; k + 4 <= in->len; k++) {
			uint32_t u;

			memcpy(&u, in->bytes + k, 4);
			for (int sx = 0; sx < 2; sx++) {
				a = sx ? (uint64_t)(int64_t)(int32_t)u : u;
				if (in_ranges(f, a) && push_target(t, a, 0) < 0)
					goto nomem;
				if (d->at(d->arg, a, &avail) &&
				    vec_push(&anchors, &a) < 0)
					goto nomem;
			}
		}
	}
	if (anchor_targets(f, d, &anchors, t) < 0)
		return -1;
	for (size_t r = 0; r < f->nranges; r++) {
		const struct patch_range *rg = &f->ranges[r];
		size_t lo = 0, hi = d->nrelative;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (d->relative[mid] < rg->addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < d->nrelative && d->relative[lo] < rg->addr + rg->n; lo++)
			if (push_target(t, d->relative[lo], 0) < 0)
				return -1;
	}
	return 0;
nomem:
	free(anchors.v);
	return -1;
}

struct patch_func *patch_func_open(const struct patch_range *ranges,
				   size_t nranges, uint64_t entry)
{
	return patch_func_open_data(ranges, nranges, entry, NULL);
}

struct patch_func *patch_func_open_data(const struct patch_range *ranges,
					size_t nranges, uint64_t entry,
					const struct patch_data *d)
{
	struct patch_func *f = calloc(1, sizeof(*f));
	struct vec insns = { NULL, 0, 0, sizeof(struct insn) };
	struct vec t = { NULL, 0, 0, sizeof(struct patch_target) };

	if (!f)
		return NULL;
	f->entry = entry;
	f->ranges = malloc((nranges ? nranges : 1) * sizeof(*ranges));
	if (!f->ranges)
		goto fail;
	memcpy(f->ranges, ranges, nranges * sizeof(*ranges));
	f->nranges = nranges;
	qsort(f->ranges, nranges, sizeof(*ranges), cmp_range);
	/* the entry is called from outside: a target like any other */
	if (push_target(&t, entry, 0) < 0)
		goto fail;
	for (size_t i = 0; i < nranges; i++)
		if (decode_range(f, &f->ranges[i], &insns, &t) < 0)
			goto fail;
	f->insns = insns.v;
	f->ninsns = insns.n;
	insns.v = NULL;
	/* with the module's data, the indirect jumps' landing places are
	 * known: windows need not be single instructions any more */
	if (f->indirect && d && d->at) {
		if (indirect_targets(f, d, &t) < 0)
			goto fail;
		f->indirect = false;
	}
	sort_targets(t.v, t.n);
	f->targets = t.v;
	f->ntargets = t.n;
	return f;
fail:
	free(insns.v);
	free(t.v);
	patch_func_close(f);
	errno = ENOMEM;
	return NULL;
}

void patch_func_close(struct patch_func *f)
{
	if (!f)
		return;
	free(f->ranges);
	free(f->insns);
	free(f->targets);
	free(f);
}

/* ---- lookups ---- */

/* Index of the instruction starting at addr, or -1. */
static long insn_at(const struct patch_func *f, uint64_t addr)
{
	size_t lo = 0, hi = f->ninsns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->insns[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < f->ninsns && f->insns[lo].addr == addr ? (long)lo : -1;
}

/* Index of the first target above lo. */
static size_t target_after(const struct patch_func *f, uint64_t lo)
{
	size_t a = 0, b = f->ntargets;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if (f->targets[mid].addr <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* Is some target in (lo, hi)? */
static bool target_inside(const struct patch_func *f, uint64_t lo, uint64_t hi)
{
	size_t a = target_after(f, lo);

	return a < f->ntargets && f->targets[a].addr < hi;
}

static const struct patch_range *range_of(const struct patch_func *f,
					  uint64_t addr)
{
	for (size_t i = 0; i < f->nranges; i++)
		if (addr >= f->ranges[i].addr &&
		    addr - f->ranges[i].addr < f->ranges[i].n)
			return &f->ranges[i];
	return NULL;
}

static bool contiguous(const struct insn *a, const struct insn *b)
{
	return a->addr + a->len == b->addr;
}

/* Can the stub run this instruction in its place?  Relative branches and
 * calls are re-encoded, rip-relative operands re-aimed, a ret replayed
 * after the probe; anything disasm.c could not classify is refused. */
static bool relocatable(const struct insn *in)
{
	/* an indirect call: the int3 engine replays it, the stub does not;
	 * an indirect jmp is taken only as a window's last instruction
	 * (window_check) */
	return in->op != INSN_UNSUPPORTED && in->op != INSN_CALL_IND;
}

/* Do the bytes from `at` up to `end` lie in r's padding and read as
 * padding (int3, or nop forms)? */
/* endbr64 (endbr32) marks where an indirect branch may land: a landing
 * pad that C++ exceptions reach, a function the DWARF ranges leave out.
 * It is never padding. */
static bool is_endbr(const struct insn *in)
{
	return in->len == 4 && in->bytes[0] == 0xf3 && in->bytes[1] == 0x0f &&
	       in->bytes[2] == 0x1e && (in->bytes[3] & 0xfe) == 0xfa;
}

static bool padding_until(const struct patch_range *r, uint64_t at,
			  uint64_t end)
{
	uint64_t pad_end = r->addr + r->n + r->pad;
	struct insn in;

	if (at < r->addr + r->n || end > pad_end)
		return false;
	while (at < end) {
		const uint8_t *p = r->code + (at - r->addr);

		if (*p == 0xcc) {
			at++;
			continue;
		}
		if (insn_decode(p, pad_end - at, at, &in) < 0 ||
		    in.op != INSN_NOP || is_endbr(&in))
			return false;
		at += in.len;
	}
	return true;
}

/* ---- windows ---- */

static void window_reset(struct patch_window *w, uint64_t start)
{
	memset(w, 0, sizeof(*w));
	w->start = start;
}

static void window_add(struct patch_window *w, const struct insn *in)
{
	w->insns[w->ninsns++] = *in;
	w->len = (uint8_t)(in->addr + in->len - w->start);
	if (in->op == INSN_RET)
		w->has_ret = true;
}

/* Checks every window passes, whichever way it was built. */
static enum patch_why window_check(const struct patch_func *f,
				   const struct patch_window *w)
{
	if (target_inside(f, w->start, w->start + w->len))
		return PATCH_TARGET;
	/* one instruction (maybe with padding after it) has no inner byte a
	 * jump table could point to; more have */
	if (f->indirect && w->ninsns > 1)
		return PATCH_INDIRECT;
	for (unsigned i = 0; i < w->ninsns; i++)
		if (!relocatable(&w->insns[i]) ||
		    (w->insns[i].op == INSN_JMP_IND && i + 1 < w->ninsns))
			return PATCH_RELOC;
	return PATCH_OK;
}

/* Flow ends after it: what follows may be padding. */
static bool ends_flow(const struct insn *in)
{
	return in->op == INSN_RET || in->op == INSN_JMP ||
	       in->op == INSN_JMP_IND;
}

/* Grow w forward from instruction i until it covers the jmp: through
 * contiguous instructions, then into padding after a ret or jmp. */
static enum patch_why grow_forward(const struct patch_func *f, size_t i,
				   struct patch_window *w)
{
	const struct patch_range *r = range_of(f, f->insns[i].addr);
	uint64_t need = w->start + PATCH_JMP_LEN;

	for (; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];

		if (w->ninsns && !contiguous(&w->insns[w->ninsns - 1], in))
			break;
		if (in->addr >= r->addr + r->n)
			break;
		window_add(w, in);
		if (in->addr + in->len >= need)
			return PATCH_OK;
	}
	if (w->ninsns && ends_flow(&w->insns[w->ninsns - 1]) &&
	    padding_until(r, w->start + w->len, need)) {
		w->len = PATCH_JMP_LEN;
		w->padding = true;
		return PATCH_OK;
	}
	return PATCH_SHORT;
}

/* Does the window hold every byte of the function? */
static bool covers_function(const struct patch_func *f,
			    const struct patch_window *w)
{
	const struct patch_range *r = &f->ranges[0];

	return f->nranges == 1 && w->start + w->len >= r->addr + r->n;
}

/* A small function whose ret lies a few instructions past its entry
 * window (push %rbp; mov %rsp,%rbp; nop; pop %rbp; ret: -O0's empty
 * function): the window takes it whole when nothing jumps inside, so
 * that one stub probes the entry and the ret, which has no room for a
 * window of its own.  w is left as it was otherwise. */
static void take_whole(const struct patch_func *f, size_t i,
		       struct patch_window *w)
{
	const struct patch_range *r = range_of(f, f->insns[i].addr);
	struct patch_window whole = *w;
	size_t k = i + w->ninsns;

	if (f->nranges != 1)
		return;
	while (k < f->ninsns && whole.ninsns < PATCH_JMP_LEN &&
	       contiguous(&whole.insns[whole.ninsns - 1], &f->insns[k]) &&
	       f->insns[k].addr < r->addr + r->n) {
		window_add(&whole, &f->insns[k]);
		if (ends_flow(&f->insns[k++]))
			break;
	}
	/* only when the ret is too close to the entry window for a window
	 * of its own (the bytes before it are the entry's); the function may
	 * go on after it (`test %rdi,%rdi; je L; mov (%rdi),%eax; ret; L:`),
	 * its jcc re-encoded by the stub */
	if (whole.has_ret &&
	    whole.insns[whole.ninsns - 1].op == INSN_RET &&
	    whole.start + whole.len - (w->start + w->len) < PATCH_JMP_LEN &&
	    window_check(f, &whole) == PATCH_OK)
		*w = whole;
}

enum patch_why patch_entry(const struct patch_func *f, struct patch_window *w)
{
	long i = insn_at(f, f->entry);
	enum patch_why why;

	window_reset(w, f->entry);
	if (i < 0)
		return PATCH_NO_SITE;
	if (f->undecodable)
		return PATCH_DECODE;
	/* Leave an endbr64 in place and patch after it: an indirect call must
	 * still land on one where indirect branch tracking is enforced, and
	 * it changes nothing the probe records. */
	if (is_endbr(&f->insns[i]) && (size_t)i + 1 < f->ninsns &&
	    contiguous(&f->insns[i], &f->insns[i + 1]))
		window_reset(w, f->insns[++i].addr);
	why = grow_forward(f, (size_t)i, w);
	if (why == PATCH_OK)
		why = window_check(f, w);
	if (why == PATCH_OK && !w->has_ret)
		take_whole(f, (size_t)i, w);
	if (why == PATCH_OK)
		w->whole = w->has_ret && covers_function(f, w);
	return why;
}

/* The ret (or tail-call jmp) with nops or padding after it. */
static enum patch_why return_forward(const struct patch_func *f, size_t i,
				     struct patch_window *w)
{
	enum patch_why why;

	window_reset(w, f->insns[i].addr);
	if (!ends_flow(&f->insns[i]))
		return PATCH_SHORT;
	why = grow_forward(f, i, w);
	if (why != PATCH_OK)
		return why;
	/* after the ret, only nops: code there is reached some other way
	 * (an endbr64 says how: a landing pad, an indirect branch) */
	for (unsigned k = 1; k < w->ninsns; k++)
		if (w->insns[k].op != INSN_NOP || is_endbr(&w->insns[k]))
			return PATCH_SHORT;
	return window_check(f, w);
}

/* The site with the instructions before it: walk back while the window is
 * short; every instruction crossed must be contiguous, in the same range,
 * and not a target (its start becomes a byte inside the window).  A jcc
 * may be crossed (`test; je L; ret`: the stub re-encodes it, to the same
 * target), no other branch: after a jmp or ret the site is reached only
 * by a jump, so it is a target; after a call, it is the call's return
 * point. */
static enum patch_why return_backward(const struct patch_func *f, size_t i,
				      struct patch_window *w)
{
	const struct insn *site = &f->insns[i];
	uint64_t end = site->addr + site->len;
	const struct patch_range *r = range_of(f, site->addr);
	size_t j = i;

	while (end - f->insns[j].addr < PATCH_JMP_LEN) {
		const struct insn *prev = j ? &f->insns[j - 1] : NULL;

		if (!prev || !contiguous(prev, &f->insns[j]) ||
		    prev->addr < r->addr)
			return PATCH_BLOCK;
		switch (prev->op) {
		case INSN_RET: case INSN_JMP: case INSN_CALL:
		case INSN_JMP_IND: case INSN_CALL_IND: case INSN_UNSUPPORTED:
			return PATCH_BLOCK;
		default:
			break;
		}
		if (target_inside(f, prev->addr, f->insns[j].addr + 1))
			return PATCH_TARGET;
		j--;
	}
	window_reset(w, f->insns[j].addr);
	for (; j <= i; j++)
		window_add(w, &f->insns[j]);
	return window_check(f, w);
}

enum patch_why patch_return(const struct patch_func *f, uint64_t site,
			    struct patch_window *w)
{
	long i = insn_at(f, site);
	enum patch_why fwd, back;
	struct patch_window tmp;

	window_reset(w, site);
	if (i < 0)
		return PATCH_NO_SITE;
	switch (f->insns[i].op) {
	case INSN_RET: case INSN_JMP: case INSN_JCC: case INSN_JMP_IND:
		break;
	default:
		return PATCH_NO_SITE;
	}
	if (f->undecodable)
		return PATCH_DECODE;
	/* forward first: it displaces only the site itself (and padding), so
	 * the instructions before it keep their freedom to be targets */
	fwd = return_forward(f, (size_t)i, w);
	if (fwd == PATCH_OK)
		return PATCH_OK;
	back = return_backward(f, (size_t)i, &tmp);
	if (back == PATCH_OK) {
		*w = tmp;
		return PATCH_OK;
	}
	/* the backward reason says more, unless forward got further */
	return back == PATCH_BLOCK && fwd != PATCH_SHORT ? fwd : back;
}

bool patch_overlap(const struct patch_window *a, const struct patch_window *b)
{
	return a->start < b->start + b->len && b->start < a->start + a->len;
}

/* Is addr one of the instructions w displaces? */
static bool displaces(const struct patch_window *w, uint64_t addr)
{
	for (unsigned i = 0; i < w->ninsns; i++)
		if (w->insns[i].addr == addr)
			return true;
	return false;
}

static bool overlaps_granted(const struct patch_site *sites, size_t n,
			     const struct patch_window *w)
{
	for (size_t i = 0; i < n; i++)
		if (sites[i].why == PATCH_OK && sites[i].covered_by < 0 &&
		    patch_overlap(&sites[i].w, w))
			return true;
	return false;
}

void patch_plan(const struct patch_func *f, struct patch_site *sites,
		size_t n)
{
	if (!n)
		return;
	sites[0].covered_by = -1;
	sites[0].why = patch_entry(f, &sites[0].w);
	for (size_t i = 1; i < n; i++) {
		struct patch_site *s = &sites[i];

		s->covered_by = -1;
		if (sites[0].why == PATCH_OK &&
		    displaces(&sites[0].w, s->addr)) {
			s->covered_by = 0;
			s->why = PATCH_OK;
			continue;
		}
		s->why = patch_return(f, s->addr, &s->w);
		if (s->why == PATCH_OK && overlaps_granted(sites, i, &s->w))
			s->why = PATCH_OVERLAP;
	}
}

/* ---- plans with redirected branches ---- */

/* The window's inner targets as a mask of its instructions, or -1 when
 * one cannot be reached in the stub: something other than a direct jmp
 * or jcc of the function goes there (a call returns there, a table or an
 * address taken points there), it is not one of the window's instruction
 * starts, or it is an endbr64 (an indirect branch's landing place).  An
 * instruction after a ret or jmp must be one, or nothing known reaches
 * it. */
static int inner_mask(const struct patch_func *f, const struct patch_window *w)
{
	int mask = 0;

	for (size_t k = target_after(f, w->start);
	     k < f->ntargets && f->targets[k].addr < w->start + w->len; k++) {
		const struct patch_target *t = &f->targets[k];
		unsigned i = 1;

		if (!t->src)
			return -1;
		while (i < w->ninsns && w->insns[i].addr != t->addr)
			i++;
		if (i >= w->ninsns || is_endbr(&w->insns[i]))
			return -1;
		mask |= 1 << i;
	}
	for (unsigned i = 1; i < w->ninsns; i++)
		if (ends_flow(&w->insns[i - 1]) && !(mask & 1 << i))
			return -1;
	return mask;
}

/* The window of the instructions from j through i and on until it covers
 * the jmp (or into padding after a ret or jmp), checked as window_check
 * does but with inner targets allowed (w->inner). */
static enum patch_why window_around(const struct patch_func *f, size_t j,
				    size_t i, struct patch_window *w)
{
	const struct patch_range *r = range_of(f, f->insns[j].addr);
	uint64_t need = f->insns[j].addr + PATCH_JMP_LEN;
	size_t k;
	int mask;

	window_reset(w, f->insns[j].addr);
	for (k = j; k < f->ninsns; k++) {
		const struct insn *in = &f->insns[k];

		if (w->ninsns && !contiguous(&w->insns[w->ninsns - 1], in))
			break;
		if (in->addr >= r->addr + r->n || w->ninsns == PATCH_MAX_INSNS ||
		    in->addr + in->len - w->start > PATCH_MAX_LEN)
			break;
		window_add(w, in);
		if (k >= i && in->addr + in->len >= need)
			break;
	}
	if (!w->ninsns || w->insns[w->ninsns - 1].addr < f->insns[i].addr)
		return PATCH_SHORT;
	if (w->start + w->len < need) {
		if (!ends_flow(&w->insns[w->ninsns - 1]) ||
		    !padding_until(r, w->start + w->len, need))
			return PATCH_SHORT;
		w->len = PATCH_JMP_LEN;
		w->padding = true;
	}
	/* (no function with indirect jumps of unknown targets gets here:
	 * patch_plan_redirect leaves those to the plain windows) */
	for (unsigned x = 0; x < w->ninsns; x++)
		if (!relocatable(&w->insns[x]))
			return PATCH_RELOC;
	mask = inner_mask(f, w);
	if (mask < 0)
		return PATCH_TARGET;
	w->inner = (uint8_t)mask;
	return PATCH_OK;
}

struct plan {
	const struct patch_func *f;
	struct patch_site *sites;
	size_t n;
	struct patch_extra *extra;
	size_t nextra, cap;
	/* the looks at granted windows still allowed (each costs n +
	 * nextra): a function of thousands of refused sites and jumps must
	 * not make the set-up quadratic; past it, int3s */
	long budget;
};

#define PLAN_BUDGET	(1L << 24)

/* Charge one look over every granted window; false when spent. */
static bool charge(struct plan *pl)
{
	pl->budget -= (long)(pl->n + pl->nextra);
	return pl->budget > 0;
}

static bool holds(const struct patch_window *w, uint64_t a)
{
	return a >= w->start && a < w->start + w->len;
}

/* Does a granted window (a site's, or an extra that is no fixup) displace
 * the instruction at a, so that its stub re-encodes it? */
static bool displaced(const struct plan *pl, uint64_t a)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->sites[i].why == PATCH_OK && pl->sites[i].covered_by < 0 &&
		    holds(&pl->sites[i].w, a))
			return true;
	for (size_t i = 0; i < pl->nextra; i++)
		if (!pl->extra[i].fixup && holds(&pl->extra[i].w, a))
			return true;
	return false;
}

/* Does w share a byte with something granted (or extras from `from` on,
 * the ones being added)? */
static bool taken(const struct plan *pl, const struct patch_window *w)
{
	if (overlaps_granted(pl->sites, pl->n, w))
		return true;
	for (size_t i = 0; i < pl->nextra; i++)
		if (patch_overlap(&pl->extra[i].w, w))
			return true;
	return false;
}

/* Does w hold a site other than site `but`? */
static bool site_inside_but(const struct plan *pl, const struct patch_window *w,
			    size_t but)
{
	for (size_t i = 0; i < pl->n; i++)
		if (i != but && holds(w, pl->sites[i].addr))
			return true;
	return false;
}

static bool site_inside(const struct plan *pl, const struct patch_window *w)
{
	return site_inside_but(pl, w, pl->n);
}

static bool add_extra(struct plan *pl, const struct patch_window *w,
		      bool fixup, size_t owner)
{
	struct patch_extra *e;

	if (pl->nextra == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 8;
		struct patch_extra *v = realloc(pl->extra, cap * sizeof(*v));

		if (!v)
			return false;
		pl->extra = v;
		pl->cap = cap;
	}
	e = &pl->extra[pl->nextra++];
	memset(e, 0, sizeof(*e));
	e->w = *w;
	e->fixup = fixup;
	e->owner = owner;
	return true;
}

/* A jmp rel32 or jcc rel32: its displacement is its last 4 bytes. */
static bool rel32_branch(const struct insn *in)
{
	unsigned o = opcode_at(in);

	if (in->op != INSN_JMP && in->op != INSN_JCC)
		return false;
	if (o < in->len && in->bytes[o] == 0xe9)
		return in->len == o + 5;
	return o + 1 < in->len && in->bytes[o] == 0x0f &&
	       (in->bytes[o + 1] & 0xf0) == 0x80 && in->len == o + 6;
}

/* A jmp rel8 or jcc rel8: its displacement is its last byte. */
static bool rel8_branch(const struct insn *in)
{
	unsigned o = opcode_at(in);

	return (in->op == INSN_JMP || in->op == INSN_JCC) &&
	       in->len == o + 2 &&
	       (in->bytes[o] == 0xeb || (in->bytes[o] & 0xf0) == 0x70);
}

/* May a hop's jmp go at `at`, in granted window h: past h's own jmp, and
 * over no other hop? */
static bool hop_room(const struct plan *pl, const struct patch_window *h,
		     uint64_t at)
{
	if (at < h->start + PATCH_JMP_LEN ||
	    at + PATCH_JMP_LEN > h->start + h->len)
		return false;
	for (size_t x = 0; x < pl->nextra; x++)
		if (pl->extra[x].hop && pl->extra[x].hop_at < at + PATCH_JMP_LEN &&
		    at < pl->extra[x].hop_at + PATCH_JMP_LEN)
			return false;
	return true;
}

/* The first place for a hop in site k's window that a rel8 ending at
 * `end` reaches, or 0. */
static uint64_t hop_place(const struct plan *pl, size_t k, uint64_t end)
{
	const struct patch_window *h = &pl->sites[k].w;

	if (pl->sites[k].why != PATCH_OK || pl->sites[k].covered_by >= 0)
		return 0;
	for (uint64_t at = h->start + PATCH_JMP_LEN;
	     at + PATCH_JMP_LEN <= h->start + h->len; at++) {
		int64_t d = (int64_t)(at - end);

		if (d >= -128 && d <= 127 && hop_room(pl, h, at))
			return at;
	}
	return 0;
}

/* The entry's window made longer, to hold a hop: the instructions after
 * it, as long as they are plain (relocatable, no flow's end, no target or
 * site among them, nothing granted under them).  False, and nothing
 * changed, when it cannot hold one that a rel8 ending at `end` reaches. */
static bool entry_longer(struct plan *pl, const struct patch_window *owner_w,
			 uint64_t end)
{
	const struct patch_func *f = pl->f;
	struct patch_window w = pl->sites[0].w, old = w;
	const struct patch_range *r;
	long i;

	/* (an entry not granted has no instructions to look at) */
	if (pl->sites[0].why != PATCH_OK || pl->sites[0].covered_by >= 0 ||
	    !w.ninsns || w.inner || w.whole || w.padding || w.has_ret)
		return false;
	r = range_of(f, w.start);
	i = insn_at(f, w.insns[w.ninsns - 1].addr);
	if (i < 0 || !r)
		return false;
	for (size_t k = (size_t)i + 1; k < f->ninsns; k++) {
		const struct insn *in = &f->insns[k];

		/* (on the pages of the window as it was: see on_site_page) */
		if (!contiguous(&w.insns[w.ninsns - 1], in) ||
		    (in->addr + in->len - 1) / 4096 !=
		    (old.start + old.len - 1) / 4096 ||
		    in->addr >= r->addr + r->n || w.ninsns == PATCH_MAX_INSNS ||
		    in->addr + in->len - w.start > PATCH_MAX_LEN ||
		    !relocatable(in) || ends_flow(in) || is_endbr(in) ||
		    in->op == INSN_JCC || in->op == INSN_CALL)
			break;
		window_add(&w, in);
		if (window_check(f, &w) != PATCH_OK)
			break;
		if (site_inside_but(pl, &w, 0) || patch_overlap(&w, owner_w))
			goto undo;
		pl->sites[0].w = w;
		for (size_t x = 0; x < pl->nextra; x++)
			if (patch_overlap(&pl->extra[x].w, &w))
				goto undo;
		for (size_t s = 1; s < pl->n; s++)
			if (pl->sites[s].why == PATCH_OK &&
			    pl->sites[s].covered_by < 0 &&
			    patch_overlap(&pl->sites[s].w, &w))
				goto undo;
		if (hop_place(pl, 0, end))
			return true;
	}
undo:
	pl->sites[0].w = old;
	return false;
}

/* Are the bytes [lo, hi) on the page of a site?  iprofmem reads every
 * site before it arms one, whichever the engine, which makes its page
 * resident: a write on another page (a branch re-aimed) would make one
 * resident that the int3 engine leaves alone, and the first call that
 * runs code there would not fault it in as it does untraced. */
static bool on_site_page(const struct plan *pl, uint64_t lo, uint64_t hi)
{
	enum { PAGE = 4096 };

	for (size_t i = 0; i < pl->n; i++)
		if (pl->sites[i].addr / PAGE == lo / PAGE &&
		    pl->sites[i].addr / PAGE == (hi - 1) / PAGE)
			return true;
	return false;
}

/* The rel8 branch at instruction si reaches an inner target of w (site
 * owner's window, not granted yet) through a hop (see struct
 * patch_extra). */
static bool hop(struct plan *pl, const struct patch_window *w, size_t si,
		size_t owner)
{
	const struct insn *in = &pl->f->insns[si];
	uint64_t end = in->addr + in->len, at = 0;
	struct patch_window one;
	size_t k;

	if (!rel8_branch(in) || !on_site_page(pl, in->addr, end))
		return false;
	for (k = 0; k < pl->n && !at; k++)
		if (k != owner)
			at = hop_place(pl, k, end);
	if (at)
		k--;
	else if (owner && entry_longer(pl, w, end))
		at = hop_place(pl, k = 0, end);
	if (!at)
		return false;
	window_reset(&one, in->addr);
	window_add(&one, in);
	if (taken(pl, &one) || !add_extra(pl, &one, true, owner))
		return false;
	pl->extra[pl->nextra - 1].hop = true;
	pl->extra[pl->nextra - 1].hop_at = at;
	pl->extra[pl->nextra - 1].hop_host = k;
	return true;
}

/* The branch at instruction si, a rel8 one, displaced by a window of its
 * own: plain (no targets inside), no site in it, nothing granted under
 * it. */
static bool source_window(struct plan *pl, const struct patch_window *w,
			  size_t si, size_t owner)
{
	const struct patch_func *f = pl->f;
	const struct patch_range *r = range_of(f, f->insns[si].addr);

	for (size_t j = si + 1; j-- > 0 && si - j < PATCH_MAX_INSNS; ) {
		struct patch_window sw;

		if (j < si && (!contiguous(&f->insns[j], &f->insns[j + 1]) ||
			       f->insns[j].addr < r->addr))
			break;
		if (!charge(pl) ||
		    window_around(f, j, si, &sw) != PATCH_OK || sw.inner ||
		    site_inside(pl, &sw) || taken(pl, &sw) ||
		    patch_overlap(&sw, w))
			continue;
		return add_extra(pl, &sw, false, owner);
	}
	return false;
}

/* Make every direct branch to w's inner targets reach the stub: extras
 * added for the owner site, or false (none added). */
static bool redirect(struct plan *pl, const struct patch_window *w,
		     size_t owner)
{
	const struct patch_func *f = pl->f;
	size_t nextra0 = pl->nextra;
	struct patch_window entry0 = pl->sites[0].w;

	for (size_t k = target_after(f, w->start);
	     k < f->ntargets && f->targets[k].addr < w->start + w->len; k++) {
		uint64_t s = f->targets[k].src;
		long si = insn_at(f, s);
		struct patch_window one;

		if (!charge(pl))
			goto fail;
		if (holds(w, s) || displaced(pl, s))
			continue;
		if (si < 0)
			goto fail;
		if (rel32_branch(&f->insns[si])) {
			window_reset(&one, s);
			window_add(&one, &f->insns[si]);
			if (taken(pl, &one) || !add_extra(pl, &one, true, owner))
				goto fail;
			continue;
		}
		if (!source_window(pl, w, (size_t)si, owner) &&
		    !hop(pl, w, (size_t)si, owner))
			goto fail;
	}
	return true;
fail:
	pl->nextra = nextra0;
	pl->sites[0].w = entry0;
	return false;
}

/* Grant site k its window: the sites it displaces are covered by it. */
static void grant(struct plan *pl, size_t k, const struct patch_window *w)
{
	pl->sites[k].why = PATCH_OK;
	pl->sites[k].covered_by = -1;
	pl->sites[k].w = *w;
	for (size_t i = 0; i < pl->n; i++)
		if (i != k && holds(w, pl->sites[i].addr)) {
			pl->sites[i].why = PATCH_OK;
			pl->sites[i].covered_by = (int)k;
		}
}

/* May w take the place of the windows granted under it?  Each must lie
 * whole inside it (the sites they probe are then covered by w) and need
 * no extras.  They are taken back (why PATCH_OVERLAP) and listed in
 * back[]; false, and nothing changed, when they cannot be. */
static bool absorb(struct plan *pl, const struct patch_window *w,
		   size_t *back, size_t *nback)
{
	*nback = 0;
	for (size_t m = 0; m < pl->n; m++) {
		const struct patch_window *o = &pl->sites[m].w;

		if (pl->sites[m].why != PATCH_OK || pl->sites[m].covered_by >= 0 ||
		    !patch_overlap(o, w))
			continue;
		if (!m || o->start < w->start ||
		    o->start + o->len > w->start + w->len)
			return false;
		for (size_t x = 0; x < pl->nextra; x++)
			if (pl->extra[x].owner == m ||
			    (pl->extra[x].hop && pl->extra[x].hop_host == m))
				return false;
		if (*nback == PATCH_MAX_INSNS)
			return false;
		back[(*nback)++] = m;
	}
	for (size_t b = 0; b < *nback; b++)
		pl->sites[back[b]].why = PATCH_OVERLAP;
	return true;
}

static void unabsorb(struct plan *pl, const size_t *back, size_t nback)
{
	for (size_t b = 0; b < nback; b++)
		pl->sites[back[b]].why = PATCH_OK;
}

/* Try the window from instruction j for site k (instruction i). */
static bool try_window(struct plan *pl, size_t k, size_t j, size_t i,
		       bool entry, bool ends_at_site)
{
	struct patch_window w;
	size_t back[PATCH_MAX_INSNS], nback;

	if (!charge(pl) || window_around(pl->f, j, i, &w) != PATCH_OK ||
	    (ends_at_site && w.insns[w.ninsns - 1].addr != pl->f->insns[i].addr))
		return false;
	/* the entry is reached from outside: only at a window's start, its
	 * own */
	if (!entry && holds(&w, pl->f->entry))
		return false;
	if (!absorb(pl, &w, back, &nback))
		return false;
	if (!taken(pl, &w) && redirect(pl, &w, k)) {
		grant(pl, k, &w);
		return true;
	}
	unabsorb(pl, back, nback);
	return false;
}

/* A window for site k (instruction i) that holds branch targets, or
 * takes the place of windows of other sites next to it: the first whose
 * branches can all be redirected, from the one starting at the site back
 * to those starting PATCH_MAX_INSNS - 1 instructions before it, those
 * that end at the site first (what follows a ret would need its own
 * branches redirected).  An entry's window starts at it. */
static bool redirected_window(struct plan *pl, size_t k, size_t i, bool entry)
{
	const struct patch_func *f = pl->f;
	const struct patch_range *r = range_of(f, f->insns[i].addr);

	for (int ends = 1; ends >= 0; ends--)
		for (size_t j = i + 1; j-- > 0 && i - j < PATCH_MAX_INSNS; ) {
			if (j < i && (entry ||
				      !contiguous(&f->insns[j], &f->insns[j + 1]) ||
				      f->insns[j].addr < r->addr))
				break;
			if (try_window(pl, k, j, i, entry, ends))
				return true;
		}
	return false;
}

/* ---- springboards ---- */

/* The end of the dead bytes after instruction i, a ret or jmp: the nops
 * after it that nothing jumps to, then the range's padding when they
 * reach its end (i's own end when there are none).  A function with
 * indirect jumps of unknown targets has only the padding: a table could
 * point at any of its instructions. */
static uint64_t dead_end(const struct patch_func *f, size_t i)
{
	const struct insn *in = &f->insns[i];
	const struct patch_range *r = range_of(f, in->addr);
	uint64_t end = in->addr + in->len;

	if (!r)
		return end;
	for (size_t k = i + 1; !f->indirect && k < f->ninsns; k++) {
		const struct insn *n = &f->insns[k];

		if (n->addr != end || n->addr >= r->addr + r->n ||
		    n->op != INSN_NOP || is_endbr(n) ||
		    target_inside(f, n->addr - 1, n->addr + n->len))
			break;
		end = n->addr + n->len;
	}
	if (end == r->addr + r->n)
		for (uint64_t m = r->pad; m > 0; m--)
			if (padding_until(r, end, end + m))
				return end + m;
	return end;
}

/* The springboard's window at instruction i: the site alone when it has
 * the two bytes of a jmp rel8, else a ret or jmp with a dead byte after
 * it. */
static enum patch_why spring_window(const struct patch_func *f, size_t i,
				    struct patch_window *w)
{
	const struct insn *in = &f->insns[i];

	window_reset(w, in->addr);
	window_add(w, in);
	if (in->len < PATCH_SPRING_LEN) {
		if (!ends_flow(in) ||
		    dead_end(f, i) < in->addr + PATCH_SPRING_LEN)
			return PATCH_SHORT;
		w->len = PATCH_SPRING_LEN;
		w->padding = true;
	}
	return window_check(f, w);
}

/* Where the jmp rel32 of springboard w goes: PATCH_JMP_LEN dead bytes of
 * the function that w's jmp rel8 reaches, on a site's page (see
 * on_site_page), under no window, extra or site; 0 when there are
 * none. */
static uint64_t find_pad(struct plan *pl, const struct patch_window *w)
{
	const struct patch_func *f = pl->f;
	uint64_t from = w->start + PATCH_SPRING_LEN;

	for (size_t i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];
		uint64_t lo = in->addr + in->len, hi;

		if (lo > from + 127)
			break;
		if (!ends_flow(in) || lo + 128 + PATCH_JMP_LEN < from)
			continue;
		hi = dead_end(f, i);
		for (uint64_t at = lo; at + PATCH_JMP_LEN <= hi; at++) {
			int64_t d = (int64_t)(at - from);
			struct patch_window pad;

			if (d > 127)
				break;
			if (d < -128)
				continue;
			window_reset(&pad, at);
			pad.len = PATCH_JMP_LEN;
			if (!charge(pl))
				return 0;
			if (!patch_overlap(&pad, w) && !taken(pl, &pad) &&
			    !site_inside(pl, &pad) &&
			    on_site_page(pl, at, at + PATCH_JMP_LEN))
				return at;
		}
	}
	return 0;
}

/* Site k, a return that no window of the jmp rel32 fits (`call X; L:
 * ret`, jumps reaching L, one byte of padding after the ret and code
 * after that), gets a springboard: a jmp rel8 to a pad of dead bytes
 * near it, which holds the jmp rel32 to its stub. */
static void springboard(struct plan *pl, size_t k)
{
	struct patch_site *s = &pl->sites[k];
	struct patch_window w, pad;
	uint64_t at;
	long i;

	if (s->why == PATCH_OK || s->covered_by >= 0 ||
	    s->why == PATCH_NO_SITE || pl->f->undecodable)
		return;
	i = insn_at(pl->f, s->addr);
	if (i < 0 || spring_window(pl->f, (size_t)i, &w) != PATCH_OK ||
	    taken(pl, &w) || site_inside_but(pl, &w, k) ||
	    !on_site_page(pl, w.start, w.start + w.len) ||
	    !(at = find_pad(pl, &w)))
		return;
	window_reset(&pad, at);
	pad.len = PATCH_JMP_LEN;
	if (!add_extra(pl, &pad, true, k))
		return;
	pl->extra[pl->nextra - 1].pad = true;
	w.spring = at;
	grant(pl, k, &w);
}

/* One plan: the entry first, then the returns in the order of the sites
 * or, reverse, from the last: a window that a site takes may be the only
 * one its neighbour had.  Returns the number of extras. */
static size_t plan_pass(const struct patch_func *f, struct patch_site *sites,
			size_t n, struct patch_extra **extra, bool reverse)
{
	struct plan pl = { f, sites, n, NULL, 0, 0, PLAN_BUDGET };

	for (size_t k = 0; k < n; k++) {
		sites[k].covered_by = -1;
		sites[k].why = PATCH_NO_SITE;
	}
	for (size_t o = 0; o < n; o++) {
		size_t k = reverse && o ? n - o : o;
		struct patch_site *s = &sites[k];
		struct patch_window w;
		enum patch_why why;
		long i;

		if (s->covered_by >= 0)
			continue;
		why = k ? patch_return(f, s->addr, &w) : patch_entry(f, &w);
		if (why == PATCH_OK && taken(&pl, &w))
			why = PATCH_OVERLAP;
		if (why == PATCH_OK) {
			grant(&pl, k, &w);
			continue;
		}
		s->why = why;
		if (f->undecodable || f->indirect || why == PATCH_NO_SITE)
			continue;
		i = insn_at(f, k ? s->addr : w.start);
		if (i >= 0)
			redirected_window(&pl, k, (size_t)i, k == 0);
	}
	for (size_t k = 1; k < n; k++)
		springboard(&pl, k);
	*extra = pl.extra;
	return pl.nextra;
}

/* How good a plan is: two for a site with a window, one for a return
 * left without but right after a direct call (whose callee's return may
 * see it: patch_ret_after_call). */
static size_t plan_score(const struct patch_func *f,
			 const struct patch_site *sites, size_t n)
{
	size_t score = 0;
	uint64_t callee;
	uint32_t delta;

	for (size_t k = 0; k < n; k++)
		if (sites[k].why == PATCH_OK)
			score += 2;
		else if (k && patch_ret_after_call(f, sites[k].addr, &callee,
						   &delta))
			score++;
	return score;
}

/* The plan in the sites' order; when it left a return without a window
 * because another site's took its bytes, the plan from the last return
 * back too, kept when it does better (get_line_delta of python3.11d:
 * `call; ret; mov; ret; mov; ret; mov; ret`, each mov a jump's target,
 * the function's last byte its last ret: in order, each ret's window
 * takes the mov after it and the last has none; from the end, each takes
 * the mov before it, and only the ret after the call is left, which its
 * callee's return may see). */
size_t patch_plan_redirect(const struct patch_func *f,
			   struct patch_site *sites, size_t n,
			   struct patch_extra **extra)
{
	struct patch_site *alt;
	struct patch_extra *alt_extra;
	size_t nextra, alt_n;
	bool overlap = false;

	*extra = NULL;
	if (!n)
		return 0;
	nextra = plan_pass(f, sites, n, extra, false);
	for (size_t k = 1; k < n; k++)
		overlap |= sites[k].why == PATCH_OVERLAP;
	if (!overlap || !(alt = malloc(n * sizeof(*alt))))
		return nextra;
	memcpy(alt, sites, n * sizeof(*alt));
	alt_n = plan_pass(f, alt, n, &alt_extra, true);
	if (plan_score(f, alt, n) > plan_score(f, sites, n)) {
		memcpy(sites, alt, n * sizeof(*alt));
		free(*extra);
		*extra = alt_extra;
		nextra = alt_n;
	} else {
		free(alt_extra);
	}
	free(alt);
	return nextra;
}

/* ---- a ret reached only from a call's return ---- */

/* pop %reg, with or without REX.B: one or two bytes. */
static bool is_pop_reg(const struct insn *in)
{
	return in->op == INSN_OOL && !in->disp_off &&
	       ((in->len == 1 && (in->bytes[0] & 0xf8) == 0x58) ||
		(in->len == 2 && in->bytes[0] == 0x41 &&
		 (in->bytes[1] & 0xf8) == 0x58));
}

/* May the instruction call (and so return to the next one)? */
static bool may_call(const struct insn *in)
{
	unsigned i;

	if (in->op == INSN_CALL || in->op == INSN_CALL_IND)
		return true;
	if (in->op != INSN_UNSUPPORTED)
		return false;
	i = opcode_at(in);
	return i < in->len && (in->bytes[i] == 0xe8 ||
			       (in->bytes[i] == 0xff && i + 1 < in->len &&
				((in->bytes[i + 1] >> 3) & 7) >= 2 &&
				((in->bytes[i + 1] >> 3) & 7) <= 3));
}

bool patch_ret_after_call(const struct patch_func *f, uint64_t site,
			  uint64_t *callee, uint32_t *delta)
{
	long r = insn_at(f, site), c;
	size_t at_p = 0;
	uint64_t p;

	if (r < 0 || f->indirect || f->undecodable ||
	    f->insns[r].op != INSN_RET || f->insns[r].imm != 0)
		return false;
	for (c = r - 1; c >= 0 && is_pop_reg(&f->insns[c]); c--)
		if (!contiguous(&f->insns[c], &f->insns[c + 1]))
			return false;
	if (c < 0 || f->insns[c].op != INSN_CALL ||
	    !contiguous(&f->insns[c], &f->insns[c + 1]) ||
	    f->insns[c].target == f->insns[c].addr + f->insns[c].len)
		return false;	/* (a call to the next insn: a pc read) */
	p = f->insns[c + 1].addr;
	if (p <= f->entry && f->entry <= site)
		return false;
	/* the call's own return point, and nothing else, lands in [p, ret] */
	for (size_t k = target_after(f, p - 1);
	     k < f->ntargets && f->targets[k].addr <= site; k++)
		if (f->targets[k].addr != p || f->targets[k].src || ++at_p > 1)
			return false;
	*callee = f->insns[c].target;
	*delta = (uint32_t)(8 * (r - c));
	return true;
}

bool patch_jumps_known(const struct patch_func *f)
{
	return !f->indirect && !f->undecodable;
}

bool patch_direct_calls(const struct patch_func *f, uint64_t **targets,
			size_t *n)
{
	uint64_t *t = NULL;
	size_t k = 0, cap = 0;

	*targets = NULL;
	*n = 0;
	if (f->undecodable)
		return false;
	for (size_t i = 0; i < f->ninsns; i++) {
		const struct insn *in = &f->insns[i];

		if (!may_call(in))
			continue;
		if (in->op != INSN_CALL) {
			free(t);
			return false;
		}
		if (k == cap) {
			uint64_t *m;

			cap = cap ? 2 * cap : 8;
			m = realloc(t, cap * sizeof(*t));
			if (!m) {
				free(t);
				return false;
			}
			t = m;
		}
		t[k++] = in->target;
	}
	*targets = t;
	*n = k;
	return true;
}
