/*
 * Benchmark target for `make bench`: calls empty() N times (N = argv[1]).
 *
 * Built -O0 -g -fcf-protection=none so that empty() starts with `push %rbp`
 * and ends with a single `ret`: the two cheapest sites to emulate, and the
 * same ones bench/reftrace.c emulates.  The loop is in main (called once)
 * and calls nothing but empty(), so with iprofmem tracing every DWARF
 * function of this file, the run costs 2N events plus main's two.
 */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void empty(void)
{
	__asm__ volatile("");
}

int main(int argc, char **argv)
{
	long n, i;
	char *end;

	if (argc != 2) {
		fprintf(stderr, "usage: %s N\n", argv[0]);
		return 2;
	}
	n = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || n < 0) {
		fprintf(stderr, "%s: bad N '%s'\n", argv[0], argv[1]);
		return 2;
	}
	for (i = 0; i < n; i++)
		empty();
	return 0;
}
