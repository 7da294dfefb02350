/* report: the recorded data: functions, call-path nodes, each function's
 * biggest calls and the RSS samples.
 *
 * Functions live in a growing array indexed by id.  Keys are deduplicated
 * at registration through an open-addressing hash table of ids: a program
 * can have tens of thousands of functions, and inlined or duplicated copies
 * (.constprop, .isra, several CUs including one header) share a key and
 * must share a row.  Call-path nodes likewise, keyed by (parent, function):
 * the tracer asks for one at every traced call, so that lookup is the hot
 * path, and a node is only ever created after its parent, which every view
 * relies on (a parent's id is smaller than its children's). */
#include "report/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: short keys, no need for anything stronger. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t key_hash(const char *file, int line, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	/* The terminating NULs keep ("ab", "c") apart from ("a", "bc"). */
	h = hash_bytes(h, file, strlen(file) + 1);
	h = hash_bytes(h, &line, sizeof(line));
	return hash_bytes(h, name, strlen(name) + 1);
}

uint64_t name_hash(const char *s)
{
	return hash_bytes(0xcbf29ce484222325ULL, s, strlen(s));
}

/* Node ids are small consecutive integers: mix them (splitmix64's
 * finalizer) so that the low bits used as an index do not cluster. */
static uint64_t node_hash(int parent, int fn)
{
	uint64_t h = (uint64_t)(uint32_t)parent << 32 | (uint32_t)fn;

	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static int key_equal(const struct func *f, const char *file, int line,
		     const char *name)
{
	return f->line == line && !strcmp(f->file, file) &&
	       !strcmp(f->name, name);
}

struct report *report_new(void)
{
	struct report *r = calloc(1, sizeof(struct report));

	if (r) {
		r->stride = 1;
		r->root_last_child = -1;
	}
	return r;
}

void report_free(struct report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nfuncs; i++) {
		free(r->funcs[i].file);
		free(r->funcs[i].name);
	}
	free(r->funcs);
	free(r->func_slots);
	free(r->nodes);
	free(r->node_slots);
	free(r->path_cache);
	free(r->flat_ids);
	free(r->samples);
	free(r);
}

/* A table of n empty slots (n a power of two). */
static int *slots_new(size_t n)
{
	int *slots = malloc(n * sizeof(*slots));

	if (slots)
		for (size_t i = 0; i < n; i++)
			slots[i] = -1;
	return slots;
}

/* Double an array's capacity (256 to start with); ids are ints. */
static int array_grow(void **p, size_t *cap, size_t size)
{
	size_t n = *cap ? *cap * 2 : 256;
	void *q;

	if (n > INT_MAX) {
		errno = ENOMEM;
		return -1;
	}
	q = realloc(*p, n * size);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* ---- functions ---------------------------------------------------------- */

/* The slot holding the id of the key, or the empty slot where it belongs. */
static size_t func_slot(const struct report *r, uint64_t h, const char *file,
			int line, const char *name)
{
	size_t mask = r->nfunc_slots - 1;
	size_t i = h & mask;

	while (r->func_slots[i] >= 0 &&
	       !key_equal(&r->funcs[r->func_slots[i]], file, line, name))
		i = (i + 1) & mask;
	return i;
}

static int func_slots_grow(struct report *r)
{
	size_t n = r->nfunc_slots ? r->nfunc_slots * 2 : 256;
	int *slots = slots_new(n);

	if (!slots)
		return -1;
	free(r->func_slots);
	r->func_slots = slots;
	r->nfunc_slots = n;
	/* Every registered key is distinct, so reinsertion only needs an
	 * empty slot; the hash is recomputed rather than stored because this
	 * happens a handful of times per run. */
	for (size_t id = 0; id < r->nfuncs; id++) {
		const struct func *f = &r->funcs[id];
		size_t i = key_hash(f->file, f->line, f->name) & (n - 1);

		while (slots[i] >= 0)
			i = (i + 1) & (n - 1);
		slots[i] = (int)id;
	}
	return 0;
}

int report_add_func(struct report *r, const char *file, int line,
		    const char *name)
{
	uint64_t h;
	size_t slot;
	struct func *f;

	file = file ? file : "";
	name = name ? name : "";
	if (2 * (r->nfuncs + 1) > r->nfunc_slots && func_slots_grow(r) < 0)
		return -1;
	h = key_hash(file, line, name);
	slot = func_slot(r, h, file, line, name);
	if (r->func_slots[slot] >= 0)
		return r->func_slots[slot];

	if (r->nfuncs == r->funcs_cap &&
	    array_grow((void **)&r->funcs, &r->funcs_cap, sizeof(*f)) < 0)
		return -1;
	f = &r->funcs[r->nfuncs];
	memset(f, 0, sizeof(*f));
	f->file = strdup(file);
	f->name = strdup(name);
	if (!f->file || !f->name) {
		free(f->file);
		free(f->name);
		return -1;
	}
	f->line = line;
	r->func_slots[slot] = (int)r->nfuncs;
	return (int)r->nfuncs++;
}

/* ---- call paths --------------------------------------------------------- */

#define PATH_CACHE	4096	/* a power of two */

static size_t path_cache_slot(int parent, int fn)
{
	uint32_t h = (uint32_t)parent * 0x9e3779b1u ^ (uint32_t)fn * 0x85ebca77u;

	return (h ^ h >> 15) & (PATH_CACHE - 1);
}

/* The slot holding the id of (parent, fn), or the empty slot for it. */
static size_t node_slot(const struct report *r, int parent, int fn)
{
	size_t mask = r->nnode_slots - 1;
	size_t i = node_hash(parent, fn) & mask;

	for (;;) {
		const struct node_slot *s = &r->node_slots[i];

		if (s->id < 0 || (s->parent == parent && s->fn == fn))
			return i;
		i = (i + 1) & mask;
	}
}

static int node_slots_grow(struct report *r)
{
	size_t n = r->nnode_slots ? r->nnode_slots * 2 : 256;
	struct node_slot *slots = malloc(n * sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < n; i++)
		slots[i].id = -1;
	free(r->node_slots);
	r->node_slots = slots;
	r->nnode_slots = n;
	for (size_t id = 0; id < r->nnodes; id++) {
		const struct node *nd = &r->nodes[id];

		slots[node_slot(r, nd->parent, nd->fn)] =
			(struct node_slot){ nd->parent, nd->fn, (int)id };
	}
	return 0;
}

static int node_new(struct report *r, int parent, int fn)
{
	struct node *nd;

	if (2 * (r->nnodes + 1) > r->nnode_slots && node_slots_grow(r) < 0)
		return -1;
	if (r->nnodes == r->nodes_cap &&
	    array_grow((void **)&r->nodes, &r->nodes_cap, sizeof(*nd)) < 0)
		return -1;
	nd = &r->nodes[r->nnodes];
	memset(nd, 0, sizeof(*nd));
	nd->parent = parent;
	nd->fn = fn;
	nd->last_child = -1;
	r->node_slots[node_slot(r, parent, fn)] =
		(struct node_slot){ parent, fn, (int)r->nnodes };
	return (int)r->nnodes++;
}

void report_set_flat(struct report *r, bool flat)
{
	r->flat = flat;
}

bool report_is_flat(const struct report *r)
{
	return r->flat;
}

/* report_path of a flat report: the function's one node, from an array
 * that never misses the way a big tree's hash table does. */
static int flat_path(struct report *r, int fn)
{
	if ((size_t)fn >= r->flat_cap) {
		size_t cap = r->flat_cap ? r->flat_cap : 256;
		int *ids;

		while (cap <= (size_t)fn)
			cap *= 2;
		ids = realloc(r->flat_ids, cap * sizeof(*ids));
		if (!ids)
			return -1;
		for (size_t i = r->flat_cap; i < cap; i++)
			ids[i] = -1;
		r->flat_ids = ids;
		r->flat_cap = cap;
	}
	if (r->flat_ids[fn] < 0)
		r->flat_ids[fn] = node_new(r, REPORT_ROOT, fn);
	return r->flat_ids[fn];
}

int report_path(struct report *r, int parent, int fn)
{
	/* A bad id is a tracer bug, but aborting mid-run would leave the
	 * tracee full of int3s: refuse the node instead. */
	if (fn < 0 || (size_t)fn >= r->nfuncs || parent < REPORT_ROOT ||
	    (parent >= 0 && (size_t)parent >= r->nnodes))
		return -1;
	if (r->flat)
		return flat_path(r, fn);
	int *last_fn = parent >= 0 ? &r->nodes[parent].last_fn : &r->root_last_fn;
	int *last_child = parent >= 0 ? &r->nodes[parent].last_child :
					&r->root_last_child;
	int id = -1;

	struct node_slot *c;

	/* the last child found is the next one, most of the time: the hash
	 * table's slot is a cache miss in a big tree, the parent's node is
	 * at hand; then the paths used lately */
	if (*last_child >= 0 && *last_fn == fn)
		return *last_child;
	if (!r->path_cache) {
		r->path_cache = malloc(PATH_CACHE * sizeof(*r->path_cache));
		for (size_t i = 0; r->path_cache && i < PATH_CACHE; i++)
			r->path_cache[i].id = -1;
	}
	c = r->path_cache ? &r->path_cache[path_cache_slot(parent, fn)] : NULL;
	if (c && c->id >= 0 && c->parent == parent && c->fn == fn)
		id = c->id;
	else if (r->nnode_slots)
		id = r->node_slots[node_slot(r, parent, fn)].id;
	if (id < 0)
		id = node_new(r, parent, fn);
	if (id >= 0 && c)
		*c = (struct node_slot){ parent, fn, id };
	if (id >= 0) {
		/* node_new may have moved the nodes */
		last_fn = parent >= 0 ? &r->nodes[parent].last_fn : &r->root_last_fn;
		last_child = parent >= 0 ? &r->nodes[parent].last_child :
					   &r->root_last_child;
		*last_fn = fn;
		*last_child = id;
	}
	return id;
}

struct report *report_clone_keys(const struct report *r)
{
	struct report *c = report_new();

	if (!c)
		return NULL;
	c->flat = r->flat;
	/* The keys are distinct and parents precede children, so each
	 * function and node gets the next id, which is its own. */
	for (size_t i = 0; i < r->nfuncs; i++) {
		const struct func *f = &r->funcs[i];

		if (report_add_func(c, f->file, f->line, f->name) != (int)i)
			goto fail;
	}
	for (size_t i = 0; i < r->nnodes; i++)
		if (report_path(c, r->nodes[i].parent, r->nodes[i].fn) != (int)i)
			goto fail;
	return c;
fail:
	report_free(c);
	return NULL;
}

/* ---- calls -------------------------------------------------------------- */

/* Keep the call if it is among the function's KEPT_CALLS biggest. */
static void keep_call(struct func *f, const struct report_call *c)
{
	struct kept_call k = { c->t_entry, c->t_return, c->delta };
	int min = 0;

	if (f->nkept < KEPT_CALLS) {
		f->kept[f->nkept++] = k;
		return;
	}
	for (int i = 1; i < KEPT_CALLS; i++)
		if (f->kept[i].delta < f->kept[min].delta)
			min = i;
	if (c->delta > f->kept[min].delta)
		f->kept[min] = k;
}

void report_record_call(struct report *r, int path, const struct report_call *c)
{
	struct node *nd;

	if (path < 0 || (size_t)path >= r->nnodes)
		return;
	nd = &r->nodes[path];
	nd->total_calls++;
	progress_count(r);
	if (c->delta > 0) {
		nd->bytes += (uint64_t)c->delta;
		nd->calls++;
		keep_call(&r->funcs[nd->fn], c);
	}
	if (c->self > 0)
		nd->self_bytes += (uint64_t)c->self;
	if (c->peak > 0 && (uint64_t)c->peak > nd->peak_bytes)
		nd->peak_bytes = (uint64_t)c->peak;
}

void report_record(struct report *r, int fn, int64_t delta)
{
	struct report_call c = {
		.delta = delta,
		.self = delta,
		.peak = delta > 0 ? delta : 0,
	};

	report_record_call(r, report_path(r, REPORT_ROOT, fn), &c);
}

int report_append_kept(struct report *r, int fn, const struct kept_call *k)
{
	struct func *f = &r->funcs[fn];

	if (f->nkept == KEPT_CALLS)
		return -1;
	f->kept[f->nkept++] = *k;
	return 0;
}

/* ---- RSS samples -------------------------------------------------------- */

/* Halve the samples: each pair becomes one with the earlier time and the
 * higher RSS, so peaks survive and the curve keeps its start. */
static void samples_halve(struct report *r)
{
	size_t n = r->nsamples / 2;

	for (size_t i = 0; i < n; i++) {
		struct sample a = r->samples[2 * i], b = r->samples[2 * i + 1];

		r->samples[i].t = a.t;
		r->samples[i].rss = a.rss > b.rss ? a.rss : b.rss;
	}
	if (r->nsamples % 2)
		r->samples[n++] = r->samples[r->nsamples - 1];
	r->nsamples = n;
	r->stride *= 2;
}

static int samples_alloc(struct report *r)
{
	if (!r->samples)
		r->samples = malloc(SAMPLES_MAX * sizeof(*r->samples));
	return r->samples ? 0 : -1;
}

void report_sample_n(struct report *r, uint64_t t_ns, int64_t rss, uint64_t n)
{
	while (n) {
		struct sample *last;

		if (samples_alloc(r) < 0)
			return;
		/* Each kept sample stands for `stride` raw ones: fill the last
		 * one before starting another, so resolution stays even over
		 * the run (n alike at once, as many as it has room for). */
		if (r->nsamples && r->last_fill < r->stride) {
			uint64_t k = r->stride - r->last_fill;

			if (k > n)
				k = n;
			last = &r->samples[r->nsamples - 1];
			if (rss > last->rss)
				last->rss = rss;
			r->last_fill += k;
			n -= k;
			continue;
		}
		if (r->nsamples == SAMPLES_MAX)
			samples_halve(r);
		r->samples[r->nsamples++] = (struct sample){ t_ns, rss };
		r->last_fill = 1;
		n--;
	}
}

void report_sample(struct report *r, uint64_t t_ns, int64_t rss)
{
	report_sample_n(r, t_ns, rss, 1);
}

int report_append_sample(struct report *r, uint64_t t, int64_t rss)
{
	if (samples_alloc(r) < 0 || r->nsamples == SAMPLES_MAX)
		return -1;
	r->samples[r->nsamples++] = (struct sample){ t, rss };
	r->last_fill = r->stride;
	return 0;
}
