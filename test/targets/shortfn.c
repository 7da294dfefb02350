/*
 * shortfn: functions too short for a probe's jmp, with another function
 * right after them: no window can hold their entry or their ret, so both
 * are int3 sites (python3.11d's AnnotateRWLockAcquired, one `ret`, and
 * _PyTime_FromNanoseconds, `mov %rdi,%rax; ret`, cost it 2,300 ptrace
 * stops a run).  The default engine gives each a stub of its own (entry
 * probe, its instructions, the ret's probe) and re-aims the direct calls
 * to it; a call through a pointer still takes the int3s.
 *
 *   sf_ret()         ret                     (1 byte)
 *   sf_touch(p)      movb $1,(%rdi); ret     (4 bytes: touches p's page)
 *   sf_zero()        xor %eax,%eax; ret      (3 bytes)
 *   sf_end()         ret, never called (the compiler's next function may
 *                    follow it, or padding)
 *
 * Written in one block of assembly, so that nothing pads between them;
 * they have no DWARF (keys PROGRAM:0:NAME).  main calls sf_ret directly
 * 1000 times, through a pointer 10 times and from far_call (a page with no
 * site of sf_*: that call is not re-aimed) 5 times, and sf_touch on 12
 * fresh pages, 8 directly and 4 through a pointer: row (pages, calls)
 * sf_touch 12 12; sf_ret and sf_zero touch nothing (no rows); main
 * whatever it is.  Events with -e 'sf_*': 2 x (1015 + 12 + 1) = 2056, 38
 * of them int3 under the default engine (the calls through pointers and
 * far_call's).
 * Prints "shortfn: 1015 12" and exits 0.
 *
 * With "loop READY": writes "PID PPID" to READY, then calls sf_ret and
 * sf_touch (directly and through pointers) every millisecond until it is
 * killed, for -p (the calls re-aimed must be put back at the detach).
 * Usage: shortfn [loop READY] [MARK]
 */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__asm__(".text\n"
	".p2align 4\n"
	".globl sf_ret\n"
	".type sf_ret, @function\n"
	"sf_ret:\n\t"
	"ret\n"
	".size sf_ret, .-sf_ret\n"
	".globl sf_touch\n"
	".type sf_touch, @function\n"
	"sf_touch:\n\t"
	"movb $1, (%rdi)\n\t"
	"ret\n"
	".size sf_touch, .-sf_touch\n"
	".globl sf_zero\n"
	".type sf_zero, @function\n"
	"sf_zero:\n\t"
	"xor %eax, %eax\n\t"
	"ret\n"
	".size sf_zero, .-sf_zero\n"
	".globl sf_end\n"
	".type sf_end, @function\n"
	"sf_end:\n\t"
	"ret\n"
	".size sf_end, .-sf_end\n");

void sf_ret(void);
void sf_touch(char *p);
int sf_zero(void);

/* A page of its own, where no traced site is: its direct call of sf_ret
 * stays as it is (a write there would make the page resident under one
 * engine only), and takes sf_ret's int3s. */
__attribute__((noipa, used, aligned(4096), section(".text.far"))) void
far_call(void)
{
	sf_ret();
}

static int
loop(const char *ready, char *p, void (*volatile ret_ptr)(void),
     void (*volatile touch_ptr)(char *))
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", ready);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, ready) != 0) {
		perror("shortfn: ready file");
		return 1;
	}
	for (unsigned long i = 0;; i++) {
		sf_ret();
		ret_ptr();
		sf_touch(p + i % 16 * 4096);
		touch_ptr(p + (i + 8) % 16 * 4096);
		usleep(1000);
	}
}

int
main(int argc, char **argv)
{
	void (*volatile ret_ptr)(void) = sf_ret;
	void (*volatile touch_ptr)(char *) = sf_touch;
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long rets = 0, pages = 0;

	if (p == MAP_FAILED) {
		perror("shortfn: mmap");
		return 1;
	}
	madvise(p, 16 * 4096, MADV_NOHUGEPAGE);
	if (argc > 2 && !strcmp(argv[1], "loop"))
		return loop(argv[2], p, ret_ptr, touch_ptr);
	for (int i = 0; i < 1000; i++, rets++)
		sf_ret();
	for (int i = 0; i < 10; i++, rets++)
		ret_ptr();
	for (int i = 0; i < 5; i++, rets++)
		far_call();
	for (int i = 0; i < 12; i++, pages++) {
		if (i % 3 == 2)
			touch_ptr(p + i * 4096);
		else
			sf_touch(p + i * 4096);
	}
	printf("shortfn: %ld %ld\n", rets, pages + sf_zero());
	return 0;
}
