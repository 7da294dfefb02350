/*
 * static_ifunc: a static program whose IFUNC resolver, a traced function,
 * runs before libc has set up TLS: glibc's static start applies the
 * IRELATIVE relocations (calling the resolvers) before __libc_setup_tls,
 * so the thread has no fs base (0) while pick_resolver() runs.  Without
 * user-mode rdfsbase iprofmem's probes take the word at %fs:0 for the
 * thread's key, and such a thread would fault on it: iprofmem gives it a
 * dummy thread pointer at set-up, which the TLS set-up then replaces.
 * test/e2e/test_notls.sh runs it under both engines.
 *
 * Pages come from one static page-aligned .bss array that nothing touched
 * before (the kernel maps .bss on demand), one byte per page, no THP
 * (madvise in the resolver, the first code of ours to run).  Nothing of
 * libc runs inside a measured function; the measured leaves use no stack,
 * and main() touches 64 KiB of stack below its own frame before run().
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_notls.sh mirrors
 * these numbers, keep both in step):
 *
 *   function        pages  calls   why
 *   pick_resolver       3      1   the IFUNC resolver, before TLS
 *   work_impl           7      1   the IFUNC work()'s implementation
 *   grow                6      3   2 pages x 3 calls
 *   run                13      1   grow x 3 + work(): inclusive
 *   main        not exact      1   run's 13, printf's buffer, the stack
 *
 * Usage: static_ifunc [MODE] [IGNORED...]
 *   (none)     run, print one line, exit 0
 *   fsbase     the same, then say whether the thread had an fs base when
 *              the resolver ran ("fs base in the resolver: 0" untraced:
 *              the case this target is for; a dummy's address under
 *              iprofmem's probes)
 * Extra arguments are ignored (tests pass a marker to find leftovers).
 */
#include <asm/prctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PAGE		4096L
#define EARLY_PAGES	3	/* pick_resolver's */
#define GROW_PAGES	2	/* per grow() call */
#define GROW_CALLS	3
#define WORK_PAGES	7	/* work_impl's */
#define ALL_PAGES	(EARLY_PAGES + GROW_PAGES * GROW_CALLS + WORK_PAGES)
#define STACK_WARM	16	/* pages of stack main() touches below it */

/* Out of line, not cloned, not analysed across calls, kept even if unused. */
#define MEASURED	__attribute__((noipa, used))
/* Keeps the preceding call from becoming a tail call (a jmp). */
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

/* Layout: the resolver's pages, then grow()'s, then work_impl()'s. */
#define EARLY_FIRST	0
#define GROW_FIRST	(EARLY_FIRST + EARLY_PAGES)
#define WORK_FIRST	(GROW_FIRST + GROW_PAGES * GROW_CALLS)

static char pages[ALL_PAGES * PAGE] __attribute__((aligned(4096)));
/* Where the resolver keeps the fs base it saw: in its own first page. */
#define RESOLVER_FS	(*(volatile unsigned long *)(pages + 64))

/* A raw syscall: the resolver runs before libc is ready (no errno, no
 * TLS), so no libc call in it. */
static inline __attribute__((always_inline)) long
raw_syscall3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* One byte into each of n pages from page `first` on. */
static inline __attribute__((always_inline)) void
touch(long first, long n)
{
	for (long i = 0; i < n; i++)
		((volatile char *)pages)[(first + i) * PAGE] = 1;
}

typedef void work_fn(void);

MEASURED static void
work_impl(void)
{
	touch(WORK_FIRST, WORK_PAGES);
}

/* Before TLS: the thread's fs base is 0 here (untraced). */
MEASURED static work_fn *
pick_resolver(void)
{
	/* one fault, one page: no THP for the array (it has no resident
	 * page yet, so this changes no RSS) */
	raw_syscall3(SYS_madvise, (long)pages, sizeof(pages), MADV_NOHUGEPAGE);
	touch(EARLY_FIRST, EARLY_PAGES);
	RESOLVER_FS = 1;	/* stays 1 if the kernel does not answer */
	raw_syscall3(SYS_arch_prctl, ARCH_GET_FS, (long)&RESOLVER_FS, 0);
	return work_impl;
}

work_fn work __attribute__((ifunc("pick_resolver")));

/* Call k (0, 1, 2) touches pages GROW_FIRST + 2k and the next. */
MEASURED void
grow(long k)
{
	touch(GROW_FIRST + k * GROW_PAGES, GROW_PAGES);
}

MEASURED void
run(void)
{
	for (long k = 0; k < GROW_CALLS; k++)
		grow(k);
	work();
	NO_TAIL_CALL();
}

/* The pages of the array holding a 1. */
static long
count_touched(void)
{
	long n = 0;

	for (long i = 0; i < ALL_PAGES; i++)
		n += pages[i * PAGE] == 1;
	return n;
}

int
main(int argc, char **argv)
{
	/* stack for run() and its callees below main's frame: not new
	 * pages inside a measured call (`orb $0` leaves the bytes as
	 * they are; nothing lives below the stack pointer here) */
	for (long i = 1; i <= STACK_WARM; i++)
		__asm__ volatile("orb $0, (%%rsp,%0)" : : "r"(-i * PAGE) : "memory");
	run();
	printf("static_ifunc: %ld of %d pages touched\n", count_touched(), ALL_PAGES);
	if (argc > 1 && strcmp(argv[1], "fsbase") == 0)
		printf("fs base in the resolver: %#lx\n", RESOLVER_FS);
	return 0;
}
