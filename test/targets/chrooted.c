/* chrooted: a daemon's start-up (sshd's privilege separation, vsftpd,
 * dnsmasq): it chroots into an empty directory and closes every
 * descriptor, the probe's statm among them, which it then cannot open
 * again: /proc is out of its reach.  Its RSS must still be measured, as
 * the int3 engine measures it from outside (found by trying that
 * pattern: the probes recorded no RSS and the rows vanished).
 *
 * Not root, it first makes a user namespace of its own, where chroot is
 * allowed (unshare(CLONE_NEWUSER)); where neither can be, it prints
 * "chrooted: cannot chroot here: ..." and exits 77.
 *
 * main: setup maps 64 pages; touch(0, 4); chroot DIR and close 3..1023;
 * touch(4, 8); a forked child runs touch(12, 16) and exits; main waits;
 * a vfork child runs touch(28, 4) in main's memory (its probes are main's)
 * and exits; then touch(32, 4).  Prints "chrooted: done" and exits 0.
 *
 * Rows: touch 20 pages 4 calls (each call's pages are new; the vfork
 * child's call is main's memory, traced as the int3 engine traces it);
 * with -f the forked child's call adds 16 pages and whatever code pages
 * it faults in again (fork does not copy a file mapping's page table).
 * setup, main: not exact.  Usage: chrooted DIR [MARK]
 *
 * chrooted DIR serve [MARK]: a daemon to attach to.  After the chroot and
 * the closing, it writes "serving" to stdout (flushed) and touches one
 * new page of a 4096-page mapping every millisecond (serve_one), until
 * SIGTERM; then prints "chrooted: served" and exits 0.  Rows of an
 * attach: serve_one exactly one page per call. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile char *pages;

__attribute__((noinline)) void
setup(void)
{
	pages = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED) {
		perror("chrooted: mmap");
		exit(1);
	}
}

__attribute__((noinline)) void
touch(int from, int n)
{
	for (int i = from; i < from + n; i++)
		pages[(size_t)i * 4096] = 1;
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* long enough for a probe's jmp at its entry and at its ret */
__attribute__((noinline)) void
serve_one(volatile char *at, long i)
{
	at[0] = (char)i;
	at[1] = (char)(i >> 8);
	at[2] = (char)(i >> 16);
}

static int
serve(void)
{
	volatile char *big = mmap(NULL, 4096L * 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	const struct timespec ms = { 0, 1000000 };

	if (big == MAP_FAILED) {
		perror("chrooted: mmap");
		return 1;
	}
	printf("serving\n");
	fflush(stdout);
	for (long i = 0; !stop && i < 4096; i++) {
		serve_one(big + i * 4096, i);
		nanosleep(&ms, NULL);
	}
	while (!stop)
		pause();
	printf("chrooted: served\n");
	return 0;
}

int
main(int argc, char **argv)
{
	bool serving = argc > 2 && !strcmp(argv[2], "serve");
	pid_t child;
	int st;

	if (argc < 2) {
		fprintf(stderr, "usage: chrooted DIR [serve] [MARK]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	setup();
	touch(0, 4);
	if (geteuid() != 0 && unshare(CLONE_NEWUSER) != 0) {
		printf("chrooted: cannot chroot here: unshare: %s\n", strerror(errno));
		return 77;
	}
	if (chroot(argv[1]) != 0 || chdir("/") != 0) {
		printf("chrooted: cannot chroot here: %s\n", strerror(errno));
		return 77;
	}
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	if (serving)
		return serve();
	touch(4, 8);
	fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("chrooted: fork");
		return 1;
	}
	if (child == 0) {
		touch(12, 16);
		_exit(0);
	}
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "chrooted: the child failed\n");
		return 1;
	}
	child = vfork();
	if (child < 0) {
		perror("chrooted: vfork");
		return 1;
	}
	if (child == 0) {
		touch(28, 4);
		_exit(0);
	}
	if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "chrooted: the vfork child failed\n");
		return 1;
	}
	touch(32, 4);
	printf("chrooted: done\n");
	return 0;
}
