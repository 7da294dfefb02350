/*
 * sel_cycle: a plugin host that loads the same plugin again and again:
 * ROUNDS times (default 200) dlopen(sel_plugin.so), plug_a, dlclose.  What
 * iprofmem maps into the program for a module (the probes' stubs, the
 * int3 engine's out-of-line slots) must be used again by the plugin's
 * next load rather than mapped anew each time: the program's count of
 * mappings grows as it does untraced (test/e2e/test_select_modules.sh).
 *
 * Expected rows (pages of 4096 bytes, calls), page discipline as in sel.h:
 *   plug_a      plugin.c   2 x ROUNDS   ROUNDS   2 pages of our region
 *   plug_ctor   plugin.c   2 x ROUNDS   ROUNDS   2 of its own 4-page
 *                                                region, per dlopen
 *   setup, main, count_maps: not exact
 *
 * Usage: sel_cycle [ROUNDS]
 * Prints "sel_cycle: ROUNDS rounds, A mappings after the first, B at the
 * end" and exits 0, or 1 when the plugin could not be loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "sel.h"

#define PLUGIN		"sel_plugin.so"	/* next to us: rpath $ORIGIN */

static struct pages pg;

/* Our region, one page more than the rounds write. */
static MEASURED void
setup(long rounds)
{
	size_t len = (size_t)(2 * rounds + 1) * PAGE;
	void *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r == MAP_FAILED) {
		perror("sel_cycle: mmap");
		exit(1);
	}
	madvise(r, len, MADV_NOHUGEPAGE);
	pg.base = r;
	pg.next = 0;
}

/* Lines of /proc/self/maps. */
static MEASURED long
count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	long n = 0;
	int c;

	if (!f) {
		perror("sel_cycle: /proc/self/maps");
		exit(1);
	}
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 200, first = 0;

	if (rounds < 1) {
		fprintf(stderr, "usage: sel_cycle [ROUNDS]\n");
		return 2;
	}
	setup(rounds);
	for (long i = 0; i < rounds; i++) {
		void *h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
		plug_fn *a;

		if (!h || !(a = (plug_fn *)dlsym(h, "plug_a"))) {
			fprintf(stderr, "sel_cycle: %s\n", dlerror());
			return 1;
		}
		a(&pg);
		if (dlclose(h) != 0) {
			fprintf(stderr, "sel_cycle: dlclose: %s\n", dlerror());
			return 1;
		}
		if (i == 0)
			first = count_maps();
	}
	printf("sel_cycle: %ld rounds, %ld mappings after the first, %ld at "
	       "the end\n", rounds, first, count_maps());
	return 0;
}
