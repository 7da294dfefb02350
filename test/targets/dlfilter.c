/* dlfilter: a seccomp filter installed through the C library's prctl, by
 * a call that goes through a lazy-binding entry of an offset table (the
 * other targets are linked -z now): the program's own, or a library's
 * loaded by dlopen after the start.  The filter kills the process on
 * pread64, which the probes read statm with (latefilter.c has the other
 * ways in).
 *
 * Built by test/e2e/test_dlfilter.sh without -z now, as the program and,
 * with -DDLFILTER_LIB -shared, as the library (the targets' build makes
 * the program only, -z now).
 *
 * main: maps 64 pages; touch(0, 2); MODE main: its own prctl; MODE lib:
 * dlopen(LIB), touch(2, 2), the library's install(); then touch(4, 8).
 * Prints "dlfilter: done", exits 0.
 *
 * Rows: touch 12 pages, 3 calls (main: 10 pages, 2 calls); main: not
 * exact.
 * Usage: dlfilter main|lib LIB [MARK] */
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

int
dlfilter_install(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pread64, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

#ifndef DLFILTER_LIB
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static volatile char *pages;

__attribute__((noinline)) void
touch(int from, int n)
{
	for (int i = from; i < from + n; i++)
		pages[(size_t)i * 4096] = 1;
}

int
main(int argc, char **argv)
{
	int (*install)(void) = dlfilter_install;

	if (argc < 3 || (strcmp(argv[1], "main") && strcmp(argv[1], "lib"))) {
		fprintf(stderr, "usage: dlfilter main|lib LIB [MARK]\n");
		return 2;
	}
	pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED) {
		perror("dlfilter: mmap");
		return 1;
	}
	touch(0, 2);
	if (!strcmp(argv[1], "lib")) {
		void *h = dlopen(argv[2], RTLD_NOW);

		if (!h || !(install = (int (*)(void))dlsym(h, "dlfilter_install"))) {
			fprintf(stderr, "dlfilter: %s\n", dlerror());
			return 1;
		}
		touch(2, 2);
	}
	if (install() != 0) {
		perror("dlfilter: seccomp");
		return 1;
	}
	touch(4, 8);
	printf("dlfilter: done\n");
	return 0;
}
#endif
