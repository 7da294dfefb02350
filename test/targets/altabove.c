/*
 * altabove: an untraced signal handler on an alternate stack that lies
 * above the interrupted stack calls a traced function.  By the
 * stack-pointer rule that entry ends the interrupted calls (it is above
 * them, as a call after a longjmp would be); their frames are parked, and
 * their returns, after the handler's, bring them back: they are counted,
 * with the pages the handler made resident while they ran.
 *
 * The interrupted code runs in a thread whose stack is in .bss (low),
 * the alternate stack is mapped (high).  Page discipline as in mem.c:
 * every page_touch() makes the next page of an untouched region resident;
 * both stacks are touched, and one signal delivered before anything is
 * measured (the handler's first call, with no traced call live).
 *
 * Traced with -e outer -e inner -e in_handler (the handler, untraced,
 * is the point).  Expected rows (pages of 4096 bytes; test/e2e/
 * test_altabove.sh mirrors them):
 *
 *   function        pages  calls   why
 *   in_handler          4      4   1 page: the warm-up's call, 3 in inner
 *   inner               9      3   1 + the handler's 1 + 1, 3 times
 *   outer              12      3   inner's 3 + 1, 3 times
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE		4096L
#define REGION_PAGES	64L
#define ALT_STACK	(64 * 1024L)
#define THREAD_STACK	(256 * 1024L)
#define CALLS		3

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static volatile long next_page;
static char thread_stack[THREAD_STACK] __attribute__((aligned(4096)));
static char *alt_stack;

static inline __attribute__((always_inline)) void
page_touch(void)
{
	region[(next_page++) * PAGE] = 1;
}

MEASURED void
in_handler(void)
{
	page_touch();
}

static void
on_usr1(int sig)
{
	(void)sig;
	in_handler();
	NO_TAIL_CALL();		/* a jmp would make in_handler the handler */
}

MEASURED void
inner(void)
{
	page_touch();
	raise(SIGUSR1);
	page_touch();
}

MEASURED void
outer(void)
{
	inner();
	page_touch();
	NO_TAIL_CALL();
}

static void *
run(void *arg)
{
	stack_t ss = { .ss_sp = alt_stack, .ss_size = ALT_STACK };

	if (sigaltstack(&ss, NULL) != 0) {
		perror("altabove: sigaltstack");
		exit(99);
	}
	if ((char *)&ss > alt_stack) {
		fprintf(stderr, "altabove: the alternate stack is not above\n");
		exit(99);
	}
	raise(SIGUSR1);		/* the warm-up: the trampoline comes in */
	for (int i = 0; i < CALLS; i++)
		outer();
	return arg;
}

int
main(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_ONSTACK };
	pthread_attr_t attr;
	pthread_t t;
	void *p;

	p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("altabove: mmap/madvise");
		return 99;
	}
	region = p;
	p = mmap(NULL, ALT_STACK, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("altabove: mmap");
		return 99;
	}
	alt_stack = p;
	memset(alt_stack, 0, ALT_STACK);
	memset(thread_stack, 0, THREAD_STACK);
	if (sigaction(SIGUSR1, &sa, NULL) != 0 ||
	    pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstack(&attr, thread_stack, THREAD_STACK) != 0 ||
	    pthread_create(&t, &attr, run, NULL) != 0 ||
	    pthread_join(t, NULL) != 0) {
		perror("altabove: signal, thread");
		return 99;
	}
	printf("altabove: %ld pages\n", next_page);
	return next_page == 1 + 4 * CALLS ? 0 : 1;
}
