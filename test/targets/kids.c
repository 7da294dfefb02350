/*
 * kids: child processes made every way a program can: fork, vfork (the
 * child exits), vfork then exec, and raw clone(2) without CLONE_VM, once
 * with SIGCHLD and once with another exit signal (SIGUSR1).  Each child
 * runs its own traced function, which touches known pages, so with -f every
 * child's row is exact; without -f the children run untraced to their
 * normal end (an inherited breakpoint would kill them with SIGTRAP), but
 * for the vfork child, which shares its parent's memory and stays traced
 * as one of its threads until it execs.
 *
 * Page discipline as in mem.c.  A child's pages are new in its own memory
 * (fork and clone copy the parent's page tables: touching a page the
 * parent has is a copy-on-write, RSS unchanged; the child only touches
 * pages nobody touched).  Children do nothing but touch and _exit.
 *
 * Usage: kids MODE [IGNORED...]
 *   all     the parent, then the five children in this order (one at a time)
 *   execd   what the vfork child execs: execd_work 3 times, exit 8
 *   simple  only the parent's work, exit 0 (no child)
 * With KIDS_PIDS=FILE in the environment, the parent writes to FILE a line
 * "ROLE PID" per process it makes (and "leader PID" for itself), in order.
 *
 * Expected rows (pages of 4096 bytes; test/e2e/test_kids.sh mirrors them):
 *
 *   function             pages calls  process      row without -f
 *   parent_work             10    5   parent       yes
 *   fork_child_work          6    2   fork child   no
 *   vfork_child_work         2    1   vfork child  yes (traced as a thread)
 *   vfork_exec_work          1    1   vfork child, before its exec: yes
 *   execd_work               6    3   that child after exec (kids execd): no
 *   clone_child_work         5    5   clone(SIGCHLD) child          no
 *   clone_sig_child_work     4    2   clone(SIGUSR1) child          no
 *   parent_after             5    5   parent, after the children: yes
 *   setup, main: not exact (and the exec'd image has its own)
 *
 * Prints how each child ended and how many SIGUSR1 the parent got; exits 0
 * if every child ended as it should (fork 4, vfork 7, vfork+exec 8,
 * clone 5, clone with SIGUSR1 6), else 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static volatile long next_page;	/* volatile: handlers, threads and vfork children move it */
static volatile sig_atomic_t usr1_count;
static int pids_fd = -1;
static char **exec_argv;
volatile long sink;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

MEASURED void
parent_work(void)
{
	touch(2);
}

MEASURED void
parent_after(void)
{
	touch(1);
}

MEASURED void
fork_child_work(void)
{
	touch(3);
}

MEASURED void
vfork_child_work(void)
{
	touch(2);
}

MEASURED void
vfork_exec_work(void)
{
	touch(1);
}

MEASURED void
execd_work(void)
{
	touch(2);
}

MEASURED void
clone_child_work(void)
{
	touch(1);
}

MEASURED void
clone_sig_child_work(void)
{
	touch(2);
}

MEASURED void
on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void
note_pid(const char *role, pid_t pid)
{
	char line[64];
	int n;

	if (pids_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s %d\n", role, (int)pid);
	if (write(pids_fd, line, n) != n)
		_exit(97);
}

static int
report(const char *what, pid_t pid, int want, int flags)
{
	int st;

	if (pid < 0) {
		printf("%s: could not start\n", what);
		return 1;
	}
	if (waitpid(pid, &st, flags) != pid) {
		printf("%s: waitpid failed\n", what);
		return 1;
	}
	if (WIFEXITED(st))
		printf("%s child exited %d\n", what, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s child killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s child ended oddly: 0x%x\n", what, st);
	return WIFEXITED(st) && WEXITSTATUS(st) == want ? 0 : 1;
}

/* The children: each runs in the frame that made it and ends with _exit,
 * so it never returns through a frame its parent entered. */

MEASURED int
do_fork(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 2; i++)
			fork_child_work();
		_exit(4);
	}
	note_pid("fork", pid);
	return report("fork", pid, 4, 0);
}

MEASURED int
do_vfork(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		vfork_child_work();
		_exit(7);
	}
	note_pid("vfork", pid);
	return report("vfork", pid, 7, 0);
}

MEASURED int
do_vfork_exec(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		vfork_exec_work();
		execv("/proc/self/exe", exec_argv);
		_exit(98);
	}
	note_pid("vexec", pid);
	return report("vfork+exec", pid, 8, 0);
}

/* clone(2) without CLONE_VM: a copy of the memory like fork, but no
 * atfork handlers; the child returns from syscall() on its copy of the
 * stack. */
MEASURED int
do_clone(int exit_signal)
{
	pid_t pid;

	fflush(stdout);
	pid = syscall(SYS_clone, (unsigned long)exit_signal, NULL, NULL, NULL, 0UL);
	if (pid == 0) {
		if (exit_signal == SIGCHLD) {
			for (int i = 0; i < 5; i++)
				clone_child_work();
			syscall(SYS_exit_group, 5);
		}
		for (int i = 0; i < 2; i++)
			clone_sig_child_work();
		syscall(SYS_exit_group, 6);
	}
	if (exit_signal == SIGCHLD) {
		note_pid("clone", pid);
		return report("clone", pid, 5, 0);
	}
	note_pid("clonesig", pid);
	/* a child with another exit signal is a "clone" child to wait */
	return report("clone(SIGUSR1)", pid, 6, __WALL);
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("kids: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *pids = getenv("KIDS_PIDS");
	char *args[argc + 1];
	int bad = 0;

	setup();
	if (strcmp(mode, "execd") == 0) {
		for (int i = 0; i < 3; i++)
			execd_work();
		return 8;
	}
	if (strcmp(mode, "all") != 0 && strcmp(mode, "simple") != 0) {
		fprintf(stderr, "usage: kids all|simple|execd\n");
		return 2;
	}
	if (pids && *pids) {
		pids_fd = open(pids, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
		if (pids_fd < 0) {
			perror(pids);
			return 99;
		}
		note_pid("leader", getpid());
	}
	args[0] = argv[0];
	args[1] = "execd";
	for (int i = 2; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;
	exec_argv = args;
	signal(SIGUSR1, on_usr1);

	for (int i = 0; i < 5; i++)
		parent_work();
	if (strcmp(mode, "all") == 0) {
		bad |= do_fork();
		bad |= do_vfork();
		bad |= do_vfork_exec();
		bad |= do_clone(SIGCHLD);
		bad |= do_clone(SIGUSR1);
		printf("SIGUSR1 received %d times\n", (int)usr1_count);
	}
	for (int i = 0; i < 5; i++)
		parent_after();
	return bad;
}
