/*
 * tailchain: a state machine of STEPS tail calls that share one stack
 * frame: ping(n) and pong(n) hand n - 1 to each other (gcc -O2: `jmp
 * pong`, `jmp ping`, checked by bench/stress.sh with objdump) until n is
 * 0; the last one writes one byte into a page mapped untouched beforehand
 * and returns, to the caller of the first.
 *
 * Issue 15: a tail call into a traced function leaves the caller's frame
 * open until the callee returns; the shadow stack keeps a chain whole up
 * to 1024 frames, then folds it, so that iprofmem's memory stays bounded
 * (bench/stress.sh says which rows that gives, and compares iprofmem's
 * peak RSS at 10,000 and STEPS).
 *
 * Usage: tailchain [STEPS] [IGNORED...] (default 1000000)
 * Prints "tailchain: STEPS steps, the last in ping|pong" and exits 0.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE		4096L

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;

MEASURED long pong(long n);

MEASURED long
ping(long n)
{
	if (n == 0) {
		region[0] = 1;
		return 0;
	}
	return pong(n - 1);
}

MEASURED long
pong(long n)
{
	if (n == 0) {
		region[0] = 1;
		return 1;
	}
	return ping(n - 1);
}

MEASURED long
chain_main(long steps)
{
	long r = ping(steps);

	NO_TAIL_CALL();
	return r;
}

int
main(int argc, char **argv)
{
	long steps = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
	void *p = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (steps < 0 || p == MAP_FAILED) {
		fprintf(stderr, "usage: tailchain [STEPS >= 0]\n");
		return 2;
	}
	region = p;
	printf("tailchain: %ld steps, the last in %s\n", steps,
	       chain_main(steps) ? "pong" : "ping");
	return 0;
}
