/*
 * forker: forks N children (default 200) in a loop, all running at once;
 * each calls child_main(), which calls child_touch() K times (default 8),
 * every call writing one byte into the next page of a region the parent
 * mapped and never touched, then the child exits with status 0.  The
 * parent waits for every child and says how each one ended.
 *
 * A child's RSS grows by exactly one page per child_touch() call: the
 * region's pages are new to it, and nothing else it does between its
 * first and last measured trap faults a page (no libc call; its stack,
 * data and text were resident in the parent and are shared or copied at
 * fork).  So with -f --per-process, every child's table is exact:
 *   child_touch   K pages   K calls
 *   child_main    K pages   1 call
 * and nothing else (spawn() and main() never return in a child).
 *
 * A child that inherits breakpoints it is not told about dies of SIGTRAP:
 * the parent reports it ("killed by signal 5").
 *
 * Usage: forker [N [K]] [IGNORED...]
 * Stdout (deterministic): "forker: N children, N exited 0"; exit 0, or
 * one line per child that did not exit 0 and exit 1.  Stderr: "forker:
 * child I pid P", one line per child, for the test to match tables.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096L
#define MAX_CHILDREN	10000

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static long nkids = 200, ntouch = 8;
static char *region;

MEASURED void
child_touch(volatile char *page)
{
	*page = 1;
}

MEASURED void
child_main(void)
{
	for (long i = 0; i < ntouch; i++)
		child_touch(region + i * PAGE);
	NO_TAIL_CALL();
}

MEASURED pid_t
spawn(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		child_main();
		_exit(0);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	static pid_t pids[MAX_CHILDREN];
	long ok = 0;

	if (argc > 1)
		nkids = atol(argv[1]);
	if (argc > 2)
		ntouch = atol(argv[2]);
	if (nkids < 1 || nkids > MAX_CHILDREN || ntouch < 1) {
		fprintf(stderr, "usage: forker [N [K]], N <= %d\n", MAX_CHILDREN);
		return 2;
	}
	region = mmap(NULL, ntouch * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || madvise(region, ntouch * PAGE, MADV_NOHUGEPAGE)) {
		perror("forker: mmap/madvise");
		return 99;
	}
	fflush(stdout);		/* no buffered output copied into a child */
	for (long i = 0; i < nkids; i++) {
		pids[i] = spawn();
		if (pids[i] < 0) {
			perror("forker: fork");
			return 99;
		}
		fprintf(stderr, "forker: child %ld pid %d\n", i, (int)pids[i]);
	}
	for (long i = 0; i < nkids; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) != pids[i]) {
			printf("forker: child %ld: waitpid: %s\n", i, strerror(errno));
			continue;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			ok++;
		else if (WIFEXITED(st))
			printf("forker: child %ld exited %d\n", i, WEXITSTATUS(st));
		else if (WIFSIGNALED(st))
			printf("forker: child %ld killed by signal %d\n", i, WTERMSIG(st));
	}
	printf("forker: %ld children, %ld exited 0\n", nkids, ok);
	return ok == nkids ? 0 : 1;
}
