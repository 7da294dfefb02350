/*
 * attach_work: a multi-threaded program that keeps working while a test
 * attaches iprofmem to it and detaches, again and again
 * (test/e2e/test_attach_cycles.sh), and must end exactly as untraced.
 *
 * Threads:
 *  - CHURN churn threads: round after round, each computes a checksum over
 *    a fixed, resident buffer by calling mix() BLOCKS times (traced, grows
 *    nothing: the buffer, the stacks and the code are resident before
 *    READY is written).  Every round's checksum must equal the reference
 *    main computed before any thread started: a register or a stack slot
 *    clobbered by the tracer shows as a mismatch.
 *  - one worker, in cycles k = 1, 2, ...:
 *      1. waits until the first code bytes of batch_touch() are no longer
 *         the original ones (read through its own text; an int3 changes
 *         the first, a probe's jmp the first five, after an endbr64 the
 *         five after it): iprofmem inserts
 *         its breakpoints while every thread is stopped, so from then on
 *         every call is traced from entry to return;
 *      2. asks the churn threads to hold: each finishes its current mix()
 *         and waits between two calls, in its start routine (entered
 *         before any attach, so its return would be ignored anyway);
 *      3. calls batch_touch() BATCH_BASE + k times, each call writing one
 *         byte into the next untouched page of a region mapped at start
 *         with MADV_NOHUGEPAGE: RSS grows by one page per call, and by
 *         nothing else while the batch runs (no other traced call runs);
 *      4. lets the churn threads go on, appends "batch k n" to PROGRESS;
 *      5. waits until the byte is the original again (iprofmem detached),
 *         appends "detached k" to PROGRESS.
 *  - main: writes READY once every churn thread did a round, then waits
 *    for SIGUSR1 (sigwaitinfo: blocked in a system call while attached),
 *    makes the others finish (the churn threads do at least MIN_ROUNDS),
 *    joins them and prints the result.
 *
 * The table of one attach window that ends after "batch k n" is exactly
 *   batch_touch    n pages    n calls
 * and nothing else: mix grows nothing and never runs while a page is
 * touched; churn_main, worker_main and main began before the attach; and
 * every libc function a thread calls after READY ran once before, so no
 * first call faults in code pages (16 at a time, fault-around) under a
 * mix() call of another thread.
 *
 * Usage: attach_work READY PROGRESS [IGNORED...]
 * Output (deterministic): "attach_work: CHURN threads x BLOCKS mix calls a
 * round, checksum 0x..., every round agreed"; exit 0.  A round that
 * disagrees: "attach_work: N rounds disagreed", exit 1.  Counters that
 * depend on the test (rounds, batches) go to stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

#define PAGE		4096L
#ifndef CHURN
#define CHURN		3		/* make stress builds it with 64 */
#endif
#define BLOCKS		64		/* mix() calls a round */
#define BLOCK_WORDS	64		/* 512 bytes a call */
#define MIN_ROUNDS	4
#define BATCH_BASE	20
#define REGION_PAGES	8192L
#define STACK_WARM	(64 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static uint64_t buffer[BLOCKS * BLOCK_WORDS];
static uint64_t reference;
static char *region;
static long next_page;
static int progress_fd = -1;
static volatile char sink;

static atomic_int finish;
static atomic_long hold_req;		/* cycle that asks the churn to hold */
static atomic_long hold_ack[CHURN];	/* cycle each churn thread held for */
static atomic_long release;		/* cycle whose hold is over */
static atomic_long rounds[CHURN];
static long disagreed[CHURN];

/* One block of the checksum: several arguments and a value returned, so a
 * register the tracer fails to preserve changes the result. */
MEASURED uint64_t
mix(uint64_t acc, const uint64_t *words, long n, long salt)
{
	for (long i = 0; i < n; i++) {
		acc ^= words[i] + 0x9e3779b97f4a7c15ULL + (acc << 6) + (acc >> 2);
		acc = acc * 31 + (uint64_t)salt;
	}
	return acc;
}

MEASURED uint64_t
checksum(void)
{
	uint64_t acc = 1;

	for (long b = 0; b < BLOCKS; b++)
		acc = mix(acc, buffer + b * BLOCK_WORDS, BLOCK_WORDS, b);
	NO_TAIL_CALL();
	return acc;
}

MEASURED void
batch_touch(volatile char *page)
{
	*page = 1;
}

MEASURED void
warm_stack(void)
{
	volatile char stack[STACK_WARM];

	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

static void
nap_100us(void)
{
	struct timespec ts = { 0, 100000 };

	nanosleep(&ts, NULL);
}

/* Rounds of checksum(), with a hold between two mix() calls when the
 * worker asks for one.  All in this function, which was entered before any
 * attach: a traced callee that spanned a hold would span a batch. */
MEASURED void *
churn_main(void *arg)
{
	int me = (int)(long)arg;

	warm_stack();
	sched_yield();		/* its code resident, as nap_100us()'s */
	nap_100us();
	while (atomic_load(&rounds[me]) < MIN_ROUNDS || !atomic_load(&finish)) {
		uint64_t acc = 1;

		for (long b = 0; b < BLOCKS; b++) {
			long want = atomic_load(&hold_req);

			if (want > atomic_load(&hold_ack[me])) {
				atomic_store(&hold_ack[me], want);
				while (atomic_load(&release) < want)
					sched_yield();
			}
			acc = mix(acc, buffer + b * BLOCK_WORDS, BLOCK_WORDS, b);
		}
		if (acc != reference)
			disagreed[me]++;
		atomic_fetch_add(&rounds[me], 1);
		nap_100us();	/* leaves the CPUs to iprofmem and the test */
	}
	NO_TAIL_CALL();
	return NULL;
}

static void
progress(const char *what, long a, long b)
{
	char line[64];
	int n = b < 0 ? snprintf(line, sizeof(line), "%s %ld\n", what, a)
		      : snprintf(line, sizeof(line), "%s %ld %ld\n", what, a, b);

	if (write(progress_fd, line, n) != n) {
		perror("attach_work: progress");
		exit(99);
	}
}

/* The first 8 bytes of batch_touch() as they are now. */
static unsigned long long
entry_bytes(void)
{
	volatile const unsigned char *code = (const unsigned char *)(uintptr_t)batch_touch;
	unsigned long long v = 0;

	for (int i = 0; i < 8; i++)
		v |= (unsigned long long)code[i] << (8 * i);
	return v;
}

MEASURED void *
worker_main(void *arg)
{
	unsigned long long orig = entry_bytes();
	long k;

	(void)arg;
	warm_stack();
	sched_yield();		/* the code of what a cycle calls, resident */
	nap_100us();
	progress("start", 0, -1);
	for (k = 1; !atomic_load(&finish); k++) {
		long n = BATCH_BASE + k;

		while (entry_bytes() == orig && !atomic_load(&finish))
			nap_100us();
		if (atomic_load(&finish))
			break;
		if (next_page + n > REGION_PAGES) {
			progress("region full at cycle", k, -1);
			break;
		}
		atomic_store(&hold_req, k);
		for (int i = 0; i < CHURN; i++)
			while (atomic_load(&hold_ack[i]) < k)
				sched_yield();
		for (long i = 0; i < n; i++)
			batch_touch(region + (next_page++) * PAGE);
		atomic_store(&release, k);
		progress("batch", k, n);
		while (entry_bytes() != orig)
			nap_100us();
		progress("detached", k, -1);
	}
	fprintf(stderr, "attach_work: %ld batches\n", k - 1);
	NO_TAIL_CALL();
	return NULL;
}

MEASURED void
setup(const char *progress_path)
{
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("attach_work: mmap/madvise");
		exit(99);
	}
	region = p;
	for (long i = 0; i < BLOCKS * BLOCK_WORDS; i++)
		buffer[i] = (uint64_t)i * 2654435761U;
	reference = checksum();
	progress_fd = open(progress_path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
	if (progress_fd < 0) {
		perror(progress_path);
		exit(99);
	}
}

int
main(int argc, char **argv)
{
	pthread_t churn[CHURN], worker;
	sigset_t usr1;
	long total = 0, bad = 0;
	int sig;

	if (argc < 3) {
		fprintf(stderr, "usage: attach_work READY PROGRESS\n");
		return 2;
	}
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);	/* inherited by the threads */
	setup(argv[2]);
	for (long i = 0; i < CHURN; i++)
		if (pthread_create(&churn[i], NULL, churn_main, (void *)i)) {
			fprintf(stderr, "attach_work: pthread_create failed\n");
			return 99;
		}
	if (pthread_create(&worker, NULL, worker_main, NULL)) {
		fprintf(stderr, "attach_work: pthread_create failed\n");
		return 99;
	}
	for (int i = 0; i < CHURN; i++)
		while (atomic_load(&rounds[i]) < 1)
			sched_yield();
	sigtimedwait(&usr1, NULL, &(struct timespec){ 0, 0 });	/* its code resident */
	ready(argv[1]);
	while (sigwait(&usr1, &sig) != 0 || sig != SIGUSR1)
		;
	atomic_store(&finish, 1);
	pthread_join(worker, NULL);
	for (int i = 0; i < CHURN; i++) {
		pthread_join(churn[i], NULL);
		total += atomic_load(&rounds[i]);
		bad += disagreed[i];
	}
	fprintf(stderr, "attach_work: %ld rounds\n", total);
	if (bad) {
		printf("attach_work: %ld rounds disagreed\n", bad);
		return 1;
	}
	printf("attach_work: %d threads x %d mix calls a round, checksum 0x%016llx, every round agreed\n",
	       CHURN, BLOCKS, (unsigned long long)reference);
	return 0;
}
