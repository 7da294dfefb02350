/* fdnum: the program's descriptors have the numbers they have untraced
 * (found on redis, whose client list said fd=9 where it says fd=8): the
 * probe's statm descriptor, opened in the program before main and again
 * when the program closes it, is kept out of the low numbers.
 *
 * main opens /dev/null through opener() (which also touches a page, so
 * that a probe reads statm right after), closes every descriptor from 3
 * up to 1023 (the probe's among them, if it is there), opens again, then
 * forks: the child opens once more, and counts what it has of iprofmem's
 * (a statm descriptor, the event ring's mapping: none untraced, none when
 * it is let go without -f).  Prints "fds A B C, left in the child N"
 * (3 3 6 untraced: a pipe takes 4 and 5; N 0) and exits 0 when A B C are
 * so.
 *
 * Rows: opener 2 pages 2 calls (with -f 3 calls, the child's faulting in
 * libc's code again), main and setup whatever they are.  Usage: fdnum [MARK] */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char *pages;

__attribute__((noinline)) int
opener(int i)
{
	pages[i * 4096] = 1;
	return open("/dev/null", O_RDONLY);
}

__attribute__((noinline)) void
setup(void)
{
	pages = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pages == MAP_FAILED)
		exit(2);
	close(open("/dev/null", O_RDONLY));	/* open's code resident */
}

/* In the child: descriptors of a statm file and mappings named
 * iprofmem's, which an untraced child does not have (without -f, the
 * child is let go as one) */
static int
left(void)
{
	char line[512], path[300];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/fd");
	FILE *maps = fopen("/proc/self/maps", "r");
	int n = 0;

	while (dir && (d = readdir(dir))) {
		ssize_t k;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", d->d_name);
		k = readlink(path, line, sizeof(line) - 1);
		if (k > 0 && (line[k] = 0, strstr(line, "/statm")))
			n++;
	}
	while (maps && fgets(line, sizeof(line), maps))
		n += strstr(line, "/memfd:iprofmem-ring") != NULL;
	return n;
}

int
main(void)
{
	int a, b, c, st, r[2];
	pid_t pid;
	int pfd[2];

	setup();
	a = opener(0);
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	b = opener(1);
	if (pipe(pfd) != 0)
		return 2;
	pid = fork();
	if (pid == 0) {
		int r[2] = { opener(2), left() };

		(void)!write(pfd[1], r, sizeof(r));
		_exit(0);
	}
	if (pid < 0 || read(pfd[0], r, sizeof(r)) != sizeof(r) ||
	    waitpid(pid, &st, 0) != pid)
		return 2;
	c = r[0];
	printf("fds %d %d %d, left in the child %d\n", a, b, c, r[1]);
	return !(a == 3 && b == 3 && c == 6);
}
