/* Unit tests for probe/ring: the producer and consumer sides in one
 * process, with pthreads as the program's threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "probe/ring.h"

/* A ring in heap memory, as iprofmem would map it. */
struct fixture {
	void *mem;
	size_t size;
	unsigned order;
	struct ring_producer prod;
	struct ring_reader rd;
};

static void fixture_open(struct fixture *f, unsigned order)
{
	f->order = order;
	f->size = ring_bytes(order);
	assert_true(f->size > 0);
	f->mem = aligned_alloc(RING_CACHELINE, f->size);
	assert_non_null(f->mem);
	memset(f->mem, 0xa5, f->size);	/* ring_init must clear it */
	assert_int_equal(ring_init(f->mem, order), 0);
	ring_producer_init(&f->prod, f->mem, order);
	assert_int_equal(ring_reader_open(&f->rd, f->mem, f->size, order), 0);
}

static void fixture_close(struct fixture *f)
{
	free(f->mem);
}

/* Collects delivered events. */
struct sink {
	struct ring_event ev[4096];
	size_t n;
};

static void collect(const struct ring_event *ev, void *arg)
{
	struct sink *s = arg;

	assert_true(s->n < sizeof(s->ev) / sizeof(*s->ev));
	s->ev[s->n++] = *ev;
}

static const struct ring_limits limits = { .nsites = 1000, .nthreads = 64 };

static void put_numbered(struct fixture *f, uint64_t i)
{
	/* every field derived from i, so a mixed-up record shows */
	ring_put(&f->prod, (uint32_t)(i % 1000), (uint16_t)(i % 64),
		 i & 1 ? RING_RETURN : RING_ENTRY, 0x7ffd0000 + i * 8,
		 100 + i, 1000000 + i);
}

static void assert_numbered(const struct ring_event *ev, uint64_t i)
{
	assert_int_equal(ev->site, i % 1000);
	assert_int_equal(ev->thread, i % 64);
	assert_int_equal(ev->kind, i & 1 ? RING_RETURN : RING_ENTRY);
	assert_int_equal(ev->sp, 0x7ffd0000 + i * 8);
	assert_int_equal(ev->rss, 100 + i);
	assert_int_equal(ev->key, 1000000 + i);
}

/* ---- layout ---- */

static void test_geometry(void **state)
{
	struct fixture f;
	const struct ring_header *h;

	(void)state;
	assert_int_equal(ring_bytes(0), 0);
	assert_int_equal(ring_bytes(RING_ORDER_MAX + 1), 0);
	assert_int_equal(ring_bytes(4), RING_HEADER_SIZE + 16 * RING_RECORD_SIZE);
	assert_int_equal(ring_init(NULL, 0), -1);
	assert_int_equal(offsetof(struct ring_header, head) % RING_CACHELINE, 0);
	assert_int_equal(offsetof(struct ring_header, tail) % RING_CACHELINE, 0);
	assert_int_equal(offsetof(struct ring_header, space) % RING_CACHELINE, 0);
	fixture_open(&f, 4);
	h = f.mem;
	assert_true(h->magic == RING_MAGIC);
	assert_int_equal(h->version, RING_VERSION);
	assert_int_equal(h->record_size, RING_RECORD_SIZE);
	assert_int_equal(h->order, 4);
	assert_int_equal(h->head, 0);
	assert_int_equal(h->tail, 0);
	assert_int_equal(f.rd.mask, 15);
	assert_int_equal(f.prod.mask, 15);
	assert_true((char *)f.prod.rec == (char *)f.mem + RING_HEADER_SIZE);
	/* every record zeroed: seq 0 means "never committed" for position 0.. */
	for (size_t i = 0; i < 16; i++)
		assert_int_equal(f.prod.rec[i].seq, 0);
	/* a mapping too small for its order */
	assert_int_equal(ring_reader_open(&f.rd, f.mem, f.size - 1, 4), -1);
	fixture_close(&f);
}

/* ---- ordering ---- */

static void test_order_and_fields(void **state)
{
	static struct sink s;
	struct fixture f;

	(void)state;
	s.n = 0;
	fixture_open(&f, 6);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 0);
	for (uint64_t i = 0; i < 50; i++)
		put_numbered(&f, i);
	assert_int_equal(ring_pending(&f.rd), 50);
	/* max bounds one call; the rest waits for the next */
	assert_int_equal(ring_drain(&f.rd, &limits, 20, collect, &s), 20);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 30);
	assert_int_equal(s.n, 50);
	for (uint64_t i = 0; i < 50; i++) {
		assert_int_equal(s.ev[i].pos, i);
		assert_numbered(&s.ev[i], i);
	}
	assert_int_equal(f.rd.stats.events, 50);
	assert_int_equal(((struct ring_header *)f.mem)->tail, 50);
	assert_int_equal(ring_pending(&f.rd), 0);
	fixture_close(&f);
}

/* Every field keeps its full width. */
static void test_wide_values(void **state)
{
	static struct sink s;
	struct fixture f;

	(void)state;
	s.n = 0;
	fixture_open(&f, 2);
	ring_put(&f.prod, UINT32_MAX - 1, UINT16_MAX, RING_RETURN,
		 UINT64_MAX - 7, (uint64_t)1 << 40, UINT64_MAX);
	assert_int_equal(ring_drain(&f.rd, &(struct ring_limits){ UINT32_MAX,
		UINT32_MAX }, SIZE_MAX, collect, &s), 1);
	assert_int_equal(s.ev[0].site, UINT32_MAX - 1);
	assert_int_equal(s.ev[0].thread, UINT16_MAX);
	assert_true(s.ev[0].sp == UINT64_MAX - 7);
	assert_true(s.ev[0].rss == (uint64_t)1 << 40);
	assert_true(s.ev[0].key == UINT64_MAX);
	fixture_close(&f);
}

/* ---- wraparound ---- */

/* Many laps of a small ring, in uneven batches, past the point where the
 * 8-bit sequence (the lap) wraps. */
static void test_wraparound(void **state)
{
	static struct sink s;
	struct fixture f;
	uint64_t next = 0, seen = 0;

	(void)state;
	fixture_open(&f, 2);
	for (int round = 0; round < 1000; round++) {
		unsigned batch = 1 + round % 4;	/* up to a full ring */

		for (unsigned i = 0; i < batch; i++)
			put_numbered(&f, next++);
		s.n = 0;
		assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s),
				 batch);
		for (size_t i = 0; i < s.n; i++, seen++) {
			assert_true(s.ev[i].pos == seen);
			assert_numbered(&s.ev[i], seen);
		}
	}
	assert_true(seen == next);
	assert_true(seen / 4 > 2 * 256);	/* laps */
	assert_int_equal(f.rd.stats.events, next);
	fixture_close(&f);
}

/* ---- full ring ---- */

struct one_put {
	struct fixture *f;
	unsigned waits;
	int done;
};

static void *put_one(void *arg)
{
	struct one_put *o = arg;

	o->waits = ring_put(&o->f->prod, 7, 3, RING_RETURN, 0x2000, 9, 99);
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* A producer facing a full ring waits (through the spin, the yields and
 * into the futex), never overwrites, and goes on once the consumer
 * drains. */
static void test_full_ring_waits(void **state)
{
	static struct sink s;
	struct fixture f;
	struct one_put o = { &f, 0, 0 };
	pthread_t t;

	(void)state;
	s.n = 0;
	fixture_open(&f, 2);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(ring_put(&f.prod, (uint32_t)i, 1, RING_ENTRY,
					  0x1000, 1, i), 0);
	assert_int_equal(pthread_create(&t, NULL, put_one, &o), 0);
	sleep_ms(50);
	assert_int_equal(__atomic_load_n(&o.done, __ATOMIC_ACQUIRE), 0);
	/* reserved but not written: the oldest record is intact */
	assert_int_equal(((struct ring_header *)f.mem)->head, 5);
	assert_int_equal(f.prod.rec[0].seq, 1);
	assert_int_equal(f.prod.rec[0].site, 0);
	assert_int_equal(ring_drain(&f.rd, &limits, 2, collect, &s), 2);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(o.waits > 0);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 3);
	assert_int_equal(s.n, 5);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(s.ev[i].site, i);
	assert_int_equal(s.ev[4].site, 7);
	assert_int_equal(s.ev[4].thread, 3);
	assert_int_equal(s.ev[4].key, 99);
	fixture_close(&f);
}

/* ---- multiple producers ---- */

#define MP_THREADS	4
#define MP_EVENTS	50000

struct producer_arg {
	struct fixture *f;
	uint16_t id;
	unsigned waits;
};

static void *produce(void *arg)
{
	struct producer_arg *a = arg;

	for (uint64_t i = 0; i < MP_EVENTS; i++)
		a->waits += ring_put(&a->f->prod, (uint32_t)(i % 1000), a->id,
				     i & 1 ? RING_RETURN : RING_ENTRY,
				     0x7ff000000000ULL + a->id, i, i);
	return NULL;
}

/* The same, as the ring's only producer (ring_put_alone). */
static void *produce_alone(void *arg)
{
	struct producer_arg *a = arg;

	for (uint64_t i = 0; i < MP_EVENTS; i++)
		a->waits += ring_put_alone(&a->f->prod, (uint32_t)(i % 1000),
					   a->id, i & 1 ? RING_RETURN : RING_ENTRY,
					   0x7ff000000000ULL + a->id, i, i);
	return NULL;
}

struct mp_sink {
	uint64_t count[MP_THREADS];
	uint64_t next[MP_THREADS];	/* each thread's events come in order */
	uint64_t misordered, last_pos;
	int any;
};

static void check_mp(const struct ring_event *ev, void *arg)
{
	struct mp_sink *s = arg;
	uint16_t t = ev->thread;

	if (t >= MP_THREADS || ev->key != s->next[t] ||
	    ev->site != ev->key % 1000 || ev->rss != ev->key ||
	    ev->sp != 0x7ff000000000ULL + t ||
	    ev->kind != (ev->key & 1 ? RING_RETURN : RING_ENTRY) ||
	    (s->any && ev->pos != s->last_pos + 1)) {
		s->misordered++;
		return;
	}
	s->any = 1;
	s->last_pos = ev->pos;
	s->next[t]++;
	s->count[t]++;
}

/* Threads write concurrently into a small ring, so they also wait for each
 * other and for the consumer; the consumer drains as they go.  Every event
 * arrives once, intact, each thread's in its order. */
static void test_multi_producer(void **state)
{
	static const struct ring_limits lim = { 1000, MP_THREADS };
	struct producer_arg args[MP_THREADS];
	pthread_t t[MP_THREADS];
	struct mp_sink s = { 0 };
	struct fixture f;
	uint64_t total = 0;

	(void)state;
	fixture_open(&f, 6);
	for (int i = 0; i < MP_THREADS; i++) {
		args[i] = (struct producer_arg){ &f, (uint16_t)i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, produce, &args[i]), 0);
	}
	while (total < (uint64_t)MP_THREADS * MP_EVENTS) {
		size_t n = ring_drain(&f.rd, &lim, 16, check_mp, &s);

		if (!n)
			sched_yield();
		total += n;
	}
	for (int i = 0; i < MP_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(ring_drain(&f.rd, &lim, SIZE_MAX, check_mp, &s), 0);
	assert_int_equal(s.misordered, 0);
	for (int i = 0; i < MP_THREADS; i++)
		assert_int_equal(s.count[i], MP_EVENTS);
	assert_int_equal(f.rd.stats.events, (uint64_t)MP_THREADS * MP_EVENTS);
	assert_int_equal(f.rd.stats.bad_site + f.rd.stats.bad_thread +
			 f.rd.stats.bad_kind + f.rd.stats.bad_header, 0);
	assert_int_equal(((struct ring_header *)f.mem)->head,
			 (uint64_t)MP_THREADS * MP_EVENTS);
	fixture_close(&f);
}

/* The only producer reserves with a plain increment: into a ring of 16
 * that the consumer drains as it goes, every event arrives once, intact,
 * in order (waiting itself is put_at's, test_full_ring_waits). */
static void test_alone_producer(void **state)
{
	static const struct ring_limits lim = { 1000, MP_THREADS };
	struct producer_arg arg;
	struct mp_sink s = { 0 };
	struct fixture f;
	uint64_t total = 0;
	pthread_t t;

	(void)state;
	fixture_open(&f, 4);
	arg = (struct producer_arg){ &f, 3, 0 };
	assert_int_equal(pthread_create(&t, NULL, produce_alone, &arg), 0);
	while (total < MP_EVENTS) {
		size_t n = ring_drain(&f.rd, &lim, 8, check_mp, &s);

		if (!n)
			sched_yield();
		total += n;
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(ring_drain(&f.rd, &lim, SIZE_MAX, check_mp, &s), 0);
	assert_int_equal(s.misordered, 0);
	assert_int_equal(s.count[3], MP_EVENTS);
	assert_int_equal(((struct ring_header *)f.mem)->head, MP_EVENTS);
	fixture_close(&f);
}

/* ---- untrusted contents ---- */

/* Write a record by hand, as a scribbling program could. */
static void forge(struct fixture *f, uint64_t pos, uint32_t site,
		  uint16_t thread, uint8_t kind)
{
	struct ring_record *r = &f->prod.rec[pos & f->prod.mask];

	r->site = site;
	r->thread = thread;
	r->kind = kind;
	r->rss = 1;
	r->sp = 0x1000;
	r->key = pos;
	r->seq = (uint8_t)((pos >> f->order) + 1);
}

/* ring_try_put_alone writes while the ring has room for the record and
 * RING_NEST more, and writes nothing (0) after that; records it wrote are
 * those ring_put would have, across laps. */
static void test_try_put_alone(void **state)
{
	static struct sink s;
	struct fixture f;
	uint64_t i = 0, lap = 64;

	(void)state;
	s.n = 0;
	fixture_open(&f, 6);		/* 64 records */
	for (; ring_try_put_alone(&f.prod, (uint32_t)(i % 1000),
				  (uint16_t)(i % 64),
				  i & 1 ? RING_RETURN : RING_ENTRY,
				  0x7ffd0000 + i * 8, 100 + i, 1000000 + i); i++)
		;
	/* it stopped RING_NEST short of full, and wrote nothing then */
	assert_int_equal(i, lap - RING_NEST);
	assert_int_equal(ring_pending(&f.rd), lap - RING_NEST);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s),
			 lap - RING_NEST);
	/* room again: into the next lap */
	for (uint64_t k = 0; k < 40; k++, i++)
		assert_int_equal(ring_try_put_alone(&f.prod, (uint32_t)(i % 1000),
				 (uint16_t)(i % 64),
				 i & 1 ? RING_RETURN : RING_ENTRY,
				 0x7ffd0000 + i * 8, 100 + i, 1000000 + i), 1);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 40);
	assert_int_equal(s.n, i);
	for (uint64_t k = 0; k < i; k++) {
		assert_int_equal(s.ev[k].pos, k);
		assert_numbered(&s.ev[k], k);
	}
	assert_int_equal(f.rd.stats.events, i);
	fixture_close(&f);
}

static void test_corrupt_records(void **state)
{
	static struct sink s;
	struct fixture f;

	(void)state;
	s.n = 0;
	fixture_open(&f, 4);
	forge(&f, 0, 5, 1, RING_ENTRY);			/* good */
	forge(&f, 1, 1000, 1, RING_ENTRY);		/* site == nsites */
	forge(&f, 2, UINT32_MAX, 1, RING_RETURN);	/* site far out */
	forge(&f, 3, 5, 64, RING_ENTRY);		/* thread == nthreads */
	forge(&f, 4, 5, UINT16_MAX, RING_RETURN);
	forge(&f, 5, 5, 1, 0);				/* no such kind */
	forge(&f, 6, 5, 1, RING_DEST + 1);
	forge(&f, 7, 6, 2, RING_RETURN);		/* good */
	/* position 8: a record from the previous lap */
	forge(&f, 8 - 16, 7, 1, RING_ENTRY);
	forge(&f, 9, 8, 1, RING_ENTRY);			/* beyond the hole */
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 8);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ev[0].site, 5);
	assert_int_equal(s.ev[0].pos, 0);
	assert_int_equal(s.ev[1].site, 6);
	assert_int_equal(s.ev[1].pos, 7);
	assert_int_equal(f.rd.stats.events, 2);
	assert_int_equal(f.rd.stats.bad_site, 2);
	assert_int_equal(f.rd.stats.bad_thread, 2);
	assert_int_equal(f.rd.stats.bad_kind, 2);
	/* the stale record is not consumed: position 8 waits for its commit */
	assert_true(f.rd.tail == 8);
	forge(&f, 8, 7, 1, RING_ENTRY);
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 2);
	assert_int_equal(s.ev[2].site, 7);
	assert_int_equal(s.ev[3].site, 8);
	fixture_close(&f);
}

/* A program that keeps "committing" every slot cannot hold the consumer in
 * one drain for more than a lap. */
static void test_drain_bounded(void **state)
{
	static struct sink s;
	struct fixture f;

	(void)state;
	fixture_open(&f, 3);
	for (uint64_t lap = 0; lap < 3; lap++) {
		s.n = 0;
		for (uint64_t i = 0; i < 8; i++)
			forge(&f, lap * 8 + i, 1, 1, RING_ENTRY);
		assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 8);
		assert_int_equal(s.n, 8);
	}
	fixture_close(&f);
}

/* Nonsense in the header: the consumer keeps its own geometry and read
 * position, counts the nonsense, and still reads by the commit words. */
static void test_corrupt_header(void **state)
{
	static struct sink s;
	struct fixture f;
	struct ring_header *h;

	(void)state;
	s.n = 0;
	fixture_open(&f, 3);
	h = f.mem;
	put_numbered(&f, 0);
	put_numbered(&f, 1);
	h->magic = 0;
	h->order = 63;
	h->record_size = 1;
	h->head = 3;
	h->tail = UINT64_MAX - 5;
	h->waiters = UINT32_MAX;
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 2);
	assert_int_equal(s.n, 2);
	assert_numbered(&s.ev[1], 1);
	assert_int_equal(f.rd.stats.bad_header, 1);
	assert_true(h->tail == 2);	/* ours, written back */
	/* head behind our position */
	h->head = 0;
	assert_int_equal(ring_pending(&f.rd), 0);
	h->head = UINT64_MAX;
	assert_int_equal(ring_pending(&f.rd), 0);
	h->head = 1000;
	assert_int_equal(ring_pending(&f.rd), 8);	/* clamped to a lap */
	assert_int_equal(ring_drain(&f.rd, &limits, SIZE_MAX, collect, &s), 0);
	assert_int_equal(f.rd.stats.bad_header, 2);
	fixture_close(&f);
}

/* A program thread scribbling over the whole mapping while the consumer
 * drains: every delivered event still passes the limits, and no drain
 * takes more than a lap. */
struct scribbler {
	struct fixture *f;
	int stop;
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void *scribble(void *arg)
{
	struct scribbler *sc = arg;
	uint64_t x = 0x9e3779b97f4a7c15ULL, *w = sc->f->mem;
	size_t n = sc->f->size / sizeof(*w);
	struct ring_header *h = sc->f->mem;
	unsigned order = sc->f->order;	/* 4: 16 records */

	while (!__atomic_load_n(&sc->stop, __ATOMIC_ACQUIRE)) {
		uint64_t v = xorshift(&x), pos;
		size_t at = xorshift(&x) % n;

		/* Mostly the first word of a record the consumer reads soon
		 * (its tail is in the header), with a lap byte that is right
		 * (or, one time in 16, one off), kinds and ids around the
		 * limits; else anything anywhere, header included (but the
		 * tail, which this scribbler needs to follow the consumer). */
		if (at == offsetof(struct ring_header, tail) / 8)
			continue;
		if (v & 7) {
			pos = __atomic_load_n(&h->tail, __ATOMIC_RELAXED) +
			      (v >> 40 & 0xf);
			at = RING_HEADER_SIZE / 8 + (pos & 0xf) * 4;
			v = (uint8_t)((pos >> order) + !!(v >> 48 & 0xf)) |
			    (v >> 8 & 0x3) << 8 | (v >> 16 & 0x3) << 16 |
			    (v >> 32 & 0x3) << 32;
		}
		__atomic_store_n(&w[at], v, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void check_limits(const struct ring_event *ev, void *arg)
{
	const struct ring_limits *lim = arg;

	assert_true(ev->site < lim->nsites);
	assert_true(ev->thread < lim->nthreads);
	assert_true(ev->kind == RING_ENTRY || ev->kind == RING_RETURN ||
		    ev->kind == RING_DEST);
}

static void test_hostile_writer(void **state)
{
	static const struct ring_limits lim = { 3, 2 };
	struct fixture f;
	struct scribbler sc = { &f, 0 };
	pthread_t t;
	uint64_t taken = 0;

	(void)state;
	fixture_open(&f, 4);
	assert_int_equal(pthread_create(&t, NULL, scribble, &sc), 0);
	/* until enough was taken, or about a second on a loaded machine */
	for (long i = 0; i < 5000000 && taken < 1000; i++) {
		size_t n = ring_drain(&f.rd, &lim, SIZE_MAX, check_limits,
				      (void *)&lim);

		assert_true(n <= 16);
		taken += n;
		(void)ring_pending(&f.rd);
	}
	__atomic_store_n(&sc.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(taken > 0);
	/* what was taken is accounted for, valid or not */
	assert_true(f.rd.stats.events + f.rd.stats.bad_site +
		    f.rd.stats.bad_thread + f.rd.stats.bad_kind == taken);
	fixture_close(&f);
}

/* The untrusted opener refuses a header whose geometry cannot be right. */
static void test_open_untrusted(void **state)
{
	struct fixture f;
	struct ring_header *h;
	struct ring_reader rd;

	(void)state;
	fixture_open(&f, 3);
	h = f.mem;
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), 0);
	assert_int_equal(rd.order, 3);
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size - 1), -1);
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, 8), -1);
	assert_int_equal(ring_reader_open_untrusted(&rd, NULL, f.size), -1);
	h->order = 40;
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), -1);
	h->order = 0;
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), -1);
	h->order = 2;		/* smaller than the mapping: fine */
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), 0);
	assert_int_equal(rd.mask, 3);
	h->record_size = 64;
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), -1);
	h->record_size = RING_RECORD_SIZE;
	h->magic ^= 1;
	assert_int_equal(ring_reader_open_untrusted(&rd, f.mem, f.size), -1);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_order_and_fields),
		cmocka_unit_test(test_wide_values),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_full_ring_waits),
		cmocka_unit_test(test_multi_producer),
		cmocka_unit_test(test_alone_producer),
		cmocka_unit_test(test_try_put_alone),
		cmocka_unit_test(test_corrupt_records),
		cmocka_unit_test(test_drain_bounded),
		cmocka_unit_test(test_corrupt_header),
		cmocka_unit_test(test_hostile_writer),
		cmocka_unit_test(test_open_untrusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
