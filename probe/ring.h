/* ring: the event ring shared by the probes inside the traced program
 * (producers) and iprofmem (the one consumer), in a memfd mapped by both.
 *
 * Layout: a header of RING_HEADER_SIZE bytes, then 2^order records of
 * RING_RECORD_SIZE bytes.  Producers reserve a position with one fetch-add
 * on head, write the record, then publish it by storing its sequence byte
 * (the position's lap + 1) last, with release order: the consumer never
 * reads a half-written record, and a record left over from the previous
 * lap (the only one a slot can hold before its producer writes: the
 * consumer passed it first) has the wrong sequence.  A full ring makes the
 * producer wait (spin, then sched_yield, then a futex with a timeout); no
 * event is ever dropped.
 *
 * The producer side runs inside the traced program: it is freestanding
 * (no libc, raw system calls), async-signal-safe and multi-thread safe.
 * The consumer side runs in iprofmem and treats the whole mapping as
 * untrusted input: the program can write anything there.  It keeps its
 * own copy of the geometry and of its read position, never indexes with
 * a value read from the mapping, and validates every record against the
 * caller's tables.
 *
 * Known limit: a signal handler that runs traced functions, arriving
 * between a producer's reservation and its commit, cannot commit the
 * interrupted record before it returns; if the handler alone fills the
 * whole ring it waits for ever.  A large ring makes that need 2^order
 * events in one handler.  The way out is the tracer's: it sees every
 * signal before delivery, so a signal for a thread whose pc is inside the
 * probe code can be held until the thread has left it. */
#ifndef IPROFMEM_RING_H
#define IPROFMEM_RING_H

#include <stddef.h>
#include <stdint.h>

#define RING_MAGIC		0x474e495246525049ULL	/* "IPRFRING" in memory */
#define RING_VERSION		1
#define RING_CACHELINE		64
#define RING_HEADER_SIZE	256
#define RING_RECORD_SIZE	32
#define RING_ORDER_MIN		1	/* 2 records */
#define RING_ORDER_MAX		24	/* 16 M records, 512 MB */

enum ring_kind {
	RING_ENTRY = 1,
	RING_RETURN = 2,
	/* the target of an indirect jmp leaving its function (in sp; no
	 * RSS), written just before that jmp's RING_RETURN by the same
	 * thread: the consumer needs it to tell a tail call */
	RING_DEST = 3,
};
/* Or'ed into a record's kind: its RSS is the fault gate's cached value
 * (no statm read for this event). */
#define RING_KIND_CACHED	0x80

/* The header's nosys: may the probes make system calls of their own?
 * RING_SYS_OK: yes.  RING_SYS_ASK: the next RSS is read at a stop, where
 * iprofmem first points the program's calls of prctl and syscall at the
 * seccomp watch (tracer/probes.c).  RING_SYS_NONE: the program installs
 * a seccomp filter: the RSS is read at a stop, a full ring is waited for
 * by spinning. */
enum { RING_SYS_OK = 0, RING_SYS_NONE = 1, RING_SYS_ASK = 2 };
/* Not a state: why a probe stopped (probe_need_rss), the system-call
 * watch's rings moved (probe.h's watch_nrings). */
#define RING_SYS_WATCH	3

/* The header.  head, tail and the futex word each have a cache line of
 * their own: producers hammer head, the consumer writes tail, and sharing
 * a line would make every event bounce it between CPUs. */
struct ring_header {
	uint64_t magic;
	uint32_t version;
	uint32_t record_size;
	uint32_t order;		/* capacity: 1 << order records */
	uint32_t nosys;		/* RING_SYS_*, set by iprofmem */
	uint8_t pad0[RING_CACHELINE - 24];
	uint64_t head;		/* next position to reserve (producers) */
	uint8_t pad1[RING_CACHELINE - 8];
	uint64_t tail;		/* positions below are consumed (consumer) */
	uint8_t pad2[RING_CACHELINE - 8];
	uint32_t space;		/* futex: bumped by the consumer after a drain */
	uint32_t waiters;	/* producers sleeping on `space` */
	/* The probes' counters for --stats, here rather than in the
	 * program's own memory so that iprofmem still has them however the
	 * process ends (its memory gone with it).  Bumped by the producers
	 * (rarely: a wait, an event off the probe stacks, a reopen), read
	 * by iprofmem at the end; no more trusted than the rest. */
	uint64_t waits;		/* times a full ring made a probe wait */
	uint64_t nostack;	/* events run on the program's stack */
	uint64_t reopens;	/* times statm had to be opened again */
	uint8_t pad3[RING_CACHELINE - 32];
};

/* One event, 32 bytes: two to a cache line, never across one. */
struct ring_record {
	uint8_t seq;		/* (position >> order) + 1, mod 256, once
				   committed; 0 in a fresh ring */
	uint8_t kind;		/* enum ring_kind, | RING_KIND_CACHED */
	uint16_t thread;	/* thread slot id */
	uint32_t site;		/* site id, an index into iprofmem's table */
	uint64_t sp;		/* stack pointer at the site */
	uint64_t rss;		/* resident pages */
	uint64_t key;		/* the thread: its TCB address (fs base) */
};

_Static_assert(sizeof(struct ring_header) == RING_HEADER_SIZE, "header size");
_Static_assert(sizeof(struct ring_record) == RING_RECORD_SIZE, "record size");

/* Bytes of mapping for a ring of 2^order records (0 if order is out of
 * range). */
size_t ring_bytes(unsigned order);

/* Lay out an empty ring of 2^order records in mem[0..ring_bytes(order)),
 * which is zeroed first.  Returns 0, or -1 if order is out of range. */
int ring_init(void *mem, unsigned order);

/* ---- producer side (freestanding, in the traced program) ---- */

/* Where a producer writes: set by iprofmem next to the probe code, not read
 * from the header, so a scribbled header cannot send a probe's stores
 * outside the mapping. */
struct ring_producer {
	struct ring_header *hdr;
	struct ring_record *rec;	/* (char *)hdr + RING_HEADER_SIZE */
	uint64_t mask;			/* capacity - 1 */
	uint32_t order;
};

void ring_producer_init(struct ring_producer *p, void *mem, unsigned order);

/* Append one event, waiting while the ring is full.  Returns how many
 * times it had to wait (0 almost always), for --stats. */
unsigned ring_put(const struct ring_producer *p, uint32_t site,
		  uint16_t thread, uint8_t kind, uint64_t sp, uint64_t rss,
		  uint64_t key);
/* The same for the ring's only thread (a producer nested in it, a signal
 * handler's, finishes first): the reservation is one xadd without the
 * lock prefix, whose full barrier waits for the last record's stores to
 * reach the cache. */
unsigned ring_put_alone(const struct ring_producer *p, uint32_t site,
			uint16_t thread, uint8_t kind, uint64_t sp,
			uint64_t rss, uint64_t key);

/* Fill a reserved record, then commit it: its sequence byte last, with
 * release order, so the consumer never reads it half-written. */
static inline __attribute__((always_inline)) void
ring_write(struct ring_record *r, uint8_t seq, uint32_t site, uint16_t thread,
	   uint8_t kind, uint64_t sp, uint64_t rss, uint64_t key)
{
	__atomic_store_n(&r->site, site, __ATOMIC_RELAXED);
	__atomic_store_n(&r->thread, thread, __ATOMIC_RELAXED);
	__atomic_store_n(&r->kind, kind, __ATOMIC_RELAXED);
	__atomic_store_n(&r->rss, rss, __ATOMIC_RELAXED);
	__atomic_store_n(&r->sp, sp, __ATOMIC_RELAXED);
	__atomic_store_n(&r->key, key, __ATOMIC_RELAXED);
	__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
}

/* Producers that can nest inside one (signal handlers' probes) and that
 * ring_try_put_alone leaves room for. */
#define RING_NEST	16

/* ring_put_alone for the common case, inline, with no call and no stack
 * (the probe's fast path runs on the program's stack): when the ring has
 * room for this record and RING_NEST more, it is written and 1 returned;
 * else nothing is written and 0 returned (ring_put_alone then waits).
 * Producers nested in this one past RING_NEST records between its look
 * and its reservation (handlers' probes, which only a program no tracer
 * holds the signals of can run) make it spin until the consumer frees
 * the slot, or abandons the ring. */
static inline __attribute__((always_inline)) int
ring_try_put_alone(const struct ring_producer *p, uint32_t site,
		   uint16_t thread, uint8_t kind, uint64_t sp, uint64_t rss,
		   uint64_t key)
{
	uint64_t pos = __atomic_load_n(&p->hdr->head, __ATOMIC_RELAXED);
	struct ring_record *r;

	if ((int64_t)(pos + RING_NEST -
		      __atomic_load_n(&p->hdr->tail, __ATOMIC_ACQUIRE)) >
	    (int64_t)p->mask)
		return 0;
	pos = 1;
	__asm__ volatile("xaddq %0, %1"
			 : "+r"(pos), "+m"(p->hdr->head) : : "memory");
	/* acquire: the consumer is done with the slot's previous record */
	while ((int64_t)(pos - __atomic_load_n(&p->hdr->tail, __ATOMIC_ACQUIRE)) >
	       (int64_t)p->mask)
		__builtin_ia32_pause();
	r = &p->rec[pos & p->mask];
	ring_write(r, (uint8_t)((pos >> p->order) + 1), site, thread, kind, sp,
		   rss, key);
	return 1;
}

/* ---- consumer side (iprofmem) ---- */

/* A record that passed every check, copied out of the mapping. */
struct ring_event {
	uint64_t pos;		/* its position in the ring's stream */
	uint32_t site;
	uint16_t thread;
	uint8_t kind;
	uint8_t cached;		/* RING_KIND_CACHED was set */
	uint64_t sp;
	uint64_t rss;
	uint64_t key;
};

/* What the consumer saw that cannot be right; each record counts once. */
struct ring_stats {
	uint64_t events;	/* delivered */
	uint64_t bad_site;	/* site id >= nsites */
	uint64_t bad_thread;	/* thread id >= nthreads */
	uint64_t bad_kind;	/* kind not entry/return */
	uint64_t bad_header;	/* drains that found head/tail or the
				   geometry inconsistent */
	uint64_t wakes;		/* futex wakes issued for waiting producers */
};

/* The consumer's view: geometry fixed at open, its own read position. */
struct ring_reader {
	struct ring_header *hdr;
	struct ring_record *rec;
	uint64_t mask;
	uint64_t tail;		/* next position to read: ours, never re-read */
	uint32_t order;
	struct ring_stats stats;
};

/* Bounds for ids, from the caller's tables. */
struct ring_limits {
	uint32_t nsites;
	uint32_t nthreads;
};

/* Open a ring that iprofmem laid out with ring_init in mem[0..size): the
 * geometry is taken from `order`, which the caller chose, and checked
 * against size.  Returns 0, or -1 if they disagree. */
int ring_reader_open(struct ring_reader *rd, void *mem, size_t size,
		     unsigned order);

/* Open a mapping nobody vouches for (a fuzz input, a ring found in a
 * program): the geometry comes from the header and is checked against
 * size and the constants.  Returns 0, or -1 when it cannot be right. */
int ring_reader_open_untrusted(struct ring_reader *rd, void *mem, size_t size);

typedef void (*ring_event_fn)(const struct ring_event *ev, void *arg);

/* Nobody will drain the ring again (iprofmem lets the program go): every
 * producer, now and later, finds space at once and never waits (what it
 * writes is lost), and any asleep is woken. */
void ring_abandon(struct ring_reader *rd);

/* Deliver the committed records from the reader's position on, in order,
 * at most `max` of them (and never more than one lap, so a program that
 * keeps writing cannot hold the consumer here), calling fn for each valid
 * one; invalid ones are counted in rd->stats and skipped.  Then publish
 * the new tail and wake waiting producers.  Returns the number of
 * positions consumed (valid or not). */
size_t ring_drain(struct ring_reader *rd, const struct ring_limits *lim,
		  size_t max, ring_event_fn fn, void *arg);

/* Positions reserved (committed or still being written) and not yet
 * drained, as far as the header tells: clamped to the capacity, so a
 * nonsense header gives 0 or the capacity. */
uint64_t ring_pending(const struct ring_reader *rd);

#endif
