/* A program that prints one line and exits 0: the bad-input tests
 * (test/e2e/test_diagnostics.sh) build it as what iprofmem must refuse,
 * a 32-bit executable and a relocatable object, and check that the
 * 32-bit one really runs. */
#include <stdio.h>

int main(void)
{
	puts("hello");
	return 0;
}
