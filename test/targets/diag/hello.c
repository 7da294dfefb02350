/* A program that prints one line and exits 0: the bad-input tests
 * (test/e2e/test_diagnostics.sh) build it as what iprofmem must refuse,
 * a 32-bit executable and a relocatable object, and check that the
 * 32-bit one really runs.
 *
 * Usage: hello [READY [IGNORED...]]
 * With READY, it first writes "PID PPID" to READY and waits for SIGUSR1,
 * so that a test can try to attach to it. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int wait_ready(const char *ready)
{
	sigset_t set;
	FILE *f;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	f = fopen(ready, "w");
	if (!f)
		return -1;
	fprintf(f, "%d %d\n", (int)getpid(), (int)getppid());
	if (fclose(f) != 0)
		return -1;
	return sigwait(&set, &sig);
}

int main(int argc, char **argv)
{
	if (argc > 1 && wait_ready(argv[1]) != 0)
		return 1;
	puts("hello");
	return 0;
}
