/* records: the demo program for `make demo`.
 *
 * Parses a schema ("id,name,score"), generates 20,000 records of that form as
 * CSV text in memory, parses them into an array of structs, indexes them by
 * id in a hash table, looks up a sample of ids and prints a one-line summary.
 * Its functions have deliberately different memory behaviour, so the profile
 * has something to show:
 *
 *   parse_header    three small strdup's: the first allocation of the
 *                   process, it touches the malloc heap's first page
 *   generate_text   one big buffer, written line by line: a big allocator
 *   parse_line      one small strdup per record: most calls touch no new
 *                   page, a few do (Calls is much lower than the call count)
 *   parse_records   grows the record array with realloc; calls parse_line
 *   load_records    calls all of the above, then frees the text buffer, which
 *                   gives its pages back and so lowers its own delta
 *   build_index     a bucket array and a node array
 *   lookup_sample   allocates nothing, and neither does index_find, which it
 *                   calls: neither appears in the table
 *
 * next_rand and hash_id are always inlined, even at -O0: they have no
 * out-of-line instance, so iprofmem does not trace them (and the demo makes
 * about 25,000 traced calls, 20,000 of them to parse_line). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NRECORDS	20000
#define NLOOKUPS	5000
#define MAX_LINE	64	/* room for one "id,name,score\n" line */
#define SCHEMA		"id,name,score"

struct record {
	int id;
	char *name;
	double score;
};

struct header {
	char *cols[8];
	int ncols;
};

struct node {
	const struct record *rec;
	struct node *next;
};

struct index {
	struct node **buckets;
	struct node *nodes;
	size_t mask;		/* number of buckets - 1 (a power of two) */
};

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "records: %s\n", what);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (!p)
		die("out of memory");
	return p;
}

/* A fixed LCG, so every run builds the same records. */
static inline __attribute__((always_inline))
uint32_t next_rand(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

static inline __attribute__((always_inline))
size_t hash_id(int id, size_t mask)
{
	return ((uint32_t)id * 2654435761u) & mask;
}

/* Split a header line ("id,name,score") into column names. */
static void parse_header(const char *line, struct header *h)
{
	const char *end = line + strcspn(line, "\n");

	h->ncols = 0;
	while (line < end && h->ncols < 8) {
		const char *comma = memchr(line, ',', (size_t)(end - line));
		const char *stop = comma ? comma : end;

		h->cols[h->ncols] = strndup(line, (size_t)(stop - line));
		if (!h->cols[h->ncols])
			die("out of memory");
		h->ncols++;
		line = stop + (comma != NULL);
	}
}

/* Build the whole CSV text, header line first, in one buffer sized for the
 * worst case.  Returns the buffer (NUL-terminated). */
static char *generate_text(const struct header *h, int n)
{
	static const char *const syllables[] = {
		"ka", "lo", "mi", "ra", "ben", "to", "sa", "vi",
		"nor", "el", "du", "fi", "ga", "ho", "jun", "pe",
	};
	size_t cap = (size_t)(n + 1) * MAX_LINE;	/* header + records */
	char *buf = xmalloc(cap);
	size_t off = 0;
	uint32_t seed = 12345;

	for (int c = 0; c < h->ncols; c++) {
		char sep = c + 1 < h->ncols ? ',' : '\n';

		off += (size_t)snprintf(buf + off, cap - off, "%s%c",
					h->cols[c], sep);
	}
	for (int i = 0; i < n; i++) {
		char name[32] = "";
		int nsyl = 2 + (int)(next_rand(&seed) % 3);
		unsigned whole, cents;

		for (int s = 0; s < nsyl; s++)
			strcat(name, syllables[next_rand(&seed) % 16]);
		/* Two statements: argument evaluation order is unspecified. */
		whole = next_rand(&seed) % 100;
		cents = next_rand(&seed) % 100;
		off += (size_t)snprintf(buf + off, cap - off, "%d,%s,%u.%02u\n",
					100000 + 7 * i, name, whole, cents);
	}
	return buf;
}

static void free_header(struct header *h)
{
	for (int i = 0; i < h->ncols; i++)
		free(h->cols[i]);
	h->ncols = 0;
}

/* Parse one "id,name,score" line into rec (the name is copied).  Returns the
 * start of the next line, or NULL when the line is malformed. */
static const char *parse_line(const char *line, struct record *rec)
{
	char *end;
	const char *comma;

	rec->id = (int)strtol(line, &end, 10);
	if (*end != ',')
		return NULL;
	line = end + 1;
	comma = strchr(line, ',');
	if (!comma)
		return NULL;
	rec->name = strndup(line, (size_t)(comma - line));
	if (!rec->name)
		die("out of memory");
	rec->score = strtod(comma + 1, &end);
	if (*end != '\n') {
		free(rec->name);
		return NULL;
	}
	return end + 1;
}

/* Parse every record line, growing the array by doubling. */
static struct record *parse_records(const char *text, size_t *count)
{
	struct record *recs = NULL;
	size_t n = 0, cap = 0;

	while (*text) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			recs = xrealloc(recs, cap * sizeof *recs);
		}
		text = parse_line(text, &recs[n]);
		if (!text)
			die("malformed record");
		n++;
	}
	*count = n;
	return recs;
}

/* Schema to text to records.  The text is only a temporary: it is freed
 * here. */
static struct record *load_records(int n, size_t *count)
{
	struct header h;
	char *text;
	struct record *recs;

	parse_header(SCHEMA, &h);
	if (h.ncols != 3 || strcmp(h.cols[0], "id") != 0)
		die("unexpected columns");
	text = generate_text(&h, n);
	free_header(&h);
	/* The records start after the header line. */
	recs = parse_records(strchr(text, '\n') + 1, count);
	free(text);
	return recs;
}

static struct index *build_index(const struct record *recs, size_t n)
{
	struct index *idx = xmalloc(sizeof *idx);
	size_t nbuckets = 1;

	while (nbuckets < 2 * n)
		nbuckets *= 2;
	idx->mask = nbuckets - 1;
	idx->buckets = calloc(nbuckets, sizeof *idx->buckets);
	if (!idx->buckets)
		die("out of memory");
	idx->nodes = xmalloc(n * sizeof *idx->nodes);
	for (size_t i = 0; i < n; i++) {
		size_t b = hash_id(recs[i].id, idx->mask);

		idx->nodes[i].rec = &recs[i];
		idx->nodes[i].next = idx->buckets[b];
		idx->buckets[b] = &idx->nodes[i];
	}
	return idx;
}

static const struct record *index_find(const struct index *idx, int id)
{
	for (const struct node *nd = idx->buckets[hash_id(id, idx->mask)]; nd;
	     nd = nd->next)
		if (nd->rec->id == id)
			return nd->rec;
	return NULL;
}

/* Look up nlookups ids, about half of which exist.  Allocates nothing. */
static double lookup_sample(const struct index *idx, int nlookups, int *found)
{
	double sum = 0;
	uint32_t seed = 777;

	*found = 0;
	for (int i = 0; i < nlookups; i++) {
		int id = 100000 + 7 * (int)(next_rand(&seed) % (2 * NRECORDS));
		const struct record *r = index_find(idx, id);

		if (r) {
			sum += r->score;
			(*found)++;
		}
	}
	return sum;
}

static void free_all(struct record *recs, size_t n, struct index *idx)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].name);
	free(recs);
	free(idx->buckets);
	free(idx->nodes);
	free(idx);
}

int main(void)
{
	size_t n;
	struct record *recs = load_records(NRECORDS, &n);
	struct index *idx = build_index(recs, n);
	int found;
	double sum = lookup_sample(idx, NLOOKUPS, &found);

	printf("records: %zu parsed, %d of %d lookups found, score sum %.2f\n",
	       n, found, NLOOKUPS, sum);
	free_all(recs, n, idx);
	return 0;
}
