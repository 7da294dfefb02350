/*
 * thr: threads that start, end and exec in the middle of traced calls.  One
 * thread runs at a time (the others wait in pthread_join), so every sum is
 * exact: a new thread's start routine is traced from its first instruction,
 * a thread that calls pthread_exit from a traced callee leaves no row for
 * the frames it abandoned, a thread that is not the leader execs the
 * program again and the new image's calls are traced too.
 *
 * Page discipline as in mem.c: an untouched anonymous region, touch()
 * writes one byte into each of the next n pages.  Thread stacks are ours
 * (pthread_attr_setstack) and touched by setup(), so a thread's frames never
 * fault a new stack page, and glibc never gives them back (MADV_DONTNEED)
 * while another call is measured.  A warm-up thread of each kind runs first:
 * the code pthread_create, pthread_join and pthread_exit (which loads
 * libgcc_s to unwind) run in the main thread is then resident.
 *
 * Usage: thr MODE [IGNORED...]   (tests pass a marker to find leftovers)
 *
 * Expected tables (pages of 4096 bytes; test/e2e/test_thr.sh mirrors them):
 *
 * start   3 threads run thread_start, 2 run thread_nested:
 *   thread_start        9      3   3 pages per thread, its own first call
 *   thread_leaf         8      8   1 page x 4 per thread_nested
 *   thread_nested      10      2   1 own page + 4 leaves
 *   main_after          4      4   in the main thread after the joins
 *
 * exit    3 threads end by pthread_exit inside traced frames:
 *   leaf_ok             3      3   1 page, returned before the exit
 *   exiting_main, exit_mid, quit_thread: never return, no row
 *   main_after          4      4
 *
 * exec    the main thread runs pre_exec 5 times, then a second thread execs
 *         the program as `thr after REST...`, which runs post_exec:
 *   pre_exec           10      5   2 pages x 5, in the old image
 *   post_exec           7      7   1 page x 7, in the new image
 *   exec_thread, do_exec: never return, no row
 *
 * segv    main_after 4 times, then a second thread runs crash_work 3 times
 *         and dereferences NULL in crash() (exit 139 / 128+SIGSEGV):
 *   crash_work          6      3   2 pages x 3
 *   main_after          4      4
 *   segv_thread, crash, wait_for: never return, no row; no row for main
 *
 * warm_start, warm_exit, setup, start_thread_on, main: not exact.
 * Prints one line per mode; exits 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define NSTACKS		8
#define TSTACK		(256 * 1024)
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static volatile long next_page;	/* volatile: handlers, threads and vfork children move it */
static char stacks[NSTACKS][TSTACK] __attribute__((aligned(4096)));
static int next_stack;
int *volatile bad_pointer;	/* NULL, for crash() */
volatile long sink;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

/* ---- start: traced from the first instruction ---- */

MEASURED void *
thread_start(void *arg)
{
	touch(3);
	return arg;
}

MEASURED void
thread_leaf(void)
{
	touch(1);
}

MEASURED void *
thread_nested(void *arg)
{
	touch(1);
	for (int i = 0; i < 4; i++)
		thread_leaf();
	NO_TAIL_CALL();
	return arg;
}

MEASURED void
main_after(void)
{
	touch(1);
}

/* ---- exit: pthread_exit from a traced callee ---- */

MEASURED void
leaf_ok(void)
{
	touch(1);
}

MEASURED void
quit_thread(void)
{
	touch(2);
	pthread_exit(NULL);
}

MEASURED void
exit_mid(void)
{
	touch(1);
	leaf_ok();
	quit_thread();
	NO_TAIL_CALL();
}

MEASURED void *
exiting_main(void *arg)
{
	touch(1);
	exit_mid();
	NO_TAIL_CALL();
	return arg;
}

/* ---- exec from a thread that is not the leader ---- */

static char **exec_argv;

MEASURED void
pre_exec(void)
{
	touch(2);
}

MEASURED void
post_exec(void)
{
	touch(1);
}

MEASURED void
do_exec(void)
{
	execv("/proc/self/exe", exec_argv);
	perror("thr: execv");
	_exit(98);
}

MEASURED void *
exec_thread(void *arg)
{
	touch(1);
	do_exec();
	NO_TAIL_CALL();
	return arg;
}

/* ---- segv in a thread that is not the leader ---- */

MEASURED void
crash_work(void)
{
	touch(2);
}

MEASURED void
crash(void)
{
	*bad_pointer = 1;
}

MEASURED void *
segv_thread(void *arg)
{
	for (int i = 0; i < 3; i++)
		crash_work();
	crash();
	NO_TAIL_CALL();
	return arg;
}

/* ---- plumbing ---- */

MEASURED void *
warm_start(void *arg)
{
	return arg;
}

MEASURED void *
warm_exit(void *arg)
{
	(void)arg;
	pthread_exit(NULL);
}

/* A thread on the next of our pre-touched stacks, joined. */
MEASURED void
start_thread_on(void *(*fn)(void *), int join)
{
	pthread_attr_t attr;
	pthread_t t;
	int err;

	if (next_stack == NSTACKS) {
		fprintf(stderr, "thr: out of stacks\n");
		exit(99);
	}
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, stacks[next_stack++], TSTACK);
	err = pthread_create(&t, &attr, fn, NULL);
	if (err) {
		fprintf(stderr, "thr: pthread_create: error %d\n", err);
		exit(99);
	}
	pthread_attr_destroy(&attr);
	if (join)
		pthread_join(t, NULL);
	else
		for (;;)
			pause();	/* the thread ends the process */
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("thr: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	memset(stacks, 0, sizeof(stacks));
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setup();
	if (strcmp(mode, "after") == 0) {
		for (int i = 0; i < 7; i++)
			post_exec();
		printf("thr: after exec, %ld pages\n", next_page);
		return 0;
	}
	start_thread_on(warm_start, 1);
	if (strcmp(mode, "start") == 0) {
		for (int i = 0; i < 3; i++)
			start_thread_on(thread_start, 1);
		for (int i = 0; i < 2; i++)
			start_thread_on(thread_nested, 1);
	} else if (strcmp(mode, "exit") == 0) {
		start_thread_on(warm_exit, 1);
		for (int i = 0; i < 3; i++)
			start_thread_on(exiting_main, 1);
	} else if (strcmp(mode, "exec") == 0) {
		char *args[argc + 1];

		args[0] = argv[0];
		args[1] = "after";
		for (int i = 2; i < argc; i++)
			args[i] = argv[i];
		args[argc] = NULL;
		exec_argv = args;
		for (int i = 0; i < 5; i++)
			pre_exec();
		printf("thr: before exec, %ld pages\n", next_page);
		fflush(stdout);
		start_thread_on(exec_thread, 0);
	} else if (strcmp(mode, "segv") == 0) {
		for (int i = 0; i < 4; i++)
			main_after();
		printf("thr: before the crash, %ld pages\n", next_page);
		fflush(stdout);
		start_thread_on(segv_thread, 1);
		return 1;	/* not reached */
	} else {
		fprintf(stderr, "usage: thr start|exit|exec|segv\n");
		return 2;
	}
	for (int i = 0; i < 4; i++)
		main_after();
	printf("thr: %s, %ld pages\n", mode, next_page);
	return 0;
}
