/*
 * untraced: a function that iprofmem cannot trace, beside one it can.
 * raw_getpid starts with `syscall`, an instruction the tracer can neither
 * emulate nor run out of line (it must run where it is): it is listed by
 * --list-funcs with the reason, counted in a warning, named when selected
 * (test/e2e/test_untraced.sh).  grow touches 5 new pages, once.
 *
 * Prints "untraced: pid ok" and exits 0.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MEASURED __attribute__((noinline, noipa, used))

/* getpid, with the system call number in %rax already */
__attribute__((naked, noinline, used)) long
raw_getpid(void)
{
	__asm__("syscall\n\tret");
}

MEASURED long
grow(long pages)
{
	char *p = mmap(NULL, (size_t)pages * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	for (long i = 0; i < pages; i++)
		p[i * 4096] = 1;
	return pages;
}

int
main(void)
{
	long pid;

	__asm__ volatile("call raw_getpid" : "=a"(pid) : "a"((long)SYS_getpid)
			 : "rcx", "r11", "memory");
	grow(5);
	printf("untraced: pid %s\n", pid == getpid() ? "ok" : "wrong");
	return 0;
}
