/* syscall: a system call without libc, for the code that runs inside the
 * traced program (probe.c, ring.c's producer) and the ring's consumer. */
#ifndef IPROFMEM_PROBE_SYSCALL_H
#define IPROFMEM_PROBE_SYSCALL_H

static inline long raw_syscall4(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}

#endif
