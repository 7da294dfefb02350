/*
 * flags: functions that pass values in the flags, across their entry and
 * their return, as hand-written assembly may.  A probe at either must
 * leave every flag as it found it: the arithmetic ones (CF, PF, AF, ZF,
 * SF, OF) and the direction flag, which the ABI wants clear at a call but
 * a program can leave set.  Each function is naked assembly, long enough
 * at its entry and before its ret for the probe engine to patch both.
 *
 *   flags_in       returns the flags it was entered with (pushfq at entry)
 *   flags_out(v)   returns with the flags set by v: CF, ZF, SF, OF, PF and
 *                  AF each from one bit of v, DF from another
 *   check_in(v)    sets the flags from v, calls flags_in, returns them
 *   check_out(v)   calls flags_out(v), returns the flags it came back with
 *
 * Usage: flags [N] (default 1000): N rounds over every combination.
 * Prints "flags: N rounds, M checks, K wrong" and exits 0 when K is 0,
 * 1 otherwise.  No page is touched in the traced calls: no row is exact
 * but the table's end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* CF PF AF ZF SF DF OF */
#define FLAG_MASK	0xcd5UL

#define NAKED		__attribute__((naked, noinline, used))
#define UNUSED		__attribute__((unused))

uint64_t flags_in(void);
uint64_t flags_out(uint64_t v);
uint64_t check_in(uint64_t v);
uint64_t check_out(uint64_t v);

/* The flags at entry, before anything can change them, then a body long
 * enough for a probe before the ret. */
NAKED uint64_t flags_in(void)
{
	__asm__("pushfq\n\t"
		"pop %rax\n\t"
		"mov $0x1234, %ecx\n\t"
		"mov $0x5678, %edx\n\t"
		"ret");
}

/* The flags from v (popfq), then only instructions that leave them. */
NAKED uint64_t flags_out(UNUSED uint64_t v)
{
	__asm__("mov %rdi, %rax\n\t"
		"mov $0x1234, %ecx\n\t"
		"push %rdi\n\t"
		"popfq\n\t"
		"mov $0x5678, %edx\n\t"
		"lea 1(%rcx), %rcx\n\t"
		"ret");
}

/* Flags from v, then the call: flags_in sees them at its entry.  DF is
 * cleared again after the call, as the ABI wants it. */
NAKED uint64_t check_in(UNUSED uint64_t v)
{
	__asm__("push %rbx\n\t"
		"mov $0x1234, %ebx\n\t"
		"push %rdi\n\t"
		"popfq\n\t"
		"call flags_in\n\t"
		"cld\n\t"
		"mov $0x5678, %ecx\n\t"
		"pop %rbx\n\t"
		"ret");
}

/* The flags flags_out(v) returned with, read at once after the call. */
NAKED uint64_t check_out(UNUSED uint64_t v)
{
	__asm__("push %rbx\n\t"
		"mov $0x1234, %ebx\n\t"
		"call flags_out\n\t"
		"pushfq\n\t"
		"pop %rax\n\t"
		"cld\n\t"
		"pop %rbx\n\t"
		"ret");
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	static const uint64_t bits[] = { 0x1, 0x4, 0x10, 0x40, 0x80, 0x400, 0x800 };
	const unsigned nbits = sizeof(bits) / sizeof(bits[0]);
	long checks = 0, wrong = 0;

	if (rounds < 1 || rounds > 1000000) {
		fprintf(stderr, "usage: flags [ROUNDS 1..1000000]\n");
		return 2;
	}
	for (long r = 0; r < rounds; r++)
		for (unsigned m = 0; m < 1u << nbits; m++) {
			uint64_t v = 0x202;	/* IF, and bit 1, always set */

			for (unsigned b = 0; b < nbits; b++)
				if (m & 1u << b)
					v |= bits[b];
			if ((check_in(v) & FLAG_MASK) != (v & FLAG_MASK))
				wrong++;
			if ((check_out(v) & FLAG_MASK) != (v & FLAG_MASK))
				wrong++;
			checks += 2;
		}
	printf("flags: %ld rounds, %ld checks, %ld wrong\n", rounds, checks, wrong);
	return wrong ? 1 : 0;
}
