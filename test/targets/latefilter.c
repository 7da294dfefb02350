/* latefilter: a program that installs a seccomp filter of its own while
 * it is traced, after iprofmem set its probes up (a sandbox's worker
 * does: sshd's privilege-separated child, a browser's renderer).  The
 * filter refuses pread64, which the probes read statm with: MODE errno
 * makes it fail with EPERM, MODE trap sends SIGSYS (SECCOMP_RET_TRAP;
 * the program has no handler, so a SIGSYS it received would kill it).
 * iprofmem must turn the trap into a failed call (the program never
 * made it), and the probes must then stop for their RSS: the rows are
 * the int3 engine's.  MODE kill (SECCOMP_RET_KILL_PROCESS) cannot be seen
 * coming: the probes' next statm read kills the program, and iprofmem
 * says to use --engine=int3, under which it runs as untraced.
 *
 * main: setup maps 64 pages; touch(0, 4); the filter; touch(4, 8);
 * touch(12, 16).  Prints "latefilter: done", exits 0.
 *
 * Rows: touch 28 pages, 3 calls; setup, install (its frame may take a
 * stack page), main: not exact.
 * Usage: latefilter errno|trap|kill [MARK] */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile char *pages;

__attribute__((noinline)) void
setup(void)
{
	pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED) {
		perror("latefilter: mmap");
		exit(1);
	}
}

__attribute__((noinline)) void
touch(int from, int n)
{
	for (int i = from; i < from + n; i++)
		pages[(size_t)i * 4096] = 1;
}

static int
install(unsigned action)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pread64, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("latefilter: seccomp");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned action;

	if (argc < 2 || (strcmp(argv[1], "errno") && strcmp(argv[1], "trap") &&
			 strcmp(argv[1], "kill"))) {
		fprintf(stderr, "usage: latefilter errno|trap|kill [MARK]\n");
		return 2;
	}
	action = !strcmp(argv[1], "trap") ? SECCOMP_RET_TRAP :
		 !strcmp(argv[1], "kill") ? SECCOMP_RET_KILL_PROCESS :
		 SECCOMP_RET_ERRNO | 1;
	setup();
	touch(0, 4);
	if (install(action) != 0)
		return 1;
	touch(4, 8);
	touch(12, 16);
	printf("latefilter: done\n");
	return 0;
}
