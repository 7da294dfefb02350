/* stackedge: traced functions whose stack pointer stands just above the
 * bottom of a stack page, the page below never used: a probe that wrote
 * below the stack pointer (a stub's saves, an indirect jmp's check) would
 * make that page resident, which the program never touches.  Each runs on
 * a "stack" of its own, four fresh pages, called with the stack pointer 64
 * bytes above the start of the third page: the call's return address
 * makes the third page resident, nothing else may.
 *
 *   leaf()       does nothing (a return site 56 bytes above the page)
 *   hop(k)       an indirect jmp inside itself (a computed goto), sets
 *                g.sink
 *   on_stack(sp, fn, arg)  calls fn(arg) with the stack pointer at sp
 *
 * The program counts the pages of each stack that are resident (mincore)
 * and prints them: "stackedge: leaf 1 page, hop 1 page" untraced, and so
 * traced by every engine.  Rows: on_stack 2 pages, 2 calls; leaf, hop none
 * (their frames, -O0's too, stay in the third page); main not exact.
 * Usage: stackedge [MARK] */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE	4096
#define PAGES	4

/* hop's jump table (labels' addresses: filled by its first call) and what
 * it sets, on one page that main touches first: hop reads no page that
 * is not resident. */
static struct {
	volatile int sink;
	void *volatile tab[2];
} g __attribute__((aligned(32)));

__attribute__((noinline)) void
leaf(int k)
{
	(void)k;
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void
hop(int k)
{
	if (!g.tab[0]) {
		g.tab[0] = &&one;
		g.tab[1] = &&two;
	}
	goto *g.tab[k & 1];
one:
	g.sink = 1;
	return;
two:
	g.sink = 2;
}

/* fn(arg) with the stack pointer at sp (16-aligned: the call's return
 * address goes at sp - 8). */
__attribute__((noinline)) void
on_stack(uintptr_t sp, void (*fn)(int), int arg)
{
	__asm__ volatile("mov %%rsp, %%rbx\n\t"
			 "mov %0, %%rsp\n\t"
			 "call *%1\n\t"
			 "mov %%rbx, %%rsp"
			 :
			 : "r"(sp), "r"(fn), "D"(arg)
			 : "rbx", "rax", "rcx", "rdx", "rsi", "r8", "r9", "r10",
			   "r11", "memory", "cc");
}

static int
resident(const char *p)
{
	unsigned char v[PAGES];
	int n = 0;

	if (mincore((void *)p, PAGES * PAGE, v) != 0) {
		perror("stackedge: mincore");
		return -1;
	}
	for (int i = 0; i < PAGES; i++)
		n += v[i] & 1;
	return n;
}

int
main(void)
{
	char *a = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED || b == MAP_FAILED) {
		perror("stackedge: mmap");
		return 1;
	}
	g.sink = 0;
	on_stack((uintptr_t)a + 2 * PAGE + 64, leaf, 0);
	on_stack((uintptr_t)b + 2 * PAGE + 64, hop, 1);
	printf("stackedge: leaf %d page, hop %d page\n", resident(a),
	       resident(b));
	return g.sink == 2 ? 0 : 1;
}
