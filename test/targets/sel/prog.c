/*
 * sel_prog: the target of the selection tests (test/e2e/test_select*.sh):
 * an executable of two source files (prog.c, part.c), linked with a shared
 * library (libselshared.so, shared.c, found through an rpath $ORIGIN) and
 * dlopen'ing a plugin (sel_plugin.so, plugin.c) three times, with a dlclose
 * after each round, the second time at another address.  Every function's
 * pages are known (page discipline in sel.h), whichever subset of them is
 * traced.
 *
 * Expected rows (pages of 4096 bytes, calls; SEL_TABLE in
 * test/e2e/select_lib.sh mirrors them).  Deltas are inclusive: a caller's pages include its
 * callees', traced or not.
 *
 *   function        file       pages  calls  why
 *   grow_small      prog.c         5      5  1 page x 5
 *   grow_big        prog.c         8      2  4 pages x 2
 *   keep_flat       prog.c         -      -  touches nothing
 *   run_grow        prog.c        14      1  1 + 5 + 8
 *   part_alloc      part.c         8      4  2 pages x (3 + 1)
 *   part_nested     part.c         3      1  1 + part_alloc's 2
 *   part_idle       part.c         -      -  touches nothing
 *   run_part        prog.c        11      1  2 + 3 x 2 + 3
 *   twin (static)   prog.c         1      1  1 page
 *   twin (static)   part.c         2      1  2 pages, same name
 *   part_twin       part.c         2      1  part.c's twin
 *   run_twins       prog.c         3      1  1 + 2
 *   lib_ctor        shared.c       2      1  constructor, runs before main
 *   lib_fill        shared.c       8      3  3 + 3 + 2
 *   lib_outer       shared.c       3      1  1 + lib_fill's 2
 *   lib_quiet       shared.c       -      -  touches nothing
 *   run_lib         prog.c        10      1  1 + 3 + 3 + 3
 *   plug_ctor       plugin.c       6      3  constructor, 2 per dlopen
 *   plug_a          plugin.c      18      9  2 pages x 3 per round
 *   plug_b          plugin.c      15      3  3 + plug_a's 2, once per round
 *   plug_idle       plugin.c       -      -  touches nothing
 *   run_plugin      prog.c        30      3  1 + 2 + 2 + 5 per round
 *   setup, main     prog.c   not exact   1
 *   warm_image, plugin_rounds, plugin_sym (static)   not checked
 *
 * Usage: sel_prog [MODE] [main=FILE] [lib=FILE] [IGNORED...]
 *   MODE "noplugin": no dlopen (run_plugin, plug_*: no row); "exit7":
 *   exit status 7 instead of 0; anything else: the default
 *   main=FILE: main() creates FILE first; lib=FILE: so does lib_ctor.
 * Prints "sel_prog: N pages, the plugin at A addresses" (68 and 2, or 38
 * and 0 without the plugin) and exits 0 (or 7) when these are the
 * numbers, 1 otherwise.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sel.h"

#define REGION_PAGES	1024L
#define STACK_WARM	(256 * 1024)
#define PLUGIN		"sel_plugin.so"	/* next to us: rpath $ORIGIN */
#define ROUNDS		3

struct pages sel_pg;		/* written by setup() */
volatile long sink;

static MEASURED void
twin(void)
{
	touch(&sel_pg, 1);
}

MEASURED void
grow_small(void)
{
	touch(&sel_pg, 1);
}

MEASURED void
grow_big(void)
{
	touch(&sel_pg, 4);
}

MEASURED long
keep_flat(long x)
{
	return x * 5 + 2;
}

MEASURED void
run_grow(void)
{
	touch(&sel_pg, 1);
	for (int i = 0; i < 5; i++)
		grow_small();
	for (int i = 0; i < 2; i++)
		grow_big();
	sink = keep_flat(sink);
}

MEASURED void
run_part(void)
{
	touch(&sel_pg, 2);
	for (int i = 0; i < 3; i++)
		part_alloc();
	part_nested();
	sink = part_idle(sink);
}

MEASURED void
run_twins(void)
{
	twin();
	part_twin();
	NO_TAIL_CALL();
}

MEASURED void
run_lib(void)
{
	touch(&sel_pg, 1);
	lib_fill(&sel_pg, 3);
	lib_fill(&sel_pg, 3);
	lib_outer(&sel_pg);
	sink = lib_quiet(&sel_pg, sink);
}

MEASURED void
run_plugin(plug_fn *a, plug_fn *b, plug_fn *idle)
{
	touch(&sel_pg, 1);
	a(&sel_pg);
	a(&sel_pg);
	b(&sel_pg);
	idle(&sel_pg);
	NO_TAIL_CALL();
}

/* dl_iterate_phdr callback: reads every page of the executable (the first
 * object): a function that is not traced still runs from its text, and
 * its data pages must be in before anything is measured. */
static int
warm_image(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size, (void)arg;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t a = (info->dlpi_addr + ph->p_vaddr) & ~(uintptr_t)(PAGE - 1);
		uintptr_t end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		for (; a < end; a += PAGE)
			sink += *(volatile const char *)a;
	}
	return 1;
}

/* The region, the stack that the measured calls will use, our pages. */
MEASURED void
setup(void)
{
	volatile char stack[STACK_WARM];
	void *p = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("sel_prog: mmap");
		exit(99);
	}
	if (madvise(p, REGION_PAGES * PAGE, MADV_NOHUGEPAGE) != 0) {
		perror("sel_prog: madvise");
		exit(99);
	}
	sel_pg.base = p;
	sel_pg.next = 0;
	sink = 0;
	for (long i = 0; i < STACK_WARM; i += PAGE)
		stack[i] = 0;
	stack[STACK_WARM - 1] = 0;
	dl_iterate_phdr(warm_image, NULL);
	sink = stack[0];
}

static plug_fn *
plugin_sym(void *h, const char *name)
{
	plug_fn *f = (plug_fn *)dlsym(h, name);

	if (!f) {
		fprintf(stderr, "sel_prog: %s: %s\n", name, dlerror());
		exit(98);
	}
	return f;
}

/* Three rounds of dlopen, calls, dlclose.  After the first, a page is
 * mapped where the plugin began, so that the second dlopen maps it at
 * another address; it is unmapped before the third.  Returns how many
 * different addresses the plugin had (2). */
static int
plugin_rounds(void)
{
	uintptr_t base[ROUNDS];
	void *reserve = MAP_FAILED;
	int addresses = 1;

	for (int round = 0; round < ROUNDS; round++) {
		if (round == 1)
			reserve = mmap((void *)base[0], PAGE, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
				       -1, 0);
		if (round == 2 && reserve != MAP_FAILED)
			munmap(reserve, PAGE);
		void *h = dlopen(PLUGIN, RTLD_NOW | RTLD_LOCAL);
		struct link_map *lm;
		if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0) {
			fprintf(stderr, "sel_prog: %s\n", dlerror());
			exit(98);
		}
		base[round] = lm->l_addr;
		for (int i = 0; i < round; i++)
			if (base[i] == base[round])
				goto seen;
		if (round > 0)
			addresses++;
seen:
		run_plugin(plugin_sym(h, "plug_a"), plugin_sym(h, "plug_b"),
			   plugin_sym(h, "plug_idle"));
		if (dlclose(h) != 0) {
			fprintf(stderr, "sel_prog: dlclose: %s\n", dlerror());
			exit(98);
		}
	}
	return addresses;
}

int
main(int argc, char **argv)
{
	int plugin = !(argc > 1 && strcmp(argv[1], "noplugin") == 0);
	long want = plugin ? 68 : 38;
	int addresses = 0;
	int status = argc > 1 && strcmp(argv[1], "exit7") == 0 ? 7 : 0;

	mark_if_asked(argc, argv, "main=");
	setup();
	run_grow();
	run_part();
	run_twins();
	run_lib();
	if (plugin)
		addresses = plugin_rounds();
	printf("sel_prog: %ld pages, the plugin at %d addresses\n",
	       sel_pg.next, addresses);
	return sel_pg.next == want && addresses == (plugin ? 2 : 0) ? status : 1;
}
