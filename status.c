/* status: the status line.  A thread of its own wakes a few times a
 * second; the tracer is blocked in waitpid most of the time and must not
 * be slowed down by drawing.  It writes with write(2) from a stack buffer,
 * never stdio or malloc: the launch forks while it runs, and a child must
 * not inherit a lock it holds.  Nothing is drawn during the first second,
 * so short runs (and the tests' pipes) never see it. */
#include "status.h"
#include "report/report.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS		250
#define FIRST_DRAW_S	1.0
/* A hint when the last HINT_WINDOW ticks averaged HINT_RATE calls a
 * second: at that pace tracing is most of the run (a probed call costs
 * about a microsecond here, a call through int3 stops tens). */
#define HINT_RATE	100000
#define HINT_WINDOW	(10 * 1000 / TICK_MS)

struct status {
	pthread_t thread;
	atomic_bool stop;
	bool drawn;		/* a line is on the screen */
	bool hinted;		/* the hint was asked for (once a run) */
	double t0;
	uint64_t ring[HINT_WINDOW + 1];	/* calls at each of the last ticks */
	size_t ticks;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void put(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, s, n);

		if (w <= 0)
			return;		/* a status line is not worth retrying */
		s += w;
		n -= (size_t)w;
	}
}

/* "1,234,567" */
static void grouped(char *buf, size_t len, uint64_t v)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n && o + 2 < (int)len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

static void draw(struct status *s, double t, uint64_t calls, uint64_t rate)
{
	char line[192], c[32], r[32], st[32];
	int n;

	grouped(c, sizeof(c), calls);
	grouped(r, sizeof(r), rate);
	grouped(st, sizeof(st), report_progress_stops());
	/* \r and erase to the end: redrawn in place; \r again after it, so
	 * that what the program prints starts at the left margin */
	n = snprintf(line, sizeof(line), "\r\033[Kiprofmem: %d:%02d traced, "
		     "%s calls, %s calls/s, %s events by stops\r",
		     (int)t / 60, (int)t % 60, c, r, st);
	if (n > 0)
		put(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	s->drawn = true;
}

static void erase(struct status *s)
{
	if (s->drawn)
		put("\r\033[K", 4);
	s->drawn = false;
}

/* Once the recording thread has written the names asked for. */
static void show_hint(struct status *s)
{
	static const char head[] = "iprofmem: hint: over 100,000 calls a second "
				   "for 10 s; the most called: ";
	char *names = report_progress_take_hot();

	if (!names)
		return;
	erase(s);
	put(head, sizeof(head) - 1);
	put(names, strlen(names));
	put("\n", 1);
	free(names);
}

static void tick(struct status *s)
{
	uint64_t calls = report_progress_calls();
	size_t i = s->ticks % (HINT_WINDOW + 1);
	uint64_t last = s->ticks ? s->ring[(s->ticks - 1) % (HINT_WINDOW + 1)] : 0;
	double t = now() - s->t0;

	s->ring[i] = calls;
	s->ticks++;
	if (!s->hinted && s->ticks > HINT_WINDOW &&
	    calls - s->ring[s->ticks % (HINT_WINDOW + 1)] >=
	    (uint64_t)HINT_RATE * HINT_WINDOW * TICK_MS / 1000) {
		report_progress_ask_hot();
		s->hinted = true;
	}
	if (s->hinted)
		show_hint(s);
	if (t >= FIRST_DRAW_S)
		draw(s, t, calls, (calls - last) * 1000 / TICK_MS);
}

static void *run(void *arg)
{
	struct status *s = arg;
	struct timespec d = { 0, TICK_MS * 1000000L };

	while (!atomic_load(&s->stop)) {
		nanosleep(&d, NULL);
		if (!atomic_load(&s->stop))
			tick(s);
	}
	erase(s);
	return NULL;
}

struct status *status_start(void)
{
	struct status *s;
	sigset_t all, old;

	if (!isatty(STDERR_FILENO))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->t0 = now();
	/* Every signal stays with the tracer's thread, whose waitpid they
	 * must interrupt (Ctrl-C detaches): the new thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&s->thread, NULL, run, s) != 0) {
		free(s);
		s = NULL;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return s;
}

void status_stop(struct status *s)
{
	char *names;

	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	/* names asked for too late to be shown */
	names = report_progress_take_hot();
	free(names);
	free(s);
}
