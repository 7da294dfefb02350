/*
 * small: N calls of small functions that touch no page, for the per-call
 * figures of bench/engines.sh (issue 11).  Built -O2 -g without CET (and
 * a -cet variant, where each function starts with endbr64), so that each
 * has the shape the probe engine must handle:
 *
 *   frame   push %rbp; mov %rsp,%rbp; pop %rbp; ret   an empty function
 *           with a frame (6 bytes: one stub can hold it whole); it asks
 *           for its frame address, or gcc -O2 would leave only the ret
 *   get     mov 0x8(%rdi),%rax; ret                   the 5-byte getter
 *   leaf    a few register instructions, no frame, then ret
 *   both    calls get and leaf: a caller with a frame of its own
 *
 * Usage: small MODE N
 *   MODE frame, get, leaf or both: N calls of that function (both: N
 *   calls of both, so 3N traced calls); all: N calls of each of the four
 *   (6N traced calls).
 * Prints "small: MODE N calls, checksum C" (deterministic) and exits 0;
 * 2 on a bad argument.  main and run are traced too: 2 more calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SMALL __attribute__((noinline, noipa, used))

struct pair {
	long a;
	long b;
};

SMALL void
frame(void)
{
	/* asking for the frame makes gcc -O2 set one up, and nothing else */
	__asm__ volatile("" : : "r"(__builtin_frame_address(0)));
}

SMALL long
get(const struct pair *p)
{
	return p->b;
}

SMALL long
leaf(long x)
{
	return (x ^ (x >> 7)) * 3 + 1;
}

SMALL long
both(const struct pair *p, long x)
{
	return get(p) + leaf(x);
}

static int mode_has(const char *mode, const char *name)
{
	return strcmp(mode, "all") == 0 || strcmp(mode, name) == 0;
}

SMALL long
run(const char *mode, long n)
{
	struct pair p = { 1, 2 };
	long sum = 0;

	if (mode_has(mode, "frame"))
		for (long i = 0; i < n; i++)
			frame();
	if (mode_has(mode, "get"))
		for (long i = 0; i < n; i++)
			sum += get(&p);
	if (mode_has(mode, "leaf"))
		for (long i = 0; i < n; i++)
			sum += leaf(i);
	if (mode_has(mode, "both"))
		for (long i = 0; i < n; i++)
			sum += both(&p, i);
	return sum;
}

int
main(int argc, char **argv)
{
	static const char *const modes[] = { "frame", "get", "leaf", "both", "all" };
	char *end;
	long n;
	int ok = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: small frame|get|leaf|both|all N\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		ok |= strcmp(argv[1], modes[i]) == 0;
	n = strtol(argv[2], &end, 10);
	if (!ok || *end || n < 0) {
		fprintf(stderr, "small: bad MODE or N: %s %s\n", argv[1], argv[2]);
		return 2;
	}
	printf("small: %s %ld calls, checksum %ld\n", argv[1], n, run(argv[1], n));
	return 0;
}
