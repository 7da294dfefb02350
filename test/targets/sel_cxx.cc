/*
 * sel_cxx: C++ names in the selection tests (test/e2e/test_select_cxx.sh):
 * overloads, a template instantiated twice, a class method, all in
 * namespace ns, whose keys are qualified names (never mangled ones), and a
 * static inline helper that gcc inlines at -O2 (no out-of-line instance:
 * no row) but not at -O0 (a row).
 *
 * Page discipline as in mem.c.  Expected table (pages of 4096 bytes):
 *
 *   function                 pages  calls   why
 *   ns::f (int)                  3      2   n pages: f(1) + f(2)
 *   ns::f (double)               4      1   f(4.0)
 *   ns::twice<int>               2      2   1 page each
 *   ns::twice<long int>          3      3   1 page each
 *   ns::Box::grow                5      2   k pages: grow(2) + grow(3)
 *   ns::Box::size                -      -   touches nothing
 *   helper (-O0 only)            4      2   2 pages each; inlined at -O2
 *   run                         23      1   3 + 4 + 2 + 3 + 5 + 4 + 2 own
 *   setup, main          not exact      1
 *
 * Prints "sel_cxx: N pages" (23) and exits 0 when that is the count.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <link.h>
#include <sys/mman.h>

#define PAGE		4096L
#define REGION_PAGES	256L
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

namespace ns {

MEASURED void
f(int n)
{
	touch(n);
}

MEASURED void
f(double d)
{
	touch((long)d);
}

template <typename T>
MEASURED T
twice(T x)
{
	touch(1);
	return x * 2;
}

struct Box {
	long n;
	void grow(long k);
	long size() const;
};

MEASURED void
Box::grow(long k)
{
	touch(k);
	n += k;
}

MEASURED long
Box::size() const
{
	return n;
}

} // namespace ns

/* Small, static, called twice: gcc -O2 inlines it, -O0 does not. */
static inline void
helper(long n)
{
	touch(n);
}

MEASURED void
run(void)
{
	ns::Box box = { 0 };

	touch(2);
	ns::f(1);
	ns::f(2);
	ns::f(4.0);
	sink = ns::twice<int>(3) + ns::twice<int>(4);
	sink = ns::twice<long>(5) + ns::twice<long>(6) + ns::twice<long>(7);
	box.grow(2);
	box.grow(3);
	sink = box.size();
	helper(2);
	helper(2);
	NO_TAIL_CALL();
}

/* dl_iterate_phdr callback: reads every page of the executable (the first
 * object), text, read-only data and data, so that a measured function
 * faults in none of them (run() reads a double constant). */
static int
warm_image(struct dl_phdr_info *info, size_t, void *)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(PAGE - 1);
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		for (; a < end; a += PAGE)
			sink = sink + *(volatile const char *)a;
	}
	return 1;
}

/* The region, the stack the measured calls will use, our own pages. */
MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("sel_cxx: mmap");
		exit(99);
	}
	if (madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE) != 0) {
		perror("sel_cxx: madvise");
		exit(99);
	}
	region = (volatile char *)p;
	next_page = 0;
	sink = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	dl_iterate_phdr(warm_image, NULL);
	sink = stack[0];
}

int
main(void)
{
	setup();
	run();
	std::printf("sel_cxx: %ld pages\n", (long)next_page);
	return next_page == 23 ? 0 : 1;
}
