/*
 * quiet: traced functions that never grow RSS (no heap, no new globals, only
 * stack the start-up code already used), so the table has no row and says
 * "No traced call increased memory.".  Exits 0.
 */
#define TRACED	__attribute__((noipa, used))

TRACED long
leaf(long x)
{
	return x * 7 + 3;
}

TRACED long
middle(long x)
{
	return leaf(x) + leaf(x + 1);
}

TRACED long
countdown(long n)
{
	if (n == 0)
		return 0;
	return 1 + countdown(n - 1) + (n & 1);
}

int
main(void)
{
	volatile long acc = 0;

	for (long i = 0; i < 50; i++)
		acc += middle(i);
	acc += countdown(10);
	return acc == 0;	/* never 0: exits 0 */
}
