/*
 * sel_cycle: a plugin host that loads the same plugin again and again:
 * ROUNDS times (default 200) dlopen(sel_plugin.so), plug_a, dlclose.  What
 * iprofmem maps into the program for a module (the probes' stubs, the
 * int3 engine's out-of-line slots) must be used again by the plugin's
 * next load rather than mapped anew each time: the program's count of
 * mappings grows as it does untraced (test/e2e/test_select_modules.sh).
 *
 * Expected rows (pages of 4096 bytes, calls), page discipline as in sel.h:
 *   plug_a      plugin.c   2 x ROUNDS   ROUNDS   2 pages of our region
 *   plug_ctor   plugin.c   2 x ROUNDS   ROUNDS   2 of its own 4-page
 *                                                region, per dlopen
 *   setup, main, count_maps: not exact
 *
 * With "moved", each round first maps one page of address space, kept to
 * the end (PROT_NONE, never resident), where the plugin would have gone
 * again: the plugin then lands at a new place each round, and what
 * iprofmem made for its earlier places must serve the new one (within
 * rel32 reach) rather than waiting for a load at its old place.
 *
 * With "threads", two more threads run through the rounds: one spins,
 * one waits in read(2) on a pipe; main ends both after the last round.
 * Every plugin is then loaded while the program runs threads: iprofmem
 * stops them all to put its probes in (else the plugin got int3s), and
 * neither notices.
 *
 * Usage: sel_cycle [ROUNDS [moved|threads]]
 * Prints "sel_cycle: ROUNDS rounds, A mappings after the first, B at the
 * end, P places" (P: the distinct addresses the plugin was loaded at) and
 * exits 0, or 1 when the plugin could not be loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sel.h"

#define PLUGIN		"sel_plugin.so"	/* next to us: rpath $ORIGIN */

static struct pages pg;
static volatile int spin_stop;
static volatile long spins;
static int pipefd[2];
static volatile pid_t reader_tid;

static void *
spinner(void *arg)
{
	(void)arg;
	while (!spin_stop)
		spins++;
	return NULL;
}

/* Is the thread waiting in a system call ('S' in its stat)? */
static int
sleeping(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	int s = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		s = p[2] == 'S';
	fclose(f);
	return s;
}

/* Waits in read(2) until main writes: 1 byte, or the thread says why. */
static void *
reader(void *arg)
{
	char c;
	ssize_t n;

	(void)arg;
	reader_tid = gettid();
	n = read(pipefd[0], &c, 1);
	return (void *)(long)(n == 1 ? 0 : n < 0 ? errno : 1000);
}

/* Our region, one page more than the rounds write. */
static MEASURED void
setup(long rounds)
{
	size_t len = (size_t)(2 * rounds + 1) * PAGE;
	void *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED) {
		perror("sel_cycle: mmap");
		exit(1);
	}
	madvise(r, len, MADV_NOHUGEPAGE);
	pg.base = r;
	pg.next = 0;
}

/* Lines of /proc/self/maps. */
static MEASURED long
count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f) {
		perror("sel_cycle: /proc/self/maps");
		exit(1);
	}
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200, first = 0, places = 0;
	int moved = argc > 2 && strcmp(argv[2], "moved") == 0;
	int threads = argc > 2 && strcmp(argv[2], "threads") == 0;
	pthread_t th[2];
	void **seen;

	if (rounds < 1 || (argc > 2 && !moved && !threads) || argc > 3) {
		fprintf(stderr, "usage: sel_cycle [ROUNDS [moved|threads]]\n");
		return 2;
	}
	setup(rounds);
	if (threads && (pipe(pipefd) != 0 ||
			pthread_create(&th[0], NULL, spinner, NULL) != 0 ||
			pthread_create(&th[1], NULL, reader, NULL) != 0)) {
		perror("sel_cycle: threads");
		return 1;
	}
	/* both settled (their stacks' pages in) before the rounds: the RSS
	 * of the process changes only by what the rounds do */
	while (threads && (!spins || !reader_tid || !sleeping(reader_tid)))
		usleep(1000);
	seen = calloc((size_t)rounds, sizeof(*seen));
	if (!seen) {
		perror("sel_cycle: calloc");
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		void *h, *at;
		plug_fn *a;
		long k;

		if (moved && mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE |
				  MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
			perror("sel_cycle: mmap");
			return 1;
		}
		h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
		if (!h || !(a = (plug_fn *)dlsym(h, "plug_a"))) {
			fprintf(stderr, "sel_cycle: %s\n", dlerror());
			return 1;
		}
		at = (void *)a;
		for (k = 0; k < places && seen[k] != at; k++)
			;
		if (k == places)
			seen[places++] = at;
		a(&pg);
		if (dlclose(h) != 0) {
			fprintf(stderr, "sel_cycle: dlclose: %s\n", dlerror());
			return 1;
		}
		if (i == 0)
			first = count_maps();
	}
	if (threads) {
		void *r0, *r1;

		spin_stop = 1;
		if (write(pipefd[1], "x", 1) != 1 ||
		    pthread_join(th[0], &r0) != 0 ||
		    pthread_join(th[1], &r1) != 0) {
			perror("sel_cycle: ending the threads");
			return 1;
		}
		if (r1) {
			fprintf(stderr, "sel_cycle: read in the thread: %s\n",
				(long)r1 == 1000 ? "no byte" :
				strerror((int)(long)r1));
			return 1;
		}
	}
	printf("sel_cycle: %ld rounds, %ld mappings after the first, %ld at "
	       "the end, %ld places\n", rounds, first, count_maps(), places);
	free(seen);
	return 0;
}
