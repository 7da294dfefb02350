/* The trace engine: processes, threads and the event loop, shared by
 * launch mode (launch.c) and attach mode (attach.c).
 *
 * Every stop is classified in one place (next_event) and handled in one
 * switch (dispatch_event).  Breakpoints stay in place for the whole run: the
 * displaced instruction is replayed by arch_replay (emulated, or run out of
 * line from a slot mapped into the tracee), so every event costs one stop and
 * no thread can pass a site untraced.
 *
 * To attach or detach, the tracer "quiesces": it interrupts every thread and
 * runs the same loop, in which resuming a thread only records how it must be
 * resumed later, until every thread is stopped. */
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
#include <stddef.h>
#include <sys/time.h>
#include <sys/user.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "procfs.h"
#include "report/report.h"
#include "symbols/select.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

enum event_kind {
	EV_EXIT,	/* a thread exited or was killed */
	EV_BREAKPOINT,	/* one of our int3s */
	EV_SIGNAL,	/* a signal to deliver */
	EV_STEP,	/* a thread stepping out of probe code stopped */
	EV_RSS_STOP,	/* a probe stopped for the RSS (probes_serve_rss) */
	EV_GROUP_STOP,	/* SIGSTOP & co: stay stopped, as untraced */
	EV_PTRACE_STOP,	/* a new thread's first stop, or an interrupt */
	EV_CLONE,	/* a new thread (or a process made by clone) */
	EV_FORK,	/* fork, vfork */
	EV_EXEC,
	EV_VFORK_DONE,	/* a vfork child let its parent's memory go */
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
	siginfo_t si;		/* EV_BREAKPOINT */
	bool merged;		/* EV_BREAKPOINT: a SIGTRAP of the program's
				   came with it (in si), to deliver */
};

/* ---- signals to iprofmem ------------------------------------------------ */

static volatile sig_atomic_t stop_requested, forward_sig, requests;
static volatile sig_atomic_t attach_mode;
static volatile pid_t wake_tid;
/* the last stops waited for (an event's, a new child's): what the
 * out-of-memory path must let go if the failure kept them from the table */
static pid_t in_hand[2];

/* Only flags are set here; the loop acts.  The interrupt makes a tracee
 * report a stop, so that a waitpid that began just before the flag was set
 * returns anyway. */
static void on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGALRM || attach_mode)
		stop_requested++;
	else if (sig == SIGTERM || sig == SIGHUP)
		forward_sig = sig;
	else
		return;		/* launch mode: SIGINT, SIGQUIT are the program's */
	requests++;
	if (wake_tid > 0)
		ptrace(PTRACE_INTERRUPT, wake_tid, 0, 0);
	errno = saved;
}

/* Launch mode: the terminal's SIGINT/SIGQUIT reach the program's process
 * group too and the program decides; SIGTERM and SIGHUP sent to iprofmem
 * alone are passed on.  Attach mode: any of them ends the trace (detach).
 * SIGALRM is --duration. */
void tracer_signals(struct tracer *tr)
{
	struct sigaction sa = { .sa_handler = on_signal };
	const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGALRM };
	struct itimerval it = { 0 };

	attach_mode = tr->attach_mode;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaction(sigs[i], &sa, NULL);
	if (tr->attach_mode)
		signal(SIGPIPE, SIG_IGN);
	if (tr->opts->duration > 0) {
		it.it_value.tv_sec = (time_t)tr->opts->duration;
		it.it_value.tv_usec = (suseconds_t)((tr->opts->duration -
					(double)it.it_value.tv_sec) * 1e6);
		if (!it.it_value.tv_sec && !it.it_value.tv_usec)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}
}

void tracer_set_wake(pid_t tid)
{
	wake_tid = tid;
}

/* ---- resuming, or recording how to resume --------------------------- */

static struct tracer *live_tracer;

bool tracer_owe_stop(pid_t tid, int sig)
{
	struct thread *th = live_tracer ?
			    thread_find(&live_tracer->threads, tid) : NULL;

	if (!th)
		return false;
	th->owed_stop = sig;
	return true;
}

/* What to resume th with: sig, and the stop it owes (tracer_owe_stop).
 * The owed stop goes with the resume when there is no other signal: the
 * kernel drops it if a SIGCONT comes while the thread waits in its stop,
 * and signal_still_due if one came before.  With another signal, it is
 * sent again now.  A thread resumed in a group stop owes none. */
static int with_owed(struct thread *th, pid_t tid, int sig, bool listen)
{
	int owed = th ? th->owed_stop : 0;

	if (!owed)
		return sig;
	th->owed_stop = 0;
	if (listen)
		return sig;
	if (!sig)
		return owed;
	if (signal_still_due(tid, owed))
		syscall(SYS_tgkill, th->proc ? th->proc->pid : tid, tid, owed);
	return sig;
}

/* While quiescing, a thread that would be resumed stays stopped and keeps
 * what it was to be resumed with. */
static void thread_resume(struct tracer *tr, struct thread *th, pid_t tid,
			  int sig, bool listen)
{
	sig = with_owed(th, tid, sig, listen);
	if (tr->quiescing && th) {
		th->stopped = true;
		th->pending_sig = sig;
		th->group_stop = listen;
		return;
	}
	/* a stop held back (while quiescing, stepping out of a probe): not
	 * if a SIGCONT came since */
	if (!listen)
		sig = signal_still_due(tid, sig);
	if (ptrace(listen ? PTRACE_LISTEN : PTRACE_CONT, tid, 0, (long)sig) == 0)
		return;
	/* LISTEN needs a group stop; a thread that ran an injected system
	 * call since is in another stop: stop it again the way it was,
	 * unless a SIGCONT ended the stop meanwhile */
	if (listen && errno == EIO &&
	    ptrace(PTRACE_CONT, tid, 0,
		   (long)signal_still_due(tid, SIGSTOP)) == 0)
		return;
	/* ESRCH: the thread is gone (SIGKILL, another thread's exec);
	 * waitpid reports its end */
	if (errno != ESRCH) {
		warn_msg("resuming thread %d: %s", (int)tid, strerror(errno));
		if (th)
			th->stopped = true;	/* still stopped, as far as we know */
	}
}

static void resume_tid(struct tracer *tr, pid_t tid, int sig)
{
	thread_resume(tr, thread_find(&tr->threads, tid), tid, sig, false);
}

void tracer_resume_all(struct tracer *tr)
{
	tr->quiescing = false;
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];

		if (!th->stopped)
			continue;
		th->stopped = false;
		/* one waiting at the rendezvous hits it again, and waits
		 * again if it must */
		th->await_world = false;
		thread_resume(tr, th, th->tid, th->pending_sig, th->group_stop);
		th->pending_sig = 0;
		th->group_stop = false;
	}
}

/* ---- events ---------------------------------------------------------- */

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* A SIGTRAP with the pc just past one of our sites: is it our int3?
 * SIGTRAP is not queued twice: when the program's own SIGTRAP (kill,
 * tgkill, a timer) is pending as our int3 executes, the stop shows the
 * program's siginfo; both must be acted on (ev->merged).  And a program's
 * SIGTRAP can arrive just as the thread is resumed past a one-byte site
 * (an emulated push): the pc and stack pointer are then those it was
 * resumed with, and it is only a signal. */
static bool at_breakpoint(struct event *ev)
{
	const struct thread *th = ev->th;

	if (ptrace(PTRACE_GETSIGINFO, ev->tid, 0, &ev->si) != 0)
		return false;
	if (ev->si.si_code == SI_KERNEL)
		return true;
	if (arch_pc(&ev->regs) == th->resume_pc &&
	    arch_sp(&ev->regs) == th->resume_sp)
		return false;
	ev->merged = true;
	return true;
}

/* ---- the rings of probed processes -------------------------------- */

/* Drain every probed process's ring, at most max events of each; returns
 * how many there were. */
static size_t drain_some(struct tracer *tr, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->nprocs; i++)
		if (tr->procs[i]->probes.on)
			n += probes_drain_some(tr, tr->procs[i], max);
	return n;
}

static void drain_all(struct tracer *tr)
{
	drain_some(tr, SIZE_MAX);
}

/* Between two looks for a stop, at most this many events of each probed
 * process are drained: a thread stopped at a breakpoint waits for the
 * look (about 100 ns an event). */
#define DRAIN_BATCH 1024

/* A drain that found at least this many events is followed at once by
 * the next, not by a sleep: the program makes events faster than a
 * tick's sleep would let us keep up with. */
#define DRAIN_BUSY 256

/* waitpid(-1) for the next stop, but with probed processes, whose events
 * come without stops, drain their rings while waiting, beside the
 * program, as long as they fill; otherwise sleep until a stop, a
 * millisecond at most (a full ring makes the program wait for us).  A
 * stop is returned at once: next_event drains the rest first, but for a
 * breakpoint, whose event can be queued behind the records before it
 * (probes_defer), so that the program need not wait at its breakpoints
 * for the backlog.  SIGCHLD (blocked) says when a stop comes; a signal to
 * iprofmem ends the wait with EINTR, as it ends waitpid's. */
static pid_t wait_any(struct tracer *tr, int *status)
{
	static bool blocked;
	static sig_atomic_t seen;
	const struct timespec tick = { 0, 1000000 };
	sigset_t chld;
	pid_t w;

	if (!tr->probing)
		return waitpid(-1, status, __WALL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (!blocked) {
		sigprocmask(SIG_BLOCK, &chld, NULL);
		blocked = true;
	}
	for (;;) {
		size_t n;

		w = waitpid(-1, status, __WALL | WNOHANG);
		if (w < 0)
			drain_all(tr);
		if (w != 0)
			return w;
		n = drain_some(tr, DRAIN_BATCH);
		/* a request that came since the last look ends the wait once,
		 * as a signal ends waitpid's, not for as long as its flag
		 * stays set: quiescing after it waits for every thread */
		if (requests != seen ||
		    (n < DRAIN_BUSY &&
		     sigtimedwait(&chld, NULL, &tick) < 0 && errno == EINTR)) {
			seen = requests;
			drain_all(tr);
			errno = EINTR;
			return -1;
		}
	}
}

/* Wait for the next stop or exit of any tracee and say what it is.
 * Returns 1, 0 when there is no tracee left, -1 when a signal to iprofmem
 * interrupted the wait. */
static int classify_event(struct tracer *tr, struct event *ev)
{
	int status, event;
	bool regs;
	pid_t tid = wait_any(tr, &status);

	if (tid < 0)
		return errno == EINTR ? -1 : 0;	/* ECHILD: all gone */
	memset(ev, 0, sizeof(*ev));
	ev->tid = tid;
	ev->status = status;
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		ev->kind = EV_EXIT;
		return 1;
	}
	wake_tid = tid;
	in_hand[0] = tid;
	ev->sig = WSTOPSIG(status);
	event = status >> 16;
	switch (event) {
	case 0:
		break;
	case PTRACE_EVENT_CLONE:
		ev->kind = EV_CLONE;
		return 1;
	case PTRACE_EVENT_VFORK:
		ev->vfork = true;
		/* fall through */
	case PTRACE_EVENT_FORK:
		ev->kind = EV_FORK;
		return 1;
	case PTRACE_EVENT_EXEC:
		ev->kind = EV_EXEC;
		return 1;
	case PTRACE_EVENT_VFORK_DONE:
		ev->kind = EV_VFORK_DONE;
		return 1;
	case PTRACE_EVENT_STOP:
		ev->kind = is_stop_signal(ev->sig) ? EV_GROUP_STOP : EV_PTRACE_STOP;
		return 1;
	default:
		ev->kind = EV_OTHER;
		return 1;
	}
	ev->kind = EV_SIGNAL;
	if (ev->sig != SIGTRAP)
		return 1;
	ev->th = thread_find(&tr->threads, tid);
	regs = ev->th && ev->th->proc &&
	       ptrace(PTRACE_GETREGS, tid, 0, &ev->regs) == 0;
	if (regs && probes_serve_rss(tr, ev->th->proc, tid, &ev->regs)) {
		ev->kind = EV_RSS_STOP;
		return 1;
	}
	/* a single step stops with TRAP_TRACE, or, over a system call (the
	 * probe's statm read), with TRAP_BRKPT at the call's return */
	if (ev->th && ev->th->leaving &&
	    ptrace(PTRACE_GETSIGINFO, tid, 0, &ev->si) == 0 &&
	    (ev->si.si_code == TRAP_TRACE || ev->si.si_code == TRAP_BRKPT)) {
		ev->kind = EV_STEP;
		return 1;
	}
	if (regs &&
	    (ev->bp = bp_table_find(&ev->th->proc->bps, arch_pc(&ev->regs) - 1)) &&
	    at_breakpoint(ev))
		ev->kind = EV_BREAKPOINT;
	return 1;
}

/* The next event, the rings drained up to it: a thread's events in the
 * ring precede its next stop.  A breakpoint's drain is on_breakpoint's. */
static int next_event(struct tracer *tr, struct event *ev)
{
	int r = classify_event(tr, ev);

	if (r > 0 && ev->kind != EV_BREAKPOINT && tr->probing)
		drain_all(tr);
	return r;
}

void tracer_start_clock(struct tracer *tr)
{
	tr->t0 = monotonic_ns();
}

/* ns since the trace began: the time axis of the timeline. */
uint64_t tracer_clock(const struct tracer *tr)
{
	return monotonic_ns() - tr->t0;
}

/* Is the dynamic linker's list of objects consistent (after a change:
 * the objects are mapped, none of their code has run yet)? */
static bool rendezvous_consistent(struct process *p)
{
	enum { RT_CONSISTENT = 0, R_STATE_OFFSET = 24 };
	int32_t state = -1;

	return p->r_debug &&
	       mem_read(p->memfd, p->r_debug + R_STATE_OFFSET, &state,
			sizeof(state)) == 0 && state == RT_CONSISTENT;
}

/* The dynamic linker's list of objects changed: look at the modules once
 * it is consistent again. */
static int on_rendezvous(struct tracer *tr, struct process *p, pid_t tid)
{
	if (!rendezvous_consistent(p))
		return 0;
	if (process_sync_modules(tr, p, tid, false) != 0)
		return -1;
	return tracer_started(tr, p);
}

/* A thread at the rendezvous while others of its process run (a dlopen
 * or dlclose in a program with threads): a module's probes go in only
 * with every thread stopped (image.c, may_probe).  Unless int3s are all
 * the process can have, the thread waits, its pc back on the breakpoint,
 * for tracer_run to stop every thread and look at the modules
 * (world_sync); its breakpoint then traps again and goes on.  A vfork
 * child's parent cannot stop until the child execs: not with one.  True
 * when the thread waits. */
static bool rendezvous_waits(struct tracer *tr, struct event *ev,
			     uint64_t addr)
{
	struct thread *th = ev->th;
	struct process *p = th->proc;
	size_t nthreads = 0;

	if (tr->opts->engine == ENGINE_INT3 || tr->world_stopped ||
	    p->probes.failed || p->probes.nosys || p->probes.to_int3 ||
	    p->probes.vfork_child || !process_follows_libs(tr) ||
	    (tr->opts->rss_source & RSS_FILE_MASK) != RSS_STATM)
		return false;
	for (size_t i = 0; i < tr->threads.n; i++) {
		const struct thread *o = &tr->threads.threads[i];

		if (o->proc != p)
			continue;
		if (o->detach_at_exec)
			return false;
		nthreads++;
	}
	if (nthreads < 2 || !rendezvous_consistent(p))
		return false;
	arch_set_pc(&ev->regs, addr);
	if (ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) != 0)
		return false;
	th->stopped = true;
	th->pending_sig = ev->merged ? SIGTRAP : 0;
	th->await_world = true;
	tr->world_sync = true;
	return true;
}

/* Every thread stopped, the modules of the processes whose threads wait
 * at the rendezvous are looked at, as on_rendezvous would with one
 * thread; then every thread goes on, those at the rendezvous through
 * their breakpoint again (rendezvous_waits lets them by). */
static void world_sync(struct tracer *tr)
{
	tr->world_sync = false;
	if (!tracer_quiesce(tr)) {
		tr->fatal = true;
		return;
	}
	/* asked to stop meanwhile: the detach comes next, with the waiting
	 * threads' pcs on the breakpoint that goes away */
	if (stop_requested)
		return;
	if (tr->probing)
		drain_all(tr);
	tr->world_stopped = tr->world_synced = true;
	for (size_t i = 0; i < tr->threads.n && !tr->fatal; i++) {
		struct thread *th = &tr->threads.threads[i];
		regs_t r;

		if (!th->await_world)
			continue;
		th->await_world = false;
		if (!th->proc || th->proc->exited ||
		    ptrace(PTRACE_GETREGS, th->tid, 0, &r) != 0)
			continue;
		if (on_rendezvous(tr, th->proc, th->tid) != 0)
			tr->fatal = true;
		th->synced_sp = arch_sp(&r);
	}
	tr->world_stopped = tr->world_synced = false;
	if (!tr->fatal)
		tracer_resume_all(tr);
}

/* The selection is checked once the start-up modules are in: entries that
 * match nothing are warnings (errors with --strict), and a selection that
 * matches nothing at all is an error.  With --list-funcs, this is the end.
 * Returns -1 to end tracing. */
struct unmatched_count {
	bool strict;
	size_t bad;
};

/* The first few are named; a long list of names that match nothing (a
 * funcs file for another program) would bury the output. */
enum { UNMATCHED_NAMED = 10 };

static void report_unmatched(const char *origin, int line, const char *text,
			     bool pending, void *arg)
{
	struct unmatched_count *uc = arg;

	(void)pending;		/* never at start-up */
	if (++uc->bad > UNMATCHED_NAMED)
		return;
	if (uc->strict && line)
		error_msg("%s:%d: '%s' matches no function", origin, line, text);
	else if (uc->strict)
		error_msg("%s '%s' matches no function", origin, text);
	else if (line)
		warn_msg("%s:%d: '%s' matches no function", origin, line, text);
	else
		warn_msg("%s '%s' matches no function", origin, text);
}

int tracer_started(struct tracer *tr, struct process *p)
{
	struct selection *sel = tr->opts->sel;
	struct unmatched_count uc = { .strict = tr->opts->strict };

	if (p->started)
		return 0;
	p->started = true;
	/* the checks are about the selection, made once, on the first
	 * process (the program, or the first attached) */
	if (tr->checked)
		return 0;
	tr->checked = true;
	if (!selection_is_default(sel) && !p->nfuncs && !selection_pending(sel)) {
		if (tr->untraced_named)
			error_msg("no selected function can be traced");
		else
			error_msg("no function matches the selection; see what "
				  "there is with --list-funcs");
		tr->exit_code = EXIT_IPROFMEM;
		return -1;
	}
	selection_report_unmatched(sel, false, report_unmatched, &uc);
	if (uc.bad > UNMATCHED_NAMED && uc.strict)
		error_msg("... and %zu more entries match no function",
			  uc.bad - UNMATCHED_NAMED);
	else if (uc.bad > UNMATCHED_NAMED)
		warn_msg("... and %zu more entries match no function",
			 uc.bad - UNMATCHED_NAMED);
	if (uc.bad && tr->opts->strict) {
		tr->exit_code = EXIT_IPROFMEM;
		return -1;
	}
	if (tr->opts->list_out)
		tr->list_done = true;
	return 0;
}

static bool signal_ignored(pid_t tid, int sig)
{
	return status_mask(tid, "SigIgn") & sig_bit(sig);
}

/* SEGV_ACCERR when addr is mapped (without the access), SEGV_MAPERR when
 * it is not, as the kernel would say. */
static int segv_code(pid_t pid, uint64_t addr)
{
	static char buf[MAPS_MAX];

	return read_proc_file(pid, "maps", buf, sizeof(buf)) &&
	       procfs_maps_contains(buf, addr) ? SEGV_ACCERR : SEGV_MAPERR;
}

/* The displaced instruction could not be replayed: the stack it pushes to
 * or pops from is not there (a corrupt stack pointer).  The thread gets
 * the SIGSEGV the instruction would have raised, at the instruction, with
 * the fault's address; blocked, it is unblocked, as the kernel does for
 * a fault.  (A SIGSEGV the program ignores would make it fault again
 * forever: it is killed instead, as the kernel would kill it.) */
static void replay_fault(struct tracer *tr, struct event *ev)
{
	siginfo_t si = { .si_signo = SIGSEGV };
	struct process *p = ev->th->proc;
	uint64_t mask, addr = arch_stack_access(
		&(struct replay_ctx){ ev->tid, p->memfd }, &ev->bp->insn,
		&ev->regs);

	if (!addr || ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) != 0) {
		if (errno != ESRCH)
			warn_msg("replaying the instruction at %#llx: %s",
				 (unsigned long long)ev->bp->addr,
				 strerror(errno));
		return;		/* gone: its exit follows */
	}
	if (signal_ignored(ev->tid, SIGSEGV)) {
		kill(p->pid, SIGKILL);
		return;
	}
	si.si_code = segv_code(p->pid, addr);
	si.si_addr = (void *)(uintptr_t)addr;
	ptrace(PTRACE_SETSIGINFO, ev->tid, 0, &si);
	if (ptrace(PTRACE_GETSIGMASK, ev->tid, sizeof(mask), &mask) == 0 &&
	    (mask & sig_bit(SIGSEGV))) {
		mask &= ~sig_bit(SIGSEGV);
		ptrace(PTRACE_SETSIGMASK, ev->tid, sizeof(mask), &mask);
	}
	thread_resume(tr, ev->th, ev->tid, SIGSEGV, false);
}

/* Does a return site's instruction `in`, going to dest, leave its
 * function (whose ranges are at ranges_at in the process)?  A jcc not
 * taken, or an indirect jmp through a switch table, stays. */
static bool leaves(const struct process *p, const struct insn *in,
		   uint32_t ranges_at, uint32_t nranges, uint64_t dest)
{
	if (in->op == INSN_JCC && dest == in->addr + in->len)
		return false;
	if (in->op == INSN_JMP_IND &&
	    insn_in_ranges(dest, p->ranges + ranges_at, nranges))
		return false;
	return true;
}

/* The frame of fn at sp that another thread of p holds, if one does,
 * moves to sh (thread_adopt): the probes' shadows, or the threads'. */
static void adopt_frame(struct tracer *tr, struct process *p,
			struct thread *sh, int32_t fn, uint64_t sp)
{
	if (p->probes.cap_shadows && probes_adopt(p, sh, fn, sp))
		return;
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *o = &tr->threads.threads[i];

		if (o != sh && o->proc == p && thread_adopt(sh, o, fn, sp))
			return;
	}
}

/* A return site of fn (its instruction `in`, fn's ranges at ranges_at in
 * the process) was reached with stack pointer sp; the thread goes to dest
 * next.  A jump leaves the function only when its target is outside it:
 * a jcc not taken, or an indirect jmp through a switch table, stays.
 * Leaving for the entry of a traced function is a tail call: the frame
 * stays open until the callee's ends, as if the function had called it. */
void tracer_leave(struct tracer *tr, struct process *p, struct thread *sh,
		  int32_t fn, const struct insn *in, uint32_t ranges_at,
		  uint32_t nranges, uint64_t sp, uint64_t dest,
		  const struct trap *trap)
{
	const struct bp *to;
	int32_t callee, last;

	if (in->op != INSN_RET && !leaves(p, in, ranges_at, nranges, dest))
		return;
	/* no frame of fn at sp in this thread, even parked: a coroutine
	 * that another thread ran into the call, resumed by this one (a
	 * goroutine, a fiber); only then is anything searched */
	if (!(sh->depth && sh->stack[sh->depth - 1].sp == sp) &&
	    !thread_has_frame(sh, fn, sp))
		adopt_frame(tr, p, sh, fn, sp);
	if (in->op != INSN_RET) {
		/* the entry there: an int3's, or a probe's */
		to = bp_table_find(&p->bps, dest);
		callee = to && to->entry_fn >= 0 ? to->entry_fn :
			 p->probes.on ? probes_entry_fn(p, dest) : -1;
		if (callee >= 0) {
			thread_tail_call(sh, p->rep, fn, callee, sp, trap);
			return;
		}
	}
	last = thread_return(sh, p->rep, fn, sp, trap);
	/* a caller whose ret only this return leads to, and that has no
	 * site there (probes.follow), returns with it: only at a ret, which
	 * goes back into it (never at a jump to an untraced function) */
	while (last >= 0 && in->op == INSN_RET && sh->depth) {
		const struct frame *top = &sh->stack[sh->depth - 1];
		const struct probe_follow *fw;

		if ((size_t)top->fn >= p->probes.nfollow)
			break;
		fw = &p->probes.follow[top->fn];
		if (fw->callee != last || top->sp != sp + fw->delta)
			break;
		sp = top->sp;
		last = thread_return(sh, p->rep, top->fn, sp, trap);
	}
}

/* A traced function fn was entered with stack pointer sp.  A handler run
 * on a sigaltstack above the frames it interrupted must not end them: it
 * is told by its return address, the signal trampoline, which is read
 * only in that rare case (for a probe's event, after the fact: the word
 * may then hold anything, which process_sigreturn_at must not follow
 * into the program's memory).  Not for a tail call's entry, level with
 * the frame that jumped, which ends no frame: up to six system calls an
 * entry, and some programs tail-call at every other call. */
void tracer_enter(struct process *p, struct thread *sh, int32_t fn,
		  uint64_t sp, const struct trap *trap)
{
	/* An entry above the thread's frames: a signal handler on an
	 * alternate stack keeps them, a longjmp'd-from call does not.  A
	 * probe's event is read after the fact: when the stack can no
	 * longer be read (the program ended, or unmapped it), the frames
	 * stay, as nothing says they were left. */
	thread_enter(sh, p->rep, fn, sp, trap,
		     thread_enter_ends_frames(sh, fn, sp) &&
		     process_sigreturn_at(p, sp) != 0);
}

/* One RSS curve per report: in a shared report, the first process's
 * (others would zigzag through it). */
void tracer_sample(struct tracer *tr, struct process *p, const struct trap *trap)
{
	tracer_sample_n(tr, p, trap, 1);
}

void tracer_sample_n(struct tracer *tr, struct process *p,
		     const struct trap *trap, uint64_t n)
{
	if (trap->rss >= 0 && (tr->opts->per_process || p == tr->procs[0]))
		report_sample_n(p->rep, trap->time, trap->rss, n);
}

static void out_of_probe(struct tracer *tr, struct thread *th, pid_t tid);

static void on_breakpoint(struct tracer *tr, struct event *ev)
{
	struct bp *b = ev->bp;
	struct thread *th = ev->th;
	struct process *p = th->proc;
	struct thread *shadow;
	uint64_t key;
	struct trap trap;
	regs_t at_site;
	int sig;
	bool site, defer = probes_can_defer(p) && !tr->quiescing &&
			   !b->rendezvous && !tr->list_done;

	if (!defer && tr->probing)
		drain_all(tr);
	arch_set_pc(&ev->regs, b->addr);
	if (tr->quiescing) {
		/* not taken: it will run the original instruction once the
		 * breakpoints are gone, or trap again if they stay */
		if (ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) == 0)
			thread_resume(tr, th, ev->tid,
				      ev->merged ? SIGTRAP : 0, false);
		return;
	}
	if (b->rendezvous) {
		uint64_t addr = b->addr;

		/* here again after world_sync: on */
		bool synced = th->synced_sp &&
			      th->synced_sp == arch_sp(&ev->regs);

		th->synced_sp = 0;
		if (!synced && rendezvous_waits(tr, ev, addr))
			return;
		if (!synced && on_rendezvous(tr, p, ev->tid) != 0) {
			tr->fatal = true;
			return;
		}
		/* the probes' set-up may have given the thread an fs base
		 * (give_fs_dummies), which the SETREGS below must keep */
		if (p->probes.on &&
		    ptrace(PTRACE_GETREGS, ev->tid, 0, &ev->regs) == 0)
			arch_set_pc(&ev->regs, addr);
		/* new breakpoints may have moved the table */
		b = bp_table_find(&p->bps, addr);
	}
	if (tr->list_done)
		return;		/* --list-funcs: the program goes no further */
	/* RSS before the instruction runs (a push may touch a new stack
	 * page: the callee's); then the replay, as where a jump goes
	 * decides what the site means.  An instruction that faults did
	 * not happen, and runs again (and traps again) if the handler
	 * returns. */
	site = b->entry_fn >= 0 || b->ret_fn >= 0;	/* not the rendezvous */
	trap.rss = site ? process_rss(tr, p, ev->tid) : -1;
	trap.time = tracer_clock(tr);
	at_site = ev->regs;
	if (arch_replay(&(struct replay_ctx){ ev->tid, p->memfd }, &ev->regs,
			&b->insn, b->slot) != 0) {
		ev->regs = at_site;
		replay_fault(tr, ev);
		return;
	}
	/* a replayed push or call wrote the stack in the kernel's name */
	if (b->insn.op == INSN_PUSH || b->insn.op == INSN_CALL ||
	    b->insn.op == INSN_CALL_IND)
		probes_gate_touch(p);
	key = probes_key(p, at_site.fs_base);
	th->key = key;
	/* an entry that is also a return is two events, as with probes; a
	 * return site is one only when the function is left there (a jcc
	 * that falls through, or a switch's jmp, is a stop but no event) */
	tr->pstats.events_int3 += (b->entry_fn >= 0) +
		(b->ret_fn >= 0 && leaves(p, &b->insn, b->ranges_at,
					   b->nranges, arch_pc(&ev->regs)));
	tr->pstats.stops_int3 += site;
	report_progress_stop();
	if (defer) {
		struct probe_trap t = {
			.key = key, .sp = arch_sp(&at_site),
			.dest = arch_pc(&ev->regs), .rss = trap.rss,
			.entry_fn = b->entry_fn, .ret_fn = b->ret_fn,
			.ranges_at = b->ranges_at, .nranges = b->nranges,
			.insn = b->insn,
		};

		probes_defer(tr, p, &t);
	} else {
		shadow = p->probes.on ? probes_shadow(p, key) : th;
		tracer_sample(tr, p, &trap);
		if (b->entry_fn >= 0)
			tracer_enter(p, shadow, b->entry_fn, arch_sp(&at_site),
				     &trap);
		if (b->ret_fn >= 0)
			tracer_leave(tr, p, shadow, b->ret_fn, &b->insn,
				     b->ranges_at, b->nranges,
				     arch_sp(&at_site), arch_pc(&ev->regs),
				     &trap);
	}
	if (ptrace(PTRACE_SETREGS, ev->tid, 0, &ev->regs) != 0)
		return;		/* the thread is gone; its exit follows */
	th->resume_pc = arch_pc(&ev->regs);
	th->resume_sp = arch_sp(&ev->regs);
	sig = ev->merged ? SIGTRAP : 0;
	if (p->trap_guard)
		sig = trap_guard_check(p, ev->tid, ev->merged ? &ev->si : NULL);
	/* stepping out of a stub, it reached the stub's own int3 (a tail
	 * call through an indirect jmp): replayed, it is out */
	if (th->leaving && !sig) {
		out_of_probe(tr, th, ev->tid);
		return;
	}
	thread_resume(tr, th, ev->tid, sig, false);
}

static void detach_process(struct tracer *tr, struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];
		int sig;

		if (th->proc != p)
			continue;
		sig = with_owed(th, th->tid, 0, false);
		sig = signal_still_due(th->tid, sig);
		ptrace(PTRACE_DETACH, th->tid, 0, (long)sig);
	}
	process_drop_threads(tr, p);
	process_end(p);
}

/* After an exec: is the new image x86-64 code?  A 32-bit program has
 * nothing iprofmem can trace, and x86-64 breakpoints would break it. */
static bool native_image(pid_t tid)
{
	regs_t r;

	return ptrace(PTRACE_GETREGS, tid, 0, &r) != 0 || arch_native(&r);
}

/* The vfork child of p has let p's memory go (exec or exit), and p's
 * thread is held until it is resumed: every event the child made with
 * p's probes and thread key is in the ring by now, and every event after
 * it is p's own again.  Taken in that order, whichever of the child's exec
 * and the parent's vfork-done comes first. */
static void vfork_over(struct tracer *tr, struct process *p)
{
	if (tr->probing)
		drain_all(tr);
	probes_vfork(p, 0, 0);
}

static void on_vfork_done(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (th && th->proc && th->proc->probes.vfork_child)
		vfork_over(tr, th->proc);
	resume_tid(tr, ev->tid, 0);
}

static int on_exec(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	struct process *p = process_find(tr, ev->tid);
	bool first;

	if ((th && th->detach_at_exec) || !p) {
		/* a vfork child we do not follow: its new image has no
		 * breakpoints, and it is not ours to trace */
		if (th && th->proc && th->proc->probes.vfork_child == ev->tid)
			vfork_over(tr, th->proc);
		thread_remove(&tr->threads, ev->tid);
		ptrace(PTRACE_DETACH, ev->tid, 0, 0);
		return 0;
	}
	/* The old image is gone and with it every other thread (the execing
	 * one now has the leader's id), every breakpoint and every frame. */
	probes_forget(tr, p);
	process_drop_threads(tr, p);
	th = thread_add(&tr->threads, ev->tid);
	th->proc = p;
	th->started = true;
	process_forget_modules(p);
	first = !p->exec_seen;
	p->exec_seen = true;
	process_set_cmdline(tr, p);
	if (process_open_files(tr, p) != 0) {
		error_msg("opening /proc/%d: %s", (int)p->pid, strerror(errno));
		return first && p->pid == tr->leader ? -1 : (detach_process(tr, p), 0);
	}
	if (tr->quiescing) {
		/* attaching: the image is loaded once all are stopped;
		 * detaching: there is nothing to take out of the new image */
		thread_resume(tr, th, ev->tid, 0, false);
		return 0;
	}
	if (!native_image(ev->tid)) {
		char *cmd = tracer_read_cmdline(p->pid);

		warn_msg("process %d runs a 32-bit program (%s): not traced",
			 (int)p->pid, cmd ? cmd : "?");
		free(cmd);
		detach_process(tr, p);
		return 0;
	}
	if (process_sync_modules(tr, p, ev->tid, true) != 0) {
		if (first && p->pid == tr->leader)
			return -1;
		/* a later image we cannot read: let that process run free */
		process_restore_bytes(p, p->memfd);
		detach_process(tr, p);
		return 0;
	}
	/* without a rendezvous to wait for, start-up is now */
	if (!p->r_debug && tracer_started(tr, p) != 0)
		return -1;
	if (!tr->list_done)	/* --list-funcs: the program goes no further */
		thread_resume(tr, th, ev->tid, 0, false);
	return 0;
}

/* Is the new task a separate address space (fork, vfork, clone without
 * CLONE_VM)? */
static bool separate_mm(pid_t parent, pid_t child)
{
	return syscall(SYS_kcmp, parent, child, KCMP_VM, 0, 0) > 0;
}

static bool same_mm(pid_t parent, pid_t child)
{
	return syscall(SYS_kcmp, parent, child, KCMP_VM, 0, 0) == 0;
}

/* The next stop (or the end) of one thread.  A signal to iprofmem (the
 * second of a timeout(1), --duration's alarm) does not end the wait: the
 * thread is on its way to a stop that the detach or the child's set-up
 * must see first.  False when it is gone. */
static bool wait_thread(pid_t tid, int *status)
{
	pid_t w;

	while ((w = waitpid(tid, status, __WALL)) < 0 && errno == EINTR)
		;
	return w == tid;
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
	/* a signal to iprofmem (--duration...) must not make us give up a
	 * child that is about to stop, with our int3s in its text */
	if (!wait_thread(child, &status) || !WIFSTOPPED(status))
		return false;
	in_hand[1] = child;
	return true;
}

/* A new thread (or followed process) is known: resume it if its first
 * stop was already seen, else when it comes. */
static void start_thread(struct tracer *tr, struct thread *th)
{
	bool held = th->held;

	th->held = false;
	th->started = true;
	if (held)
		thread_resume(tr, th, th->tid, 0, false);
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

	if (vfork && !tr->detaching) {
		th = thread_add(&tr->threads, child);
		th->proc = pp;
		th->detach_at_exec = true;
		start_thread(tr, th);
		return;
	}
	if (!child_stopped(tr, child))
		return;
	fd = mem_open(child);
	if (fd >= 0) {
		regs_t r;

		process_restore_bytes(pp, fd);
		probes_restore(pp, fd);
		probes_let_go(pp, child, fd);
		/* its copies of the areas are its own: a later attach to it
		 * may use them again as after a detach */
		if (!vfork)
			areas_retire(pp, fd, ptrace(PTRACE_GETREGS, child, 0,
						    &r) == 0 &&
					     !areas_hold(pp, arch_pc(&r)));
		close(fd);
	}
	ptrace(PTRACE_DETACH, child, 0, 0);
}

/* -f: the child is a process of its own, with a copy of its parent's
 * breakpoints (the same int3s are in its copy of the text, or in the very
 * same memory for vfork). */
static void follow_child(struct tracer *tr, struct process *pp, pid_t child,
			 pid_t tid, bool vfork)
{
	const char *cmd = tr->opts->per_process ?
		tr->res->procs[pp->result].cmdline : NULL;
	struct process *p = process_new(tr, child, pp->rep, cmd);
	bool probed = pp->probes.on && !vfork, stopped = false;
	struct thread *th;
	regs_t r;

	p->exec_seen = true;
	process_copy_image(p, pp);
	probes_copy_follow(p, pp);
	if (process_open_files(tr, p) != 0)
		warn_msg("opening /proc/%d: %s", (int)child, strerror(errno));
	/* a forked child with probes in its copy of the text: set them up
	 * in it before it runs (a vfork child shares its parent's) */
	if (probed)
		stopped = child_stopped(tr, child);
	th = thread_add(&tr->threads, child);
	th->proc = p;
	if (!probed) {
		start_thread(tr, th);
		return;
	}
	if (!stopped)
		return;		/* gone */
	probes_filter_check(tr, pp);
	if (pp->probes.nosys) {
		warn_msg("process %d has its parent's seccomp filter: its "
			 "probed sites are not traced (--engine=int3 traces "
			 "them)", (int)child);
		if (p->memfd >= 0) {
			probes_restore(pp, p->memfd);
			probes_let_go(pp, child, p->memfd);
		}
	} else if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0 ||
		   probes_fork(tr, p, pp, child,
			       probes_key(pp, r.fs_base)) != 0) {
		warn_msg("cannot set the probes up in process %d: its probed "
			 "sites are not traced", (int)child);
		if (p->memfd >= 0)
			probes_restore(pp, p->memfd);
	}
	th->started = true;
	thread_resume(tr, th, child, 0, false);
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
	/* a child born while detaching is let go, like every thread */
	if (tr->opts->follow_forks && !tr->detaching)
		follow_child(tr, parent->proc, child, tid, vfork);
	else
		let_child_go(tr, parent->proc, child, vfork);
	/* thread_add may have moved the parent's entry */
	parent = thread_find(&tr->threads, tid);
	th = thread_find(&tr->threads, child);
	if (parent && th)
		thread_copy_stack(th, parent);
}

/* A new thread of tid's process, or a process sharing its memory (made
 * by clone with CLONE_VM, not a vfork): one more thread of the traced
 * address space.  Its first stop may come before or after its creator's
 * event; whichever comes second resumes it. */
static void add_sharer(struct tracer *tr, pid_t tid, pid_t child)
{
	struct thread *th = thread_add(&tr->threads, child);
	struct thread *parent = thread_find(&tr->threads, tid);

	th->proc = parent ? parent->proc : NULL;
	/* neither runs yet: the ring's producers become several before
	 * either probes again; one made without a thread pointer of its
	 * own waits until the process has gone over to int3s */
	if (th->proc) {
		probes_shared(th->proc);
		if (probes_clone(th->proc, tid, child) && !tr->detaching) {
			th->await_int3 = true;
			tr->to_int3 = true;
			return;
		}
	}
	start_thread(tr, th);
}

static void on_fork(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	unsigned long msg = 0;
	regs_t r;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	/* clone(CLONE_VM) with SIGCHLD is reported as a fork: its child's
	 * memory is the parent's, whose breakpoints and probes it runs */
	if (!ev->vfork && same_mm(ev->tid, (pid_t)msg)) {
		add_sharer(tr, ev->tid, (pid_t)msg);
		resume_tid(tr, ev->tid, 0);
		return;
	}
	/* a vfork child runs the parent's probes with its thread key */
	if (ev->vfork && th && th->proc && th->proc->probes.on &&
	    ptrace(PTRACE_GETREGS, ev->tid, 0, &r) == 0)
		probes_vfork(th->proc, probes_key(th->proc, r.fs_base),
			     (pid_t)msg);
	new_child(tr, ev->tid, (pid_t)msg, ev->vfork);
	resume_tid(tr, ev->tid, 0);
}

/* A new thread.  A clone without CLONE_VM is a new process, handled as a
 * fork. */
static void on_clone(struct tracer *tr, struct event *ev)
{
	unsigned long msg = 0;
	pid_t child;

	ptrace(PTRACE_GETEVENTMSG, ev->tid, 0, &msg);
	child = (pid_t)msg;
	if (separate_mm(ev->tid, child))
		new_child(tr, ev->tid, child, false);
	else
		add_sharer(tr, ev->tid, child);
	resume_tid(tr, ev->tid, 0);
}

static void on_ptrace_stop(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (!th || !th->started) {
		/* first stop of a child whose creation event is still queued:
		 * we do not know yet whether it is a thread or a process */
		if (!th)
			th = thread_add(&tr->threads, ev->tid);
		th->held = true;
		return;
	}
	thread_resume(tr, th, ev->tid, 0, false);
}

static void on_exit_event(struct tracer *tr, struct event *ev)
{
	struct process *p = process_find(tr, ev->tid);
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (th && th->proc && th->proc->probes.on) {
		probes_drain(tr, th->proc);
		if (th->proc->probes.vfork_child == ev->tid)
			probes_vfork(th->proc, 0, 0);
		else
			probes_thread_gone(th->proc, th->key);
	}
	thread_remove(&tr->threads, ev->tid);
	if (ev->tid == tr->leader)
		tr->res->status = ev->status;
	if (!p)
		return;
	/* a seccomp filter that kills on a call it does not allow, which
	 * no watch saw coming (perf events refused: ENGINES in the man
	 * page): say what to do */
	if (p->probes.on && WIFSIGNALED(ev->status) &&
	    WTERMSIG(ev->status) == SIGSYS)
		warn_msg("process %d was killed by SIGSYS: if it is not killed "
			 "untraced, a seccomp filter of its own killed a probe's "
			 "system call; trace it with --engine=int3", (int)p->pid);
	/* the leader's exit ends the process once no thread of it is left
	 * (it can be reported early when another thread execs) */
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p)
			return;
	probes_forget(tr, p);
	process_end(p);
}

/* Does the thread have a SIGTRAP pending?  A thread that executed an int3
 * just as it was interrupted reports the interrupt first, with the trap
 * queued behind it. */
static bool trap_pending(pid_t tid)
{
	return status_mask(tid, "SigPnd") & sig_bit(SIGTRAP);
}

/* While quiescing: note whether the thread stopped inside a system call
 * (an event stop, where an injected system call's result would be
 * overwritten), and let a thread with a trap queued take it first, so
 * that it is rewound off its breakpoint rather than detached with a
 * SIGTRAP that would kill it.  Returns true when the event is dealt with. */
static bool quiescing_event(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);

	if (!th)
		return false;
	th->event_stop = ev->kind == EV_CLONE || ev->kind == EV_FORK ||
			 ev->kind == EV_EXEC || ev->kind == EV_VFORK_DONE ||
			 ev->kind == EV_OTHER;
	if ((ev->kind == EV_PTRACE_STOP || ev->kind == EV_GROUP_STOP) &&
	    th->started && th->proc && th->proc->bps.n && trap_pending(ev->tid) &&
	    ptrace(PTRACE_CONT, ev->tid, 0, 0) == 0)
		return true;
	return false;
}

/* A thread inside an out-of-line slot goes back to the code the slot
 * stands for.  Returns whether its pc changed. */
static bool leave_slot(const struct process *p, regs_t *r)
{
	uint64_t pc = arch_pc(r);

	for (size_t i = 0; i < p->nslot_areas; i++) {
		const struct addr_range *a = &p->slot_areas[i];
		uint64_t slot;

		if (pc < a->lo || pc >= a->hi)
			continue;
		slot = pc - (pc - a->lo) % ARCH_SLOT_SIZE;
		bp_table_for_each(&p->bps, b)
			if (b->slot == slot) {
				arch_set_pc(r, arch_pc_out_of_slot(pc, &b->insn,
								   slot));
				return arch_pc(r) != pc;
			}
	}
	return false;
}

/* Is the signal a fault of the thread's own instruction? */
static bool is_fault(pid_t tid, int sig)
{
	siginfo_t si;

	return (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
		sig == SIGFPE || sig == SIGTRAP) &&
	       ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 && si.si_code > 0;
}

/* A signal is delivered to a thread inside an out-of-line slot (the copied
 * instruction faulted, or a signal came just then): the handler must see the
 * program's own address, as it would untraced, not the slot's.  Returning
 * there reruns the instruction through its breakpoint. */
static void signal_out_of_slot(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	struct process *owner = th && th->proc ? probes_owner(tr, th->proc)
					       : NULL;
	regs_t r;

	if (!th || !th->proc || !(th->proc->nslot_areas || owner) ||
	    ptrace(PTRACE_GETREGS, ev->tid, 0, &r) != 0)
		return;
	if (leave_slot(th->proc, &r) ||
	    probes_leave_stub(th->proc, &r, is_fault(ev->tid, ev->sig)))
		ptrace(PTRACE_SETREGS, ev->tid, 0, &r);
	/* still in an area (an instruction of a stub that stands for none
	 * of the program's): the frame returns there */
	areas_signal_at(owner ? owner : th->proc, arch_pc(&r));
}

/* ---- signals for a thread inside probe code -------------------------- */

/* Single steps through the probe's whole path, a statm read and a wait
 * for room in the ring included, are a few thousand at most. */
#define STEPS_OUT 16384

/* Let the thread go on, one single step at a time, to where it is out of
 * the probe code and stubs.  (A hardware breakpoint at the probe's exit
 * would save the steps through the probe, but some virtual machines
 * never fire one.) */
static void step_out(struct thread *th, pid_t tid)
{
	th->leaving = 1;
	if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) != 0)
		th->leaving = 0;
}

/* The thread stepping out of probe code is out: its held signals go, the
 * first with it, the others sent again. */
static void out_of_probe(struct tracer *tr, struct thread *th, pid_t tid)
{
	th->leaving = th->steps = 0;
	for (int i = 1; i < th->nheld; i++)
		if (signal_still_due(tid, th->held_si[i].si_signo))
			syscall(SYS_tgkill, th->proc ? th->proc->pid : tid,
				tid, th->held_si[i].si_signo);
	if (th->nheld) {
		regs_t r;

		/* out of steps: the frame goes where the thread stands */
		if (th->proc && ptrace(PTRACE_GETREGS, tid, 0, &r) == 0)
			areas_signal_at(th->proc, arch_pc(&r));
		ptrace(PTRACE_SETSIGINFO, tid, 0, &th->held_si[0]);
		th->nheld = 0;
		thread_resume(tr, th, tid, th->held_si[0].si_signo, false);
		return;
	}
	thread_resume(tr, th, tid, 0, false);
}

/* A popfq at the thread's pc, done here rather than stepped: a popf
 * that is single-stepped makes the trap flag the program's (the kernel
 * no longer clears it when we let go), and the flags it pops were pushed
 * with the trap flag set if the pushf was stepped too; the thread would
 * then trap after every instruction.  The flags it may change, without
 * TF.  True when done (r updated, to be set). */
static bool popf_done(const struct process *p, regs_t *r)
{
	const uint64_t user = 0x254dd5;	/* CF PF AF ZF SF TF DF OF NT AC ID */
	uint8_t b[2];
	uint64_t v;
	unsigned len;

	if (mem_read(p->memfd, r->rip, b, sizeof(b)) != 0)
		return false;
	len = b[0] == 0x9d ? 1 : b[0] == 0x48 && b[1] == 0x9d ? 2 : 0;
	if (!len || mem_read(p->memfd, r->rsp, &v, sizeof(v)) != 0)
		return false;
	r->eflags = (r->eflags & ~user) | (v & user & ~(uint64_t)0x100);
	r->rsp += 8;
	r->rip += len;
	return true;
}

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1		/* SIGSYS's si_code for a seccomp filter */
#endif

/* A seccomp filter that the program installed after the set-up trapped
 * (SECCOMP_RET_TRAP: SIGSYS) a system call of the probe's own: its statm
 * read, a reopen, a wait for room in the ring.  The call fails with
 * ENOSYS instead, and the signal, which the program's code did not
 * cause, goes; the probe then stops for the RSS (probes_serve_rss).
 * Returns true when it was that. */
static bool probe_call_refused(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	struct process *owner;
	uint64_t exit = 0;
	siginfo_t si;
	regs_t r;

	if (ev->sig != SIGSYS || !th || !th->proc ||
	    !(owner = probes_owner(tr, th->proc)) ||
	    ptrace(PTRACE_GETSIGINFO, ev->tid, 0, &si) != 0 ||
	    si.si_code != SYS_SECCOMP ||
	    ptrace(PTRACE_GETREGS, ev->tid, 0, &r) != 0 ||
	    !probes_inside(owner, arch_pc(&r), &exit) || !exit)
		return false;
	r.rax = (uint64_t)-ENOSYS;
	if (ptrace(PTRACE_SETREGS, ev->tid, 0, &r) != 0)
		return false;
	tr->pstats.seccomp_refused++;
	if (th->leaving) {
		if (ptrace(PTRACE_SINGLESTEP, ev->tid, 0, 0) != 0)
			th->leaving = 0;
	} else {
		resume_tid(tr, ev->tid, 0);
	}
	return true;
}

/* A signal for a thread inside probe code or a stub is held until the
 * thread is out: its handler runs where it would untraced, with the
 * program's own registers and stack pointer, never on the probe's stack,
 * and its own traced calls do not nest in a probe.  (A fault of the stub
 * itself is the program's: probes_leave_stub says where.)  Returns true
 * when the signal is held. */
static bool hold_in_probe(struct tracer *tr, struct event *ev)
{
	struct thread *th = thread_find(&tr->threads, ev->tid);
	siginfo_t si;
	uint64_t exit = 0;
	regs_t r;

	if (!th || !th->proc || !th->proc->probes.on || tr->quiescing ||
	    ptrace(PTRACE_GETSIGINFO, ev->tid, 0, &si) != 0 ||
	    ptrace(PTRACE_GETREGS, ev->tid, 0, &r) != 0)
		return false;
	if (!th->leaving) {
		bool fault = si.si_code > 0 && (ev->sig == SIGSEGV ||
			ev->sig == SIGBUS || ev->sig == SIGILL ||
			ev->sig == SIGFPE || ev->sig == SIGTRAP);

		if (fault || !probes_inside(th->proc, arch_pc(&r), &exit))
			return false;
		if (!exit && probes_leave_stub(th->proc, &r, false))
			return false;	/* at a point that stands for the site */
	}
	if (th->nheld == (int)(sizeof(th->held_si) / sizeof(*th->held_si)))
		return false;	/* too many at once: this one goes now */
	th->held_si[th->nheld++] = si;
	if (!th->leaving && !exit && popf_done(th->proc, &r))
		ptrace(PTRACE_SETREGS, ev->tid, 0, &r);
	if (!th->leaving)
		step_out(th, ev->tid);
	else if (ptrace(PTRACE_SINGLESTEP, ev->tid, 0, 0) != 0)
		th->leaving = 0;
	return true;
}

/* The thread stepping out stopped: on, or out at last, then its held
 * signals go (the first with it, the others sent again). */
static void on_step(struct tracer *tr, struct event *ev)
{
	struct thread *th = ev->th;
	uint64_t exit;
	regs_t r;

	while (ptrace(PTRACE_GETREGS, ev->tid, 0, &r) == 0 && th->proc &&
	       probes_inside(th->proc, arch_pc(&r), &exit) &&
	       th->steps++ < STEPS_OUT) {
		if (popf_done(th->proc, &r)) {
			ptrace(PTRACE_SETREGS, ev->tid, 0, &r);
			continue;
		}
		if (ptrace(PTRACE_SINGLESTEP, ev->tid, 0, 0) != 0)
			th->leaving = 0;
		return;
	}
	out_of_probe(tr, th, ev->tid);
}

/* Returns false to stop the loop (a fatal error). */
static bool dispatch_event(struct tracer *tr, struct event *ev)
{
	if (tr->quiescing && quiescing_event(tr, ev))
		return true;
	switch (ev->kind) {
	case EV_BREAKPOINT:
		on_breakpoint(tr, ev);
		break;
	case EV_STEP:
		on_step(tr, ev);
		break;
	case EV_RSS_STOP:	/* served: the probe goes on */
		if (ev->th->leaving)
			on_step(tr, ev);
		else
			resume_tid(tr, ev->tid, 0);
		break;
	case EV_SIGNAL:
		if (ev->sig == SIGTRAP && ev->th && ev->th->proc)
			trap_guard_learn(ev->th->proc, ev->tid);
		if (probe_call_refused(tr, ev) || hold_in_probe(tr, ev))
			break;
		signal_out_of_slot(tr, ev);
		resume_tid(tr, ev->tid, ev->sig);
		break;
	case EV_GROUP_STOP:
		thread_resume(tr, thread_find(&tr->threads, ev->tid), ev->tid,
			      0, true);
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
	case EV_VFORK_DONE:
		on_vfork_done(tr, ev);
		break;
	case EV_OTHER:
		resume_tid(tr, ev->tid, 0);
		break;
	case EV_EXIT:
		on_exit_event(tr, ev);
		break;
	}
	return true;
}

/* ---- the loop, quiescing, detaching --------------------------------- */

static bool all_stopped(const struct tracer *tr)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		const struct thread *th = &tr->threads.threads[i];

		if (!th->stopped && !th->held)
			return false;
	}
	return true;
}

static void interrupt_running(struct tracer *tr)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];

		if (!th->stopped && !th->held &&
		    ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) != 0 &&
		    errno != ESRCH)
			warn_msg("interrupting thread %d: %s", (int)th->tid,
				 strerror(errno));
	}
}

static void forward_signal(struct tracer *tr)
{
	int sig = forward_sig;

	forward_sig = 0;
	if (sig && tr->leader > 0)
		kill(tr->leader, sig);
}

/* Can the thread not answer an interrupt now?  In uninterruptible sleep
 * (a vfork parent waiting for its child, I/O on a hung file system) it
 * stops only once the kernel lets it go; any other thread stops at once. */
static bool cannot_answer(pid_t tid)
{
	char buf[512];

	return read_proc_file(tid, "stat", buf, sizeof(buf)) &&
	       procfs_stat_state(buf) == 'D';
}

/* Is every thread that has not stopped yet one that cannot answer? */
static bool only_stuck_left(const struct tracer *tr)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		const struct thread *th = &tr->threads.threads[i];

		if (!th->stopped && !th->held && !cannot_answer(th->tid))
			return false;
	}
	return true;
}

/* Run events until every thread is stopped (or gone).  Returns false on a
 * fatal error. */
bool tracer_quiesce(struct tracer *tr)
{
	struct event ev;
	int r;

	tr->quiescing = true;
	interrupt_running(tr);
	while (!all_stopped(tr)) {
		/* asked again to stop: do not wait for threads that cannot
		 * answer; what is stopped is detached, and the kernel lets
		 * the rest go when iprofmem exits (they stop, interrupted,
		 * before they run a user instruction).  Only those: one
		 * request may come as two signals (timeout(1) sends it to
		 * iprofmem, then to its process group), and a thread left
		 * running would run on in probe code being taken away */
		if (stop_requested > 1 && only_stuck_left(tr))
			break;
		r = next_event(tr, &ev);
		if (r == 0)
			break;
		if (r > 0 && !dispatch_event(tr, &ev))
			return false;
	}
	return true;
}

/* Detaching, every thread stopped: one of p's inside probe code or a stub
 * runs on until it is out (single steps, popf done by us, the ring
 * drained now and then for a probe that waits for room), or is put where
 * the stub stands for the program's own instruction.  A signal that
 * comes meanwhile is kept for the detach. */
static void evacuate(struct tracer *tr, struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];
		uint64_t exit;
		regs_t r;

		if (th->proc != p)
			continue;
		for (int steps = 0; steps < STEPS_OUT; steps++) {
			int status;

			if (ptrace(PTRACE_GETREGS, th->tid, 0, &r) != 0 ||
			    !probes_inside(p, arch_pc(&r), &exit))
				break;
			if (!exit && probes_leave_stub(p, &r, false)) {
				ptrace(PTRACE_SETREGS, th->tid, 0, &r);
				break;
			}
			if (popf_done(p, &r)) {
				ptrace(PTRACE_SETREGS, th->tid, 0, &r);
				continue;
			}
			if (steps % 1024 == 1023)
				probes_drain(tr, p);
			if (ptrace(PTRACE_SINGLESTEP, th->tid, 0, 0) != 0 ||
			    !wait_thread(th->tid, &status))
				break;
			if (!WIFSTOPPED(status))
				break;	/* gone */
			/* the probe stepped into its int3 for the RSS */
			if (WSTOPSIG(status) == SIGTRAP &&
			    ptrace(PTRACE_GETREGS, th->tid, 0, &r) == 0 &&
			    probes_serve_rss(tr, p, th->tid, &r))
				continue;
			if (WSTOPSIG(status) != SIGTRAP && !th->pending_sig &&
			    status >> 16 == 0)
				th->pending_sig = WSTOPSIG(status);
		}
	}
}

/* A thread of p that can run an injected system call (stopped outside
 * one), or 0. */
static pid_t syscall_thread(const struct tracer *tr, const struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p &&
		    !tr->threads.threads[i].event_stop)
			return tr->threads.threads[i].tid;
	return 0;
}

/* Did every thread of p stop?  Not when the quiesce stopped waiting for
 * threads that could not answer. */
static bool all_of_stopped(const struct tracer *tr, const struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++)
		if (tr->threads.threads[i].proc == p &&
		    !tr->threads.threads[i].stopped)
			return false;
	return true;
}

/* Is every thread of p (all stopped) out of its areas, or about to be
 * (a slot's is taken out at the detach)? */
static bool threads_out(const struct tracer *tr, const struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; i++) {
		regs_t r;

		if (tr->threads.threads[i].proc != p)
			continue;
		if (ptrace(PTRACE_GETREGS, tr->threads.threads[i].tid, 0,
			   &r) != 0)
			return false;
		leave_slot(p, &r);
		if (areas_hold(p, arch_pc(&r)))
			return false;
	}
	return true;
}

/* The processes marked by probes_clone go over to the int3 engine, every
 * thread stopped.  As at a detach, the ring is drained, the threads are
 * taken out of the probe code, its bytes are put back and what it costs
 * the program is taken back; then each thread gets the shadow stack of
 * its key and every site an int3.  Frames in progress must not count
 * what that moved in the program's RSS (the probes' pages gone, the
 * slots' come): it becomes the process's bias.  The threads that waited
 * for it start. */
static void switch_to_int3(struct tracer *tr)
{
	tr->to_int3 = false;
	/* a vfork parent waits for its child uninterruptibly: not before
	 * the child let the memory go */
	for (size_t i = 0; i < tr->nprocs; i++)
		if (tr->procs[i]->probes.to_int3 &&
		    tr->procs[i]->probes.vfork_child) {
			tr->to_int3 = true;
			return;
		}
	if (!tracer_quiesce(tr)) {
		tr->fatal = true;
		return;
	}
	/* a thread to inject system calls in: one stopped outside them */
	for (int again = 0; again < 20; again++) {
		bool ready = true;

		/* asked to stop meanwhile: the detach (with every thread
		 * stopped, or all but those that cannot answer) comes next,
		 * the held threads let go with the others */
		if (stop_requested)
			return;

		for (size_t i = 0; i < tr->nprocs; i++)
			if (tr->procs[i]->probes.to_int3 &&
			    !tr->procs[i]->exited &&
			    !syscall_thread(tr, tr->procs[i]))
				ready = false;
		if (ready)
			break;
		tracer_resume_all(tr);
		if (!tracer_quiesce(tr)) {
			tr->fatal = true;
			return;
		}
	}
	for (size_t i = 0; i < tr->nprocs; i++) {
		struct process *p = tr->procs[i];
		pid_t tid = syscall_thread(tr, p);
		int64_t before, after;

		if (!p->probes.to_int3 || p->exited || p->memfd < 0 ||
		    !p->probes.on)
			continue;
		before = process_rss(tr, p, tid);
		probes_drain(tr, p);
		evacuate(tr, p);
		probes_restore(p, p->memfd);
		probes_switch(tr, p, tid);
		if (process_rearm(tr, p, tid) != 0)
			tr->fatal = true;
		after = process_rss(tr, p, tid);
		if (before >= 0 && after >= 0)
			p->rss_bias += after - before;
	}
	tracer_resume_all(tr);
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];

		if (th->await_int3) {
			th->await_int3 = false;
			start_thread(tr, th);
		}
	}
}

/* Put every original byte back, take every thread out of the out-of-line
 * slots, the probes' stubs and off the breakpoints, and let every thread
 * go, with the signal it was stopped for.  The slot area stays mapped: a
 * signal frame may still return into it, and it jumps back by itself.
 * The next attach uses the areas again unless one may (areas.c). */
void tracer_detach_all(struct tracer *tr)
{
	for (size_t i = 0; i < tr->nprocs; i++) {
		struct process *p = tr->procs[i];

		if (!p->exited && p->memfd >= 0 && p->probes.on) {
			probes_drain(tr, p);
			evacuate(tr, p);
		}
		if (!p->exited && p->memfd >= 0) {
			process_restore_bytes(p, p->memfd);
			probes_restore(p, p->memfd);
			/* a thread that did not stop may be inside a probe:
			 * then the probes are only turned off, what they use
			 * stays */
			probes_unload(tr, p, all_of_stopped(tr, p) ?
					     syscall_thread(tr, p) : 0);
			areas_retire(p, p->memfd, all_of_stopped(tr, p) &&
						  threads_out(tr, p));
		}
	}
	for (size_t i = 0; i < tr->threads.n; i++) {
		struct thread *th = &tr->threads.threads[i];
		struct process *p = th->proc;
		regs_t r;

		if (p && ptrace(PTRACE_GETREGS, th->tid, 0, &r) == 0 &&
		    leave_slot(p, &r))
			ptrace(PTRACE_SETREGS, th->tid, 0, &r);
		ptrace(PTRACE_DETACH, th->tid, 0,
		       (long)signal_still_due(th->tid,
				with_owed(th, th->tid, th->pending_sig, false)));
	}
	thread_table_free(&tr->threads);
	for (size_t i = 0; i < tr->nprocs; i++)
		if (!tr->procs[i]->exited)
			process_end(tr->procs[i]);
}

/* The main loop: until no tracee is left, a fatal error, or a requested
 * stop (attach mode's signals, --duration) has detached everything. */
void tracer_run(struct tracer *tr)
{
	struct event ev;
	int r;

	for (;;) {
		forward_signal(tr);
		if (tr->opts->tick)
			tr->opts->tick(tr->opts->tick_arg, tr->leader);
		if (stop_requested) {
			tr->detaching = true;
			if (!tracer_quiesce(tr))
				tr->fatal = true;
			tracer_detach_all(tr);
			return;
		}
		r = next_event(tr, &ev);
		if (r == 0)
			return;
		if (r > 0 && !dispatch_event(tr, &ev))
			tr->fatal = true;
		if (tr->fatal || tr->list_done)
			return;
		if (tr->to_int3 && !stop_requested)
			switch_to_int3(tr);
		if (tr->world_sync && !stop_requested)
			world_sync(tr);
	}
}

/* ---- the last resort: out of memory --------------------------------- */

/* Is a SIGTRAP sent by the kernel (an int3) queued for thread TID? */
static bool trap_queued(pid_t tid)
{
	struct __ptrace_peeksiginfo_args a = { .off = 0, .flags = 0, .nr = 8 };
	siginfo_t q[8];
	long n = ptrace(PTRACE_PEEKSIGINFO, tid, &a, q);

	for (long i = 0; i < n; i++)
		if (q[i].si_signo == SIGTRAP && q[i].si_code == SI_KERNEL)
			return true;
	return false;
}

/* Detach a stopped thread as it would run untraced: off our int3 (rewound
 * onto the site, whose original byte is back) and out of any slot.  False
 * when it is not stopped (yet). */
static bool rescue_thread(struct thread *th, pid_t tid,
			  int sig)
{
	struct process *p = th ? th->proc : NULL;
	bool trap;
	siginfo_t si;
	regs_t r;

	if (ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
		return errno == ESRCH && kill(tid, 0) != 0;	/* gone */
	trap = p && ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 &&
	       si.si_signo == SIGTRAP;
	if (trap && (si.si_code >> 8) != 0 && trap_queued(tid)) {
		/* an event stop (our interrupt) that came before the
		 * SIGTRAP of an int3 it had just run: detached now, it
		 * would die of it.  Let it take the signal, to a stop
		 * where it is judged as below. */
		ptrace(PTRACE_CONT, tid, 0, 0);
		return false;
	}
	if (trap && si.si_code == SI_KERNEL) {
		if (bp_table_find(&p->bps, arch_pc(&r) - 1) &&
		    arch_pc(&r) != th->resume_pc) {
			arch_set_pc(&r, arch_pc(&r) - 1);
			sig = 0;
		} else if (probes_own_trap(p, arch_pc(&r))) {
			/* the probe code's own int3 (a nop now): on */
			sig = 0;
		}
	}
	if (p)
		leave_slot(p, &r);
	ptrace(PTRACE_SETREGS, tid, 0, &r);
	ptrace(PTRACE_DETACH, tid, 0, (long)sig);
	return true;
}

/* Out of memory with tracees in our hands: leave them as they would be
 * untraced, allocating nothing.  Every original byte goes back, every
 * thread is stopped, taken off our breakpoints and detached.  Launch
 * mode: then the program runs on untraced, and iprofmem waits for it and
 * exits with its status. */
static void emergency_detach(void)
{
	struct tracer *tr = live_tracer;
	size_t left = 0;
	int status, ended = 0;
	bool leader_gone = false;
	pid_t w;

	if (!tr)
		return;
	live_tracer = NULL;
	for (size_t i = 0; i < tr->nprocs; i++)
		if (!tr->procs[i]->exited && tr->procs[i]->memfd >= 0) {
			process_restore_bytes(tr->procs[i], tr->procs[i]->memfd);
			probes_restore(tr->procs[i], tr->procs[i]->memfd);
			if (tr->procs[i]->probes.on)
				ring_abandon(&tr->procs[i]->probes.rd);
		}
	for (size_t i = 0; i < tr->threads.n; i++)
		ptrace(PTRACE_INTERRUPT, tr->threads.threads[i].tid, 0, 0);
	/* a stop waited for whose thread did not make it into the table
	 * (the allocation that failed was for it): no wait reports it
	 * again, so it is let go now or stays stopped for ever */
	for (int i = 0; i < 2; i++)
		if (in_hand[i] > 0 && !thread_find(&tr->threads, in_hand[i]))
			rescue_thread(NULL, in_hand[i], 0);
	for (int round = 0; round < 400; round++) {
		/* new threads and processes whose creation was not seen */
		while ((w = waitpid(-1, &status, WNOHANG | __WALL)) > 0)
			if (WIFSTOPPED(status) && !thread_find(&tr->threads, w))
				ptrace(PTRACE_DETACH, w, 0, 0);
			else if (w == tr->leader && !WIFSTOPPED(status))
				ended = status, leader_gone = true;
		left = 0;
		for (size_t i = 0; i < tr->threads.n; i++) {
			struct thread *th = &tr->threads.threads[i];

			if (!th->rescued)
				th->rescued = rescue_thread(th, th->tid,
							    th->pending_sig);
			left += !th->rescued;
		}
		if (!left)
			break;
		usleep(5000);
	}
	if (left)
		warn_msg("%zu threads did not stop to be detached", left);
	if (tr->attach_mode || tr->leader <= 0) {
		error_msg("every traced process was left to run untraced");
		return;
	}
	error_msg("the program runs on untraced");
	/* until the program ends; a thread whose creation came too late
	 * for the rounds above stops here, and is let go as it is */
	while (!leader_gone) {
		w = waitpid(-1, &status, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		if (w == tr->leader && !WIFSTOPPED(status))
			ended = status, leader_gone = true;
		else if (WIFSTOPPED(status))
			rescue_thread(NULL, w, status >> 16 ? 0 :
				      WSTOPSIG(status));
	}
	status = ended;
	exit(WIFEXITED(status) ? WEXITSTATUS(status) :
	     WIFSIGNALED(status) ? 128 + WTERMSIG(status) : EXIT_IPROFMEM);
}

void tracer_set_live(struct tracer *tr)
{
	live_tracer = tr;
	util_on_out_of_memory(tr ? emergency_detach : NULL);
}

void tracer_free(struct tracer *tr)
{
	if (live_tracer == tr)
		tracer_set_live(NULL);
	for (size_t i = 0; i < tr->nprocs; i++)
		probes_forget(tr, tr->procs[i]);
	if (tr->opts->stats)
		probes_print_stats(tr);
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
