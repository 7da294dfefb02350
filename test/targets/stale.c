/* stale: what a stack word says after the fact must not change the
 * program's memory (found on lz4 -dc, which iprofmem had never seen).
 *
 * jumper() longjmps back to main: its frame is left, and the tracer
 * learns so only when the next call is entered at or above it.  That is
 * probe_me(), at the same depth.  An entry there could also be a signal
 * handler on an alternate stack, which must keep the frames it
 * interrupted: the tracer tells the two apart by the return address at
 * the entry's stack pointer (the signal trampoline's, or not).  A probe's
 * event is read after the fact, when that word may hold anything: here
 * main writes there, once probe_me has returned, the address of a page
 * that nothing ever touched, then spins without a call (a call would
 * write its return address there) long enough for the tracer to read its
 * events.  The page must still be out of the program's memory at the end:
 * mincore says, and the program exits 1 if it is in.
 *
 * Rows: jumper none (it never returned), probe_me none (it touches
 * nothing), main and setup whatever they are.
 *
 *   stale [MARK]  prints "stale page resident: no" (or yes) */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

static jmp_buf env;

__attribute__((noinline)) void
jumper(void)
{
	longjmp(env, 1);
}

/* the address of its return address: the entry's stack pointer */
__attribute__((noinline)) uintptr_t
probe_me(void)
{
	return (uintptr_t)__builtin_frame_address(0) + 8;
}

/* the program's start-up before main's calls: one page, so that main's
 * row does not depend on what libc touched */
__attribute__((noinline)) void *
setup(void)
{
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return page;
}

int
main(void)
{
	volatile uintptr_t slot;
	unsigned char in = 0;
	uint8_t *page = setup();
	uint64_t t0;

	if (!setjmp(env))
		jumper();
	slot = probe_me();
	/* no call from here to the mincore: each would write its return
	 * address over the slot */
	*(uint8_t *volatile *)slot = page + 16;
	t0 = __rdtsc();
	while (__rdtsc() - t0 < 1500000000ull)	/* 0.5 s at 3 GHz */
		;
	if (mincore(page, 4096, &in) != 0) {
		perror("mincore");
		return 2;
	}
	printf("stale page resident: %s\n", in & 1 ? "yes" : "no");
	return in & 1;
}
