/* Launch mode: start the program under PTRACE_SEIZE and trace it from its
 * exec to its end. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracer/internal.h"
#include "util.h"

#define LAUNCH_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | \
			PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | \
			PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE)

/* Child side: stop so the parent can seize us before exec, then exec.  An
 * exec failure is reported through the close-on-exec pipe. */
static void __attribute__((noreturn))
run_child(const char *path, char *const argv[], int errfd)
{
	int err;

	raise(SIGSTOP);
	execv(path, argv);
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		_exit(EXIT_CANNOT_RUN);
	_exit(err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN);
}

/* The interpreter a '#!' script names, into buf; false if path is no
 * script.  (The program itself was found: an exec error on a script is
 * about its interpreter.) */
static bool script_interpreter(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) && strncmp(buf, "#!", 2) == 0;
	fclose(f);
	if (ok) {
		size_t skip = 2 + strspn(buf + 2, " \t");

		memmove(buf, buf + skip, strlen(buf + skip) + 1);
		buf[strcspn(buf, " \t\n")] = '\0';
	}
	return ok;
}

/* The program never reached its exec: say why from the child's errno. */
static int exec_failure(const char *path, int errfd)
{
	char interp[256];
	int err = 0;

	if (read(errfd, &err, sizeof(err)) != sizeof(err))
		err = ECHILD;
	if (script_interpreter(path, interp, sizeof(interp)))
		error_msg("%s: bad interpreter '%s': %s; fix the script's '#!' "
			  "line", path, interp, strerror(err));
	else if (err == ENOEXEC)
		error_msg("%s: cannot execute: not an executable for this "
			  "machine (Exec format error)", path);
	else
		error_msg("%s: cannot execute: %s", path, strerror(err));
	return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

static int seize_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, WSTOPPED) != pid || !WIFSTOPPED(status)) {
		error_msg("the program did not start");
		return -1;
	}
	if (ptrace(PTRACE_SEIZE, pid, 0, (long)LAUNCH_OPTIONS) != 0) {
		error_msg("cannot trace the program: ptrace: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	/* the child's SIGSTOP is over; its SIGCONT reaches it before exec */
	kill(pid, SIGCONT);
	return 0;
}

/* --duration ended the trace: the program runs on, untraced, and its exit
 * status is still ours to report once the table is out. */
void tracer_wait_program(struct trace_result *res)
{
	if (!res->running)
		return;
	while (waitpid(res->running, &res->status, 0) < 0 && errno == EINTR)
		;
	res->running = 0;
}

int tracer_launch(const char *path, char *const argv[], struct report *shared,
		  const struct tracer_opts *opts, struct trace_result *res)
{
	struct tracer tr = { .opts = opts, .shared = shared, .res = res };
	struct process *p;
	struct thread *th;
	int pipefd[2], ret = 0;

	memset(res, 0, sizeof(*res));
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		error_msg("pipe: %s", strerror(errno));
		return EXIT_IPROFMEM;
	}
	fflush(NULL);
	tr.leader = fork();
	if (tr.leader < 0) {
		error_msg("fork: %s", strerror(errno));
		return EXIT_IPROFMEM;
	}
	if (tr.leader == 0) {
		close(pipefd[0]);
		run_child(path, argv, pipefd[1]);
	}
	close(pipefd[1]);
	if (seize_child(tr.leader) != 0) {
		close(pipefd[0]);
		return EXIT_IPROFMEM;
	}
	tracer_set_live(&tr);
	p = process_new(&tr, tr.leader, NULL, NULL);
	th = thread_add(&tr.threads, tr.leader);
	th->proc = p;
	th->started = true;
	tracer_set_wake(tr.leader);
	tracer_start_clock(&tr);
	tracer_signals(&tr);
	tracer_run(&tr);
	if (tr.fatal || tr.list_done) {
		/* EXITKILL would take the program down when we exit; do it
		 * now so that nothing is left behind.  (--list-funcs: the
		 * program never ran its own code.) */
		kill(tr.leader, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0)
			;
		ret = tr.fatal ? (tr.exit_code ? tr.exit_code : EXIT_IPROFMEM) : 0;
	} else if (tr.detaching) {
		res->running = tr.leader;
	} else if (!p->exec_seen) {
		ret = exec_failure(path, pipefd[0]);
	}
	close(pipefd[0]);
	tracer_free(&tr);
	return ret;
}
