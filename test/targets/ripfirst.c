/* ripfirst: functions whose first instruction reads memory relative to rip
 * with an operand-size prefix (found on xz: lzma_sha256_init begins with
 * movdqa K(%rip),%xmm0).  Capstone 4 gives such a displacement 2 bytes,
 * where it has 4, and the functions were left out as "first instruction
 * cannot be replayed".  Both engines must trace them, and run the
 * displaced instruction (out of line, its disp32 rewritten) to the same
 * effect.
 *
 *   copy16(p)    movdqa pattern(%rip),%xmm0, then stores it at p
 *   is_mark(p)   cmpw $0x1234,marker(%rip), stores at p, returns ZF
 *
 * main gives each call a fresh page: rows (pages, calls) copy16 N N,
 * is_mark N N.  Prints "ripfirst: N calls, K wrong" and exits 0 when K is
 * 0.  Usage: ripfirst [N] [MARK] (N: default 8). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NAKED	__attribute__((naked, noinline, used))

__attribute__((used, aligned(16))) const uint8_t pattern[16] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};
__attribute__((used)) const uint16_t marker = 0x1234;

void copy16(void *p);
int is_mark(void *p);

NAKED void
copy16(void *p)
{
	(void)p;
	__asm__("movdqa pattern(%rip), %xmm0\n\t"
		"movdqu %xmm0, (%rdi)\n\t"
		"ret");
}

NAKED int
is_mark(void *p)
{
	(void)p;
	__asm__("cmpw $0x1234, marker(%rip)\n\t"
		"movw $1, (%rdi)\n\t"		/* leaves the flags */
		"sete %al\n\t"
		"movzbl %al, %eax\n\t"
		"ret");
}

int
main(int argc, char **argv)
{
	int n = argc > 1 && argv[1][0] >= '0' && argv[1][0] <= '9' ?
		atoi(argv[1]) : 8, wrong = 0;
	char *pages;

	if (n < 1 || n > 1000)
		return 2;
	pages = mmap(NULL, (size_t)n * 2 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		return 2;
	/* their page resident before the first call: only p's count */
	wrong += *(const volatile uint8_t *)pattern != 1 ||
		 *(const volatile uint16_t *)&marker != 0x1234;
	for (int i = 0; i < n; i++) {
		char *a = pages + (size_t)i * 2 * 4096, *b = a + 4096;

		copy16(a);
		wrong += memcmp(a, pattern, 16) != 0;
		wrong += is_mark(b) != 1 || *(uint16_t *)b != 1;
	}
	printf("ripfirst: %d calls, %d wrong\n", 2 * n, wrong);
	return wrong != 0;
}
