/*
 * part.c: the second source file of sel_prog (see prog.c for the table):
 * what a FILE.c:GLOB entry such as part.c:* selects.  Its static twin()
 * has the name of prog.c's.
 */
#include "sel.h"

static MEASURED void
twin(void)
{
	touch(&sel_pg, 2);
}

MEASURED void
part_alloc(void)
{
	touch(&sel_pg, 2);
}

MEASURED void
part_nested(void)
{
	touch(&sel_pg, 1);
	part_alloc();
	NO_TAIL_CALL();
}

MEASURED long
part_idle(long x)
{
	return x ^ 0x55;
}

MEASURED void
part_twin(void)
{
	twin();
	NO_TAIL_CALL();
}
