/*
 * sig: signals and non-local exits through traced frames.
 *
 * Page discipline as in mem.c.  Signal frames go on stack that setup()
 * touched (or on an alternate stack it touched), and setup() delivers one
 * signal of each kind to a warm-up handler first, so that the signal
 * return trampoline and the libc code around it are resident before
 * anything is measured.
 *
 * Usage: sig MODE [READY] [IGNORED...]
 * READY (modes that wait for the test) is a file the program writes
 * "PID PPID\n" to once it is ready for the test's signal (none when it is
 * /dev/null or missing).
 *
 * Expected rows (pages of 4096 bytes; test/e2e/test_sig.sh mirrors them):
 *
 * handler  a handler that calls traced functions while traced frames are
 *          live, on the thread's stack (SIGUSR1) and on an alternate stack
 *          (SIGUSR2); 3 x outer, 2 x alt_outer:
 *   handler_work        6      6   1 page, 2 calls per SIGUSR1
 *   on_usr1             6      3   2 x handler_work
 *   inner              12      3   1 + on_usr1's 2 + 1 after the signal
 *   outer              15      3   1 + inner's 4
 *   alt_work            2      2   1 page
 *   on_usr2             4      2   1 own + alt_work's 1
 *   alt_outer           6      2   1 + on_usr2's 2
 *
 * jump     siglongjmp out of a SIGUSR1 handler through two traced frames,
 *          4 times; then longjmp out of a SA_NODEFER handler, 3 times:
 *   jump_outer         24      4   1 own + 1 + 1 + 2 abandoned + 1
 *   after_jump          7      7   1 page, called where jump_mid was
 *   jump2_outer        12      3   1 own + 2 abandoned + 1
 *   jump_mid, jump_deep, on_jump, jump2_deep, on_jump2: never return, no row
 *
 * exit     finish() -> quit() -> exit(5), with an atexit handler:
 *   before_exit         4      2   2 pages x 2
 *   at_exit_work        2      1   called by exit(), returns
 *   finish, quit, main: never return, no row; exit status 5
 *
 * abort    before_exit twice, then abort_mid() -> do_abort() -> abort():
 *   before_exit         4      2   exit status 134; no row for main
 *
 * storm    50 children, each forked then exiting at once (status i % 7);
 *          the parent counts them in a SIGCHLD handler that reaps:
 *   storm_parent_work  50     50   1 page after each fork
 *   storm_child        50     50   1 page in each child (with -f only)
 *   on_chld: touches nothing, no row
 *
 * stop     3 x pre_stop, writes READY, waits for SIGCONT (the test stops
 *          it first), then 4 x post_cont:
 *   pre_stop            3      3   on_cont: 1 page, 1 call
 *   post_cont           8      4
 *
 * wait     3 x pre_stop, writes READY, then waits in wait_forever() for
 *          a signal from the test (SIGKILL, SIGTERM...):
 *   pre_stop            3      3   wait_forever, main: no row
 *
 * int      like wait, with a SIGINT handler on_int that prints a line and
 *          calls exit(3); nohandler: like wait
 *
 * warm_handler, setup, main (when it returns): not exact.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)
#define ALT_STACK	(64 * 1024)
#define STORM		50

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static volatile long next_page;	/* volatile: handlers, threads and vfork children move it */
volatile long sink;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

static void
on(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("sig: sigaction");
		exit(99);
	}
}

/* ---- handler ---- */

MEASURED void
handler_work(void)
{
	touch(1);
}

MEASURED void
on_usr1(int sig)
{
	(void)sig;
	handler_work();
	handler_work();
	NO_TAIL_CALL();
}

MEASURED void
inner(void)
{
	touch(1);
	raise(SIGUSR1);
	touch(1);
}

MEASURED void
outer(void)
{
	touch(1);
	inner();
	NO_TAIL_CALL();
}

MEASURED void
alt_work(void)
{
	touch(1);
}

MEASURED void
on_usr2(int sig)
{
	(void)sig;
	touch(1);
	alt_work();
	NO_TAIL_CALL();
}

MEASURED void
alt_outer(void)
{
	touch(1);
	raise(SIGUSR2);
	NO_TAIL_CALL();
}

/* ---- jump ---- */

static sigjmp_buf jb;
static jmp_buf jb2;

MEASURED void
on_jump(int sig)
{
	(void)sig;
	touch(2);
	siglongjmp(jb, 1);
}

MEASURED void
jump_deep(void)
{
	touch(1);
	raise(SIGUSR1);
	touch(100);		/* not reached */
}

MEASURED void
jump_mid(void)
{
	touch(1);
	jump_deep();
	NO_TAIL_CALL();
}

MEASURED void
after_jump(void)
{
	touch(1);
}

MEASURED void
jump_outer(void)
{
	touch(1);
	if (sigsetjmp(jb, 1) == 0)
		jump_mid();
	after_jump();
	NO_TAIL_CALL();
}

MEASURED void
on_jump2(int sig)
{
	(void)sig;
	touch(1);
	longjmp(jb2, 1);
}

MEASURED void
jump2_deep(void)
{
	touch(1);
	raise(SIGUSR2);
	touch(100);		/* not reached */
}

MEASURED void
jump2_outer(void)
{
	touch(1);
	if (setjmp(jb2) == 0)
		jump2_deep();
	after_jump();
	NO_TAIL_CALL();
}

/* ---- exit, abort ---- */

MEASURED void
before_exit(void)
{
	touch(2);
}

MEASURED void
at_exit_work(void)
{
	touch(2);
}

MEASURED void
quit(int code)
{
	touch(1);
	exit(code);
}

MEASURED void
finish(void)
{
	touch(1);
	quit(5);
	NO_TAIL_CALL();
}

MEASURED void
do_abort(void)
{
	touch(1);
	abort();
}

MEASURED void
abort_mid(void)
{
	touch(1);
	do_abort();
	NO_TAIL_CALL();
}

/* ---- storm ---- */

static volatile sig_atomic_t reaped, status_sum, odd_ends;

MEASURED void
on_chld(int sig)
{
	int st;

	(void)sig;
	while (waitpid(-1, &st, WNOHANG) > 0) {
		reaped++;
		if (WIFEXITED(st))
			status_sum += WEXITSTATUS(st);
		else
			odd_ends++;
	}
}

MEASURED void
storm_child(void)
{
	touch(1);
}

MEASURED void
storm_parent_work(void)
{
	touch(1);
}

MEASURED void
storm(void)
{
	sigset_t chld, old;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	on(SIGCHLD, on_chld, SA_RESTART);
	for (int i = 0; i < STORM; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("sig: fork");
			exit(98);
		}
		if (pid == 0) {
			storm_child();
			_exit(i % 7);
		}
		storm_parent_work();
	}
	sigprocmask(SIG_BLOCK, &chld, &old);
	while (reaped < STORM)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("sig: %d children reaped, exit statuses sum to %d, %d odd ends\n",
	       (int)reaped, (int)status_sum, (int)odd_ends);
}

/* ---- stop, wait, int ---- */

static volatile sig_atomic_t continued;

MEASURED void
pre_stop(void)
{
	touch(1);
}

MEASURED void
post_cont(void)
{
	touch(2);
}

MEASURED void
on_cont(int sig)
{
	(void)sig;
	touch(1);
	continued = 1;
}

MEASURED void
on_int(int sig)
{
	(void)sig;
	printf("sig: interrupted, exit 3\n");
	exit(3);
}

/* Written to PATH.tmp then renamed: the test never reads half a line. */
static void
ready(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		exit(99);
	}
}

MEASURED void
wait_forever(void)
{
	for (;;)
		pause();
}

/* ---- setup ---- */

static volatile sig_atomic_t warm_seen;

MEASURED void
warm_handler(int sig)
{
	(void)sig;
	warm_seen++;
}

static void
warm_chld(int sig)
{
	int st;

	(void)sig;
	while (waitpid(-1, &st, WNOHANG) > 0)
		warm_seen++;
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	stack_t ss = { .ss_size = ALT_STACK };
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("sig: mmap/madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];

	ss.ss_sp = mmap(NULL, ALT_STACK, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) != 0) {
		perror("sig: sigaltstack");
		exit(99);
	}
	memset(ss.ss_sp, 0, ALT_STACK);
	/* one of each: on the stack, on the alternate stack, SIGCHLD */
	on(SIGUSR1, warm_handler, 0);
	raise(SIGUSR1);
	on(SIGUSR2, warm_handler, SA_ONSTACK);
	raise(SIGUSR2);
	on(SIGCHLD, warm_chld, SA_RESTART);
	if (fork() == 0)
		_exit(0);
	while (warm_seen < 3)
		usleep(1000);
	on(SIGCHLD, SIG_DFL, 0);
	sink = setjmp(jb2);
	sink = sigsetjmp(jb, 1);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	const char *rfile = argc > 2 && strcmp(argv[2], "/dev/null") != 0 ? argv[2] : NULL;

	setup();
	if (strcmp(mode, "handler") == 0) {
		on(SIGUSR1, on_usr1, 0);
		on(SIGUSR2, on_usr2, SA_ONSTACK);
		for (int i = 0; i < 3; i++)
			outer();
		for (int i = 0; i < 2; i++)
			alt_outer();
	} else if (strcmp(mode, "jump") == 0) {
		on(SIGUSR1, on_jump, 0);
		on(SIGUSR2, on_jump2, SA_NODEFER);
		for (int i = 0; i < 4; i++)
			jump_outer();
		for (int i = 0; i < 3; i++)
			jump2_outer();
	} else if (strcmp(mode, "exit") == 0) {
		atexit(at_exit_work);
		for (int i = 0; i < 2; i++)
			before_exit();
		printf("sig: exit 5 from quit()\n");
		finish();
	} else if (strcmp(mode, "abort") == 0) {
		for (int i = 0; i < 2; i++)
			before_exit();
		printf("sig: abort from do_abort()\n");
		fflush(stdout);
		abort_mid();
	} else if (strcmp(mode, "storm") == 0) {
		storm();
	} else if (strcmp(mode, "stop") == 0) {
		sigset_t cont, old;

		sigemptyset(&cont);
		sigaddset(&cont, SIGCONT);
		on(SIGCONT, on_cont, 0);
		for (int i = 0; i < 3; i++)
			pre_stop();
		sigprocmask(SIG_BLOCK, &cont, &old);
		ready(rfile);
		while (!continued)
			sigsuspend(&old);
		sigprocmask(SIG_SETMASK, &old, NULL);
		for (int i = 0; i < 4; i++)
			post_cont();
		printf("sig: continued\n");
	} else if (strcmp(mode, "wait") == 0 || strcmp(mode, "int") == 0 ||
		   strcmp(mode, "nohandler") == 0) {
		if (strcmp(mode, "int") == 0)
			on(SIGINT, on_int, 0);
		for (int i = 0; i < 3; i++)
			pre_stop();
		printf("sig: waiting\n");
		fflush(stdout);
		ready(rfile);
		wait_forever();
	} else {
		fprintf(stderr, "usage: sig handler|jump|exit|abort|storm|stop|wait|int|nohandler [READY]\n");
		return 2;
	}
	printf("sig: %s, %ld pages\n", mode, next_page);
	return 0;
}
