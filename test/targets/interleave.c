/*
 * interleave: one thread's probe events and int3 stops, interleaved, with a
 * backlog.  Under the default engine most sites are probes, whose events
 * iprofmem reads from a ring after the fact, while a breakpoint's event is
 * taken at its stop, the thread let go at once and the event queued behind
 * the ring's records that came before it.  Each round below makes
 * thousands of probe events (spin), then calls the functions that only
 * int3 can take, then thousands more: any event taken out of its thread's
 * order would misplace a frame, and the exact rows would not come out.
 *
 * The file is built with functions packed (no alignment padding), so
 *   tiny   "ret" alone, one byte (no endbr64 even with CET): entry and
 *          return are int3 sites;
 *   pair   "call grow_one; ret": no window fits its one-byte ret, which
 *          only the call returns to: the default engine sees it return
 *          at grow_one's return (no site at all);
 *   twice  "call grow_one; call grow_one; ret": its callee's frame
 *          could be either call's, so its ret keeps its int3.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_interleave.sh mirrors
 * these numbers):
 *
 *   function   pages  calls   why
 *   grow_one     120    120   one page of the region per call, 3 a round
 *   pair          40     40   grow_one's
 *   twice         80     40   grow_one's, twice
 *   round_       120     40   pair's and twice's
 *   run          120      1   the rounds'
 *   spin, tiny     -      -   touch nothing: no row (240000 and 80
 *                             calls)
 *   setup, main  not exact
 *
 * Exact because nothing else becomes resident inside a measured function:
 * setup() maps the region with THP off, warms the stack and writes the
 * globals.
 *
 * Usage: interleave [IGNORED...]
 */
#pragma GCC optimize("align-functions=1")
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PAGE		4096L
#define ROUNDS		40
#define SPINS		3000
#define STACK_WARM	(64 * 1024)

#define MEASURED	__attribute__((noipa, used))
#ifdef __CET__
#define NO_ENDBR	__attribute__((nocf_check))
#else
#define NO_ENDBR
#endif

static char *region;
static long next_page;
volatile long sink;

MEASURED void
spin(long i)
{
	sink += i;
}

MEASURED void
grow_one(void)
{
	region[next_page++ * PAGE] = 1;
}

NO_ENDBR __attribute__((naked, noinline, used)) void
tiny(void)
{
	__asm__("ret");
}

__attribute__((naked, noinline, used)) void
pair(void)
{
	__asm__("call grow_one\n\tret");
}

__attribute__((naked, noinline, used)) void
twice(void)
{
	__asm__("call grow_one\n\tcall grow_one\n\tret");
}

MEASURED void
round_(long r)
{
	for (long i = 0; i < SPINS; i++)
		spin(i + r);
	tiny();
	pair();
	twice();
	tiny();
	for (long i = 0; i < SPINS; i++)
		spin(i);
}

MEASURED void
run(void)
{
	for (long r = 0; r < ROUNDS; r++)
		round_(r);
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, (3 * ROUNDS + 1) * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("interleave: mmap");
		exit(99);
	}
	if (madvise(p, (3 * ROUNDS + 1) * PAGE, MADV_NOHUGEPAGE) != 0) {
		perror("interleave: madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	sink = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	sink = stack[0];
}

int
main(void)
{
	setup();
	run();
	printf("interleave: %ld pages\n", next_page);
	return 0;
}
