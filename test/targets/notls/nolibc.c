/*
 * nolibc: a static program without libc (-nostdlib -static -ffreestanding):
 * its own _start, raw syscalls, no TLS.  Nobody ever sets its fs base: it
 * is 0 for the whole run.  Without user-mode rdfsbase iprofmem's probes
 * take the word at %fs:0 for the thread's key, and this thread would
 * fault on it: iprofmem gives it a dummy thread pointer at set-up.
 * test/e2e/test_notls.sh runs it under both engines.
 *
 * Pages come from one static page-aligned .bss array that nothing touched
 * before (the kernel maps .bss on demand), one byte per page, no THP
 * (madvise first).  _start touches 64 KiB of stack below its frame before
 * main(), so no measured call faults a stack page; main() reads its
 * message (a .rodata page) before run(), so say() faults nothing either.
 *
 * Expected table (pages of 4096 bytes; test/e2e/test_notls.sh mirrors
 * these numbers, keep both in step):
 *
 *   function   pages  calls   why
 *   touch          8      8   1 page x 8 calls
 *   grow           8      2   touch x 4 per call: inclusive
 *   run            8      1   grow x 2
 *   sys3, sys6     -      -   syscalls that grow nothing: no row
 *   say            -      -   write(2) of resident bytes: no row
 *   main   not exact      1   run's 8, .rodata and whatever else
 *
 * Usage: nolibc [IGNORED...]: prints one line, exit status 0 (2 if the
 * madvise failed, 3 if the write did).
 *
 * Built with -DFOREIGN_FS (nolibc_fs.c), _start sets a thread pointer of
 * its own that does not point to itself (a block whose first word is 0,
 * as Go's runtime does), and main() then has mlock(2) make 4 pages of
 * another array resident through sys3(), one of whose sites takes no
 * probe: without rdfsbase the probes take the word at %fs:0 for the
 * thread's key, and iprofmem must give sys3's int3 event the same key
 * (else its entry and return fall on two threads, and its row goes).
 * Its extra row: sys3 4 pages, 1 call; exit status 4 if the mlock failed.
 */

#define PAGE		4096L
#define TOUCH_CALLS	8
#define GROW_TOUCHES	4	/* touch() calls per grow() call */
#define STACK_WARM	16	/* pages of stack _start touches below it */

#define SYS_write	1
#define SYS_madvise	28
#define SYS_exit_group	231
#define SYS_mlock	149
#define SYS_arch_prctl	158
#define ARCH_SET_FS	0x1002
#define MADV_NOHUGEPAGE	15

/* Out of line, not cloned, not analysed across calls, kept even if unused. */
#define MEASURED	__attribute__((noipa, used))
/* Keeps the preceding call from becoming a tail call (a jmp). */
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")
#define STR_(x)		#x
#define STR(x)		STR_(x)

static char pages[TOUCH_CALLS * PAGE] __attribute__((aligned(4096)));

static const char message[] = "nolibc: 8 pages touched, no libc, no TLS\n";

#ifdef FOREIGN_FS
/* The thread pointer: its first word 0, not its address; made resident
 * by _start (the probes read it) */
unsigned long fs_block[64] __attribute__((aligned(64)));
static char locked[4 * PAGE] __attribute__((aligned(4096)));
#define SET_FS	"	orb $0, fs_block(%rip)\n" \
		"	mov $" STR(SYS_arch_prctl) ", %eax\n" \
		"	mov $" STR(ARCH_SET_FS) ", %edi\n" \
		"	lea fs_block(%rip), %rsi\n" \
		"	syscall\n"
#else
#define SET_FS	""
#endif

/* The entry: no frame, stack 16-byte aligned before the call (argc at
 * the stack pointer, which main does not need); the stack pages below
 * touched (`orb $0` leaves their bytes as they are), then main(), then
 * exit_group(main's value). */
__asm__(".text\n"
	".globl _start\n"
	".type _start, @function\n"
	"_start:\n"
	"	xor %ebp, %ebp\n"
	"	and $-16, %rsp\n"
	"	mov $" STR(STACK_WARM) ", %ecx\n"
	"1:	mov %rcx, %rax\n"
	"	shl $12, %rax\n"
	"	neg %rax\n"
	"	orb $0, (%rsp,%rax)\n"
	"	dec %ecx\n"
	"	jnz 1b\n"
	SET_FS
	"	call main\n"
	"	mov %eax, %edi\n"
	"	mov $" STR(SYS_exit_group) ", %eax\n"
	"	syscall\n"
	"	hlt\n"
	".size _start, . - _start\n");

MEASURED long
sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* Every argument register the kernel reads: a probe that did not give
 * r10, r8 or r9 back would show here. */
MEASURED long
sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

MEASURED long
say(const char *s, long n)
{
	return sys3(SYS_write, 1, (long)s, n);
}

/* One byte into page k of the array. */
MEASURED void
touch(long k)
{
	((volatile char *)pages)[k * PAGE] = 1;
}

/* Call g (0, 1) touches pages 4g to 4g + 3. */
MEASURED void
grow(long g)
{
	for (long i = 0; i < GROW_TOUCHES; i++)
		touch(g * GROW_TOUCHES + i);
	NO_TAIL_CALL();
}

MEASURED void
run(void)
{
	grow(0);
	grow(1);
	NO_TAIL_CALL();
}

int
main(void)
{
	long n = 0;

	if (sys6(SYS_madvise, (long)pages, sizeof(pages), MADV_NOHUGEPAGE, 0, 0, 0) != 0)
		return 2;
	/* the message's length: its page is resident before say() */
	while (((volatile const char *)message)[n])
		n++;
	run();
#ifdef FOREIGN_FS
	if (sys3(SYS_mlock, (long)locked, sizeof(locked), 0) != 0)
		return 4;
#endif
	return say(message, n) == n ? 0 : 3;
}
