/*
 * mem: functions whose RSS growth is known to the page.
 *
 * setup() maps a large anonymous region that nothing touches, then every
 * measured function writes one byte into each of the next untouched pages of
 * it (touch()), so a call grows RSS by exactly the pages it and its callees
 * touched.  Nothing else may fault a page inside a measured function: no libc
 * call except madvise() (warmed up by setup()), no global that setup() did not
 * already write, no stack that setup() did not already touch.
 *
 * Expected table (pages of 4096 bytes; mem_expect in test/e2e/lib.sh mirrors
 * these numbers, keep both in step):
 *
 *   function            pages  calls   why
 *   touch_block           600    200   3 pages x 200 calls
 *   block_loop            601      1   1 own page + touch_block's 600
 *   no_touch                -      -   touches nothing: no row
 *   recurse               225     25   recurse(20) + recurse(5): a call at
 *                                      depth d grows RSS by d pages
 *                                      (inclusive), so 20*21/2 + 5*6/2
 *   scenario_recursion     25      1
 *   tail_target            20     10   2 pages x 10
 *   tail_caller        10 (-O2)   10   1 own page; at -O2 it reaches
 *                      30 (-O0)        tail_target by a jmp (a tail call,
 *                                      a return site), at -O0 by a call
 *   scenario_tail          31      1   1 own page + 10 x (1 + 2)
 *   classify                9      5   several returns: -5 -> 0 pages,
 *                                      0 -> 1, 7 -> 2, 5000 -> 3 (cold
 *                                      path), 0 -> 1, 9 -> 2, -1 -> 0
 *   rare_path               -      -   called on classify's cold path,
 *                                      touches nothing: no row
 *   scenario_multi_ret     11      1   2 own pages + classify's 9
 *   release_some            2      1   touches 3, gives 1 back
 *   release_all             -      -   touches 4, gives 4 back: no row
 *   scenario_release        3      1   1 own page + 2 + 0
 *   run                   671      1   sum of the scenarios
 *   setup, main     not exact      1   stack and data pages of the start
 *
 * Entry shapes at -O2 without CET (test/e2e/check_targets.sh checks them):
 * touch_block starts with a rip-relative mov, classify with test, recurse
 * with mov, run with sub $8,%rsp, block_loop with a mov then push; with CET
 * every function starts with endbr64; at -O0 with push %rbp.
 *
 * Usage: mem [MODE] [IGNORED...]
 *   (none)     run the scenarios, exit 0
 *   selfcheck  run them untraced with /proc/self/statm read around each
 *              one, print a line per check, exit 1 on any mismatch
 *   abrt|segv|term|kill
 *              run the scenarios, then die of that signal inside die_*()
 * Extra arguments are ignored (tests pass a marker to find leftovers).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	4096L		/* 16 MiB of address space, far more than used */
#define STACK_WARM	(256 * 1024)	/* bytes of stack touched before measuring */

#define BLOCK_PAGES	3
#define BLOCK_CALLS	200
#define TAIL_CALLS	10
#define TAIL_PAGES	2

/* Out of line, not cloned, not analysed across calls, kept even if unused. */
#define MEASURED	__attribute__((noipa, used))
/* Keeps the preceding call from becoming a tail call (a jmp). */
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;	/* written by setup(), read by touch() */
static long next_page;		/* index of the next untouched page */
volatile long sink;		/* results nobody needs, so calls stay */
int *volatile bad_pointer;	/* NULL, for die_segv() */

/* Exactly n new resident pages: one byte into each of the next n pages. */
static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

/* Give back n pages from page `first` on; setup() warmed madvise up. */
static inline __attribute__((always_inline)) void
release(long first, long n)
{
	madvise((char *)region + first * PAGE, n * PAGE, MADV_DONTNEED);
	NO_TAIL_CALL();	/* a `jmp madvise` would end the call before it */
}

MEASURED void
touch_block(void)
{
	touch(BLOCK_PAGES);
}

MEASURED long
no_touch(long x)
{
	return x * 3 + 1;
}

MEASURED void
block_loop(void)
{
	touch(1);
	for (long i = 0; i < BLOCK_CALLS; i++) {
		touch_block();
		sink = no_touch(i);
	}
}

/* Touches on the way back up, so the call cannot become a loop. */
MEASURED long
recurse(long depth)
{
	if (depth == 0)
		return 0;
	long r = recurse(depth - 1);
	touch(1);
	return r + 1;
}

MEASURED void
scenario_recursion(void)
{
	sink = recurse(20);
	sink = recurse(5);
}

MEASURED long
tail_target(long n)
{
	touch(n);
	return n;
}

/* At -O2 the call below is a sibling call: `jmp tail_target`. */
MEASURED long
tail_caller(long n)
{
	touch(1);
	return tail_target(n);
}

MEASURED void
scenario_tail(void)
{
	touch(1);
	for (long i = 0; i < TAIL_CALLS; i++)
		sink = tail_caller(TAIL_PAGES);
}

MEASURED __attribute__((cold)) void
rare_path(void)
{
	sink = 0;
}

/* Several returns; the x > 1000 path is cold (.text.unlikely at -O2). */
MEASURED long
classify(long x)
{
	if (x < 0)
		return -1;
	if (x == 0) {
		touch(1);
		return 0;
	}
	if (x > 1000) {
		rare_path();
		touch(3);
		return 2;
	}
	touch(2);
	return 1;
}

MEASURED void
scenario_multi_ret(void)
{
	touch(2);
	sink = classify(-5);
	sink = classify(0);
	sink = classify(7);
	sink = classify(5000);
	sink = classify(0);
	sink = classify(9);
	sink = classify(-1);
}

MEASURED void
release_some(void)
{
	long first = next_page;
	touch(3);
	release(first, 1);
}

MEASURED void
release_all(void)
{
	long first = next_page;
	touch(4);
	release(first, 4);
}

MEASURED void
scenario_release(void)
{
	touch(1);
	release_some();
	release_all();
	NO_TAIL_CALL();
}

MEASURED void
run(void)
{
	block_loop();
	scenario_recursion();
	scenario_tail();
	scenario_multi_ret();
	scenario_release();
	NO_TAIL_CALL();
}

/* Its frame sits where run()'s will: touching its big array leaves enough
 * stack resident for every measured call below run(). */
MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mem: mmap");
		exit(99);
	}
	/* No huge or multi-size THP folios: one fault, one page. This also
	 * brings madvise's code in, which release() calls later. */
	if (madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE) != 0) {
		perror("mem: madvise");
		exit(99);
	}
	region = p;
	next_page = 0;
	sink = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
}

/* Signal deaths, each inside a measured function that never returns. */
MEASURED void
die_abrt(void)
{
	abort();
}

MEASURED void
die_segv(void)
{
	*bad_pointer = 1;
}

MEASURED void
die_signal(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
	for (;;)
		pause();
}

/* --- selfcheck: the same scenarios, measured from here without a tracer --- */

static int statm_fd = -1;

static long
rss_pages(void)
{
	char buf[128];
	long size, resident;
	ssize_t n = pread(statm_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld", &size, &resident) != 2)
		return -1;
	return resident;
}

static int failures;

static void
check(const char *what, long before, long after, long expect)
{
	long got = after - before;

	printf("%s %s: %ld pages (expected %ld)\n",
	       got == expect ? "ok" : "MISMATCH", what, got, expect);
	if (got != expect)
		failures++;
}

#define MEASURE(what, expect, call)			\
	do {						\
		long b_ = rss_pages();			\
		call;					\
		long a_ = rss_pages();			\
		check(what, b_, a_, expect);		\
	} while (0)

static int
selfcheck(void)
{
	statm_fd = open("/proc/self/statm", O_RDONLY);
	if (statm_fd < 0) {
		perror("mem: /proc/self/statm");
		return 1;
	}
	setvbuf(stdout, NULL, _IONBF, 0);	/* no buffer allocation later */
	rss_pages();				/* fault in what the reads use */
	rss_pages();
	MEASURE("touch_block", BLOCK_PAGES, touch_block());
	MEASURE("no_touch", 0, sink = no_touch(5));
	MEASURE("block_loop", 1 + BLOCK_PAGES * BLOCK_CALLS, block_loop());
	MEASURE("recurse(4)", 4, sink = recurse(4));
	MEASURE("scenario_recursion", 25, scenario_recursion());
	MEASURE("tail_target(2)", 2, sink = tail_target(2));
	MEASURE("tail_caller(2)", 3, sink = tail_caller(2));
	MEASURE("scenario_tail", 31, scenario_tail());
	MEASURE("classify(-5)", 0, sink = classify(-5));
	MEASURE("classify(0)", 1, sink = classify(0));
	MEASURE("classify(7)", 2, sink = classify(7));
	MEASURE("classify(5000)", 3, sink = classify(5000));
	MEASURE("rare_path", 0, rare_path());
	MEASURE("scenario_multi_ret", 11, scenario_multi_ret());
	MEASURE("release_some", 2, release_some());
	MEASURE("release_all", 0, release_all());
	MEASURE("scenario_release", 3, scenario_release());
	MEASURE("run", 671, run());
	printf("%s\n", failures ? "selfcheck FAILED" : "selfcheck passed");
	return failures != 0;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setup();
	if (strcmp(mode, "selfcheck") == 0)
		return selfcheck();
	run();
	if (strcmp(mode, "abrt") == 0)
		die_abrt();
	else if (strcmp(mode, "segv") == 0)
		die_segv();
	else if (strcmp(mode, "term") == 0)
		die_signal(SIGTERM);
	else if (strcmp(mode, "kill") == 0)
		die_signal(SIGKILL);
	return 0;
}
