/* spawnlive: the parent goes on calling while a child it made with a
 * shared-memory clone (posix_spawn's clone(CLONE_VM|CLONE_VFORK), or
 * vfork) still lives, as popen, system and ninja do (found on gawk and
 * ninja).  Until the child execs, it runs the parent's code in the
 * parent's memory; after, the parent's calls are the parent's, and with
 * -f never the child's.
 *
 *   spawnlive spawn|vfork [MARK]
 *      the parent: work() three times, then the child (this program
 *      again, as "child", its standard input the read end of a pipe),
 *      then work() five times while the child waits on the pipe, then it
 *      closes the pipe and waits for the child
 *   spawnlive child [MARK]
 *      child_work() once, then reads its standard input to its end
 *
 * Rows (pages, calls): work 8 8 (the parent's alone), child_work 2 1 (the
 * child's, with -f); start_child, setup and main whatever they are.
 * Prints "child exited 0" and exits 0 when all went well. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *region;

/* one new page per call */
__attribute__((noinline)) void
work(int i)
{
	region[(size_t)i * 4096] = 1;
}

/* two new pages, in the child */
__attribute__((noinline)) void
child_work(void)
{
	char *p = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(3);
	p[0] = 1;
	p[4096] = 1;
}

__attribute__((noinline)) void
setup(void)
{
	region = mmap(NULL, 64 * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
}

/* the child, its standard input fd (closed in the parent after) */
__attribute__((noinline)) pid_t
start_child(int how_vfork, int in, char **argv)
{
	char *cargv[] = { argv[0], "child", argv[2], NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;

	if (!how_vfork) {
		if (posix_spawn_file_actions_init(&fa) != 0 ||
		    posix_spawn_file_actions_adddup2(&fa, in, 0) != 0 ||
		    posix_spawn(&pid, "/proc/self/exe", &fa, NULL, cargv,
				environ) != 0)
			return -1;
		posix_spawn_file_actions_destroy(&fa);
		return pid;
	}
	pid = vfork();
	if (pid == 0) {
		dup2(in, 0);
		execve("/proc/self/exe", cargv, environ);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	int fds[2], st, i;
	pid_t pid;
	char buf[64];

	if (argc < 3) {
		fprintf(stderr, "usage: spawnlive spawn|vfork|child MARK\n");
		return 2;
	}
	if (!strcmp(argv[1], "child")) {
		child_work();
		while (read(0, buf, sizeof(buf)) > 0)
			;
		return 0;
	}
	setup();
	for (i = 0; i < 3; i++)
		work(i);
	if (pipe2(fds, O_CLOEXEC) != 0)	/* the child keeps only its stdin */
		return 2;
	pid = start_child(!strcmp(argv[1], "vfork"), fds[0], argv);
	if (pid < 0)
		return 2;
	close(fds[0]);
	for (; i < 8; i++)
		work(i);
	close(fds[1]);
	if (waitpid(pid, &st, 0) != pid)
		return 2;
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
