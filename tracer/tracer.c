/* The trace engine: launch, the event loop, breakpoint insertion.
 *
 * Every stop is classified in one place (next_event) and handled in one
 * switch (dispatch_event).  Breakpoints stay in place for the whole run: the
 * displaced instruction is replayed by arch_replay (emulated, or run out of
 * line from a slot mapped into the tracee), so every event costs one stop and
 * no thread can pass a site untraced. */
#include "tracer/tracer.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "symbols/symbols.h"
#include "tracer/arch.h"
#include "tracer/bptable.h"
#include "tracer/memio.h"
#include "tracer/thread.h"
#include "util.h"

#define PTRACE_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACECLONE | \
			PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | \
			PTRACE_O_TRACEVFORK)

struct tracer {
	const struct tracer_opts *opts;
	struct report *rep;
	pid_t leader;
	int memfd;
	struct rss rss;
	struct bp_table bps;
	struct thread_table threads;
	bool exec_seen;
	bool leader_done;
	int leader_status;
};

enum event_kind {
	EV_EXIT,	/* a thread exited or was killed */
	EV_BREAKPOINT,	/* one of our int3s */
	EV_SIGNAL,	/* a signal to deliver */
	EV_GROUP_STOP,	/* SIGSTOP & co: stay stopped, as untraced */
	EV_PTRACE_STOP,	/* a new thread's first stop, or an interrupt */
	EV_CLONE,	/* a new thread (or CLONE_VM process) */
	EV_FORK,	/* fork, vfork, clone without CLONE_VM */
	EV_EXEC,
	EV_OTHER,	/* other ptrace events: just continue */
};

struct event {
	enum event_kind kind;
	pid_t tid;
	int status;
	int sig;
	bool vfork;
	struct bp *bp;
	regs_t regs;
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
	if (ev->sig == SIGTRAP &&
	    ptrace(PTRACE_GETREGS, tid, 0, &ev->regs) == 0 &&
	    (ev->bp = bp_table_find(&tr->bps, arch_pc(&ev->regs) - 1)))
		ev->kind = EV_BREAKPOINT;
	return true;
}

/* A ptrace request on a stopped thread failed: ESRCH means the thread is
 * gone (SIGKILL, exit of another thread's exec...), which is normal; its
 * exit is reported by waitpid. */
static void resume(pid_t tid, int request, int sig)
{
	if (ptrace(request, tid, 0, (long)sig) != 0 && errno != ESRCH)
		warn_msg("ptrace(%d) on thread %d: %s", request, (int)tid,
			 strerror(errno));
}

static void on_breakpoint(struct tracer *tr, struct event *ev)
{
	struct bp *b = ev->bp;
	struct thread *th = thread_add(&tr->threads, ev->tid);
	int64_t rss = rss_read(&tr->rss);
	uint64_t sp = arch_sp(&ev->regs);

	if (b->entry_fn >= 0)
		thread_enter(th, b->entry_fn, sp, rss);
	if (b->ret_fn >= 0 && arch_site_leaves(&b->insn, &ev->regs))
		thread_return(th, tr->rep, b->ret_fn, sp, rss);
	arch_set_pc(&ev->regs, b->addr);
	if (arch_replay(tr->memfd, &ev->regs, &b->insn, b->slot) != 0 ||
	    ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) != 0) {
		if (errno != ESRCH && errno != EIO)
			warn_msg("replaying the instruction at %#llx: %s",
				 (unsigned long long)b->addr, strerror(errno));
		return;		/* the thread is gone; its exit follows */
	}
	resume(ev->tid, PTRACE_CONT, 0);
}

/* ---- breakpoint insertion -------------------------------------------- */

/* Where to map the slot area: just below the executable, so that rel32
 * operands re-aimed from the slots still reach their targets, and away from
 * the brk heap, which grows up from the executable's end. */
static uint64_t map_slots(struct tracer *tr, const struct sym_table *t,
			  size_t len)
{
	const uint64_t gap = 1 << 20, floor = 1 << 20;
	uint64_t hint = 0, at;

	if (t->lo > len + gap + floor)
		hint = (t->lo - len - gap) & ~(uint64_t)0xfff;
	for (int i = 0; hint && i < 16; i++, hint -= 16 * gap) {
		at = arch_inject_mmap(tr->leader, tr->memfd, hint, len, true);
		if (at)
			return at;
		if (hint < floor + 16 * gap)
			break;
	}
	return arch_inject_mmap(tr->leader, tr->memfd, hint, len, false);
}

/* Fill the out-of-line slots; a function with a slot that cannot be built
 * is dropped whole (ok[func] = false), never traced halfway. */
static uint64_t *build_slots(struct tracer *tr, const struct sym_table *t,
			     bool *ok)
{
	uint64_t *slot_of = xcalloc(t->nsites, sizeof(*slot_of));
	size_t n = 0, len;
	uint8_t *buf;
	uint64_t base;

	for (size_t i = 0; i < t->nsites; i++)
		n += arch_needs_slot(&t->sites[i].insn);
	if (!n)
		return slot_of;
	len = (n * ARCH_SLOT_SIZE + 4095) & ~(size_t)4095;
	base = map_slots(tr, t, len);
	if (!base) {
		warn_msg("cannot map the out-of-line area into the program: "
			 "functions that need it are not traced");
		for (size_t i = 0; i < t->nsites; i++)
			if (arch_needs_slot(&t->sites[i].insn))
				ok[t->sites[i].func] = false;
		return slot_of;
	}
	buf = xcalloc(1, len);
	n = 0;
	for (size_t i = 0; i < t->nsites; i++) {
		const struct sym_site *s = &t->sites[i];
		uint64_t at = base + n * ARCH_SLOT_SIZE;

		if (!arch_needs_slot(&s->insn))
			continue;
		if (arch_encode_slot(buf + n * ARCH_SLOT_SIZE, &s->insn, at) != 0) {
			ok[s->func] = false;
			continue;
		}
		slot_of[i] = at;
		n++;
	}
	if (mem_write(tr->memfd, base, buf, len) != 0) {
		warn_msg("writing the out-of-line area: %s", strerror(errno));
		memset(ok, 0, t->nfuncs * sizeof(*ok));
	}
	free(buf);
	return slot_of;
}

static int insert_site(struct tracer *tr, const struct sym_site *s,
		       int32_t fn, uint64_t slot)
{
	static const uint8_t int3 = ARCH_BREAKPOINT;
	struct bp *b = bp_table_get(&tr->bps, s->addr);

	if (b->entry_fn < 0 && b->ret_fn < 0) {
		if (mem_read(tr->memfd, s->addr, &b->orig, 1) != 0 ||
		    mem_write(tr->memfd, s->addr, &int3, 1) != 0)
			return -1;
		b->insn = s->insn;
		b->slot = slot;
	}
	if (s->is_entry)
		b->entry_fn = fn;
	else
		b->ret_fn = fn;
	return 0;
}

/* Load the new image's functions and put an int3 on every site. */
static int trace_image(struct tracer *tr)
{
	struct sym_table t;
	char err[512];
	int32_t *ids;
	uint64_t *slot_of;
	bool *ok;
	int ret = 0;

	if (symbols_load_exe(tr->leader, &t, err, sizeof(err)) != 0) {
		error_msg("%s", err);
		return -1;
	}
	if (!t.has_dwarf)
		warn_msg("%s has no DWARF debug info: tracing its symbol-table "
			 "functions (rebuild with -g for file:line keys)",
			 t.module);
	ids = xcalloc(t.nfuncs, sizeof(*ids));
	ok = xcalloc(t.nfuncs, sizeof(*ok));
	for (size_t i = 0; i < t.nfuncs; i++) {
		ids[i] = report_add_func(tr->rep, t.funcs[i].file,
					 t.funcs[i].line, t.funcs[i].name);
		ok[i] = ids[i] >= 0;
	}
	slot_of = build_slots(tr, &t, ok);
	for (size_t i = 0; i < t.nsites && ret == 0; i++) {
		const struct sym_site *s = &t.sites[i];

		if (!ok[s->func])
			continue;
		if (insert_site(tr, s, ids[s->func], slot_of[i]) != 0) {
			error_msg("inserting a breakpoint at %#llx: %s",
				  (unsigned long long)s->addr, strerror(errno));
			ret = -1;
		}
	}
	free(slot_of);
	free(ok);
	free(ids);
	symbols_free(&t);
	return ret;
}

/* ---- process events --------------------------------------------------- */

static int on_exec(struct tracer *tr, struct event *ev)
{
	if (ev->tid != tr->leader) {
		/* a vfork child that exec'd: its new image has no breakpoints */
		thread_remove(&tr->threads, ev->tid);
		ptrace(PTRACE_DETACH, ev->tid, 0, 0);
		return 0;
	}
	/* The old image is gone and with it every other thread, every
	 * breakpoint and every frame. */
	thread_table_free(&tr->threads);
	thread_add(&tr->threads, tr->leader);
	bp_table_free(&tr->bps);
	if (tr->memfd >= 0)
		close(tr->memfd);
	rss_close(&tr->rss);
	tr->memfd = mem_open(tr->leader);
	if (tr->memfd < 0 ||
	    rss_open(&tr->rss, tr->leader, tr->opts->rss_source) != 0) {
		error_msg("opening /proc/%d: %s", (int)tr->leader, strerror(errno));
		return -1;
	}
	tr->exec_seen = true;
	if (trace_image(tr) != 0)
		return -1;
	resume(ev->tid, PTRACE_CONT, 0);
	return 0;
}

/* A forked child shares nothing with us but inherited our int3s in its copy
 * of the text: put the original bytes back, then let it go.  A vfork child
 * shares the parent's memory, so it keeps the breakpoints and stays traced
 * (like a thread) until it execs or exits. */
static void on_fork(struct tracer *tr, struct event *ev)
{
	unsigned long msg = 0;
	pid_t child;
	struct thread *th;
	int status, fd;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	child = (pid_t)msg;
	th = thread_find(&tr->threads, child);
	if (ev->vfork) {
		th = thread_add(&tr->threads, child);
		if (th->held) {
			th->held = false;
			resume(child, PTRACE_CONT, 0);
		}
		th->started = true;
		resume(ev->tid, PTRACE_CONT, 0);
		return;
	}
	if (th && th->held)
		thread_remove(&tr->threads, child);
	else if (waitpid(child, &status, __WALL) != child || !WIFSTOPPED(status))
		goto out;
	fd = mem_open(child);
	if (fd >= 0) {
		bp_table_for_each(&tr->bps, b)
			mem_write(fd, b->addr, &b->orig, 1);
		close(fd);
	}
	ptrace(PTRACE_DETACH, child, 0, 0);
out:
	resume(ev->tid, PTRACE_CONT, 0);
}

/* A new thread: its first stop may come before or after its creator's
 * clone event; whichever comes second resumes it. */
static void on_clone(struct tracer *tr, struct event *ev)
{
	unsigned long msg = 0;
	struct thread *th;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	th = thread_add(&tr->threads, (pid_t)msg);
	if (th->held) {
		th->held = false;
		resume(th->tid, PTRACE_CONT, 0);
	}
	th->started = true;
	resume(ev->tid, PTRACE_CONT, 0);
}

static void on_ptrace_stop(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (!th) {
		/* first stop of a child whose creation event is still queued:
		 * we do not know yet whether it is a thread or a fork */
		th = thread_add(&tr->threads, ev->tid);
		th->held = true;
		return;
	}
	resume(ev->tid, PTRACE_CONT, 0);
}

static void on_exit_event(struct tracer *tr, struct event *ev)
{
	thread_remove(&tr->threads, ev->tid);
	if (ev->tid == tr->leader) {
		tr->leader_done = true;
		tr->leader_status = ev->status;
	}
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
	bp_table_free(&tr->bps);
	thread_table_free(&tr->threads);
	rss_close(&tr->rss);
	if (tr->memfd >= 0)
		close(tr->memfd);
}

int tracer_launch(const char *path, char *const argv[], struct report *rep,
		  const struct tracer_opts *opts, int *status)
{
	struct tracer tr = { .opts = opts, .rep = rep, .memfd = -1,
			     .rss = { .fd = -1 } };
	struct event ev;
	int pipefd[2], ret = 0;
	bool ok = true;

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
	thread_add(&tr.threads, tr.leader);
	while (ok && next_event(&tr, &ev))
		ok = dispatch_event(&tr, &ev);
	if (!ok) {
		/* fatal: EXITKILL would take the program down when we exit;
		 * do it now so that nothing is left behind */
		kill(tr.leader, SIGKILL);
		while (waitpid(-1, NULL, __WALL) > 0)
			;
		ret = EXIT_IPROFMEM;
	} else if (!tr.exec_seen) {
		ret = exec_failure(path, pipefd[0]);
	} else {
		*status = tr.leader_status;
	}
	close(pipefd[0]);
	tracer_free(&tr);
	return ret;
}
