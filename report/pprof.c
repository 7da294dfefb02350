/* pprof: the call paths as a gzipped profile.proto (report/profile.proto),
 * the format of `go tool pprof`, Pyroscope, Grafana and speedscope.
 *
 * Two sample types, "memory" in bytes (the default) and "calls" in count.
 * One sample per call-path node with a positive self memory or a call
 * that increased memory: its stack is the path from the node up to the
 * root (leaf first), its values the node's self bytes and its calls.
 * Self memory summed over a subtree is the subtree root's inclusive
 * memory, so pprof's "cum" of a function is our Memory column and its
 * "flat" calls our Calls column (both exact when no call path repeats a
 * function, i.e. no recursion: pprof counts a function once per stack).
 * One function, and one location holding one line, per function of the
 * report that is on a sample's stack: its name, source file and
 * declaration line.  One mapping: the traced program's path and build ID.
 * Several entries (per process): each sample carries a "pid" label.
 * Nothing varies between runs of the same report (no time stamps, a zero
 * gzip mtime), so the same report gives the same bytes.
 *
 * A diff (report_diff_write_pprof) is the same profile of the signed tree
 * diff_tree_build makes of two reports: a call path's values are its new
 * self memory and calls less its old, negative when they shrank (pprof's
 * values are int64; go tool pprof shows them as it shows -diff_base). */
#include "report/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

/* ---- the string table: each string once, looked up by hash ------------- */

struct strtab {
	char **s;		/* not owned: the report's strings, literals */
	size_t n, cap;
	int *slots;		/* index into s, -1 when empty */
	size_t nslots;		/* a power of two, kept at most half full */
};

static int strtab_grow(struct strtab *t)
{
	size_t nslots = t->nslots ? 2 * t->nslots : 64;
	int *slots = malloc(nslots * sizeof(*slots));
	char **s = realloc(t->s, nslots / 2 * sizeof(*s));

	if (s)
		t->s = s;
	if (!slots || !s) {
		free(slots);
		return -1;
	}
	memset(slots, -1, nslots * sizeof(*slots));
	for (size_t i = 0; i < t->n; i++) {
		size_t h = name_hash(t->s[i]) & (nslots - 1);

		while (slots[h] >= 0)
			h = (h + 1) & (nslots - 1);
		slots[h] = (int)i;
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	t->cap = nslots / 2;
	return 0;
}

/* The index of s in the table, added if new; -1 when out of memory. */
static int64_t strtab_id(struct strtab *t, const char *s)
{
	size_t h;

	if (t->n + 1 > t->cap && strtab_grow(t) < 0)
		return -1;
	for (h = name_hash(s) & (t->nslots - 1); t->slots[h] >= 0;
	     h = (h + 1) & (t->nslots - 1))
		if (strcmp(t->s[t->slots[h]], s) == 0)
			return t->slots[h];
	t->slots[h] = (int)t->n;
	t->s[t->n] = (char *)s;
	return (int64_t)t->n++;
}

/* ---- the profile message --------------------------------------------------- */

/* Everything the message points to, freed in one place. */
struct pprof {
	Profile prof;
	struct strtab st;
	ValueType types[2], *type_ptrs[2];
	Mapping map, *map_ptr;
	Function *funcs, **func_ptrs;
	Location *locs, **loc_ptrs;
	Line *lines, **line_ptrs;
	Sample *samples, **sample_ptrs;
	uint64_t *stacks;	/* every sample's location ids */
	int64_t *values;	/* every sample's two values */
	Label *labels, **label_ptrs;	/* one "pid" label per entry */
	size_t nfuncs, nsamples, nstack;	/* room (counted first) */
	size_t stack_used;	/* of stacks, by the samples so far */
};

static void pprof_free(struct pprof *p)
{
	free(p->st.s);
	free(p->st.slots);
	free(p->funcs);
	free(p->func_ptrs);
	free(p->locs);
	free(p->loc_ptrs);
	free(p->lines);
	free(p->line_ptrs);
	free(p->samples);
	free(p->sample_ptrs);
	free(p->stacks);
	free(p->values);
	free(p->labels);
	free(p->label_ptrs);
}

/* What one entry contributes: the call paths of rep, vals[2 * i] and
 * vals[2 * i + 1] the memory and calls of node i's sample. */
struct source {
	const struct report *rep;
	const int64_t *vals;
	int pid;		/* 0: no label */
};

static bool node_sampled(const struct source *src, size_t i)
{
	return src->vals[2 * i] != 0 || src->vals[2 * i + 1] != 0;
}

/* used[i]: node i is sampled or on the stack of a sampled node.  A
 * parent's id is smaller than its children's: one pass up does it. */
static void nodes_used(const struct source *src, bool *used)
{
	const struct report *r = src->rep;

	for (size_t i = r->nnodes; i-- > 0;) {
		used[i] = used[i] || node_sampled(src, i);
		if (used[i] && r->nodes[i].parent != REPORT_ROOT)
			used[r->nodes[i].parent] = true;
	}
}

static size_t node_depth(const struct report *r, int id)
{
	size_t d = 0;

	for (; id != REPORT_ROOT; id = r->nodes[id].parent)
		d++;
	return d;
}

/* Room: functions (every function of every entry, at most), samples and
 * stack entries. */
static int pprof_alloc(struct pprof *p, const struct source *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct report *r = src[i].rep;

		p->nfuncs += r->nfuncs;
		for (size_t j = 0; j < r->nnodes; j++)
			if (node_sampled(&src[i], j)) {
				p->nsamples++;
				p->nstack += node_depth(r, (int)j);
			}
	}
#define ROOM(field, count) \
	(!(p->field = calloc((count) + 1, sizeof(*p->field))))
	if (ROOM(funcs, p->nfuncs) || ROOM(func_ptrs, p->nfuncs) ||
	    ROOM(locs, p->nfuncs) || ROOM(loc_ptrs, p->nfuncs) ||
	    ROOM(lines, p->nfuncs) || ROOM(line_ptrs, p->nfuncs) ||
	    ROOM(samples, p->nsamples) || ROOM(sample_ptrs, p->nsamples) ||
	    ROOM(stacks, p->nstack) || ROOM(values, 2 * p->nsamples) ||
	    ROOM(labels, n) || ROOM(label_ptrs, n))
		return -1;
#undef ROOM
	return 0;
}

/* Function and location `id` (> 0) for function f. */
static int add_function(struct pprof *p, uint64_t id, const struct func *f)
{
	Profile *pr = &p->prof;
	size_t k = pr->n_function;
	int64_t name = strtab_id(&p->st, f->name);
	int64_t file = strtab_id(&p->st, f->file);

	if (name < 0 || file < 0)
		return -1;
	perftools__profiles__function__init(&p->funcs[k]);
	p->funcs[k].id = id;
	p->funcs[k].name = p->funcs[k].system_name = name;
	p->funcs[k].filename = file;
	p->funcs[k].start_line = f->line;
	p->func_ptrs[k] = &p->funcs[k];

	perftools__profiles__line__init(&p->lines[k]);
	p->lines[k].function_id = id;
	p->lines[k].line = f->line;
	p->line_ptrs[k] = &p->lines[k];

	perftools__profiles__location__init(&p->locs[k]);
	p->locs[k].id = id;
	p->locs[k].mapping_id = p->map.id;
	p->locs[k].n_line = 1;
	p->locs[k].line = &p->line_ptrs[k];
	p->loc_ptrs[k] = &p->locs[k];

	pr->n_function = pr->n_location = k + 1;
	return 0;
}

/* The sample of node id; function fn of this entry is location base+fn+1. */
static void add_sample(struct pprof *p, const struct source *src, int id,
		       uint64_t base, Label **label)
{
	Profile *pr = &p->prof;
	size_t k = pr->n_sample;
	Sample *s = &p->samples[k];
	const struct report *r = src->rep;
	uint64_t *stack = p->stacks + p->stack_used;

	perftools__profiles__sample__init(s);
	s->location_id = stack;
	for (int q = id; q != REPORT_ROOT; q = r->nodes[q].parent)
		stack[s->n_location_id++] = base + (uint64_t)r->nodes[q].fn + 1;
	s->n_value = 2;
	s->value = &p->values[2 * k];
	s->value[0] = src->vals[2 * id];
	s->value[1] = src->vals[2 * id + 1];
	if (label) {
		s->n_label = 1;
		s->label = label;
	}
	p->stack_used += s->n_location_id;
	p->sample_ptrs[k] = s;
	pr->n_sample = k + 1;
}

/* The functions and samples of entry k. */
static int add_entry(struct pprof *p, const struct source *src, size_t k,
		     uint64_t base)
{
	const struct report *r = src->rep;
	bool *used = calloc(r->nnodes ? r->nnodes : 1, sizeof(*used));
	bool *fused = calloc(r->nfuncs ? r->nfuncs : 1, sizeof(*fused));
	Label **label = NULL;
	int ret = -1;

	if (!used || !fused)
		goto out;
	if (src->pid) {
		perftools__profiles__label__init(&p->labels[k]);
		if ((p->labels[k].key = strtab_id(&p->st, "pid")) < 0)
			goto out;
		p->labels[k].num = src->pid;
		p->label_ptrs[k] = &p->labels[k];
		label = &p->label_ptrs[k];
	}
	nodes_used(src, used);
	for (size_t i = 0; i < r->nnodes; i++)
		if (used[i])
			fused[r->nodes[i].fn] = true;
	for (size_t f = 0; f < r->nfuncs; f++)
		if (fused[f] && add_function(p, base + f + 1, &r->funcs[f]) < 0)
			goto out;
	for (size_t i = 0; i < r->nnodes; i++)
		if (node_sampled(src, i))
			add_sample(p, src, (int)i, base, label);
	ret = 0;
out:
	free(used);
	free(fused);
	return ret;
}

static int set_type(struct pprof *p, int i, const char *type,
		    const char *unit)
{
	perftools__profiles__value_type__init(&p->types[i]);
	p->types[i].type = strtab_id(&p->st, type);
	p->types[i].unit = strtab_id(&p->st, unit);
	p->type_ptrs[i] = &p->types[i];
	return p->types[i].type < 0 || p->types[i].unit < 0 ? -1 : 0;
}

static int pprof_build(struct pprof *p, const struct source *src, size_t n,
		       const struct report_program *prog)
{
	Profile *pr = &p->prof;
	uint64_t base = 0;

	perftools__profiles__profile__init(pr);
	if (strtab_id(&p->st, "") < 0 || pprof_alloc(p, src, n) < 0 ||
	    set_type(p, 0, "memory", "bytes") < 0 ||
	    set_type(p, 1, "calls", "count") < 0)
		return -1;
	pr->n_sample_type = 2;
	pr->sample_type = p->type_ptrs;
	pr->default_sample_type = p->types[0].type;

	perftools__profiles__mapping__init(&p->map);
	p->map.id = 1;
	p->map.filename = strtab_id(&p->st, prog && prog->path ? prog->path : "");
	p->map.build_id = strtab_id(&p->st, prog && prog->build_id ?
					    prog->build_id : "");
	if (p->map.filename < 0 || p->map.build_id < 0)
		return -1;
	/* everything is here: no reader should try to symbolize */
	p->map.has_functions = p->map.has_filenames = true;
	p->map.has_line_numbers = true;
	p->map_ptr = &p->map;
	pr->n_mapping = 1;
	pr->mapping = &p->map_ptr;

	pr->function = p->func_ptrs;
	pr->location = p->loc_ptrs;
	pr->sample = p->sample_ptrs;
	for (size_t i = 0; i < n; i++) {
		if (add_entry(p, &src[i], i, base) < 0)
			return -1;
		base += src[i].rep->nfuncs;
	}
	pr->n_string_table = p->st.n;
	pr->string_table = p->st.s;
	return 0;
}

/* buf, gzipped (a zero mtime: the same input gives the same bytes), to out. */
static int gzip_write(const uint8_t *buf, size_t len, FILE *out)
{
	z_stream zs = { 0 };
	uint8_t *gz;
	size_t room;
	int ret = -1;

	if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		errno = ENOMEM;
		return -1;
	}
	room = deflateBound(&zs, len);
	gz = malloc(room);
	if (gz) {
		zs.next_in = (uint8_t *)buf;
		zs.avail_in = (uInt)len;
		zs.next_out = gz;
		zs.avail_out = (uInt)room;
		if (deflate(&zs, Z_FINISH) == Z_STREAM_END) {
			fwrite(gz, 1, zs.total_out, out);
			ret = fflush(out) == EOF ? -1 : out_status(out);
		} else {
			errno = ENOMEM;
		}
	} else {
		errno = ENOMEM;
	}
	deflateEnd(&zs);
	free(gz);
	return ret;
}

static int pprof_write(const struct source *src, size_t n, FILE *out,
		       const struct report_program *prog)
{
	struct pprof p = { 0 };
	uint8_t *buf = NULL;
	size_t len;
	int ret = -1;

	if (pprof_build(&p, src, n, prog) < 0) {
		errno = ENOMEM;
		goto out;
	}
	len = protobuf_c_message_get_packed_size(&p.prof.base);
	if (len > UINT32_MAX) {
		errno = EFBIG;	/* more than zlib takes in one go */
		goto out;
	}
	buf = malloc(len ? len : 1);
	if (!buf) {
		errno = ENOMEM;
		goto out;
	}
	protobuf_c_message_pack(&p.prof.base, buf);
	ret = gzip_write(buf, len, out);
out:
	free(buf);
	pprof_free(&p);
	return ret;
}

/* ---- the entry points ------------------------------------------------------ */

int report_write_pprof(const struct report_entry *e, size_t n, FILE *out,
		       const struct report_program *prog)
{
	struct source *src = calloc(n ? n : 1, sizeof(*src));
	size_t k = 0;
	int ret = -1;

	for (; src && k < n; k++) {
		const struct report *r = e[k].rep;
		int64_t *v = malloc((r->nnodes ? 2 * r->nnodes : 1) * sizeof(*v));

		if (!v)
			break;
		for (size_t j = 0; j < r->nnodes; j++) {
			v[2 * j] = (int64_t)r->nodes[j].self_bytes;
			v[2 * j + 1] = (int64_t)r->nodes[j].calls;
		}
		src[k] = (struct source){ r, v, e[k].pid };
	}
	if (src && k == n)
		ret = pprof_write(src, n, out, prog);
	else
		errno = ENOMEM;
	for (size_t i = 0; i < k; i++)
		free((int64_t *)src[i].vals);
	free(src);
	return ret;
}

/* The pid label of a pair: the new process's, or the old's when it is only
 * there; none when the records hold no processes. */
static int pair_pid(const struct diff_pair *p)
{
	if (p->new && p->new->pid)
		return p->new->pid;
	return p->old ? p->old->pid : 0;
}

int report_diff_write_pprof(const struct report_entry *old, size_t nold,
			    const struct report_entry *new, size_t nnew,
			    FILE *out, const struct report_program *prog)
{
	struct diff_pair *p;
	long n = diff_pairs(old, nold, new, nnew, &p);
	struct diff_tree *t = calloc(n > 0 ? (size_t)n : 1, sizeof(*t));
	struct source *src = calloc(n > 0 ? (size_t)n : 1, sizeof(*src));
	long k = 0;
	int ret = -1;

	for (; n >= 0 && t && src && k < n; k++) {
		if (diff_tree_build(p[k].old ? p[k].old->rep : NULL,
				    p[k].new ? p[k].new->rep : NULL, &t[k]) < 0)
			break;
		src[k] = (struct source){ t[k].rep, t[k].vals, pair_pid(&p[k]) };
	}
	if (n >= 0 && t && src && k == n)
		ret = pprof_write(src, (size_t)n, out, prog);
	else
		errno = ENOMEM;
	for (long i = 0; i < k; i++)
		diff_tree_free(&t[i]);
	free(t);
	free(src);
	free(p);
	return ret;
}
