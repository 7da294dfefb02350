/*
 * attach_idle: processes that wait (in a read, a sleep, a sigwait, a
 * group-stop) while a test attaches iprofmem to them and detaches, and that
 * must go on exactly as if never traced (test/e2e/test_attach_*.sh).
 *
 * Page discipline as in mem.c: every measured function writes one byte
 * into each of the next untouched pages of a region mapped at start
 * (MADV_NOHUGEPAGE); the stack is warmed first; nothing else grows RSS.
 *
 * In every mode but ticks and zombie a second thread, the helper, waits in
 * read() on a pipe of the program's own from the start: at the end main
 * writes "bye" into it, the helper checks it read exactly that, main joins
 * it.  So every attach also finds a thread blocked in a system call.
 *
 * Usage: attach_idle MODE READY PROGRESS ARGS... [IGNORED...]
 * READY gets "PID PPID\n" once the program waits for the test; PROGRESS
 * gets one line per step, for the test to wait on.
 *
 * pipe READY PROGRESS FIFO
 *     opens FIFO for reading, writes READY, then reader() waits in read()
 *     for one line, touches 5 pages and returns; then 3 x after_read() (1
 *     page each), PROGRESS "read", and a wait for SIGUSR1.
 *     Prints "attach_idle: read 'LINE'".  Attached while read() waits:
 *       after_read   3 pages  3 calls   (if the line comes while attached)
 *       no row for reader: its call began before the attach.
 *
 * sleep READY PROGRESS MS
 *     writes READY, then nap() sleeps MS milliseconds in one nanosleep();
 *     prints "attach_idle: nanosleep returned 0, not early" (or what went
 *     wrong: EINTR, early), PROGRESS "slept ELAPSED_MS".
 *
 * burst READY PROGRESS N
 *     writes READY, then waits in sigwaitinfo() for SIGUSR1 or SIGUSR2.
 *     SIGUSR1 number k: N x burst_touch() (1 page each), PROGRESS
 *     "burst k".  SIGUSR2: 2 x last_work() (1 page each), then it ends.
 *     Prints "attach_idle: K bursts of N".  Rows of a window:
 *       burst_touch  N pages  N calls per SIGUSR1 while attached
 *       last_work    2 pages  2 calls if SIGUSR2 comes while attached
 *
 * ticks COUNT MS STATUS   (no READY, no PROGRESS, no helper: launch mode)
 *     COUNT x (tick(): 1 page; sleep MS ms), prints "attach_idle: COUNT
 *     ticks", exits STATUS.
 *
 * forkburst READY PROGRESS N
 *     forks at once; the child runs burst mode (READY gets "CHILD_PID
 *     PID"), the parent waits for it, prints "attach_idle: the child
 *     exited with N" and exits 0.  Launched under iprofmem without -f,
 *     the child is let go with its copy of iprofmem's areas.
 *
 * zombie READY PROGRESS
 *     forks a child that exits at once and does not reap it; once it is a
 *     zombie writes "CHILD_PID PID" to READY (so READY's first number is
 *     the zombie), waits for SIGUSR1, then reaps it and prints
 *     "attach_idle: reaped the child, exit status 0".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	4096L
#define STACK_WARM	(64 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static char *region;
static long next_page;
static volatile char sink;
static int progress_fd = -1;
static int helper_pipe[2];
static pthread_t helper;
static char helper_got[16];

/* Exactly n new resident pages: one byte into each of the next n pages. */
static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

static void
die(const char *what)
{
	perror(what);
	exit(99);
}

static void
progress(const char *line)
{
	size_t n = strlen(line);

	if (write(progress_fd, line, n) != (ssize_t)n)
		die("attach_idle: progress");
}

static void
ready(const char *path, pid_t first, pid_t second)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)first, (int)second) < 0 ||
	    fclose(f) != 0 || rename(tmp, path) != 0)
		die(path);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

MEASURED void
warm_stack(void)
{
	volatile char stack[STACK_WARM];

	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

MEASURED void
burst_touch(void)
{
	touch(1);
}

MEASURED void
last_work(void)
{
	touch(1);
}

MEASURED void
after_read(void)
{
	touch(1);
}

MEASURED void
tick(void)
{
	touch(1);
}

MEASURED ssize_t
reader(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size);

	touch(5);
	return n;
}

MEASURED int
nap(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return nanosleep(&ts, NULL);
}

MEASURED void *
helper_main(void *arg)
{
	ssize_t n;

	(void)arg;
	warm_stack();
	n = read(helper_pipe[0], helper_got, sizeof(helper_got) - 1);
	if (n < 0)
		snprintf(helper_got, sizeof(helper_got), "error %d", errno);
	NO_TAIL_CALL();
	return NULL;
}

MEASURED void
setup(const char *progress_path, int with_helper)
{
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE))
		die("attach_idle: mmap/madvise");
	region = p;
	warm_stack();
	memset(helper_got, 0, sizeof(helper_got));	/* its page is resident */
	if (progress_path) {
		progress_fd = open(progress_path,
				   O_WRONLY | O_APPEND | O_CREAT | O_TRUNC, 0644);
		if (progress_fd < 0)
			die(progress_path);
	}
	if (with_helper) {
		if (pipe(helper_pipe) || pthread_create(&helper, NULL, helper_main, NULL))
			die("attach_idle: helper");
	}
}

/* The helper thread's end: what it read must be what main wrote.  Inlined
 * into main: the thread's exit faults in libc code pages, which must not
 * show as a row of a call that ran while attached. */
static inline __attribute__((always_inline)) int
end_helper(void)
{
	if (write(helper_pipe[1], "bye", 3) != 3)
		die("attach_idle: helper pipe");
	pthread_join(helper, NULL);
	if (strcmp(helper_got, "bye") != 0) {
		printf("attach_idle: the helper read '%s', not 'bye'\n", helper_got);
		return 1;
	}
	return 0;
}

static int
mode_pipe(char **argv)
{
	char buf[256];
	sigset_t usr1;
	int fd, sig;
	ssize_t n;

	fd = open(argv[4], O_RDONLY);
	if (fd < 0)
		die(argv[4]);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	ready(argv[2], getpid(), getppid());
	n = reader(fd, buf, sizeof(buf) - 1);
	for (int i = 0; i < 3; i++)
		after_read();
	progress("read\n");
	if (n < 0) {
		printf("attach_idle: read failed: %s\n", strerror(errno));
		return 1;
	}
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	printf("attach_idle: read '%s'\n", buf);
	while (sigwait(&usr1, &sig) != 0)
		;
	return 0;
}

static int
mode_sleep(char **argv)
{
	long ms = atol(argv[4]);
	char line[64];
	double t0, elapsed;
	int r, err;

	ready(argv[2], getpid(), getppid());
	t0 = now_ms();
	r = nap(ms);
	err = errno;
	elapsed = now_ms() - t0;
	snprintf(line, sizeof(line), "slept %.0f\n", elapsed);
	progress(line);
	if (r != 0) {
		printf("attach_idle: nanosleep failed: %s\n", strerror(err));
		return 1;
	}
	if (elapsed < ms) {
		printf("attach_idle: nanosleep returned after %.1f ms, not %ld\n", elapsed, ms);
		return 1;
	}
	printf("attach_idle: nanosleep returned 0, not early\n");
	return 0;
}

static int
mode_burst(char **argv)
{
	long n = atol(argv[4]), bursts = 0;
	sigset_t set;
	char line[64];
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	ready(argv[2], getpid(), getppid());
	for (;;) {
		sig = sigwaitinfo(&set, NULL);
		if (sig == SIGUSR1) {
			bursts++;
			for (long i = 0; i < n; i++)
				burst_touch();
			snprintf(line, sizeof(line), "burst %ld\n", bursts);
			progress(line);
		} else if (sig == SIGUSR2) {
			break;
		} else if (sig < 0 && errno != EINTR) {
			printf("attach_idle: sigwaitinfo: %s\n", strerror(errno));
			return 1;
		}
	}
	for (int i = 0; i < 2; i++)
		last_work();
	printf("attach_idle: %ld bursts of %ld\n", bursts, n);
	return 0;
}

static int
mode_ticks(char **argv)
{
	long count = atol(argv[2]), ms = atol(argv[3]);
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	for (long i = 0; i < count; i++) {
		tick();
		while (nanosleep(&ts, &ts) != 0)
			;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
	}
	printf("attach_idle: %ld ticks\n", count);
	return atoi(argv[4]);
}

static int
mode_zombie(char **argv)
{
	sigset_t usr1;
	pid_t child;
	char path[64], stat[256];
	int sig, status;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	child = fork();
	if (child < 0)
		die("attach_idle: fork");
	if (child == 0)
		_exit(0);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	for (;;) {		/* until the child is a zombie */
		FILE *f = fopen(path, "r");
		char *p;

		if (!f)
			die(path);
		p = fgets(stat, sizeof(stat), f);
		fclose(f);
		p = p ? strrchr(stat, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'Z')
			break;
		usleep(1000);
	}
	ready(argv[2], child, getpid());
	while (sigwait(&usr1, &sig) != 0)
		;
	if (waitpid(child, &status, 0) != child)
		die("attach_idle: waitpid");
	printf("attach_idle: reaped the child, exit status %d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	sigset_t set;
	int r;

	/* signals the modes wait for: blocked in every thread */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (strcmp(mode, "ticks") == 0 && argc > 4) {
		setup(NULL, 0);
		return mode_ticks(argv);
	}
	if (strcmp(mode, "zombie") == 0 && argc > 3) {
		setup(argv[3], 0);
		return mode_zombie(argv);
	}
	if (strcmp(mode, "forkburst") == 0 && argc > 4) {
		pid_t child = fork();
		int status;

		if (child < 0)
			die("attach_idle: fork");
		if (child > 0) {
			if (waitpid(child, &status, 0) != child)
				die("attach_idle: waitpid");
			printf("attach_idle: the child exited with %d\n",
			       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return 0;
		}
		mode = "burst";
	}
	if (argc < 5) {
		fprintf(stderr, "usage: attach_idle pipe|sleep|burst|forkburst READY PROGRESS ARG, "
			"attach_idle zombie READY PROGRESS, attach_idle ticks COUNT MS STATUS\n");
		return 2;
	}
	setup(argv[3], 1);
	if (strcmp(mode, "pipe") == 0)
		r = mode_pipe(argv);
	else if (strcmp(mode, "sleep") == 0)
		r = mode_sleep(argv);
	else if (strcmp(mode, "burst") == 0)
		r = mode_burst(argv);
	else {
		fprintf(stderr, "attach_idle: unknown mode '%s'\n", mode);
		return 2;
	}
	if (end_helper())
		r = 1;
	return r;
}
