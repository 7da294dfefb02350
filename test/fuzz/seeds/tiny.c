/* ELF seed for the symbol-loader fuzzer (test/fuzz/fuzz.mk, fuzz-seeds):
 * a few functions that give the loader its cases -- a leaf, a loop, a tail
 * call, a static helper, code split into a .cold part at -O2, a function
 * declared in a header-like scope (#line). */
#include <stdlib.h>

static int table[64];

__attribute__((noinline)) static int leaf(int x)
{
	return x * 3 + 1;
}

__attribute__((noinline, cold)) static void fail(const char *why)
{
	(void)why;
	abort();
}

__attribute__((noinline)) int sum(int n)
{
	int s = 0;

	if (n < 0 || n > 64)
		fail("range");
	for (int i = 0; i < n; i++)
		s += table[i] + leaf(i);
	return s;
}

__attribute__((noinline)) int tail(int n)
{
	return sum(n - 1);	/* a jmp at -O2 */
}

#line 7 "include/inl.h"
__attribute__((noinline)) int from_header(int a, int b)
{
	return a > b ? a : b;
}

#line 50 "tiny.c"
int main(int argc, char **argv)
{
	(void)argv;
	return tail(argc + 3) + from_header(argc, 2) > 1000;
}
