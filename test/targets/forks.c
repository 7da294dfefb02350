/*
 * forks: the traced process forks, vforks and posix_spawns children.  The
 * breakpoints the fork child inherits must not kill it (SIGTRAP), the vfork
 * child shares the parent's memory (breakpoints removed "from the child"
 * would be gone from the parent too), and the parent's calls before and
 * after stay exact.  Children are not followed: their calls have no row.
 *
 * Same page discipline as mem.c (untouched region, warmed stack).
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_forks.sh mirrors it):
 *
 *   function        pages  calls   why
 *   before_fork        20     10   2 pages x 10, before any child
 *   after_fork         10     10   1 page x 10, after all the children
 *   in_child            -      -   runs in the fork child only
 *   vfork_child         -      -   runs in the vfork child, touches nothing
 *   setup, main, report: not exact
 *
 * Prints how each child ended; exits 0 if each ended as it should (fork
 * child: exit 4, vfork child: exit 7, spawned child: exit 5), else 1.
 * Run with the argument "spawned" it only exits 5 (the spawned child).
 */
#define _GNU_SOURCE
#include <spawn.h>
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

extern char **environ;
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
before_fork(void)
{
	touch(2);
}

MEASURED void
after_fork(void)
{
	touch(1);
}

MEASURED long
in_child(long i)
{
	touch(1);
	return i + 1;
}

MEASURED long
vfork_child(long x)
{
	return x * 2 + 1;
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("forks: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

static int
report(const char *what, int st, int want)
{
	if (WIFEXITED(st))
		printf("%s child exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s child killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s child ended oddly: 0x%x\n", what, st);
	return WIFEXITED(st) && WEXITSTATUS(st) == want ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char *spawn_argv[] = { argv[0], "spawned", NULL };
	volatile int bad = 0;	/* volatile: vfork */
	int st;
	pid_t pid;

	if (argc > 1 && strcmp(argv[1], "spawned") == 0)
		return 5;
	setup();
	for (int i = 0; i < 10; i++)
		before_fork();

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		long n = 0;
		for (int i = 0; i < 5; i++)
			n = in_child(n);
		_exit(n == 5 ? 4 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 98;
	bad |= report("fork", st, 4);

	pid = vfork();
	if (pid == 0)
		_exit((int)vfork_child(3));
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return 98;
	bad |= report("vfork", st, 7);

	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, spawn_argv, environ) != 0 ||
	    waitpid(pid, &st, 0) != pid)
		return 98;
	bad |= report("posix_spawn", st, 5);

	for (int i = 0; i < 10; i++)
		after_fork();
	return bad;
}
