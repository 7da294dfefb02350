/* The program's own SIGTRAP handler, kept working under our breakpoints.
 *
 * An int3 executed while SIGTRAP is blocked makes the kernel unblock it and
 * reset its action to SIG_DFL (a forced signal must not be lost).  A program
 * that catches SIGTRAP runs its handler with SIGTRAP blocked, so the first
 * traced function called from the handler would silently reset the handler,
 * and the program's next SIGTRAP would kill it.
 *
 * So: when a SIGTRAP of the program's own (raise, kill, its own int3) is about
 * to be delivered and it has a handler, its action is read with an injected
 * rt_sigaction and the process is guarded.  In a guarded process, after each
 * of our breakpoints, /proc/TID/status says whether the handler is still
 * there; if not, it is put back, and SIGTRAP blocked again in the thread, as
 * it was.  Only programs that catch SIGTRAP pay for the check. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>

#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

enum { KERNEL_SIGSET_SIZE = 8 };

/* Does the thread's process catch SIGTRAP? */
static bool catches_sigtrap(pid_t tid)
{
	return status_mask(tid, "SigCgt") & sig_bit(SIGTRAP);
}

/* sa_flags of the kernel's struct sigaction: after the handler. */
static uint64_t act_flags(const struct process *p)
{
	uint64_t flags;

	memcpy(&flags, p->trap_act + 8, sizeof(flags));
	return flags;
}

/* rt_sigaction(SIGTRAP, set ? p->trap_act : NULL, set ? NULL : scratch)
 * in the stopped thread, through the thread's stack below its red zone.
 * A SIGTRAP that came meanwhile is in *deferred. */
static int trap_sigaction(struct process *p, pid_t tid, bool set,
			  siginfo_t *deferred)
{
	uint64_t scratch;
	regs_t r;
	long args[6] = { SIGTRAP, 0, 0, KERNEL_SIGSET_SIZE, 0, 0 };

	if (!p->stub || ptrace(PTRACE_GETREGS, tid, 0, &r) != 0)
		return -1;
	scratch = arch_scratch_below(&r) - sizeof(p->trap_act);
	if (set && mem_write(p->memfd, scratch, p->trap_act,
			     sizeof(p->trap_act)) != 0)
		return -1;
	probes_gate_touch(p);	/* the stack below, written by us */
	args[set ? 1 : 2] = (long)scratch;
	if (arch_inject_syscall(tid, p->memfd, p->stub, SYS_rt_sigaction,
				args, deferred) != 0)
		return -1;
	if (!set && mem_read(p->memfd, scratch, p->trap_act,
			     sizeof(p->trap_act)) != 0)
		return -1;
	return 0;
}

void trap_guard_learn(struct process *p, pid_t tid)
{
	siginfo_t si;

	if (!catches_sigtrap(tid) ||
	    ptrace(PTRACE_GETSIGINFO, tid, 0, &si) != 0)
		return;
	/* the injection's own int3 stops the thread again: the SIGTRAP to
	 * deliver then must be this one, with its siginfo */
	/* (a SIGTRAP that comes meanwhile merges with this one, as a
	 * second pending SIGTRAP would) */
	p->trap_guard = trap_sigaction(p, tid, false, NULL) == 0;
	ptrace(PTRACE_SETSIGINFO, tid, 0, &si);
	if (p->trap_guard && (act_flags(p) & SA_RESETHAND))
		p->trap_guard = false;	/* a one-shot handler: it goes anyway */
	else if (!p->trap_guard)
		warn_msg("process %d catches SIGTRAP and its handler could not "
			 "be read: a traced function called with SIGTRAP "
			 "blocked will reset it", (int)p->pid);
}

int trap_guard_check(struct process *p, pid_t tid, const siginfo_t *pending)
{
	siginfo_t deferred;
	uint64_t mask;

	if (catches_sigtrap(tid))
		return pending ? SIGTRAP : 0;
	/* our int3 reset it: it was blocked, the kernel unblocked it */
	if (trap_sigaction(p, tid, true, &deferred) != 0) {
		warn_msg("process %d: cannot put its SIGTRAP handler back: %s",
			 (int)p->pid, strerror(errno));
		p->trap_guard = false;
		return pending ? SIGTRAP : 0;
	}
	if (ptrace(PTRACE_GETSIGMASK, tid, sizeof(mask), &mask) == 0) {
		mask |= sig_bit(SIGTRAP);
		ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask);
	}
	/* the thread is now in the stub's SIGTRAP stop: the program's
	 * SIGTRAP, if one came, is delivered from there, with its siginfo
	 * (blocked again, it waits until the handler is done, as it would
	 * have) */
	if (pending)
		deferred = *pending;
	if (!deferred.si_signo ||
	    ptrace(PTRACE_SETSIGINFO, tid, 0, &deferred) != 0)
		return 0;
	return SIGTRAP;
}
