/*
 * views: a small call tree whose memory is known to the page, for the
 * views (tree, self/peak/total-calls columns, JSON, CSV, folded stacks,
 * flame graph, timeline) and the record files.  Same page discipline as
 * test/targets/mem.c: pages come from a region that nobody touched before,
 * one fault per page (no THP), the stack is warmed by setup() first.
 *
 * The call tree (pages of 4096 bytes; test/e2e/views_lib.sh mirrors it):
 *
 *   main                          not exact
 *     setup                       not exact (about 62: the stack warm-up)
 *     run                         own 2 pages, then:
 *       poll_loop                 own 2, sometimes(0..8)
 *         sometimes               1 page when i % 3 == 0: 3 calls of 9 grow
 *       alloc_small               own 2, leaf(5), leaf(3)
 *         leaf                    2 calls, 8 pages
 *       alloc_big                 own 1, leaf(20)
 *         leaf                    1 call, 20 pages
 *       spike                     touches 12, mark(), gives 8 back: 4
 *         mark                    touches nothing (a trap at the top)
 *
 * So, per function:
 *
 *   function      pages calls total  self  peak
 *   sometimes         3     3     9     3     1
 *   spike             4     1     1     4    12   (peak at mark's traps)
 *   poll_loop         5     1     1     2     5
 *   alloc_small      10     1     1     2    10
 *   alloc_big        21     1     1     1    21
 *   leaf             28     3     3    28    20
 *   run              42     1     1     2    50   (2+5+10+21, then +12 at mark)
 *   mark              -     -     1     -     -   no row (grows nothing)
 *
 * The siblings under run are called smallest first (but spike), so a tree
 * with its siblings biggest first is really sorted.
 *
 * Usage: views [MODE] [IGNORED...]
 *   (none)     run the tree once, exit 0
 *   exit       run the tree once, then exit(0) from main: main never
 *              returns, what its callees measured stays exact
 *   fork       setup, then fork: the child runs the tree and exits 3, the
 *              parent waits for it, runs the tree and exits 0 (1 if the
 *              child did not exit 3).  In the child, spike (and so run) is
 *              not exact: fork does not copy the page tables of libc's
 *              text, and the child's first madvise() faults its code back
 *              in (with fault-around, several pages); the other rows are.
 *   selfcheck  run the functions untraced with /proc/self/statm read
 *              around each one, a line per check, exit 1 on a mismatch
 * Extra arguments are ignored (tests pass a marker to find leftovers).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static long next_page;
volatile long sink;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

MEASURED void
mark(void)
{
	sink++;
}

MEASURED void
leaf(long n)
{
	touch(n);
}

MEASURED void
sometimes(long i)
{
	if (i % 3 == 0)
		touch(1);
}

MEASURED void
poll_loop(void)
{
	touch(2);
	for (long i = 0; i < 9; i++)
		sometimes(i);
	NO_TAIL_CALL();
}

MEASURED void
alloc_small(void)
{
	touch(2);
	leaf(5);
	leaf(3);
	NO_TAIL_CALL();
}

MEASURED void
alloc_big(void)
{
	touch(1);
	leaf(20);
	NO_TAIL_CALL();
}

/* 12 pages resident at mark()'s traps, 8 of them given back before the
 * return: peak 12, delta 4. */
MEASURED void
spike(void)
{
	long first = next_page;

	touch(12);
	mark();
	madvise((char *)region + first * PAGE, 8 * PAGE, MADV_DONTNEED);
	NO_TAIL_CALL();
}

MEASURED void
run(void)
{
	touch(2);
	poll_loop();
	alloc_small();
	alloc_big();
	spike();
	NO_TAIL_CALL();
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("views: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

/* --- selfcheck: the same functions, measured from here without a tracer --- */

static int statm_fd = -1;

static long
rss_pages(void)
{
	char buf[128];
	long size, resident;
	ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
		return -1;
	return resident;
}

static int failures;

#define MEASURE(what, expect, call)					\
	do {								\
		long b_ = rss_pages();					\
		call;							\
		long got_ = rss_pages() - b_;				\
		printf("%s %s: %ld pages (expected %ld)\n",		\
		       got_ == (expect) ? "ok" : "MISMATCH", what,	\
		       got_, (long)(expect));				\
		failures += got_ != (expect);				\
	} while (0)

static int
selfcheck(void)
{
	statm_fd = open("/proc/self/statm", O_RDONLY);
	if (statm_fd < 0) {
		perror("views: /proc/self/statm");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	rss_pages();
	rss_pages();
	MEASURE("mark", 0, mark());
	MEASURE("leaf(4)", 4, leaf(4));
	MEASURE("sometimes(3)", 1, sometimes(3));
	MEASURE("sometimes(4)", 0, sometimes(4));
	MEASURE("poll_loop", 5, poll_loop());
	MEASURE("alloc_small", 10, alloc_small());
	MEASURE("alloc_big", 21, alloc_big());
	MEASURE("spike", 4, spike());
	MEASURE("run", 42, run());
	printf("%s\n", failures ? "selfcheck FAILED" : "selfcheck passed");
	return failures != 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setup();
	if (strcmp(mode, "selfcheck") == 0)
		return selfcheck();
	if (strcmp(mode, "fork") == 0) {
		int st;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("views: fork");
			return 99;
		}
		if (pid == 0) {
			run();
			_exit(3);
		}
		if (waitpid(pid, &st, 0) != pid)
			return 1;
		run();
		return WIFEXITED(st) && WEXITSTATUS(st) == 3 ? 0 : 1;
	}
	run();
	if (strcmp(mode, "exit") == 0)
		exit(0);
	return 0;
}
