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
 * In "busy" mode both run traced code: the thread is made inside
 * spawn(), which touches 2 pages before the clone and 2 after it (4 in
 * all, its frame in progress while iprofmem goes over to int3s); once
 * it returned, main calls watch(), in which both call tick() TICKS
 * times at once (no page), then, main waiting, the thread touches 2
 * pages in kid_grow() and exits; then main's grow().  Rows: spawn 4
 * pages, kid_grow 2, watch 2 (the thread's, which the process made
 * resident during it), grow 3, one call each; 2 * TICKS + 4 calls in
 * all.  Threads mixed up would end watch's frame at the thread's calls.
 *
 * "late" mode is "busy" mode for an attach: READY, GO as below, before
 * the thread is made.
 *
 * "foreign" mode is "busy" mode with a thread pointer of the thread's own
 * (CLONE_SETTLS) that does not point to itself, as Go's runtime makes
 * its threads: a block of zeros (the thread reads nothing there but,
 * with a stack protector, its canary).  Without rdfsbase the probes take
 * the word at %fs:0 for the thread's key, and in a glibc program they
 * run at %fs: iprofmem must go over to the int3 engine here too.
 *
 * In "vfork" mode main vforks, and while the child runs (sharing the
 * memory: its parent waits, and cannot stop for iprofmem), a pthread
 * makes the thread in spawn(); the child exits once spawn() returned.
 * The thread then touches 2 pages in kid_grow() and exits, then main's
 * grow().  Rows: spawn 4 pages, kid_grow 2, grow 3, one call each.
 *
 * Usage: sharedtp launch
 *        sharedtp process
 *        sharedtp busy
 *        sharedtp vfork
 *        sharedtp attach READY GO   (READY gets "PID PPID" once the thread
 *                                    runs; grow() runs once GO exists)
 *        sharedtp late READY GO     (READY gets "PID PPID" at once; the
 *                                    rest runs once GO exists)
 *        sharedtp foreign
 * Prints "sharedtp: 3 pages, thread ran" and exits 0 ("busy": the
 * ticks counted as well).
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
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
#define TICKS		2000

static char *region, *stack;
/* "foreign" mode's thread pointer: not pointing to itself */
static unsigned long foreign_tls[64] __attribute__((aligned(64)));
static int use_foreign_tls;
static volatile int ran, stop, spawned, main_ticked, kid_ticked;
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

static volatile long ticks;

__attribute__((noipa, used)) void
tick(void)
{
	__atomic_fetch_add(&ticks, 1, __ATOMIC_RELAXED);
}

__attribute__((noipa, used)) void
kid_grow(void)
{
	for (long i = 8; i < 10; i++)
		region[i * PAGE] = 1;
}

/* Raw futex calls: the thread runs nothing of glibc's, and neither
 * waiter may make a page resident (nanosleep's code, say) while the
 * other's traced call is in progress. */
static void
wait_flag(volatile int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		raw(SYS_futex, (long)flag, FUTEX_WAIT, 0, 0);
}

static void
set_flag(volatile int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
	raw(SYS_futex, (long)flag, FUTEX_WAKE, 0x7fffffff, 0);
}

/* The thread of "busy" mode: ticks beside main, then, once both are done
 * ticking, touches its pages. */
static int
busy(void *arg)
{
	(void)arg;
	wait_flag(&spawned);
	for (int i = 0; i < TICKS; i++)
		tick();
	set_flag(&kid_ticked);
	wait_flag(&main_ticked);
	kid_grow();
	set_flag(&ran);
	return 0;
}

/* main's part of "busy" mode, all of the thread's life in one frame: its
 * row is the thread's pages, as the process's RSS grew by them then. */
__attribute__((noipa, used)) void
watch(void)
{
	set_flag(&spawned);
	for (int i = 0; i < TICKS; i++)
		tick();
	wait_flag(&kid_ticked);
	set_flag(&main_ticked);
	wait_flag(&ran);
}

__attribute__((noipa, used)) int
spawn(int (*fn)(void *))
{
	region[12 * PAGE] = 1;
	region[13 * PAGE] = 1;
	if (clone(fn, stack + STACK_BYTES,
		  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
		  CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID |
		  (use_foreign_tls ? CLONE_SETTLS : 0),
		  NULL, NULL, (void *)foreign_tls, &child_tid) < 0)
		return -1;
	region[14 * PAGE] = 1;
	region[15 * PAGE] = 1;
	return 0;
}

/* "vfork" mode: the thread spawner() makes, once the vfork child has
 * stopped using the memory. */
static volatile int vforking;

static int
vkid(void *arg)
{
	(void)arg;
	wait_flag(&spawned);	/* not beside spawn()'s last pages */
	kid_grow();
	set_flag(&ran);
	return 0;
}

/* A pthread: the thread made while main's vfork child runs. */
static void *
spawner(void *arg)
{
	(void)arg;
	wait_flag(&vforking);
	if (spawn(vkid) != 0)
		return arg;
	set_flag(&spawned);
	wait_flag(&ran);
	return NULL;
}

/* main's part of "vfork" mode. */
static int
vfork_spawn(void)
{
	pthread_t b;
	void *bad;
	int status;
	pid_t pid;

	if (pthread_create(&b, NULL, spawner, NULL) != 0)
		return -1;
	pid = vfork();
	if (pid == 0) {
		/* the parent's memory, its stack: raw calls only */
		set_flag(&vforking);
		wait_flag(&spawned);
		raw(SYS_exit_group, 0, 0, 0, 0);
	}
	wait_flag(&ran);
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || pthread_join(b, &bad) != 0 || bad)
		return -1;
	return 0;
}

static void
nap(void)
{
	const struct timespec ms = { 0, 1000000 };

	nanosleep(&ms, NULL);
}

/* Write "PID PPID" to ready (by a rename: whole when it is there), then
 * wait (a minute at most) until go exists. */
static int
ready_go(const char *ready, const char *go)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, ready) != 0)
		return -1;
	for (int i = 0; i < 60000 && access(go, F_OK) != 0; i++)
		nap();
	return 0;
}

int
main(int argc, char **argv)
{
	const int attach = argc > 3 && strcmp(argv[1], "attach") == 0;
	const int late = argc > 3 && strcmp(argv[1], "late") == 0;
	const int foreign = argc > 1 && strcmp(argv[1], "foreign") == 0;
	const int busy_mode = late || foreign ||
			      (argc > 1 && strcmp(argv[1], "busy") == 0);
	const int vfork_mode = argc > 1 && strcmp(argv[1], "vfork") == 0;

	if (argc < 2 || (!attach && !busy_mode && !vfork_mode &&
			 strcmp(argv[1], "launch") != 0 &&
			 strcmp(argv[1], "process") != 0)) {
		fprintf(stderr, "usage: sharedtp launch | process | busy | vfork | foreign | attach READY GO | late READY GO\n");
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
	if (late && ready_go(argv[2], argv[3]) != 0)
		return 99;
	if (busy_mode) {
		use_foreign_tls = foreign;
		if (spawn(busy) != 0) {
			perror("clone");
			return 99;
		}
		watch();
	} else if (vfork_mode) {
		if (vfork_spawn() != 0)
			return 99;
	} else if (strcmp(argv[1], "process") == 0) {
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
	if (attach && ready_go(argv[2], argv[3]) != 0)
		return 99;
	grow();
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	raw(SYS_futex, (long)&stop, FUTEX_WAKE, 1, 0);
	/* until the kernel clears child_tid at the thread's exit */
	while (__atomic_load_n(&child_tid, __ATOMIC_ACQUIRE))
		raw(SYS_futex, (long)&child_tid, FUTEX_WAIT,
		    __atomic_load_n(&child_tid, __ATOMIC_ACQUIRE), 0);
	if (busy_mode)
		printf("sharedtp: 3 pages, thread ran, %ld ticks\n", ticks);
	else
		printf("sharedtp: 3 pages, thread ran\n");
	return 0;
}
