/*
 * plugin.c: sel_plugin.so, dlopen'ed by sel_prog three times (see prog.c
 * for the table).  Its constructor runs inside dlopen, after the dynamic
 * linker mapped it: traced only if its breakpoints are in by then.
 */
#include "sel.h"

MEASURED void
plug_a(struct pages *p)
{
	touch(p, 2);
}

MEASURED void
plug_b(struct pages *p)
{
	touch(p, 3);
	plug_a(p);
	NO_TAIL_CALL();
}

MEASURED void
plug_idle(struct pages *p)
{
	p->base[0] = p->base[0];	/* a page written long ago */
}

__attribute__((constructor)) MEASURED void
plug_ctor(void)
{
	ctor_touch(4, 2);
}
