/* The trace engine: launch, processes and threads, the event loop.
 *
 * Every stop is classified in one place (next_event) and handled in one
 * switch (dispatch_event).  Breakpoints stay in place for the whole run: the
 * displaced instruction is replayed by arch_replay (emulated, or run out of
 * line from a slot mapped into the tracee), so every event costs one stop and
 * no thread can pass a site untraced. */
#include "tracer/tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

#define PTRACE_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | \
			PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | \
			PTRACE_O_TRACEVFORK)

enum event_kind {
	EV_EXIT,	/* a thread exited or was killed */
	EV_BREAKPOINT,	/* one of our int3s */
	EV_SIGNAL,	/* a signal to deliver */
	EV_GROUP_STOP,	/* SIGSTOP & co: stay stopped, as untraced */
	EV_PTRACE_STOP,	/* a new thread's first stop, or an interrupt */
	EV_CLONE,	/* a new thread (or a process made by clone) */
	EV_FORK,	/* fork, vfork */
	EV_EXEC,
	EV_OTHER,	/* other ptrace events: just continue */
};

struct event {
	enum event_kind kind;
	pid_t tid;
	int status;
	int sig;
	bool vfork;
	struct thread *th;	/* EV_BREAKPOINT */
	struct bp *bp;		/* EV_BREAKPOINT */
	regs_t regs;		/* EV_BREAKPOINT */
};

static volatile sig_atomic_t pending_signal;

static void note_signal(int sig)
{
	pending_signal = sig;
}

/* iprofmem survives the terminal's SIGINT/SIGQUIT (they reach the tracee's
 * process group too, and the tracee decides); SIGTERM and SIGHUP sent to
 * iprofmem alone are passed on to the program. */
static void install_signal_handlers(void)
{
	struct sigaction sa = { .sa_handler = note_signal };
	const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void forward_pending_signal(struct tracer *tr)
{
	int sig = pending_signal;

	pending_signal = 0;
	if (sig == SIGTERM || sig == SIGHUP)
		kill(tr->leader, sig);
}

/* ---- processes ---------------------------------------------------------- */

static char *read_cmdline(pid_t pid)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return xstrdup("?");
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return xstrdup("?");
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	return xstrdup(buf);
}

/* A new traced process; with per_process it gets its own report, a copy
 * of `keys_from`'s keys when it inherits that report's breakpoint ids. */
static struct process *process_new(struct tracer *tr, pid_t pid,
				   const struct report *keys_from,
				   const char *cmdline)
{
	struct process *p = xcalloc(1, sizeof(*p));
	struct trace_result *res = tr->res;

	p->pid = pid;
	p->memfd = -1;
	p->rss.fd = -1;
	p->rep = tr->shared;
	if (tr->opts->per_process) {
		p->rep = keys_from ? report_clone_keys(keys_from) : report_new();
		if (!p->rep) {
			error_msg("out of memory");
			exit(EXIT_IPROFMEM);
		}
		res->procs = xreallocarray(res->procs, res->nprocs + 1,
					   sizeof(*res->procs));
		p->result = res->nprocs++;
		res->procs[p->result] = (struct traced_process){
			.pid = pid, .rep = p->rep,
			.cmdline = xstrdup(cmdline ? cmdline : "?"),
		};
	}
	tr->procs = xreallocarray(tr->procs, tr->nprocs + 1, sizeof(*tr->procs));
	tr->procs[tr->nprocs++] = p;
	return p;
}

static struct process *process_find(struct tracer *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nprocs; i++)
		if (tr->procs[i]->pid == pid && !tr->procs[i]->exited)
			return tr->procs[i];
	return NULL;
}

static void process_close_files(struct process *p)
{
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	rss_close(&p->rss);
}

static int process_open_files(struct tracer *tr, struct process *p)
{
	process_close_files(p);
	p->memfd = mem_open(p->pid);
	if (p->memfd < 0 || rss_open(&p->rss, p->pid, tr->opts->rss_source) != 0)
		return -1;
	return 0;
}

static void process_set_cmdline(struct tracer *tr, struct process *p)
{
	struct traced_process *r;

	if (!tr->opts->per_process)
		return;
	r = &tr->res->procs[p->result];
	free(r->cmdline);
	r->cmdline = read_cmdline(p->pid);
}

static void process_end(struct process *p)
{
	p->exited = true;
	process_close_files(p);
	bp_table_free(&p->bps);
}

/* RSS of the process.  The leader's /proc file reads zero once the leader
 * thread has exited while others run on: then read through this thread. */
static int64_t process_rss(struct tracer *tr, struct process *p, pid_t tid)
{
	int64_t rss = rss_read(&p->rss);

	if (rss > 0)
		return rss;
	rss_close(&p->rss);
	if (rss_open(&p->rss, tid, tr->opts->rss_source) != 0)
		return -1;
	return rss_read(&p->rss);
}

/* Remove every thread of p but `keep` (exec: the other threads are gone). */
static void process_drop_threads(struct tracer *tr, struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; ) {
		struct thread *th = &tr->threads.threads[i];

		if (th->proc == p)
			thread_remove(&tr->threads, th->tid);
		else
			i++;
	}
}

/* ---- events ---------------------------------------------------------- */

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* Wait for the next stop or exit of any tracee and say what it is.  Returns
 * false when there is no tracee left. */
static bool next_event(struct tracer *tr, struct event *ev)
{
	int status, event;
	pid_t tid;

	for (;;) {
		tid = waitpid(-1, &status, __WALL);
		if (tid >= 0)
			break;
		if (errno != EINTR)
			return false;	/* ECHILD: all gone */
		forward_pending_signal(tr);
	}
	memset(ev, 0, sizeof(*ev));
	ev->tid = tid;
	ev->status = status;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		ev->kind = EV_EXIT;
		return true;
	}
	ev->sig = WSTOPSIG(status);
	event = status >> 16;
	switch (event) {
	case 0:
		break;
	case PTRACE_EVENT_CLONE:
		ev->kind = EV_CLONE;
		return true;
	case PTRACE_EVENT_VFORK:
		ev->vfork = true;
		/* fall through */
	case PTRACE_EVENT_FORK:
		ev->kind = EV_FORK;
		return true;
	case PTRACE_EVENT_EXEC:
		ev->kind = EV_EXEC;
		return true;
	case PTRACE_EVENT_STOP:
		ev->kind = is_stop_signal(ev->sig) ? EV_GROUP_STOP : EV_PTRACE_STOP;
		return true;
	default:
		ev->kind = EV_OTHER;
		return true;
	}
	ev->kind = EV_SIGNAL;
	if (ev->sig != SIGTRAP)
		return true;
	ev->th = thread_find(&tr->threads, tid);
	if (ev->th && ev->th->proc &&
	    ptrace(PTRACE_GETREGS, tid, 0, &ev->regs) == 0 &&
	    (ev->bp = bp_table_find(&ev->th->proc->bps, arch_pc(&ev->regs) - 1)))
		ev->kind = EV_BREAKPOINT;
	return true;
}

/* A ptrace request on a stopped thread failed: ESRCH means the thread is
 * gone (SIGKILL, another thread's exec...), which is normal; its exit is
 * reported by waitpid. */
static void resume(pid_t tid, int request, int sig)
{
	if (ptrace(request, tid, 0, (long)sig) != 0 && errno != ESRCH)
		warn_msg("ptrace(%d) on thread %d: %s", request, (int)tid,
			 strerror(errno));
}

static void on_breakpoint(struct tracer *tr, struct event *ev)
{
	struct bp *b = ev->bp;
	struct thread *th = ev->th;
	struct process *p = th->proc;
	int64_t rss = process_rss(tr, p, ev->tid);
	uint64_t sp = arch_sp(&ev->regs);

	if (b->entry_fn >= 0)
		thread_enter(th, b->entry_fn, sp, rss);
	if (b->ret_fn >= 0 && arch_site_leaves(&b->insn, &ev->regs))
		thread_return(th, p->rep, b->ret_fn, sp, rss);
	arch_set_pc(&ev->regs, b->addr);
	if (arch_replay(p->memfd, &ev->regs, &b->insn, b->slot) != 0 ||
	    ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) != 0) {
		if (errno != ESRCH && errno != EIO)
			warn_msg("replaying the instruction at %#llx: %s",
				 (unsigned long long)b->addr, strerror(errno));
		return;		/* the thread is gone; its exit follows */
	}
	resume(ev->tid, PTRACE_CONT, 0);
}

static void detach_process(struct tracer *tr, struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p)
			ptrace(PTRACE_DETACH, tr->threads.threads[i].tid, 0, 0);
	process_drop_threads(tr, p);
	process_end(p);
}

static int on_exec(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	struct process *p = process_find(tr, ev->tid);
	bool first;

	if ((th && th->detach_at_exec) || !p) {
		/* a vfork child we do not follow: its new image has no
		 * breakpoints, and it is not ours to trace */
		thread_remove(&tr->threads, ev->tid);
		ptrace(PTRACE_DETACH, ev->tid, 0, 0);
		return 0;
	}
	/* The old image is gone and with it every other thread (the execing
	 * one now has the leader's id), every breakpoint and every frame. */
	process_drop_threads(tr, p);
	thread_add(&tr->threads, ev->tid)->proc = p;
	bp_table_free(&p->bps);
	first = !p->exec_seen;
	p->exec_seen = true;
	process_set_cmdline(tr, p);
	if (process_open_files(tr, p) != 0) {
		error_msg("opening /proc/%d: %s", (int)p->pid, strerror(errno));
		return first && p->pid == tr->leader ? -1 : (detach_process(tr, p), 0);
	}
	if (process_trace_image(tr, p) != 0) {
		if (first && p->pid == tr->leader)
			return -1;
		/* a later image we cannot read: let that process run free */
		process_restore_bytes(p, p->memfd);
		detach_process(tr, p);
		return 0;
	}
	resume(ev->tid, PTRACE_CONT, 0);
	return 0;
}

/* Is the new task a separate address space (fork, vfork, clone without
 * CLONE_VM)? */
static bool separate_mm(pid_t parent, pid_t child)
{
	return syscall(SYS_kcmp, parent, child, KCMP_VM, 0, 0) > 0;
}

/* Wait for the first stop of a new child unless it was already seen. */
static bool child_stopped(struct tracer *tr, pid_t child)
{
	struct thread *th = thread_find(&tr->threads, child);
	int status;

	if (th && th->held) {
		thread_remove(&tr->threads, child);
		return true;
	}
	return waitpid(child, &status, __WALL) == child && WIFSTOPPED(status);
}

/* A new process that we do not follow.  A forked child inherited our int3s
 * in its copy of the text: put the original bytes back, then let it go.  A
 * vfork child shares the parent's memory, so it keeps the breakpoints and
 * stays traced as a thread of its parent until it execs or exits. */
static void let_child_go(struct tracer *tr, struct process *pp, pid_t child,
			 bool vfork)
{
	struct thread *th;
	int fd;

	if (vfork) {
		th = thread_add(&tr->threads, child);
		th->proc = pp;
		th->detach_at_exec = true;
		if (th->held)
			resume(child, PTRACE_CONT, 0);
		th->held = false;
		th->started = true;
		return;
	}
	if (!child_stopped(tr, child))
		return;
	fd = mem_open(child);
	if (fd >= 0) {
		process_restore_bytes(pp, fd);
		close(fd);
	}
	ptrace(PTRACE_DETACH, child, 0, 0);
}

/* -f: the child is a process of its own, with a copy of its parent's
 * breakpoints (the same int3s are in its copy of the text, or in the very
 * same memory for vfork). */
static void follow_child(struct tracer *tr, struct process *pp, pid_t child)
{
	const char *cmd = tr->opts->per_process ?
		tr->res->procs[pp->result].cmdline : NULL;
	struct process *p = process_new(tr, child, pp->rep, cmd);
	struct thread *th;

	p->exec_seen = true;
	bp_table_copy(&p->bps, &pp->bps);
	if (process_open_files(tr, p) != 0)
		warn_msg("opening /proc/%d: %s", (int)child, strerror(errno));
	th = thread_add(&tr->threads, child);
	th->proc = p;
	if (th->held)
		resume(child, PTRACE_CONT, 0);
	th->held = false;
	th->started = true;
}

/* The child starts inside the frames of the thread that forked it: give
 * it a copy of that thread's shadow stack. */
static void new_child(struct tracer *tr, pid_t tid, pid_t child, bool vfork)
{
	struct thread *parent = thread_find(&tr->threads, tid), *th;

	if (!parent || !parent->proc) {
		/* cannot happen: a child of a thread we do not know */
		ptrace(PTRACE_DETACH, child, 0, 0);
		return;
	}
	if (tr->opts->follow_forks)
		follow_child(tr, parent->proc, child);
	else
		let_child_go(tr, parent->proc, child, vfork);
	/* thread_add may have moved the parent's entry */
	parent = thread_find(&tr->threads, tid);
	th = thread_find(&tr->threads, child);
	if (parent && th)
		thread_copy_stack(th, parent);
}

static void on_fork(struct tracer *tr, struct event *ev)
{
	unsigned long msg = 0;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	new_child(tr, ev->tid, (pid_t)msg, ev->vfork);
	resume(ev->tid, PTRACE_CONT, 0);
}

/* A new thread: its first stop may come before or after its creator's
 * clone event; whichever comes second resumes it.  A clone without CLONE_VM
 * is a new process, handled as a fork. */
static void on_clone(struct tracer *tr, struct event *ev)
{
	unsigned long msg = 0;
	struct thread *parent, *th;
	pid_t child;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	child = (pid_t)msg;
	if (separate_mm(ev->tid, child)) {
		new_child(tr, ev->tid, child, false);
		resume(ev->tid, PTRACE_CONT, 0);
		return;
	}
	th = thread_add(&tr->threads, child);
	parent = thread_find(&tr->threads, ev->tid);
	th->proc = parent ? parent->proc : NULL;
	if (th->held && th->proc)
		resume(child, PTRACE_CONT, 0);
	th->held = false;
	th->started = true;
	resume(ev->tid, PTRACE_CONT, 0);
}

static void on_ptrace_stop(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (!th) {
		/* first stop of a child whose creation event is still queued:
		 * we do not know yet whether it is a thread or a process */
		thread_add(&tr->threads, ev->tid)->held = true;
		return;
	}
	resume(ev->tid, PTRACE_CONT, 0);
}

static void on_exit_event(struct tracer *tr, struct event *ev)
{
	struct process *p = process_find(tr, ev->tid);

	thread_remove(&tr->threads, ev->tid);
	if (ev->tid == tr->leader)
		tr->res->status = ev->status;
	if (!p)
		return;
	/* the leader's exit ends the process once no thread of it is left
	 * (it can be reported early when another thread execs) */
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p)
			return;
	process_end(p);
}

/* Returns false to stop the loop (a fatal error). */
static bool dispatch_event(struct tracer *tr, struct event *ev)
{
	switch (ev->kind) {
	case EV_BREAKPOINT:
		on_breakpoint(tr, ev);
		break;
	case EV_SIGNAL:
		resume(ev->tid, PTRACE_CONT, ev->sig);
		break;
	case EV_GROUP_STOP:
		resume(ev->tid, PTRACE_LISTEN, 0);
		break;
	case EV_PTRACE_STOP:
		on_ptrace_stop(tr, ev);
		break;
	case EV_CLONE:
		on_clone(tr, ev);
		break;
	case EV_FORK:
		on_fork(tr, ev);
		break;
	case EV_EXEC:
		return on_exec(tr, ev) == 0;
	case EV_OTHER:
		resume(ev->tid, PTRACE_CONT, 0);
		break;
	case EV_EXIT:
		on_exit_event(tr, ev);
		break;
	}
	return true;
}

/* ---- launch ------------------------------------------------------------ */

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

/* The program never reached its exec: say why from the child's errno. */
static int exec_failure(const char *path, int errfd)
{
	int err = 0;

	if (read(errfd, &err, sizeof(err)) != sizeof(err))
		err = ECHILD;
	if (err == ENOEXEC)
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
	if (ptrace(PTRACE_SEIZE, pid, 0, (long)PTRACE_OPTIONS) != 0) {
		error_msg("cannot trace the program: ptrace: %s", strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	/* the child's SIGSTOP is over; its SIGCONT reaches it before exec */
	kill(pid, SIGCONT);
	return 0;
}

static void tracer_free(struct tracer *tr)
{
	for (size_t i = 0; i < tr->nprocs; i++) {
		process_end(tr->procs[i]);
		free(tr->procs[i]);
	}
	free(tr->procs);
	for (size_t i = 0; i < tr->nwarned; i++)
		free(tr->warned[i]);
	free(tr->warned);
	thread_table_free(&tr->threads);
}

void trace_result_free(struct trace_result *res)
{
	for (size_t i = 0; i < res->nprocs; i++) {
		free(res->procs[i].cmdline);
		report_free(res->procs[i].rep);
	}
	free(res->procs);
	res->procs = NULL;
	res->nprocs = 0;
}

int tracer_launch(const char *path, char *const argv[], struct report *shared,
		  const struct tracer_opts *opts, struct trace_result *res)
{
	struct tracer tr = { .opts = opts, .shared = shared, .res = res };
	struct process *p;
	struct event ev;
	int pipefd[2], ret = 0;
	bool ok = true;

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
	install_signal_handlers();
	if (seize_child(tr.leader) != 0) {
		close(pipefd[0]);
		return EXIT_IPROFMEM;
	}
	p = process_new(&tr, tr.leader, NULL, NULL);
	thread_add(&tr.threads, tr.leader)->proc = p;
	while (ok && next_event(&tr, &ev))
		ok = dispatch_event(&tr, &ev);
	if (!ok) {
		/* fatal: EXITKILL would take the program down when we exit;
		 * do it now so that nothing is left behind */
		kill(tr.leader, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0)
			;
		ret = EXIT_IPROFMEM;
	} else if (!p->exec_seen) {
		ret = exec_failure(path, pipefd[0]);
	}
	close(pipefd[0]);
	tracer_free(&tr);
	return ret;
}
