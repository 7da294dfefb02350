/*
 * shared.c: libselshared.so, linked with sel_prog at start-up (see prog.c
 * for the table).  Its constructor runs before main, through the dynamic
 * linker: traced only if its breakpoints are in before any of its code
 * runs.  It uses raw system calls, so it faults in no page of libc.
 */
#include "sel.h"

MEASURED void
lib_fill(struct pages *p, long n)
{
	touch(p, n);
}

MEASURED void
lib_outer(struct pages *p)
{
	touch(p, 1);
	lib_fill(p, 2);
	NO_TAIL_CALL();
}

MEASURED long
lib_quiet(struct pages *p, long x)
{
	return x + (p->next & 1);
}

/* glibc passes argc, argv and envp to constructors. */
__attribute__((constructor)) MEASURED void
lib_ctor(int argc, char **argv)
{
	mark_if_asked(argc, argv, "lib=");
	ctor_touch(4, 2);
}
