/*
 * status: output, input, signals and an exit status that tracing must leave
 * exactly as they are.
 *
 * Usage: status CODE [ACTION...]
 *   Prints its arguments, then does each ACTION in order, then ends with
 *   exit status CODE: by exit(CODE), or by returning CODE from main when
 *   CODE is written with a leading 'r' (r42).
 * Actions:
 *   stdin    read standard input to its end, print its size and a checksum
 *   usr1     raise SIGUSR1 three times into a handler, print the count
 *   fork     fork a child that runs traced functions and exits with 7;
 *            print how it ended (a breakpoint left in the child kills it
 *            with SIGTRAP, which shows here)
 *   stderr   write one line to standard error
 *   env      print the variable IPROFMEM_E2E
 *   exec     replace itself (execv /proc/self/exe) by `status 3 REST...`,
 *            REST being the arguments after "exec"
 *   anything else is only printed (tests pass a marker to find leftovers)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TRACED	__attribute__((noipa, used))

static volatile sig_atomic_t usr1_count;

TRACED unsigned long
mix(unsigned long h, unsigned char c)
{
	return (h ^ c) * 1099511628211UL;
}

TRACED unsigned long
checksum_stdin(size_t *size)
{
	unsigned char buf[4096];
	unsigned long h = 14695981039346656037UL;
	size_t n;

	*size = 0;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0) {
		for (size_t i = 0; i < n; i++)
			h = mix(h, buf[i]);
		*size += n;
	}
	return h;
}

TRACED void
on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

TRACED int
child_work(void)
{
	unsigned long h = 0;

	for (int i = 0; i < 100; i++)
		h = mix(h, (unsigned char)i);
	return h == 0 ? 1 : 7;
}

TRACED void
do_fork(void)
{
	int st;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("status: fork");
		exit(98);
	}
	if (pid == 0)
		_exit(child_work());
	if (waitpid(pid, &st, 0) != pid) {
		perror("status: waitpid");
		exit(98);
	}
	if (WIFEXITED(st))
		printf("child exited %d\n", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("child killed by signal %d\n", WTERMSIG(st));
	else
		printf("child ended oddly: 0x%x\n", st);
}

TRACED void
do_action(const char *a)
{
	if (strcmp(a, "stdin") == 0) {
		size_t size;
		unsigned long h = checksum_stdin(&size);
		printf("stdin: %zu bytes, checksum %016lx\n", size, h);
	} else if (strcmp(a, "usr1") == 0) {
		signal(SIGUSR1, on_usr1);
		for (int i = 0; i < 3; i++)
			raise(SIGUSR1);
		printf("usr1 handled %d times\n", (int)usr1_count);
	} else if (strcmp(a, "fork") == 0) {
		do_fork();
	} else if (strcmp(a, "stderr") == 0) {
		fprintf(stderr, "status: a line on stderr\n");
	} else if (strcmp(a, "env") == 0) {
		const char *v = getenv("IPROFMEM_E2E");
		printf("IPROFMEM_E2E=%s\n", v ? v : "(unset)");
	}
}

TRACED void
do_exec(char *argv0, int nrest, char **rest)
{
	char *args[nrest + 3];

	args[0] = argv0;
	args[1] = "3";
	for (int i = 0; i < nrest; i++)
		args[2 + i] = rest[i];
	args[2 + nrest] = NULL;
	fflush(stdout);
	execv("/proc/self/exe", args);
	perror("status: execv");
	exit(98);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: status CODE [ACTION...]\n");
		return 2;
	}
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "exec") == 0)
			do_exec(argv[0], argc - i - 1, argv + i + 1);
		do_action(argv[i]);
	}
	if (argv[1][0] == 'r')
		return atoi(argv[1] + 1);
	exit(atoi(argv[1]));
}
