/*
 * coro: two coroutines (ucontext: makecontext, swapcontext) that switch
 * stacks in the middle of traced calls, as green threads, fibers and the
 * coroutines of servers do.  A call left by a switch is not over: when its
 * coroutine comes back, it returns, and its row must count it.
 *
 *   coro ORDER SHAPE [MARK]
 *
 * ORDER: where the coroutines' stacks lie, one mapping of two stacks:
 *   up      coroutine 0's stack below coroutine 1's
 *   down    above it
 * SHAPE:
 *   flat    sched() runs 4 rounds, each resuming coroutine 0 then 1; a
 *           coroutine runs body() -> work(), which touches a page and
 *           yields, 3 times, then returns; body() touches one more page
 *   deep    the same, but work() yields inside step(), which touches the
 *           page: each step() call spans a switch there and back
 *   moved   start_all() runs the first round and returns; resume_all()
 *           runs the other three: the coroutines' calls come back over a
 *           caller that is not the one they were entered over
 *   threads the main thread and a second one (helper) take turns, each
 *           round in run_round(): rounds 0 and 2 in the main thread, 1
 *           and 3 in helper, which the coroutines' calls entered in the
 *           main thread return in
 *
 * Same page discipline as mem.c: an untouched anonymous region, each
 * co_touch() call makes the next page resident; the stacks, and the
 * code of a switch, are made resident by setup(), before any coroutine
 * runs.  RSS is the process's,
 * so a call that spans a switch counts what the other coroutine touched
 * meanwhile.  Page counter P: coroutine 0 enters at 0, touches 1, 3, 5;
 * coroutine 1 enters at 1, touches 2, 4, 6; in the last round work()
 * returns at 6 (coroutine 0) and 7 (coroutine 1), body() touches 7 and 8.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_coro.sh mirrors it):
 *
 *   function        pages  calls   why
 *   co_touch            8      8   1 page each
 *   step               12      6   deep only: entered at P, returns at
 *                                  P + 2 (the other coroutine's page too)
 *   work               12      2   6 + 6
 *   body               14      2   7 + 7
 *   co_entry           14      2   as body, which is all it does
 *   sched               8      1   flat and deep
 *   start_all           2      1   moved: the first round
 *   resume_all          6      1   moved: the others
 *   run_round           8      4   threads: 2 pages a round
 *   helper              8      1   threads: started before round 0, it
 *                                  returns after round 3
 *   take_turns    not exact    1   threads: makes helper (-O0: a row)
 *   setup, main   not exact    1
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define PAGE		4096L
#define REGION_PAGES	64L
#define STACK_SIZE	(64 * 1024L)
#define HELPER_STACK	(256 * 1024L)
#define ROUNDS		4
#define YIELDS		3

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static long next_page;
static char *stacks;
static ucontext_t main_ctx, co_ctx[2];
static int deep;
static char *helper_stack;
static sem_t to_helper, to_main;

static inline __attribute__((always_inline)) void
sem_or_die(int r)
{
	if (r != 0) {
		perror("coro: sem");
		exit(99);
	}
}

static inline __attribute__((always_inline)) void
yield(int id)
{
	if (swapcontext(&co_ctx[id], &main_ctx) != 0) {
		perror("coro: swapcontext");
		exit(99);
	}
}

static inline __attribute__((always_inline)) void
resume(int id)
{
	if (swapcontext(&main_ctx, &co_ctx[id]) != 0) {
		perror("coro: swapcontext");
		exit(99);
	}
}

MEASURED void
co_touch(void)
{
	region[(next_page++) * PAGE] = 1;
}

MEASURED void
step(int id)
{
	co_touch();
	yield(id);
	NO_TAIL_CALL();
}

MEASURED void
work(int id)
{
	for (int i = 0; i < YIELDS; i++) {
		if (deep) {
			step(id);
		} else {
			co_touch();
			yield(id);
		}
	}
	NO_TAIL_CALL();
}

MEASURED void
body(int id)
{
	work(id);
	co_touch();
	NO_TAIL_CALL();
}

MEASURED void
co_entry(int id)
{
	body(id);
	NO_TAIL_CALL();
}

MEASURED void
sched(void)
{
	for (int r = 0; r < ROUNDS; r++)
		for (int id = 0; id < 2; id++)
			resume(id);
	NO_TAIL_CALL();
}

MEASURED void
start_all(void)
{
	for (int id = 0; id < 2; id++)
		resume(id);
	NO_TAIL_CALL();
}

MEASURED void
resume_all(void)
{
	for (int r = 1; r < ROUNDS; r++)
		for (int id = 0; id < 2; id++)
			resume(id);
	NO_TAIL_CALL();
}

MEASURED void
run_round(void)
{
	for (int id = 0; id < 2; id++)
		resume(id);
	NO_TAIL_CALL();
}

/* The second thread of shape threads: rounds 1 and 3. */
MEASURED void *
helper(void *arg)
{
	sem_or_die(sem_post(&to_main));		/* started */
	for (int r = 1; r < ROUNDS; r += 2) {
		sem_or_die(sem_wait(&to_helper));
		run_round();
		sem_or_die(sem_post(&to_main));
	}
	return arg;
}

/* Rounds 0 and 2 here, 1 and 3 in helper, strictly by turns. */
static void
take_turns(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (sem_init(&to_helper, 0, 0) != 0 || sem_init(&to_main, 0, 0) != 0 ||
	    pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstack(&attr, helper_stack, HELPER_STACK) != 0 ||
	    pthread_create(&t, &attr, helper, NULL) != 0) {
		perror("coro: thread");
		exit(99);
	}
	sem_or_die(sem_wait(&to_main));		/* helper has started */
	for (int r = 0; r < ROUNDS; r += 2) {
		run_round();
		sem_or_die(sem_post(&to_helper));
		sem_or_die(sem_wait(&to_main));
	}
	if (pthread_join(t, NULL) != 0) {
		perror("coro: join");
		exit(99);
	}
}

/* The first switch there and back, before anything is measured: brings
 * swapcontext's code (and its neighbours, by fault-around) in. */
static void
warm(void)
{
}

MEASURED void
setup(int down)
{
	ucontext_t warm_ctx;

	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("coro: mmap/madvise");
		exit(99);
	}
	region = p;
	/* the coroutines' two stacks, and warm's */
	p = mmap(NULL, 3 * STACK_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("coro: mmap");
		exit(99);
	}
	stacks = p;
	memset(stacks, 0, 3 * STACK_SIZE);	/* resident before any call */
	p = mmap(NULL, HELPER_STACK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("coro: mmap");
		exit(99);
	}
	helper_stack = p;
	memset(helper_stack, 0, HELPER_STACK);
	for (int id = 0; id < 2; id++) {
		if (getcontext(&co_ctx[id]) != 0) {
			perror("coro: getcontext");
			exit(99);
		}
		co_ctx[id].uc_stack.ss_sp = stacks + (down ? 1 - id : id) * STACK_SIZE;
		co_ctx[id].uc_stack.ss_size = STACK_SIZE;
		co_ctx[id].uc_link = &main_ctx;
		makecontext(&co_ctx[id], (void (*)(void))co_entry, 1, id);
	}
	if (getcontext(&warm_ctx) != 0) {
		perror("coro: getcontext");
		exit(99);
	}
	warm_ctx.uc_stack.ss_sp = stacks + 2 * STACK_SIZE;
	warm_ctx.uc_stack.ss_size = STACK_SIZE;
	warm_ctx.uc_link = &main_ctx;
	makecontext(&warm_ctx, warm, 0);
	if (swapcontext(&main_ctx, &warm_ctx) != 0) {
		perror("coro: swapcontext");
		exit(99);
	}
}

int
main(int argc, char **argv)
{
	const char *order = argc > 1 ? argv[1] : "", *shape = argc > 2 ? argv[2] : "";

	if ((strcmp(order, "up") != 0 && strcmp(order, "down") != 0) ||
	    (strcmp(shape, "flat") != 0 && strcmp(shape, "deep") != 0 &&
	     strcmp(shape, "moved") != 0 && strcmp(shape, "threads") != 0)) {
		fprintf(stderr, "usage: coro up|down flat|deep|moved|threads [MARK]\n");
		return 2;
	}
	setup(strcmp(order, "down") == 0);
	deep = strcmp(shape, "deep") == 0;
	if (strcmp(shape, "threads") == 0) {
		take_turns();
	} else if (strcmp(shape, "moved") == 0) {
		start_all();
		resume_all();
	} else {
		sched();
	}
	printf("coro %s %s: %ld pages\n", order, shape, next_page);
	return next_page == 2 * (YIELDS + 1) ? 0 : 1;
}
