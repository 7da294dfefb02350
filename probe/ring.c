/* ring: the shared event ring, producer and consumer sides.
 *
 * No libc here, on purpose: the producer half runs inside the traced
 * program (from a signal handler as well as from any thread), and the
 * consumer half shares its few helpers.  Everything in the mapping is
 * accessed through __atomic builtins: the other side writes it
 * concurrently, and for the consumer the "other side" may be a program
 * scribbling on it. */
#include "probe/ring.h"
#include "probe/syscall.h"

/* Producer waits: spins first (the consumer drains continuously, a slot is
 * usually free within microseconds), then yields the CPU, then sleeps on
 * the futex with a timeout, so a lost wake-up (a scribbled `waiters`)
 * costs a millisecond, never a hang. */
#define RING_SPINS		64
#define RING_YIELDS		64
#define RING_SLEEP_NS		1000000L

#define SYS_sched_yield_	24
#define SYS_futex_		202
#define FUTEX_WAIT_		0
#define FUTEX_WAKE_		1

struct ring_timespec {
	long sec, nsec;
};

static int order_ok(unsigned order)
{
	return order >= RING_ORDER_MIN && order <= RING_ORDER_MAX;
}

size_t ring_bytes(unsigned order)
{
	if (!order_ok(order))
		return 0;
	return RING_HEADER_SIZE + ((size_t)RING_RECORD_SIZE << order);
}

int ring_init(void *mem, unsigned order)
{
	size_t n = ring_bytes(order);
	struct ring_header *h = mem;

	if (!n)
		return -1;
	/* word stores: a byte loop may be turned into a memset call, which
	 * a freestanding build does not have */
	for (uint64_t *w = mem, *end = (uint64_t *)((char *)mem + n); w < end; w++)
		*(volatile uint64_t *)w = 0;
	h->version = RING_VERSION;
	h->record_size = RING_RECORD_SIZE;
	h->order = order;
	__atomic_store_n(&h->magic, RING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

/* ---- producer ---- */

void ring_producer_init(struct ring_producer *p, void *mem, unsigned order)
{
	p->hdr = mem;
	p->rec = (struct ring_record *)((char *)mem + RING_HEADER_SIZE);
	p->mask = ((uint64_t)1 << order) - 1;
	p->order = order;
}

/* The commit byte for position pos of a ring of 2^order records. */
static uint8_t seq_of(uint64_t pos, unsigned order)
{
	return (uint8_t)((pos >> order) + 1);
}

/* Is position pos free to write?  Signed: a tail scribbled ahead of head
 * lets the producer go on (spoiling only this program's profile) rather
 * than wait for ever. */
static int has_space(const struct ring_producer *p, uint64_t pos, int order)
{
	uint64_t tail = __atomic_load_n(&p->hdr->tail, order);

	return (int64_t)(pos - tail) <= (int64_t)p->mask;
}

static void sleep_for_space(const struct ring_producer *p, uint64_t pos)
{
	struct ring_header *h = p->hdr;
	struct ring_timespec ts = { 0, RING_SLEEP_NS };
	uint32_t seen = __atomic_load_n(&h->space, __ATOMIC_ACQUIRE);

	/* Announce, then look again: with the consumer's "publish tail,
	 * then read waiters" (both seq_cst), one of us sees the other. */
	__atomic_fetch_add(&h->waiters, 1, __ATOMIC_SEQ_CST);
	if (!has_space(p, pos, __ATOMIC_SEQ_CST))
		raw_syscall4(SYS_futex_, (long)&h->space, FUTEX_WAIT_, seen,
			     (long)&ts);
	__atomic_fetch_sub(&h->waiters, 1, __ATOMIC_SEQ_CST);
}

static void wait_for_space(const struct ring_producer *p, uint64_t pos,
			   unsigned round)
{
	if (round < RING_SPINS ||
	    __atomic_load_n(&p->hdr->nosys, __ATOMIC_RELAXED) == RING_SYS_NONE)
		__builtin_ia32_pause();
	else if (round < RING_SPINS + RING_YIELDS)
		raw_syscall4(SYS_sched_yield_, 0, 0, 0, 0);
	else
		sleep_for_space(p, pos);
}

/* Write the record at position pos, reserved by the caller. */
static inline __attribute__((always_inline)) unsigned
put_at(const struct ring_producer *p, uint64_t pos, uint32_t site,
       uint16_t thread, uint8_t kind, uint64_t sp, uint64_t rss, uint64_t key)
{
	struct ring_record *r = &p->rec[pos & p->mask];
	unsigned round = 0;

	/* acquire: the consumer's reads of the slot's previous record are
	 * done before we overwrite it */
	while (!has_space(p, pos, __ATOMIC_ACQUIRE))
		wait_for_space(p, pos, round++);
	ring_write(r, seq_of(pos, p->order), site, thread, kind, sp, rss, key);
	return round;
}

unsigned ring_put(const struct ring_producer *p, uint32_t site,
		  uint16_t thread, uint8_t kind, uint64_t sp, uint64_t rss,
		  uint64_t key)
{
	uint64_t pos = __atomic_fetch_add(&p->hdr->head, 1, __ATOMIC_RELAXED);

	return put_at(p, pos, site, thread, kind, sp, rss, key);
}

unsigned ring_put_alone(const struct ring_producer *p, uint32_t site,
			uint16_t thread, uint8_t kind, uint64_t sp,
			uint64_t rss, uint64_t key)
{
	uint64_t pos = 1;

	/* one instruction, so that a producer nested in this one (a signal
	 * handler's probe) takes the next position, but without the lock
	 * prefix */
	__asm__ volatile("xaddq %0, %1"
			 : "+r"(pos), "+m"(p->hdr->head) : : "memory");
	return put_at(p, pos, site, thread, kind, sp, rss, key);
}

/* ---- consumer ---- */

static void reader_set(struct ring_reader *rd, void *mem, unsigned order)
{
	rd->hdr = mem;
	rd->rec = (struct ring_record *)((char *)mem + RING_HEADER_SIZE);
	rd->order = order;
	rd->mask = ((uint64_t)1 << order) - 1;
	rd->tail = 0;
	rd->stats = (struct ring_stats){ 0 };
}

int ring_reader_open(struct ring_reader *rd, void *mem, size_t size,
		     unsigned order)
{
	size_t n = ring_bytes(order);

	if (!mem || !n || size < n)
		return -1;
	reader_set(rd, mem, order);
	rd->tail = __atomic_load_n(&rd->hdr->tail, __ATOMIC_ACQUIRE);
	return 0;
}

int ring_reader_open_untrusted(struct ring_reader *rd, void *mem, size_t size)
{
	struct ring_header *h = mem;
	unsigned order;

	if (!mem || size < RING_HEADER_SIZE)
		return -1;
	order = __atomic_load_n(&h->order, __ATOMIC_RELAXED);
	if (__atomic_load_n(&h->magic, __ATOMIC_RELAXED) != RING_MAGIC ||
	    __atomic_load_n(&h->version, __ATOMIC_RELAXED) != RING_VERSION ||
	    __atomic_load_n(&h->record_size, __ATOMIC_RELAXED) != RING_RECORD_SIZE ||
	    !order_ok(order) || size < ring_bytes(order))
		return -1;
	return ring_reader_open(rd, mem, size, order);
}

/* The header as the program left it, against what we know.  Only counted:
 * nothing the consumer does depends on it. */
static int header_sane(const struct ring_reader *rd)
{
	const struct ring_header *h = rd->hdr;
	uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);

	return __atomic_load_n(&h->magic, __ATOMIC_RELAXED) == RING_MAGIC &&
	       __atomic_load_n(&h->version, __ATOMIC_RELAXED) == RING_VERSION &&
	       __atomic_load_n(&h->record_size, __ATOMIC_RELAXED) == RING_RECORD_SIZE &&
	       __atomic_load_n(&h->order, __ATOMIC_RELAXED) == rd->order &&
	       (int64_t)(head - rd->tail) >= 0;
}

uint64_t ring_pending(const struct ring_reader *rd)
{
	uint64_t head = __atomic_load_n(&rd->hdr->head, __ATOMIC_ACQUIRE);
	int64_t d = (int64_t)(head - rd->tail);

	if (d < 0)
		return 0;
	return (uint64_t)d > rd->mask + 1 ? rd->mask + 1 : (uint64_t)d;
}

/* Copy the record at the reader's position out of the mapping if it is
 * committed.  One read of each field: the program may change them while
 * we look, so what we check is what we deliver. */
static int take_record(const struct ring_reader *rd, struct ring_event *ev)
{
	const struct ring_record *r = &rd->rec[rd->tail & rd->mask];

	if (__atomic_load_n(&r->seq, __ATOMIC_ACQUIRE) !=
	    seq_of(rd->tail, rd->order))
		return 0;
	ev->pos = rd->tail;
	ev->site = __atomic_load_n(&r->site, __ATOMIC_RELAXED);
	ev->thread = __atomic_load_n(&r->thread, __ATOMIC_RELAXED);
	ev->kind = __atomic_load_n(&r->kind, __ATOMIC_RELAXED);
	ev->cached = (ev->kind & RING_KIND_CACHED) != 0;
	ev->kind &= (uint8_t)~RING_KIND_CACHED;
	ev->rss = __atomic_load_n(&r->rss, __ATOMIC_RELAXED);
	ev->sp = __atomic_load_n(&r->sp, __ATOMIC_RELAXED);
	ev->key = __atomic_load_n(&r->key, __ATOMIC_RELAXED);
	return 1;
}

/* Counts a record that cannot be right; returns whether it is valid. */
static int check_event(struct ring_stats *st, const struct ring_limits *lim,
		       const struct ring_event *ev)
{
	if (ev->kind != RING_ENTRY && ev->kind != RING_RETURN &&
	    ev->kind != RING_DEST) {
		st->bad_kind++;
		return 0;
	}
	if (ev->site >= lim->nsites) {
		st->bad_site++;
		return 0;
	}
	if (ev->thread >= lim->nthreads) {
		st->bad_thread++;
		return 0;
	}
	return 1;
}

/* Hand the consumed slots back to the producers and wake any sleeper. */
static void publish_tail(struct ring_reader *rd)
{
	struct ring_header *h = rd->hdr;

	__atomic_store_n(&h->tail, rd->tail, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&h->waiters, __ATOMIC_SEQ_CST))
		return;
	__atomic_fetch_add(&h->space, 1, __ATOMIC_SEQ_CST);
	raw_syscall4(SYS_futex_, (long)&h->space, FUTEX_WAKE_, 0x7fffffff, 0);
	rd->stats.wakes++;
}

void ring_abandon(struct ring_reader *rd)
{
	uint64_t head = __atomic_load_n(&rd->hdr->head, __ATOMIC_ACQUIRE);

	rd->tail = head + ((uint64_t)1 << 62);
	publish_tail(rd);
	/* a producer asleep before the store: wake it whatever waiters say */
	__atomic_fetch_add(&rd->hdr->space, 1, __ATOMIC_SEQ_CST);
	raw_syscall4(SYS_futex_, (long)&rd->hdr->space, FUTEX_WAKE_, 0x7fffffff, 0);
}

size_t ring_drain(struct ring_reader *rd, const struct ring_limits *lim,
		  size_t max, ring_event_fn fn, void *arg)
{
	uint64_t lap = rd->mask + 1;
	struct ring_event ev;
	size_t n = 0;

	if (!header_sane(rd))
		rd->stats.bad_header++;
	if (max > lap)
		max = (size_t)lap;
	while (n < max && take_record(rd, &ev)) {
		if (check_event(&rd->stats, lim, &ev)) {
			rd->stats.events++;
			fn(&ev, arg);
		}
		rd->tail++;
		n++;
	}
	if (n)
		publish_tail(rd);
	return n;
}
