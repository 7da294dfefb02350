/*
 * sharedtp: a thread made by a raw clone(2) without CLONE_SETTLS, which
 * shares its creator's thread pointer (test/e2e/test_sharedtp.sh).  The
 * probe engine tells threads by their thread pointer: iprofmem must say so
 * when such a thread is made while it traces the program, and refuse
 * probes for a process that has one when it attaches.
 *
 * The other thread runs no traced code and touches nothing: it sets a
 * flag and, in "launch" mode, exits at once; in "attach" mode it waits
 * (raw futex calls, nothing of glibc's) until main ends.  main, the only
 * one to call traced functions, touches 3 pages in grow() (one call),
 * after the thread exists.
 *
 * In "process" mode the other is a process sharing the memory
 * (CLONE_VM | SIGCHLD, which ptrace reports as a fork), which main waits
 * for before grow().
 *
 * Usage: sharedtp launch
 *        sharedtp process
 *        sharedtp attach READY GO   (READY gets "PID PPID" once the thread
 *                                    runs; grow() runs once GO exists)
 * Prints "sharedtp: 3 pages, thread ran" and exits 0.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096L
#define STACK_BYTES	(64 * 1024)

static char *region;
static volatile int ran, stop;
static pid_t child_tid = 1;	/* cleared by the kernel when it exits */

/* A system call without glibc: errno is the shared thread pointer's. */
static long
raw(long nr, long a, long b, long c, long d)
{
	long ret;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

static int
other(void *arg)
{
	const int wait_for_stop = arg != NULL;

	__atomic_store_n(&ran, 1, __ATOMIC_RELEASE);
	while (wait_for_stop && !__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
		raw(SYS_futex, (long)&stop, FUTEX_WAIT, 0, 0);
	return 0;
}

__attribute__((noipa, used)) void
grow(void)
{
	for (long i = 0; i < 3; i++)
		region[i * PAGE] = 1;
}

static void
nap(void)
{
	const struct timespec ms = { 0, 1000000 };

	nanosleep(&ms, NULL);
}

int
main(int argc, char **argv)
{
	const int attach = argc > 3 && strcmp(argv[1], "attach") == 0;
	char *stack;
	FILE *f;

	if (argc < 2 || (!attach && strcmp(argv[1], "launch") != 0 &&
			 strcmp(argv[1], "process") != 0)) {
		fprintf(stderr, "usage: sharedtp launch | process | attach READY GO\n");
		return 2;
	}
	region = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED || stack == MAP_FAILED)
		return 99;
	madvise(region, 16 * PAGE, MADV_NOHUGEPAGE);
	memset(stack, 0, STACK_BYTES);
	if (strcmp(argv[1], "process") == 0) {
		/* a process sharing the memory: reported as a fork */
		int status;
		pid_t pid = clone(other, stack + STACK_BYTES, CLONE_VM | SIGCHLD,
				  NULL);

		if (pid < 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !ran)
			return 99;
		child_tid = 0;
	} else if (clone(other, stack + STACK_BYTES,
			 CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			 CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
			 attach ? (void *)1 : NULL, NULL, NULL, &child_tid) < 0) {
		perror("clone");
		return 99;
	}
	while (!__atomic_load_n(&ran, __ATOMIC_ACQUIRE))
		nap();
	if (attach) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
		    fclose(f) != 0 || rename(tmp, argv[2]) != 0)
			return 99;
		for (int i = 0; i < 60000 && access(argv[3], F_OK) != 0; i++)
			nap();
	}
	grow();
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	raw(SYS_futex, (long)&stop, FUTEX_WAKE, 1, 0);
	/* until the kernel clears child_tid at the thread's exit */
	while (__atomic_load_n(&child_tid, __ATOMIC_ACQUIRE))
		raw(SYS_futex, (long)&child_tid, FUTEX_WAIT,
		    __atomic_load_n(&child_tid, __ATOMIC_ACQUIRE), 0);
	printf("sharedtp: 3 pages, thread ran\n");
	return 0;
}
