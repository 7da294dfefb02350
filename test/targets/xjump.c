/*
 * xjump: a function that another one jumps into, past its first
 * instruction, as glibc's __mempcpy_avx_unaligned_erms ends in a jmp to
 * __memcpy_avx_unaligned_erms+3.  The default engine's window at xj_sum's
 * entry would take both of its first instructions: the jmp would then
 * land in the middle of the patch (before the fix, sort with
 * -e 'libc.so.6:*' died of SIGTRAP, or of SIGILL with memcpy alone
 * selected).  Such a window is left out, its site an int3, whether or not
 * the function that jumps is traced (test/e2e/test_xjump.sh).
 *
 *   xj_sum(a, b)     mov %rdi,%rax; xj_sum_add: add %rsi,%rax; ret
 *   xj_twice(a, b)   lea (%rdi,%rdi),%rax; jmp xj_sum_add    (2a + b)
 *   xj_sum2(a, b)    as xj_sum, with xj_sum2_add
 *   xj_hidden(a, b)  lea (%rdi,%rdi,2),%rax; mov %rax,%rdi;
 *                    jmp xj_sum2_add  (3a + b), after bytes that are no
 *                    instruction and hide the jmp from a linear sweep
 *   grow(p, n)       touches n pages from p, then n = xj_twice(n, 0) / 2,
 *                    n = xj_hidden(n, 0) / 3 and xj_sum(n, -n) +
 *                    xj_sum2(0, 0): returns n again
 *
 * main calls grow(fresh, 3) four times: rows (pages, calls) grow 12 4;
 * xj_sum and xj_twice touch nothing (no rows); main whatever it is.
 * Prints "xjump: 3 3 3 3" and exits 0.  Usage: xjump [MARK]
 */
#include <stdio.h>
#include <sys/mman.h>

#define NAKED	__attribute__((naked, noinline, used, aligned(16)))

NAKED long
xj_sum(long a __attribute__((unused)), long b __attribute__((unused)))
{
	__asm__("mov %rdi, %rax\n"
		".globl xj_sum_add\n"
		"xj_sum_add:\n\t"
		"add %rsi, %rax\n\t"
		"ret");
}

NAKED long
xj_twice(long a __attribute__((unused)), long b __attribute__((unused)))
{
	__asm__("lea (%rdi,%rdi), %rax\n\t"
		"jmp xj_sum_add");
}

NAKED long
xj_sum2(long a __attribute__((unused)), long b __attribute__((unused)))
{
	__asm__("mov %rdi, %rax\n"
		".globl xj_sum2_add\n"
		"xj_sum2_add:\n\t"
		"add %rsi, %rax\n\t"
		"ret");
}

/* Three bytes that are no instruction (0x06 is none in 64-bit mode; 48
 * b8 start a movabs with 8 bytes of operand) hide the jmp from a sweep
 * that decodes on from the next byte: it reads the lea, the mov and the
 * jmp's opcode as the movabs's operand. */
NAKED long
xj_hidden(long a __attribute__((unused)), long b __attribute__((unused)))
{
	__asm__("jmp 1f\n\t"
		".byte 0x06, 0x48, 0xb8\n"
		"1:\n\t"
		"lea (%rdi,%rdi,2), %rax\n\t"
		"mov %rax, %rdi\n\t"
		"jmp xj_sum2_add");
}

__attribute__((noipa, used)) long
grow(char *p, long n)
{
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	n = xj_twice(n, 0) / 2;
	n = xj_hidden(n, 0) / 3;
	return xj_sum(n + n, -n) + xj_sum2(0, 0);
}

int
main(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r[4];

	if (p == MAP_FAILED) {
		perror("xjump: mmap");
		return 1;
	}
	madvise(p, 16 * 4096, MADV_NOHUGEPAGE);
	for (int i = 0; i < 4; i++)
		r[i] = grow(p + i * 3 * 4096, 3);
	printf("xjump: %ld %ld %ld %ld\n", r[0], r[1], r[2], r[3]);
	return 0;
}
