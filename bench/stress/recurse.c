/*
 * recurse: descend() calls itself DEPTH times (default 100000), each level
 * writing one byte into the next untouched page of a region mapped
 * beforehand, and only then going deeper.  The recursion runs on a thread
 * whose stack (STACK_MB, default 256 MiB, far more than DEPTH frames need)
 * is mapped with MAP_POPULATE, so its pages are resident before the first
 * call: no page but the region's one grows RSS during a call.
 *
 * Level i (1 = outermost) sees its own page and those of every deeper
 * level, DEPTH - i + 1 pages (deltas are inclusive), so descend's row is
 * exact:   DEPTH calls, DEPTH * (DEPTH + 1) / 2 pages,
 * and its self column is one page a call, DEPTH pages.  deep_main (the
 * thread's start routine) sees all DEPTH pages in one call.
 *
 * Usage: recurse [DEPTH [STACK_MB]] [IGNORED...]
 * Prints "recurse: DEPTH levels, deepest reached DEPTH, DEPTH pages" and
 * exits 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PAGE		4096L

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static long depth = 100000;
static char *region;
static long deepest;

MEASURED void
descend(long level)
{
	region[(level - 1) * PAGE] = 1;
	if (level > deepest)
		deepest = level;
	if (level < depth)
		descend(level + 1);
	NO_TAIL_CALL();		/* one frame per level, one return each */
}

MEASURED void *
deep_main(void *arg)
{
	(void)arg;
	descend(1);
	NO_TAIL_CALL();
	return NULL;
}

static void *
map_or_die(size_t size, int flags, const char *what)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);

	if (p == MAP_FAILED) {
		perror(what);
		exit(99);
	}
	return p;
}

int
main(int argc, char **argv)
{
	long stack_mb = 256;
	size_t stack_size;
	pthread_attr_t attr;
	pthread_t t;
	void *stack;
	int err;

	if (argc > 1)
		depth = atol(argv[1]);
	if (argc > 2)
		stack_mb = atol(argv[2]);
	if (depth < 1 || stack_mb < 1) {
		fprintf(stderr, "usage: recurse [DEPTH [STACK_MB]]\n");
		return 2;
	}
	/* One page per level; no huge pages, or one write would bring 512. */
	region = map_or_die(depth * PAGE, 0, "recurse: region");
	if (madvise(region, depth * PAGE, MADV_NOHUGEPAGE)) {
		perror("recurse: madvise");
		return 99;
	}
	stack_size = (size_t)stack_mb << 20;
	stack = map_or_die(stack_size, MAP_POPULATE | MAP_STACK, "recurse: stack");
	pthread_attr_init(&attr);
	err = pthread_attr_setstack(&attr, stack, stack_size);
	if (!err)
		err = pthread_create(&t, &attr, deep_main, NULL);
	if (err) {
		fprintf(stderr, "recurse: pthread: %s\n", strerror(err));
		return 99;
	}
	pthread_join(t, NULL);
	printf("recurse: %ld levels, deepest reached %ld, %ld pages\n",
	       depth, deepest, depth);
	return deepest == depth ? 0 : 1;
}
