/*
 * regress: two versions of one program, for 'iprofmem diff' and budgets
 * (test/e2e/test_diff.sh).  Built twice from this file: regress.v1, and
 * regress.v2 with -DV2, as two builds of a program between which a
 * function started to leak.  Same page discipline as views.c: pages come
 * from a region nobody touched before, one fault per page (no THP), the
 * stack is warmed by setup() first.
 *
 * Pages of 4096 bytes per function (test/e2e/test_diff.sh mirrors it):
 *
 *   function     v1 pages calls    v2 pages calls
 *   steady            3     1           3     1     unchanged
 *   grows             4     2          20     2     leaks 8 more a call
 *   shrinks           6     1           2     1
 *   old_name          5     1           -     -     renamed in v2...
 *   new_name          -     -           5     1     ...to this
 *   only_v1           2     1           -     -     gone in v2
 *   only_v2           -     -           7     1     new in v2
 *   idle              0     1           0     1     never grows: no row
 *
 * In v2 a #line directive moves every function below it down, as an edit
 * above them would (one file, so the path stays): diff matches by file and
 * name, not line.
 *
 * Usage: regress [MODE] [IGNORED...]
 *   (none)      run the functions once, exit 0
 *   fork        setup, then fork: the child runs them and exits 0, then
 *               the parent does
 *   serve SECS  every 50 ms, tick() touches one page, for SECS seconds
 *               (for the live view under -p), then runs the functions
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	4096L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

#ifdef V2
#define VERSION_PAGES(v1, v2)	(v2)
#else
#define VERSION_PAGES(v1, v2)	(v1)
#endif

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
steady(void)
{
	touch(3);
}

#ifdef V2
/* version 2: everything below moves down (the next line is line 300) */
#line 300
#endif

MEASURED void
grows(void)
{
	touch(VERSION_PAGES(2, 10));
}

MEASURED void
shrinks(void)
{
	touch(VERSION_PAGES(6, 2));
}

#ifdef V2
MEASURED void
new_name(void)
{
	touch(5);
}

MEASURED void
only_v2(void)
{
	touch(7);
}
#else
MEASURED void
old_name(void)
{
	touch(5);
}

MEASURED void
only_v1(void)
{
	touch(2);
}
#endif

MEASURED void
idle(void)
{
	sink++;
}

MEASURED void
tick(void)
{
	touch(1);
}

static void
run_all(void)
{
	steady();
	grows();
	grows();
	shrinks();
#ifdef V2
	new_name();
	only_v2();
#else
	old_name();
	only_v1();
#endif
	idle();
}

static void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("regress: mmap/madvise");
		exit(99);
	}
	region = p;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

/* tick() every 50 ms for secs seconds (at most REGION_PAGES / 2 ticks). */
static void
serve(double secs)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	long n = (long)(secs * 20);

	for (long i = 0; i < n && i < REGION_PAGES / 2; i++) {
		tick();
		nanosleep(&pause, NULL);
	}
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setup();
	if (strcmp(mode, "serve") == 0)
		serve(argc > 2 ? atof(argv[2]) : 10);
	if (strcmp(mode, "fork") == 0) {
		int st;
		pid_t pid;

		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			perror("regress: fork");
			return 99;
		}
		if (pid == 0) {
			run_all();
			_exit(0);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st))
			return 1;
	}
	run_all();
	return 0;
}
