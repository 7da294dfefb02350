/*
 * attach_churn: threads that keep being created and ending, each calling
 * traced functions, while a test attaches iprofmem with --duration and lets
 * it detach, again and again (test/e2e/test_attach_churn.sh).  Attach has
 * to seize threads that are being born, detach has to find threads in
 * every state: at a breakpoint, in an out-of-line slot, being cloned,
 * exiting.
 *
 * main runs waves until SIGUSR1 (at least MIN_WAVES): a wave creates WAVE
 * threads; the odd ones create a grandchild thread of their own, the even
 * ones are detached (pthread_detach) and report through a counter instead
 * of a join.  Every thread computes work(seed) (leaf() LEAVES times, with
 * several arguments and a value returned) and checks it against the value
 * main computed before the first thread, untraced.  A thread that hits a
 * breakpoint nobody handles kills the process with SIGTRAP.
 *
 * Usage: attach_churn READY [IGNORED...]
 * Output (deterministic): "attach_churn: every thread computed the right
 * value (checksum 0x...)"; exit 0.  A wrong value: "attach_churn: N wrong
 * results", exit 1.  Counters that depend on the timing (waves, threads)
 * go to stderr.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ready.h"

#define WAVE		4
#define SEEDS		8
#define LEAVES		40
#define MIN_WAVES	20

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static uint64_t expected[SEEDS];
static uint64_t table[256];
static volatile sig_atomic_t finish;
static atomic_long wrong, threads_done, detached_left;

MEASURED uint64_t
leaf(uint64_t acc, uint64_t x, int shift, const uint64_t *tab)
{
	acc += tab[(x >> shift) & 255] ^ (x * 0xff51afd7ed558ccdULL);
	return (acc << 7) | (acc >> 57);
}

MEASURED uint64_t
work(long seed)
{
	uint64_t acc = (uint64_t)seed;

	for (int i = 0; i < LEAVES; i++)
		acc = leaf(acc, acc + (uint64_t)i, i % 56, table);
	NO_TAIL_CALL();
	return acc;
}

MEASURED void
check(long seed)
{
	if (work(seed % SEEDS) != expected[seed % SEEDS])
		atomic_fetch_add(&wrong, 1);
	atomic_fetch_add(&threads_done, 1);
}

MEASURED void *
grandchild(void *arg)
{
	check((long)arg + 1);
	return NULL;
}

MEASURED void *
child(void *arg)
{
	long seed = (long)arg;
	pthread_t t;

	check(seed);
	if (seed % 2) {
		if (pthread_create(&t, NULL, grandchild, arg) == 0)
			pthread_join(t, NULL);
		else
			atomic_fetch_add(&wrong, 1);
	} else {
		atomic_fetch_sub(&detached_left, 1);
	}
	return NULL;
}

MEASURED void
wave(long n)
{
	pthread_t t[WAVE];

	atomic_store(&detached_left, WAVE / 2);	/* the even seeds */
	for (long i = 0; i < WAVE; i++) {
		long seed = (n * WAVE + i) % SEEDS;

		if (pthread_create(&t[i], NULL, child, (void *)seed)) {
			fprintf(stderr, "attach_churn: pthread_create failed\n");
			exit(99);
		}
		if (seed % 2 == 0)
			pthread_detach(t[i]);
	}
	for (long i = 0; i < WAVE; i++)
		if ((n * WAVE + i) % SEEDS % 2)
			pthread_join(t[i], NULL);
	while (atomic_load(&detached_left) > 0)
		sched_yield();
}

static void
on_usr1(int sig)
{
	(void)sig;
	finish = 1;
}

int
main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	uint64_t sum = 0;
	long n;

	if (argc < 2) {
		fprintf(stderr, "usage: attach_churn READY\n");
		return 2;
	}
	for (int i = 0; i < 256; i++)
		table[i] = (uint64_t)i * 0x9e3779b97f4a7c15ULL;
	for (long s = 0; s < SEEDS; s++) {
		expected[s] = work(s);
		sum ^= expected[s];
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (n = 0; n < MIN_WAVES || !finish; n++) {
		wave(n);
		if (n == 0)
			ready(argv[1]);
	}
	fprintf(stderr, "attach_churn: %ld waves, %ld threads\n", n,
		atomic_load(&threads_done));
	if (atomic_load(&wrong)) {
		printf("attach_churn: %ld wrong results\n", atomic_load(&wrong));
		return 1;
	}
	printf("attach_churn: every thread computed the right value (checksum 0x%016llx)\n",
	       (unsigned long long)sum);
	return 0;
}
