/*
 * sandbox: a program under a seccomp filter of its own, as a sandbox
 * starts one: it installs the filter, then execs itself; the filter is
 * inherited across the exec.  iprofmem finds it at the exec ("Seccomp:" in
 * /proc/PID/status) and traces that image with int3s only: a probe's own
 * system calls could be what the filter forbids.  The filter makes
 * personality(2) fail with EPERM and allows everything else.
 *
 * Usage: sandbox [MODE]
 *   sandbox         install the filter, exec "sandbox inner"
 *   sandbox inner   check the filter is there (prints "filter: on"), then
 *                   the measured calls
 *   sandbox plain   the measured calls, no filter (prints "filter: off")
 *
 * Expected rows (pages of 4096 bytes):
 *   grow_three     3 pages, 1 call
 *   grow_one       2 pages, 2 calls
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE		4096L
#define REGION_PAGES	64L
#define STACK_WARM	(256 * 1024)

#define MEASURED	__attribute__((noipa, used))
#define NO_TAIL_CALL()	__asm__ volatile("" ::: "memory")

static volatile char *region;
static long next_page;

static void
touch(long n)
{
	for (long i = 0; i < n; i++)
		region[(next_page++) * PAGE] = 1;
}

MEASURED void
grow_three(void)
{
	touch(3);
	NO_TAIL_CALL();
}

MEASURED void
grow_one(void)
{
	touch(1);
	NO_TAIL_CALL();
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* Stack, code and the region's page tables resident before measuring. */
static void
setup(void)
{
	volatile char warm[STACK_WARM];

	memset((char *)warm, 0, sizeof(warm));
	region = mmap(NULL, REGION_PAGES * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		die("mmap");
	if (madvise((void *)region, REGION_PAGES * PAGE, MADV_NOHUGEPAGE) != 0)
		die("madvise");
	region[(REGION_PAGES - 1) * PAGE] = 1;	/* the page tables */
	printf("filter: %s\n",
	       personality(0xffffffff) == -1 && errno == EPERM ? "on" : "off");
	fflush(stdout);
}

static void
install_filter(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(code) / sizeof(*code), code };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die("PR_SET_NO_NEW_PRIVS");
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
		die("seccomp");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		install_filter();
		execl("/proc/self/exe", argv[0], "inner", (char *)NULL);
		die("exec");
	}
	if (strcmp(argv[1], "inner") != 0 && strcmp(argv[1], "plain") != 0) {
		fprintf(stderr, "usage: sandbox [inner|plain]\n");
		return 2;
	}
	setup();
	grow_three();
	grow_one();
	grow_one();
	return 0;
}
