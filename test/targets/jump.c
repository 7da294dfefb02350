/*
 * jump: longjmp out of two traced functions, which therefore never return.
 * The tracer's shadow stack must heal: the calls that did return still get
 * exact sums, including one made at the same stack depth as an abandoned
 * call, and the calls after it.
 *
 * Same page discipline as mem.c: an untouched anonymous region, touch()
 * writes one byte into each of the next n pages, setjmp/longjmp are warmed
 * up by setup() so their code is resident before anything is measured.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_jump.sh mirrors it):
 *
 *   function        pages  calls   why
 *   deep_jump           -      -   touches 2, longjmps: never returns
 *   deep_mid            -      -   touches 1, calls deep_jump: never returns
 *   same_depth          5      5   1 page, called where deep_mid was
 *   catcher            25      5   5 x (1 own + 1 + 2 abandoned + 1)
 *   after_jump          9      3   3 pages x 3, after all the jumps
 *   scenario_jump      35      1   1 own + 25 + 9
 *   setup, main   not exact    1
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)
#define JUMPS		5

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static long next_page;
volatile long sink;
static jmp_buf env;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

MEASURED void
deep_jump(long n)
{
	touch(n);
	longjmp(env, 1);
}

MEASURED void
deep_mid(long n)
{
	touch(1);
	deep_jump(n);
	NO_TAIL_CALL();
}

MEASURED void
same_depth(void)
{
	touch(1);
}

MEASURED long
catcher(long n)
{
	touch(1);
	if (setjmp(env) == 0) {
		deep_mid(n);
		return -1;		/* not reached */
	}
	same_depth();
	NO_TAIL_CALL();
	return 0;
}

MEASURED void
after_jump(void)
{
	touch(3);
}

MEASURED void
scenario_jump(void)
{
	touch(1);
	for (int i = 0; i < JUMPS; i++)
		sink = catcher(2);
	for (int i = 0; i < 3; i++)
		after_jump();
	NO_TAIL_CALL();
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	jmp_buf warm;
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("jump: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
	if (setjmp(warm) == 0)		/* brings setjmp's and longjmp's code in */
		longjmp(warm, 1);
}

int
main(void)
{
	setup();
	scenario_jump();
	return 0;
}
