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
 *   spring(p, n, fn)     touch_pages(p, n), by fn(p, n) when n > 1: its
 *                        ret has room for no window of a jmp rel32 (the
 *                        sqlite3_value_int of sqlite's -O2 shape), and
 *                        the default engine probes it through a
 *                        springboard (a jmp rel8 to dead bytes)
 *
 * main calls hook, forward(fresh, 2) and spring(fresh, 1 or 2) eight
 * times: rows (pages, calls) touch_pages 28 16, forward 16 8, spring 12
 * 8, hook none (it touches nothing); main whatever it is.  Events:
 * 2 × (1 + 8 + 8 + 8 + 16) = 82.
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

/* `call X; L: ret` where a jump reaches L too, one dead byte after the
 * ret and code that a jump reaches after that (code that no stub can run:
 * an indirect call): the ret's window cannot go back over the call, nor
 * forward over the code; 8 dead bytes after the jmp back hold the
 * springboard's jmp rel32. */
__attribute__((naked, noinline, used)) void
spring(char *p, long n, void (*fn)(char *, long))
{
	(void)p, (void)n, (void)fn;
	__asm__("cmp $1,%rsi\n\t"
		"jg 2f\n\t"
		"call touch_pages\n"
		"1:\tret\n\t"
		".byte 0x90\n"
		"2:\tcall *%rdx\n\t"
		"jmp 1b\n\t"
		".byte 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00");
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
	char *region = mmap(NULL, 28 * 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (region == MAP_FAILED)
		return 2;
	for (int i = 0; i < 8; i++) {
		hook();
		forward(region + (size_t)i * 2 * 4096, 2);
		spring(region + (16 + (size_t)i / 2 * 3 + (size_t)(i & 1)) * 4096,
		       1 + (i & 1), touch_pages);
	}
	printf("oneinsn: done\n");
	return 0;
}
