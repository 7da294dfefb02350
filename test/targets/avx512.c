/*
 * avx512: a function whose body holds VEX and EVEX instructions that
 * capstone 4 does not decode (AVX-512's kmovq and kortestq, an EVEX
 * vpbroadcastb), as glibc's __strstr_avx512, __memchr_evex and 38 more do.
 * The return-site sweep went on one byte later inside such an instruction
 * and took bytes of it for a ret: kmovq %k3,%rax is c4 e1 fb 93 c3.  The
 * int3 written there broke the instruction (bzip2 --all-modules died of
 * SIGSEGV in strstr, under either engine).  Their length follows from the
 * encoding (symbols/disasm.c, vex_decode): av_mask has exactly its two
 * returns (test/e2e/test_avx512.sh).
 *
 *   av_mask(x, have)  have: kmovq %rdi,%k3; kortestq %k3,%k3;
 *                     vpbroadcastb -0x3d(%rsp),%zmm3 (disp8 c3);
 *                     vzeroupper; kmovq %k3,%rax; ret
 *                     else: mov %rdi,%rax; ret.  Returns x either way.
 *   grow(p, n)        touches n pages from p, returns av_mask(n, have)
 *
 * main calls grow(fresh, 3) and strstr (glibc's __strstr_avx512 where the
 * CPU has AVX-512BW and BMI2) four times: rows (pages, calls) grow 12 4;
 * av_mask and strstr touch nothing (no row).  The AVX-512 path runs where the CPU
 * and the kernel have AVX-512BW.  Prints "avx512: 3 3 3 3" and exits 0.
 * Usage: avx512 [MARK]
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

__attribute__((naked, noinline, used, aligned(16))) long
av_mask(long x __attribute__((unused)), int have __attribute__((unused)))
{
	__asm__("test %esi, %esi\n\t"
		"jz 1f\n\t"
		".byte 0xc4, 0xe1, 0xfb, 0x92, 0xdf\n\t"	/* kmovq %rdi,%k3 */
		".byte 0xc4, 0xe1, 0xf8, 0x98, 0xdb\n\t"	/* kortestq %k3,%k3 */
		/* vpbroadcastb -0x3d(%rsp),%zmm3 */
		".byte 0x62, 0xf2, 0x7d, 0x48, 0x78, 0x5c, 0x24, 0xc3\n\t"
		".byte 0xc5, 0xf8, 0x77\n\t"			/* vzeroupper */
		".byte 0xc4, 0xe1, 0xfb, 0x93, 0xc3\n\t"	/* kmovq %k3,%rax */
		"ret\n"
		"1:\n\t"
		"mov %rdi, %rax\n\t"
		"ret");
}

static int have;
static const char *volatile hay = "a haystack with a needle in it";
static const char *volatile needle = "needle";

__attribute__((noipa, used)) long
grow(char *p, long n)
{
	for (long i = 0; i < n; i++)
		p[i * 4096] = 1;
	return av_mask(n, have);
}

int
main(void)
{
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long r[4];

	if (p == MAP_FAILED) {
		perror("avx512: mmap");
		return 1;
	}
	madvise(p, 16 * 4096, MADV_NOHUGEPAGE);
	__builtin_cpu_init();
	have = __builtin_cpu_supports("avx512bw");
	for (int i = 0; i < 4; i++) {
		r[i] = grow(p + i * 3 * 4096, 3);
		if (strstr(hay, needle) != hay + 18)
			return 1;
	}
	printf("avx512: %ld %ld %ld %ld\n", r[0], r[1], r[2], r[3]);
	return 0;
}
