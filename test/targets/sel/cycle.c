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
 * With "moved", each round first maps one page of address space, kept to
 * the end (PROT_NONE, never resident), where the plugin would have gone
 * again: the plugin then lands at a new place each round, and what
 * iprofmem made for its earlier places must serve the new one (within
 * rel32 reach) rather than waiting for a load at its old place.
 *
 * Usage: sel_cycle [ROUNDS [moved]]
 * Prints "sel_cycle: ROUNDS rounds, A mappings after the first, B at the
 * end, P places" (P: the distinct addresses the plugin was loaded at) and
 * exits 0, or 1 when the plugin could not be loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	long rounds = argc > 1 ? atol(argv[1]) : 200, first = 0, places = 0;
	int moved = argc > 2 && strcmp(argv[2], "moved") == 0;
	void **seen;

	if (rounds < 1 || (argc > 2 && !moved) || argc > 3) {
		fprintf(stderr, "usage: sel_cycle [ROUNDS [moved]]\n");
		return 2;
	}
	setup(rounds);
	seen = calloc((size_t)rounds, sizeof(*seen));
	if (!seen) {
		perror("sel_cycle: calloc");
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		void *h, *at;
		plug_fn *a;
		long k;

		if (moved && mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE |
				  MAP_ANONYMOUS, -1, 0) == MAP_FAILED) {
			perror("sel_cycle: mmap");
			return 1;
		}
		h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
		if (!h || !(a = (plug_fn *)dlsym(h, "plug_a"))) {
			fprintf(stderr, "sel_cycle: %s\n", dlerror());
			return 1;
		}
		at = (void *)a;
		for (k = 0; k < places && seen[k] != at; k++)
			;
		if (k == places)
			seen[places++] = at;
		a(&pg);
		if (dlclose(h) != 0) {
			fprintf(stderr, "sel_cycle: dlclose: %s\n", dlerror());
			return 1;
		}
		if (i == 0)
			first = count_maps();
	}
	printf("sel_cycle: %ld rounds, %ld mappings after the first, %ld at "
	       "the end, %ld places\n", rounds, first, count_maps(), places);
	free(seen);
	return 0;
}
