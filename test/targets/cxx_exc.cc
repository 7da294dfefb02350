/*
 * cxx_exc: C++ exceptions thrown through traced frames and caught several
 * levels up.  The frames thrown through never return (no row), but what
 * runs during the unwinding and returns normally does: a destructor and
 * what it calls, a catch block that rethrows runs but its function does
 * not return.  Keys of functions in namespace exc are qualified:
 * FILE:LINE:exc::NAME, the destructor's FILE:LINE:exc::Guard::~Guard.
 *
 * Page discipline as in mem.c.  setup() throws and catches once (through
 * warm_throw/warm_catch, not measured), so the unwinder, the personality
 * routine and the exception allocation have their pages before anything
 * is measured.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_cxx.sh mirrors it):
 *
 *   function            pages  calls   why
 *   exc::thrower            -      -   touches 2, throws
 *   exc::mid2               -      -   touches 1, holds a Guard, thrown through
 *   exc::rethrow_mid        -      -   catches, touches 1, rethrows
 *   exc::mid1               -      -   touches 1, thrown through
 *   exc::guard_work         3      3   1 page, from the destructor
 *   exc::Guard::~Guard      3      3   runs during the unwinding, returns
 *   exc::after_catch        3      3   1 page, after the catch
 *   exc::catcher           24      3   1 + 1 + 1 + 2 + 1 + 1 + 1 = 8 each
 *   exc::local_catch        4      2   throws and catches in itself: 2 each
 *   exc::run               28      1   24 + 4
 *   warm_throw, warm_catch, WarmGuard::~WarmGuard, setup, main: not exact
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

#define PAGE		4096L
#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static volatile long next_page;
volatile long sink;

static inline __attribute__((always_inline)) void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

struct Oops {
	long n;
};

namespace exc {

MEASURED void
guard_work(void)
{
	touch(1);
}

struct Guard {
	~Guard();
};

MEASURED
Guard::~Guard()
{
	guard_work();
	NO_TAIL_CALL();
}

MEASURED void
thrower(long n)
{
	touch(n);
	throw Oops{ n };
}

MEASURED void
mid2(long n)
{
	Guard g;

	touch(1);
	thrower(n);
	NO_TAIL_CALL();
}

MEASURED void
rethrow_mid(long n)
{
	try {
		mid2(n);
	} catch (...) {
		touch(1);
		throw;
	}
	NO_TAIL_CALL();
}

MEASURED void
mid1(long n)
{
	touch(1);
	rethrow_mid(n);
	NO_TAIL_CALL();
}

MEASURED void
after_catch(void)
{
	touch(1);
}

MEASURED long
catcher(long n)
{
	long got = 0;

	touch(1);
	try {
		mid1(n);
	} catch (const Oops &e) {
		got = e.n;
	}
	after_catch();
	NO_TAIL_CALL();
	return got;
}

MEASURED long
local_catch(long n)
{
	long got = 0;

	touch(1);
	try {
		if (n >= 0)
			throw Oops{ n };
	} catch (const Oops &e) {
		touch(1);
		got = e.n;
	}
	return got;
}

MEASURED void
run(void)
{
	for (int i = 0; i < 3; i++)
		sink = catcher(2);
	for (int i = 0; i < 2; i++)
		sink = local_catch(i);
	NO_TAIL_CALL();
}

} // namespace exc

struct WarmGuard {
	~WarmGuard() { sink = 0; }
};

/* Like mid2, with a destructor to run, but it touches nothing. */
MEASURED void
warm_throw(void)
{
	WarmGuard g;

	throw Oops{ 0 };
}

MEASURED void
warm_catch(void)
{
	try {
		warm_throw();
	} catch (const Oops &e) {
		sink = e.n;
	}
	try {
		try {
			warm_throw();
		} catch (...) {
			throw;
		}
	} catch (const Oops &e) {
		sink = e.n;
	}
}

MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE)) {
		perror("cxx_exc: mmap/madvise");
		exit(99);
	}
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	sink = stack[0];
	region = (volatile char *)p;
	next_page = 0;
	warm_catch();
	warm_catch();
}

int
main(void)
{
	setup();
	exc::run();
	std::printf("cxx_exc: %ld pages\n", (long)next_page);
	return 0;
}
