/*
 * stubframe: a signal frame that returns into a probe's stub, across a
 * detach and another attach (test/e2e/test_attach_reuse.sh).
 *
 * faulty() begins with three short instructions, the third a load from
 * its argument: a probe's jmp (5 bytes) displaces all three into its
 * stub, and a fault of the load there is not one iprofmem can show at
 * the program's own address (the two before it have run), so the
 * handler's frame returns into the stub.  The handler waits for the test
 * (which detaches, attaches again with another selection and detaches
 * again), then makes the page readable and returns: the load runs again
 * in the stub, faulty returns what the page holds (0).  The stub must
 * still be there as it was: the second attach may not use that area for
 * stubs of its own.
 *
 * Usage: stubframe READY PROGRESS GO
 * READY gets "PID PPID" once the program waits for the attach; it calls
 * faulty() once faulty's first bytes are not the file's (patched), or at
 * once when GO.1 exists (an untraced run).  The handler writes "in handler"
 * to PROGRESS, waits until GO.2 exists, then returns.  At the end the
 * program prints "stubframe: faulty returned 0 after 1 fault" and
 * writes "done" to PROGRESS.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE	4096L

static char *hole;
static int progress_fd = -1;
static const char *go;
static volatile sig_atomic_t faults;

__attribute__((naked, noinline, used)) long
faulty(long *p)
{
	(void)p;
	__asm__ volatile("push %rbp\n\t"
			 "mov %rsp, %rbp\n\t"
			 "mov (%rdi), %rax\n\t"
			 "pop %rbp\n\t"
			 "ret\n\t");
}

__attribute__((noipa, used)) void
marker(void)
{
}

static void
die(const char *what)
{
	perror(what);
	exit(99);
}

static void
progress(const char *line)
{
	size_t n = strlen(line);

	if (write(progress_fd, line, n) != (ssize_t)n)
		die("stubframe: progress");
}

static void
nap(void)
{
	const struct timespec ms = { 0, 1000000 };

	nanosleep(&ms, NULL);
}

static int
go_exists(int k)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.%d", go, k);
	return access(path, F_OK) == 0;
}

static void
on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if ((char *)si->si_addr != hole || faults++)
		_exit(98);
	progress("in handler\n");
	for (int i = 0; i < 120000 && !go_exists(2); i++)
		nap();
	if (mprotect(hole, PAGE, PROT_READ) != 0)
		_exit(97);
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned char orig[8];
	char tmp[4096];
	FILE *f;
	long v;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: stubframe READY PROGRESS GO\n");
		return 2;
	}
	go = argv[3];
	progress_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			   0644);
	hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (progress_fd < 0 || hole == MAP_FAILED)
		die("stubframe: set-up");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		die("sigaction");
	memcpy(orig, (void *)faulty, sizeof(orig));
	marker();

	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %d\n", (int)getpid(), (int)getppid()) < 0 ||
	    fclose(f) != 0 || rename(tmp, argv[1]) != 0)
		die(argv[1]);
	for (i = 0; i < 60000 && !go_exists(1) &&
		    !memcmp(orig, (void *)faulty, sizeof(orig)); i++)
		nap();
	v = faulty((long *)hole);
	marker();
	printf("stubframe: faulty returned %ld after %d fault%s\n", v,
	       (int)faults, faults == 1 ? "" : "s");
	progress("done\n");
	return 0;
}
