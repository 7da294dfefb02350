/* statmcost: what a read of statm costs on this machine, the floor under
 * the probe engine's per-call figure with the fault gate off (two reads
 * per call: the entry's and the return's).  Prints one line:
 *   statm N_NS syscall M_NS
 * the median over REPS runs of N preads of /proc/self/statm at offset 0
 * from a kept-open descriptor (as the probe reads it), and of N getppid
 * calls (a system call that does nothing), in nanoseconds per call.
 * Usage: statmcost [N [REPS]] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	double st[64], sc[64];
	char buf[96];
	int fd;

	if (n < 1 || reps < 1 || reps > 64) {
		fprintf(stderr, "usage: statmcost [N [REPS (1-64)]]\n");
		return 2;
	}
	fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("statmcost: /proc/self/statm");
		return 1;
	}
	for (int r = 0; r < reps; r++) {
		double t = now_ns();

		for (long i = 0; i < n; i++)
			if (pread(fd, buf, sizeof(buf), 0) <= 0) {
				perror("statmcost: pread");
				return 1;
			}
		st[r] = (now_ns() - t) / (double)n;
		t = now_ns();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		sc[r] = (now_ns() - t) / (double)n;
	}
	qsort(st, (size_t)reps, sizeof(*st), cmp);
	qsort(sc, (size_t)reps, sizeof(*sc), cmp);
	printf("statm %.0f syscall %.0f\n", st[reps / 2], sc[reps / 2]);
	return 0;
}
