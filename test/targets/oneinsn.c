/* oneinsn: functions of one instruction, an entry that is also their
 * return: a lone ret (a hook, a callback that does nothing: expat's
 * nop handlers) and a lone jmp to another function (a wrapper that
 * tail-calls: gawk's gawk_fwrite), as -O2 makes them.  Each is aligned,
 * so padding follows the ret: the default engine probes both, its stub
 * taking the entry then the return, as one int3 there takes both.
 *
 *   hook()               ret
 *   forward(p, n)        jmp touch_pages
 *   touch_pages(p, n)    touches n pages from p
 *
 * main calls hook and forward(fresh, 2) eight times: rows (pages, calls)
 * touch_pages 16 8, forward 16 8, hook none (it touches nothing); main
 * whatever it is.  Events: 2 × (1 + 8 + 8 + 8) = 50.
 * Usage: oneinsn [MARK] */
#include <stdio.h>
#include <sys/mman.h>

/* -O2 makes each one instruction (and -fcf-protection an endbr64 before
 * it); -O0 makes them functions with a frame, traced as any */
#define FUNC	__attribute__((noipa, used, aligned(16)))

void touch_pages(char *p, long n);

FUNC void
hook(void)
{
}

FUNC void
forward(char *p, long n)
{
	touch_pages(p, n);
}

FUNC void
touch_pages(char *p, long n)
{
	for (long i = 0; i < n; i++)
		((volatile char *)p)[i * 4096] = 1;
}

/* never called: a caller of forward, which gcc -O2 lays out after it, so
 * that padding, not .fini, follows forward's jmp */
FUNC void
spare(void)
{
	forward(NULL, 0);
}

FUNC int
main(void)
{
	char *region = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED)
		return 2;
	for (int i = 0; i < 8; i++) {
		hook();
		forward(region + (size_t)i * 2 * 4096, 2);
	}
	printf("oneinsn: done\n");
	return 0;
}
