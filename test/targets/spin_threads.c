/*
 * spin_threads: T threads (default 8) each call spin_touch() K times
 * (default 2000) at the same time, every call touching one new page of the
 * thread's own slice of a pre-mapped region.  A tracer that lifts a
 * breakpoint to step over it lets another thread pass the site untraced:
 * then spin_touch has fewer than T*K calls.  Every call grows RSS by its own
 * page at least, and nothing is given back while a call runs, so every call
 * counts: spin_touch's row must say exactly T*K calls and at least T*K
 * pages (RSS is per process: a call also sees other threads' pages).
 *
 * The work goes in rounds of ROUND calls per thread; between rounds all
 * threads meet at a barrier, each gives its slice back (MADV_DONTNEED) while
 * no call runs, and they meet again: RSS stays bounded (T * ROUND pages)
 * whatever K is.  Threads also meet before exiting (glibc gives an exiting
 * thread's stack back with MADV_DONTNEED, which would shrink RSS under a
 * call still running in another thread).
 *
 * Usage: spin_threads [K [T]] [IGNORED...]
 * Prints "spin_threads: T threads x K calls = N calls"; exits 0.
 *
 * Rows: spin_touch  >= T*K pages, exactly T*K calls; spin_main, setup,
 * main: not exact (spin_main's call ends after its slice was given back).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE		4096L
#define ROUND		1000L		/* calls per thread between barriers */
#define MAX_THREADS	64

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static long calls_per_thread = 2000;
static int nthreads = 8;
static char *region;
static pthread_barrier_t meet;

MEASURED void
spin_touch(volatile char *page)
{
	*page = 1;
}

MEASURED void *
spin_main(void *arg)
{
	char *slice = region + (long)arg * ROUND * PAGE;
	long left = calls_per_thread;

	while (left > 0) {
		long n = left < ROUND ? left : ROUND;

		pthread_barrier_wait(&meet);
		for (long i = 0; i < n; i++)
			spin_touch(slice + i * PAGE);
		pthread_barrier_wait(&meet);
		madvise(slice, ROUND * PAGE, MADV_DONTNEED);
		left -= n;
	}
	pthread_barrier_wait(&meet);	/* no thread exits while one calls */
	NO_TAIL_CALL();
	return NULL;
}

MEASURED void
setup(void)
{
	long size = nthreads * ROUND * PAGE;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, size, MADV_NOHUGEPAGE)) {
		perror("spin_threads: mmap/madvise");
		exit(99);
	}
	region = p;
	pthread_barrier_init(&meet, NULL, nthreads);
}

int
main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];

	if (argc > 1)
		calls_per_thread = atol(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (calls_per_thread < 1 || nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "usage: spin_threads [K [T]], 1 <= T <= %d\n", MAX_THREADS);
		return 2;
	}
	setup();
	for (long i = 0; i < nthreads; i++) {
		int err = pthread_create(&t[i], NULL, spin_main, (void *)i);

		if (err) {
			fprintf(stderr, "spin_threads: pthread_create: error %d\n", err);
			return 99;
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	printf("spin_threads: %d threads x %ld calls = %ld calls\n",
	       nthreads, calls_per_thread, nthreads * calls_per_thread);
	return 0;
}
