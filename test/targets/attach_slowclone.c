/*
 * attach_slowclone: threads created back to back by threads whose every
 * clone takes milliseconds, while a test attaches iprofmem again and again
 * (test/e2e/test_attach_slowclone.sh).  Whether a clone's child is traced
 * is decided as the clone starts: a creator seized inside its clone makes
 * a child that is not traced, and that shows in /proc/PID/task only when
 * the clone ends.  Slow clones make that window milliseconds wide instead
 * of microseconds: an attach that does not look for such a child leaves it
 * running untraced into the breakpoints, and the process dies of SIGTRAP.
 *
 * A clone is slowed by the perf events it inherits: main opens PERF_EVENTS
 * software events (PERF_COUNT_SW_DUMMY, inherit=1, user space only) on
 * itself, each copied into every new thread (about 1 ms per 1,000 here).
 * Two creators create workers back to back, at most LIVE at a time; a
 * worker calls tick() ROUNDS times, 1 ms apart, so that a worker the
 * attach missed is still calling once the breakpoints are in.
 *
 * Usage: attach_slowclone READY [IGNORED...]
 * Runs until SIGUSR1, then waits for every worker and prints
 * "attach_slowclone: every worker ticked ROUNDS times"; exit 0 (1 if a
 * worker counted wrong).  Exit 77 when the perf events are refused
 * (perf_event_paranoid): its clones would not be slow.  Counts that
 * depend on the timing go to stderr.
 */
#define _GNU_SOURCE
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ready.h"

#define PERF_EVENTS	1000
#define CREATORS	2
#define LIVE		16
#define ROUNDS		30

#define MEASURED	__attribute__((noipa, used))

static volatile sig_atomic_t finish;
static atomic_long live, workers, wrong;

MEASURED long
tick(long n)
{
	return n + 1;
}

MEASURED void *
worker(void *arg)
{
	long n = 0;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		n = tick(n);
		usleep(1000);
	}
	if (n != ROUNDS)
		atomic_fetch_add(&wrong, 1);
	atomic_fetch_add(&workers, 1);
	atomic_fetch_sub(&live, 1);
	return NULL;
}

MEASURED void *
creator(void *arg)
{
	pthread_t t;

	(void)arg;
	while (!finish) {
		if (atomic_load(&live) >= LIVE) {
			usleep(200);
			continue;
		}
		atomic_fetch_add(&live, 1);
		if (pthread_create(&t, NULL, worker, NULL) == 0)
			pthread_detach(t);
		else
			atomic_fetch_sub(&live, 1);
	}
	return NULL;
}

static void
on_usr1(int sig)
{
	(void)sig;
	finish = 1;
}

static int
slow_clones(void)
{
	struct perf_event_attr a;
	int n = 0;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.inherit = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	for (int i = 0; i < PERF_EVENTS; i++)
		n += syscall(SYS_perf_event_open, &a, 0, -1, -1, 0) >= 0;
	return n;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pthread_t c[CREATORS];
	int events;

	if (argc < 2) {
		fprintf(stderr, "usage: attach_slowclone READY\n");
		return 2;
	}
	events = slow_clones();
	if (events == 0) {
		fprintf(stderr, "attach_slowclone: perf events refused: "
			"clones would not be slow\n");
		return 77;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < CREATORS; i++)
		if (pthread_create(&c[i], NULL, creator, NULL)) {
			fprintf(stderr, "attach_slowclone: pthread_create failed\n");
			return 99;
		}
	ready(argv[1]);
	while (!finish)
		usleep(10000);
	for (int i = 0; i < CREATORS; i++)
		pthread_join(c[i], NULL);
	while (atomic_load(&live) > 0)
		usleep(1000);
	fprintf(stderr, "attach_slowclone: %d perf events, %ld workers\n",
		events, atomic_load(&workers));
	if (atomic_load(&wrong)) {
		printf("attach_slowclone: %ld workers counted wrong\n",
		       atomic_load(&wrong));
		return 1;
	}
	printf("attach_slowclone: every worker ticked %d times\n", ROUNDS);
	return 0;
}
