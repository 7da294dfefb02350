/*
 * noline: main() calls grow_noline() (noline_fn.S, whose DWARF has no
 * DW_AT_decl_line) on a fresh mapping of 16 pages, THP off: grow_noline
 * makes exactly 3 pages resident in its one call
 * (test/e2e/test_noline.sh).  Prints "noline: 3 pages" and exits 0.
 */
#include <stdio.h>
#include <sys/mman.h>

#define PAGE	4096L

void grow_noline(char *region, long n);

int
main(void)
{
	char *region = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED)
		return 99;
	madvise(region, 16 * PAGE, MADV_NOHUGEPAGE);
	grow_noline(region, 3);
	printf("noline: 3 pages\n");
	return 0;
}
