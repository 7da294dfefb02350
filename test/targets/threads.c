/*
 * threads: traced functions running in threads other than the main one,
 * first one thread at a time (exact sums), then two threads at once (RSS is
 * per process, so each call also sees the other thread's pages: only the
 * call count is exact, and the sum has a lower bound).
 *
 * Each thread touches pages of its own slice of an untouched anonymous
 * region, passed as an argument; its stack is warmed before measuring.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_threads.sh mirrors it):
 *
 *   function        pages  calls   why
 *   thread_work       100     50   2 pages x 50, in a second thread alone
 *   main_work          10     10   1 page x 10, in the main thread, after
 *   conc_work       >= 200    200  1 page x 100 in each of two threads at
 *                                  once: every call grows RSS, by its own
 *                                  page at least
 *   thread_main, conc_main, warm_stack, start, setup, main: not exact
 *
 * Both threads wait for each other before exiting: an exiting thread's
 * stack is given back (MADV_DONTNEED), which would shrink RSS under a call
 * still running in the other thread.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE		4096L
#define SLICE_PAGES	256L		/* per thread */
#define STACK_WARM	(64 * 1024)
#define CONC_CALLS	100

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static char *region;
static pthread_barrier_t start_line;
volatile long sink;

MEASURED void
thread_work(volatile char *base, long i)
{
	base[(2 * i) * PAGE] = 1;
	base[(2 * i + 1) * PAGE] = 1;
}

MEASURED void
main_work(volatile char *base, long i)
{
	base[i * PAGE] = 1;
}

MEASURED void
conc_work(volatile char *base, long i)
{
	base[i * PAGE] = 1;
}

static void
warm_stack(void)
{
	volatile char stack[STACK_WARM];

	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

/* Warm the stack in a frame that returns, so the loop's calls run below
 * already-resident stack. */
MEASURED void *
thread_main(void *slice)
{
	warm_stack();
	for (long i = 0; i < 50; i++)
		thread_work(slice, i);
	NO_TAIL_CALL();
	return NULL;
}

MEASURED void *
conc_main(void *slice)
{
	warm_stack();
	pthread_barrier_wait(&start_line);
	for (long i = 0; i < CONC_CALLS; i++)
		conc_work(slice, i);
	/* Neither thread exits (glibc then gives its stack pages back with
	 * MADV_DONTNEED) while the other may be inside conc_work. */
	pthread_barrier_wait(&start_line);
	return NULL;
}

MEASURED void
setup(void)
{
	void *p = mmap(NULL, 4 * SLICE_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, 4 * SLICE_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("threads: mmap/madvise");
		exit(99);
	}
	region = p;
	warm_stack();
}

static void
start(pthread_t *t, void *(*fn)(void *), char *slice)
{
	int err = pthread_create(t, NULL, fn, slice);

	if (err) {
		fprintf(stderr, "threads: pthread_create: error %d\n", err);
		exit(99);
	}
}

int
main(void)
{
	pthread_t a, b;

	setup();
	start(&a, thread_main, region);
	pthread_join(a, NULL);
	for (long i = 0; i < 10; i++)
		main_work(region + SLICE_PAGES * PAGE, i);

	pthread_barrier_init(&start_line, NULL, 2);
	start(&a, conc_main, region + 2 * SLICE_PAGES * PAGE);
	start(&b, conc_main, region + 3 * SLICE_PAGES * PAGE);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
