/*
 * sel_malloc: a known number of calls to the C library's malloc that each
 * make exactly one new page resident, for `-e libc.so.6:malloc`
 * (test/e2e/test_select_libc.sh).
 *
 * Each request is far above the mmap threshold, so malloc maps a new region
 * for it and writes only the chunk header, in its first page: one page per
 * call.  M_MMAP_THRESHOLD is set explicitly (no dynamic threshold), THP is
 * off for the process, the arena and the tcache are set up first by calloc
 * (which in glibc does not go through malloc), the stack that malloc will
 * use is touched first, and nothing is printed until the end, with
 * write(2): no other malloc call makes a page resident.
 *
 *   malloc            CALLS calls, CALLS pages
 *   alloc_blocks      CALLS x (1 + TOUCH) pages, one call
 *   warm_stack        not exact
 *
 * Usage: sel_malloc [IGNORED...]; prints "sel_malloc: CALLS blocks" and
 * exits 0 (1 if an allocation failed).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define CALLS		7
#define BLOCK		(1L << 20)	/* 1 MiB: above the threshold below */
#define TOUCH		2		/* pages alloc_blocks writes per block */
#define PAGE		4096L
#define STACK_WARM	(64 * 1024)

#define MEASURED	__attribute__((noipa, used))

static char *blocks[CALLS];
volatile long sink;
void *volatile warm;

/* Stack below main's frame, for what alloc_blocks and malloc will use. */
MEASURED void
warm_stack(void)
{
	volatile char stack[STACK_WARM];

	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

MEASURED int
alloc_blocks(void)
{
	for (int i = 0; i < CALLS; i++) {
		blocks[i] = malloc(BLOCK);
		if (!blocks[i])
			return -1;
		for (long j = 0; j < TOUCH; j++)
			blocks[i][PAGE + j * PAGE] = 1;	/* past the header page */
	}
	return 0;
}

int
main(void)
{
	char msg[64];
	int n;

	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	warm = calloc(1, 64);	/* through a volatile: gcc drops a free(calloc()) */
	free(warm);
	warm_stack();
	memset(blocks, 0, sizeof(blocks));	/* its page resident before */
	if (alloc_blocks() != 0)
		return 1;
	n = snprintf(msg, sizeof(msg), "sel_malloc: %d blocks\n", CALLS);
	if (write(1, msg, n) != n)
		return 1;
	return 0;
}
