/* probe: the C half of the in-process probe (see probe.h).  Freestanding,
 * no libc, general registers only (-mgeneral-regs-only): it runs between
 * any two instructions of the program, from any thread, from signal
 * handlers too. */
#include "probe/probe.h"
#include "probe/syscall.h"

#define SYS_read_	0
#define SYS_open_	2
#define SYS_pread64_	17
#define SYS_close_	3
#define SYS_fcntl_	72
#define F_DUPFD_CLOEXEC_	1030
#define O_RDONLY_	0
#define O_CLOEXEC_	02000000

static inline __attribute__((always_inline)) uint32_t
slot_hash(uint64_t key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 32;
	return (uint32_t)key & (PROBE_SLOTS - 1);
}

/* The thread's slot, claimed on first use, or -1 when all are taken. */
static inline __attribute__((always_inline)) long
find_slot(struct probe_ctl *c, uint64_t key)
{
	uint32_t h = slot_hash(key);

	for (uint32_t i = 0; i < PROBE_SLOTS; i++, h = (h + 1) & (PROBE_SLOTS - 1)) {
		uint64_t k = __atomic_load_n(&c->slot_key[h], __ATOMIC_ACQUIRE);

		if (k == key)
			return h;
		if (k == 0) {
			if (__atomic_compare_exchange_n(&c->slot_key[h], &k, key, 0,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE) ||
			    k == key)
				return h;
		}
	}
	return -1;
}

/* Called on the program's stack, using none of it: the top of the next
 * free level of the thread's probe stack, or 0 (then the probe runs where
 * it is).  probe_stack_done gives the level back.  The depth is only ever
 * changed by its slot's thread, and a probe nested in it (a signal
 * handler, when no tracer holds the signal) gives its level back before
 * the outer one goes on: no atomic operation is needed. */
uint64_t probe_stack_take(struct probe_ctl *c, uint64_t key)
{
	long s = key ? find_slot(c, key) : -1;
	uint32_t d;

	if (s < 0)
		return 0;
	d = c->slot_depth[s];
	if (d >= PROBE_LEVELS)
		return 0;
	c->slot_depth[s] = d + 1;
	__asm__ volatile("" ::: "memory");
	return c->stacks + (uint64_t)s * PROBE_SLOT_SIZE +
	       (uint64_t)(PROBE_LEVELS - d) * PROBE_LEVEL_SIZE;
}

/* The slot whose stack level has top `stack` (from probe_stack_take). */
static inline __attribute__((always_inline)) long
stack_slot(const struct probe_ctl *c, uint64_t stack)
{
	return (long)((stack - 1 - c->stacks) / PROBE_SLOT_SIZE);
}

void probe_stack_done(struct probe_ctl *c, uint64_t stack)
{
	__asm__ volatile("" ::: "memory");
	c->slot_depth[stack_slot(c, stack)]--;
}

/* The n-th space-separated decimal field of statm, or -1. */
static int64_t statm_field(const char *b, long len, int n)
{
	long i = 0;

	for (int f = 0; f < n; f++) {
		while (i < len && b[i] >= '0' && b[i] <= '9')
			i++;
		if (i >= len || b[i] != ' ')
			return -1;
		i++;
	}
	if (i >= len || b[i] < '0' || b[i] > '9')
		return -1;
	int64_t v = 0;
	while (i < len && b[i] >= '0' && b[i] <= '9' && v < (1LL << 40))
		v = v * 10 + (b[i++] - '0');
	return i < len && (b[i] == ' ' || b[i] == '\n') ? v : -1;
}

static uint64_t read_statm(int fd)
{
	char b[96];
	long n = raw_syscall4(SYS_pread64_, fd, (long)b, sizeof(b), 0);
	int64_t res, shr;

	if (n <= 0 || n >= (long)sizeof(b) || b[n - 1] != '\n')
		return PROBE_NO_RSS;
	res = statm_field(b, n, 1);
	shr = statm_field(b, n, 2);
	if (res < 0 || shr < 0 || shr > res)
		return PROBE_NO_RSS;
	return probe_pack_rss((uint64_t)res, (uint64_t)shr);
}

/* probe_x86_64.S: the RSS read by iprofmem, at a stop; why: the ring
 * header's nosys (RING_SYS_*) that sent the probe there, or RING_SYS_OK
 * when statm could not be read. */
uint64_t probe_need_rss(uint32_t why, uint64_t watch_sum)
	__attribute__((visibility("hidden")));

/* The program may have closed our descriptor, or put another file in its
 * place (dup2): what is read must look like statm, else it is opened
 * again; where that cannot be (statm out of the program's reach),
 * iprofmem reads it at a stop. */
static uint64_t probe_rss(struct probe_ctl *c)
{
	uint32_t sys = __atomic_load_n(&c->ring.hdr->nosys, __ATOMIC_RELAXED);
	uint64_t rss;
	long fd;

	/* a seccomp filter of the program's may kill any call of ours;
	 * before the first, iprofmem sets the watch up (RING_SYS_ASK) */
	if (sys != RING_SYS_OK)
		return probe_need_rss(sys, 0);
	rss = read_statm(__atomic_load_n(&c->statm_fd, __ATOMIC_RELAXED));
	if (rss != PROBE_NO_RSS)
		return rss;
	fd = raw_syscall4(SYS_open_, (long)c->statm_path, O_RDONLY_ | O_CLOEXEC_, 0, 0);
	if (fd < 0)
		return probe_need_rss(RING_SYS_OK, 0);
	/* out of the program's way, as iprofmem put the first one */
	if (c->statm_fd_min > 0 && fd < c->statm_fd_min) {
		long high = raw_syscall4(SYS_fcntl_, fd, F_DUPFD_CLOEXEC_,
					 c->statm_fd_min, 0);

		if (high >= 0) {
			raw_syscall4(SYS_close_, fd, 0, 0, 0);
			fd = high;
		}
	}
	rss = read_statm((int)fd);
	if (rss == PROBE_NO_RSS) {
		/* opened but not read (a seccomp filter that refuses
		 * pread64): ours, not kept, never one per event */
		raw_syscall4(SYS_close_, fd, 0, 0, 0);
		return probe_need_rss(RING_SYS_OK, 0);
	}
	__atomic_store_n(&c->statm_fd, (int32_t)fd, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->ring.hdr->reopens, 1, __ATOMIC_RELAXED);
	return rss;
}

/* Before any system call of the probe's own (its statm read, a full
 * ring's wait): has a thread of the process left seccomp or prctl since
 * iprofmem last looked?  Then stop first, so that iprofmem sees a filter
 * it installed (in /proc/PID/task/TID/status) and the probes make no
 * more system calls.  Exact for the thread that installs it (its call is
 * over before its next probe reads the heads), and for the others but
 * in the instants between a TSYNC filter's install and its call's
 * return. */
static void watch_check(struct probe_ctl *c)
{
	uint32_t n = __atomic_load_n(&c->watch_nrings, __ATOMIC_RELAXED);
	uint64_t sum = 0;

	if (!n || __atomic_load_n(&c->ring.hdr->nosys, __ATOMIC_RELAXED) ==
		  RING_SYS_NONE)
		return;
	if (n > 2 * PROBE_GATE_RINGS)
		n = 2 * PROBE_GATE_RINGS;
	for (uint32_t i = 0; i < n; i++)
		sum += __atomic_load_n((const uint64_t *)c->watch_head[i],
				       __ATOMIC_ACQUIRE);
	if (sum != __atomic_load_n(&c->watch_seen, __ATOMIC_ACQUIRE))
		probe_need_rss(RING_SYS_WATCH, sum);
}

/* The thread's key: its fs base (tracer/probes.c keeps the two equal). */
static inline __attribute__((always_inline)) uint64_t
thread_key(const struct probe_ctl *c)
{
	uint64_t key;

	if (__atomic_load_n(&c->fs_self, __ATOMIC_RELAXED))
		__asm__ volatile("mov %%fs:0, %0" : "=r"(key));
	else
		__asm__ volatile("rdfsbase %0" : "=r"(key));
	return key;
}

/* For probe_x86_64.S's whole path: 0 once iprofmem let the program go
 * (a signal frame returning into a stub), when a thread it gave a dummy
 * thread pointer may have none again. */
uint64_t probe_thread_key(const struct probe_ctl *c)
{
	if (__atomic_load_n(&c->off, __ATOMIC_ACQUIRE))
		return 0;
	return thread_key(c);
}

/* The fault gate.  The kernel's kmem:rss_stat tracepoint fires, in the
 * task that does it, after every change of a process's RSS counters: a
 * page fault (of the user or of the kernel on its behalf), munmap,
 * madvise, mremap, brk, populating, reclaiming a page of its own.  One
 * perf event per CPU, inherited by every thread, writes a record to a
 * ring of its own for each (PROBES.md); reading the rings' heads costs a
 * few ns.  If no head moved since this thread last read statm, and
 * iprofmem changed nothing itself, the RSS is what statm said then.
 *
 * Exact with any number of threads: the heads are read before statm, and
 * a change's record is written after the change: a change that statm did
 * not see yet writes a record after the heads we kept, and the next probe
 * reads statm again.  Each thread slot has its own cache, so no two
 * threads update one. */
static uint64_t gated_rss(struct probe_ctl *c, struct probe_gate_cache *g,
			  uint8_t *kind)
{
	uint32_t n = c->gate_nrings;
	uint64_t sum = 0, gen, rss;

	if (n > PROBE_GATE_RINGS)
		n = PROBE_GATE_RINGS;
	for (uint32_t i = 0; i < n; i++)
		sum += __atomic_load_n((const uint64_t *)c->gate_head[i],
				       __ATOMIC_ACQUIRE);
	gen = __atomic_load_n(&c->gate_gen, __ATOMIC_ACQUIRE);
	if (sum == g->sum && gen == g->gen && g->rss != PROBE_NO_RSS) {
		*kind |= RING_KIND_CACHED;
		return g->rss;
	}
	rss = probe_rss(c);
	g->sum = sum;
	g->gen = gen;
	g->rss = rss;
	return rss;
}

/* For probe_x86_64.S's whole path when the thread has no probe stack
 * level free (more threads than slots, nested too deep): where it runs
 * instead.  On the program's stack where it is (frame: its saves there),
 * or, from a TCB stack, under the site's stack pointer (the red zone is
 * dead at a probe point), which `at` gives (probe_site_sp). */
uint64_t probe_no_stack(const struct probe_ctl *c, uint64_t frame, uint64_t at)
{
	return c->tcb_stack ? probe_site_sp(c, at) : frame;
}

/* The target an indirect jmp's stub left for probe_on_jump (a TCB
 * stack's: RING_DEST comes only from there). */
static inline uint64_t jump_target(void)
{
	uint64_t t;

	__asm__ volatile("mov %%fs:%c1, %0" : "=r"(t)
			 : "i"(PROBE_TCB_JUMP_TARGET));
	return t;
}

/* sp_at: the address the frame's bias gives (probe_site_sp).  Kind
 * RING_DEST (probe_on_jump) is the jmp's target in a record of its own,
 * then the event as RING_RETURN. */
void probe_event(struct probe_ctl *c, uint32_t kind, uint32_t site,
		 uint64_t sp_at, uint64_t key, uint64_t on_own_stack)
{
	uint8_t k = (uint8_t)kind;
	uint64_t rss, sp;
	int jump = k == RING_DEST;
	int alone;
	long s;

	if (__atomic_load_n(&c->off, __ATOMIC_ACQUIRE))
		return;
	if (jump)
		k = RING_RETURN;
	watch_check(c);
	sp = probe_site_sp(c, sp_at);
	/* the thread's slot: the one whose stack it runs on */
	s = !c->gate_nrings || !key ? -1 :
	    on_own_stack ? stack_slot(c, on_own_stack) : find_slot(c, key);
	rss = s >= 0 ? gated_rss(c, &c->gate[s], &k) : probe_rss(c);

	if (!on_own_stack)
		__atomic_fetch_add(&c->ring.hdr->nostack, 1, __ATOMIC_RELAXED);
	alone = __atomic_load_n(&c->alone, __ATOMIC_RELAXED);
	if (jump && (alone ?
		     ring_put_alone(&c->ring, site, 0,
				    RING_DEST | RING_KIND_CACHED,
				    jump_target(), 0, key) :
		     ring_put(&c->ring, site, 0, RING_DEST | RING_KIND_CACHED,
			      jump_target(), 0, key)))
		__atomic_fetch_add(&c->ring.hdr->waits, 1, __ATOMIC_RELAXED);
	if (alone ? ring_put_alone(&c->ring, site, 0, k, sp, rss, key) :
		    ring_put(&c->ring, site, 0, k, sp, rss, key))
		__atomic_fetch_add(&c->ring.hdr->waits, 1, __ATOMIC_RELAXED);
}

/* The common case, on the program's stack below the stub's and the entry's
 * saves: the process has one thread, which has its slot at the first
 * place it hashes to, the fault gate is on and saw no change of RSS since
 * the slot's last statm read, and the ring has room.  A leaf that saves
 * every register it uses (no_caller_saved_registers: the entry saved only
 * rax, rdi and the flags), with no stack of its own: the probe stacks are
 * for the rest.  frame is the entry's (probe_x86_64.S).  Returns 1 when
 * the event is recorded (or the probes are off), 0 for the whole path. */
extern struct probe_ctl *probe_ctl_ptr __attribute__((visibility("hidden")));
long probe_fast(const uint64_t *frame)
	__attribute__((no_caller_saved_registers));

long probe_fast(const uint64_t *frame)
{
	struct probe_ctl *c = probe_ctl_ptr;
	uint32_t n = __atomic_load_n(&c->gate_nrings, __ATOMIC_RELAXED);
	uint32_t kind = (uint32_t)frame[PROBE_FRAME_KIND];
	uint32_t site = (uint32_t)frame[PROBE_FRAME_SITE];
	const struct probe_gate_cache *g;
	uint64_t sum = 0, key, sp;
	uint32_t h;

	if (__atomic_load_n(&c->off, __ATOMIC_ACQUIRE))
		return 1;
	sp = probe_site_sp(c, (uint64_t)(frame + PROBE_FRAME_RET) +
			   PROBE_SITE_SP_BIAS);
	key = thread_key(c);
	if (!n || n > PROBE_GATE_RINGS || !key ||
	    !__atomic_load_n(&c->alone, __ATOMIC_RELAXED))
		return 0;
	h = slot_hash(key);
	if (__atomic_load_n(&c->slot_key[h], __ATOMIC_ACQUIRE) != key)
		return 0;
	g = &c->gate[h];
	for (uint32_t i = 0; i < n; i++)
		sum += __atomic_load_n((const uint64_t *)c->gate_head[i],
				       __ATOMIC_ACQUIRE);
	if (sum != g->sum ||
	    __atomic_load_n(&c->gate_gen, __ATOMIC_ACQUIRE) != g->gen ||
	    g->rss == PROBE_NO_RSS)
		return 0;
	/* a jump's target first (a second time, harmless, when the event
	 * itself then takes the whole path) */
	if (kind == RING_DEST) {
		if (!ring_try_put_alone(&c->ring, site, 0,
					RING_DEST | RING_KIND_CACHED,
					jump_target(), 0, key))
			return 0;
		kind = RING_RETURN;
	}
	return ring_try_put_alone(&c->ring, site, 0,
				  (uint8_t)(kind | RING_KIND_CACHED), sp,
				  g->rss, key);
}
