/* live: --interval.  A POSIX timer sends SIGRTMIN every interval; its
 * handler only sets a flag (and, installed without SA_RESTART, breaks the
 * tracer's waitpid so that an idle program is redrawn too); the tracer's
 * loop calls live_tick, which writes the view when the flag is set.  The
 * signal is blocked while writing, so that it cannot cut a write to a
 * terminal or a pipe short. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "output.h"
#include "util.h"

static volatile sig_atomic_t live_due;

static struct {
	struct live_opts o;
	bool started, tried, armed, tty;
	timer_t timer;
	struct timespec t0;
	unsigned long views;
} live;

static void on_live_timer(int sig)
{
	(void)sig;
	live_due = 1;
}

int live_start(const struct live_opts *o)
{
	struct sigaction sa = { .sa_handler = on_live_timer };

	memset(&live, 0, sizeof(live));
	live.o = *o;
	live.tty = !o->output && isatty(STDERR_FILENO);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, NULL) != 0) {
		error_msg("--interval: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &live.t0);
	live.started = true;
	return 0;
}

/* The periodic timer, at the first tick: the program runs by then. */
static void live_arm(void)
{
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL,
			       .sigev_signo = SIGRTMIN };
	struct itimerspec it;

	it.it_value.tv_sec = (time_t)live.o.interval;
	it.it_value.tv_nsec = (long)((live.o.interval -
				      (double)it.it_value.tv_sec) * 1e9);
	if (!it.it_value.tv_sec && !it.it_value.tv_nsec)
		it.it_value.tv_nsec = 1;
	it.it_interval = it.it_value;
	if (timer_create(CLOCK_MONOTONIC, &ev, &live.timer) != 0 ||
	    timer_settime(live.timer, 0, &it, NULL) != 0) {
		warn_msg("--interval: no timer (%s): only the final view",
			 strerror(errno));
		return;
	}
	live.armed = true;
}

static double elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - live.t0.tv_sec) +
	       (double)(now.tv_nsec - live.t0.tv_nsec) / 1e9;
}

/* Resident bytes of pid from /proc/PID/statm, or -1. */
static long long rss_of(pid_t pid)
{
	char path[64], buf[128];
	long long size, resident;

	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) < 0)
		return -1;
	if (sscanf(buf, "%lld %lld", &size, &resident) != 2)
		return -1;
	return resident * sysconf(_SC_PAGESIZE);
}

/* The RSS of the traced processes (the launched one, or those of -p that
 * are still there), or -1 when none can be read. */
static long long traced_rss(pid_t leader)
{
	long long sum = -1, r;

	if (leader > 0)
		return rss_of(leader);
	for (size_t i = 0; i < live.o.npids; i++)
		if ((r = rss_of(live.o.pids[i])) >= 0)
			sum = (sum < 0 ? 0 : sum) + r;
	return sum;
}

/* "iprofmem: 2026-11-30 04:31:15, 2.0 s traced, RSS 12.34 MB" */
static void heading(FILE *out, pid_t leader)
{
	long long rss = traced_rss(leader);
	time_t now = time(NULL);
	struct tm tm;
	char stamp[64];

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S",
		 localtime_r(&now, &tm));
	fprintf(out, "iprofmem: %s, %.1f s traced", stamp, elapsed());
	if (rss >= 0)
		fprintf(out, ", RSS %.4g MB", (double)rss / 1048576.0);
	fputc('\n', out);
}

static void live_write(pid_t leader)
{
	if (live.o.output) {
		output_write(live.o.output, live.o.write, live.o.arg);
		return;
	}
	/* on a terminal: cursor home, clear the screen, like top(1) */
	if (live.tty)
		fputs("\033[H\033[2J", stderr);
	heading(stderr, leader);
	if (live.tty)
		fputc('\n', stderr);
	live.o.write(stderr, live.o.arg);
	fflush(stderr);
	clearerr(stderr);	/* a reader that went away: the final write says */
}

void live_tick(void *arg, pid_t leader)
{
	sigset_t block, old;

	(void)arg;
	if (!live.started)
		return;
	if (!live.tried) {
		live.tried = true;
		live_arm();
		return;
	}
	if (!live.armed || !live_due)
		return;
	live_due = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &block, &old);
	live_write(leader);
	live.views++;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void live_stop(void)
{
	if (!live.started)
		return;
	if (live.armed)
		timer_delete(live.timer);
	/* ignored, not the default (which kills): a signal of the last
	 * expiry may still be pending */
	signal(SIGRTMIN, SIG_IGN);
	live.started = live.armed = false;
	live_due = 0;
}
