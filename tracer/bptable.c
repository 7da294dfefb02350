#include "tracer/bptable.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static size_t bucket(const struct bp_table *t, uint64_t addr)
{
	addr ^= addr >> 31;
	addr *= 0x9e3779b97f4a7c15ULL;
	return (addr >> 17) & (t->cap - 1);
}

struct bp *bp_table_find(const struct bp_table *t, uint64_t addr)
{
	if (!t->cap)
		return NULL;
	for (size_t i = bucket(t, addr);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].addr == addr)
			return &t->slots[i];
		if (!t->slots[i].addr)
			return NULL;
	}
}

static struct bp *place(struct bp_table *t, uint64_t addr)
{
	size_t i = bucket(t, addr);

	while (t->slots[i].addr && t->slots[i].addr != addr)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

static void grow(struct bp_table *t)
{
	struct bp_table big = { .cap = t->cap ? 2 * t->cap : 1024, .n = t->n };

	big.slots = xcalloc(big.cap, sizeof(*big.slots));
	bp_table_for_each(t, b)
		*place(&big, b->addr) = *b;
	free(t->slots);
	*t = big;
}

struct bp *bp_table_get(struct bp_table *t, uint64_t addr)
{
	struct bp *b;

	if (4 * (t->n + 1) > 3 * t->cap)
		grow(t);
	b = place(t, addr);
	if (!b->addr) {
		memset(b, 0, sizeof(*b));
		b->addr = addr;
		b->entry_fn = b->ret_fn = -1;
		t->n++;
	}
	return b;
}

void bp_table_free(struct bp_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

void bp_table_copy(struct bp_table *dst, const struct bp_table *src)
{
	*dst = *src;
	dst->slots = NULL;
	if (src->cap) {
		dst->slots = xcalloc(src->cap, sizeof(*src->slots));
		memcpy(dst->slots, src->slots, src->cap * sizeof(*src->slots));
	}
}

void bp_table_remove_range(struct bp_table *t, uint64_t lo, uint64_t hi)
{
	struct bp_table keep = { .cap = t->cap };

	if (!t->cap)
		return;
	/* open addressing has no cheap delete: rebuild (dlclose is rare) */
	keep.slots = xcalloc(keep.cap, sizeof(*keep.slots));
	bp_table_for_each(t, b) {
		if (b->addr >= lo && b->addr < hi)
			continue;
		*place(&keep, b->addr) = *b;
		keep.n++;
	}
	free(t->slots);
	*t = keep;
}
