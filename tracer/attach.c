/* Attach mode: seize every thread of running processes, trace, and detach
 * leaving them exactly as if they had never been traced. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "procfs.h"
#include "tracer/internal.h"
#include "util.h"

/* No EXITKILL: if iprofmem dies, the process must live on. */
#define ATTACH_OPTIONS (PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | \
			PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | \
			PTRACE_O_TRACEVFORKDONE)

/* The value of "Key:" in /proc/PID/status, or -1. */
static long status_field(pid_t pid, const char *key)
{
	char buf[8192];

	return read_proc_file(pid, "status", buf, sizeof(buf)) ?
	       procfs_status_field(buf, key) : -1;
}

/* The one-letter state of /proc/PID/stat, or 0 when there is no such
 * process. */
static char process_state(pid_t pid)
{
	char buf[512];

	return read_proc_file(pid, "stat", buf, sizeof(buf)) ?
	       procfs_stat_state(buf) : 0;
}

/* Why the kernel refused PTRACE_SEIZE, in words a user can act on. */
static void explain_eperm(pid_t pid)
{
	long tracer = status_field(pid, "TracerPid");
	long uid = status_field(pid, "Uid");
	FILE *f;
	int scope = 0;

	if (tracer > 0) {
		char *cmd = tracer_read_cmdline((pid_t)tracer);

		error_msg("cannot attach to %d: it is already traced by process "
			  "%ld (%s); detach that tracer first", (int)pid, tracer,
			  cmd);
		free(cmd);
		return;
	}
	if (uid >= 0 && (uid_t)uid != geteuid() && geteuid() != 0) {
		error_msg("cannot attach to %d: it belongs to uid %ld; run "
			  "iprofmem as that user or as root", (int)pid, uid);
		return;
	}
	f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope > 0)
		error_msg("cannot attach to %d: the kernel's ptrace policy "
			  "forbids it (/proc/sys/kernel/yama/ptrace_scope is %d; "
			  "run as root or set it to 0)", (int)pid, scope);
	else
		error_msg("cannot attach to %d: Operation not permitted (the "
			  "process may be non-dumpable, e.g. setuid); run "
			  "iprofmem as root", (int)pid);
}

static int check_attachable(pid_t pid)
{
	char state;

	if (pid == getpid()) {
		error_msg("cannot attach to %d: that is iprofmem itself",
			  (int)pid);
		return -1;
	}
	if (pid == getppid()) {
		error_msg("cannot attach to %d: that is iprofmem's parent, which "
			  "waits for iprofmem", (int)pid);
		return -1;
	}
	state = process_state(pid);
	if (!state) {
		error_msg("cannot attach to %d: no such process; check the "
			  "PID", (int)pid);
		return -1;
	}
	if (state == 'Z' || state == 'X') {
		error_msg("cannot attach to %d: it is a zombie (it has exited "
			  "and waits for its parent): nothing is left to trace",
			  (int)pid);
		return -1;
	}
	if (status_field(pid, "Tgid") != pid) {
		error_msg("cannot attach to %d: it is a thread; give the "
			  "process ID (%ld)", (int)pid, status_field(pid, "Tgid"));
		return -1;
	}
	return 0;
}

/* Seize and interrupt one thread.  Returns 1 when it is newly ours, 0 when
 * it is gone or already ours, -1 on refusal. */
static int seize_thread(struct tracer *tr, struct process *p, pid_t tid)
{
	struct thread *th;

	if (thread_find(&tr->threads, tid))
		return 0;
	if (ptrace(PTRACE_SEIZE, tid, 0, (long)ATTACH_OPTIONS) != 0) {
		if (errno == ESRCH)
			return 0;
		/* auto-attached already, as the child of a thread we hold */
		if (errno == EPERM && status_field(tid, "TracerPid") == getpid())
			return 0;
		return -1;
	}
	ptrace(PTRACE_INTERRUPT, tid, 0, 0);
	th = thread_add(&tr->threads, tid);
	th->proc = p;
	th->started = true;
	return 1;
}

/* Every thread listed in /proc/PID/task, again and again until a pass
 * finds none new: threads may be created while we seize.  Returns how
 * many were new, or -1. */
static int seize_all_threads(struct tracer *tr, struct process *p)
{
	char path[64];
	bool changed = true;
	int r, added = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	while (changed) {
		DIR *d = opendir(path);
		struct dirent *e;

		changed = false;
		if (!d)
			return thread_find(&tr->threads, p->pid) ? 0 : -1;
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);

			if (tid <= 0)
				continue;
			r = seize_thread(tr, p, tid);
			if (r < 0 && tid == p->pid) {
				closedir(d);
				explain_eperm(p->pid);
				return -1;
			}
			changed |= r > 0;
			added += r > 0;
		}
		closedir(d);
	}
	return added;
}

/* Quiescing rounds after which threads still come that no round held:
 * a process that makes them faster than they can be seized. */
#define SEIZE_ROUNDS 64

/* Stop every thread of the processes, those born while we seized too.
 * Whether a clone's child is traced is decided as the call starts: a
 * thread seized during its clone makes a child that is not, which a pass
 * over /proc/PID/task may come too early to see, and which would run
 * into the breakpoints.  Once its creator has stopped, the child is
 * listed: so the threads are listed again after each quiesce, until no
 * thread is there that we do not hold.  Returns 0 or an exit status. */
static int stop_all_threads(struct tracer *tr)
{
	for (int round = 0; round < SEIZE_ROUNDS; round++) {
		int added = 0, r;

		if (!tracer_quiesce(tr))
			return EXIT_IPROFMEM;
		for (size_t i = 0; i < tr->nprocs; i++) {
			if (tr->procs[i]->exited)
				continue;
			r = seize_all_threads(tr, tr->procs[i]);
			added += r > 0 ? r : 0;
		}
		if (!added)
			return 0;
	}
	error_msg("cannot attach: threads keep being created faster than "
		  "they can be stopped");
	return EXIT_ATTACH;
}

/* A live thread of p, to run the injected mmap in: one stopped by the
 * interrupt or a signal, not inside a system call.  0 when there is none;
 * -1 when p has no live thread at all. */
static pid_t injection_thread(const struct tracer *tr, const struct process *p)
{
	pid_t alive = -1;

	for (size_t i = 0; i < tr->threads.n; i++) {
		const struct thread *th = &tr->threads.threads[i];

		if (th->proc != p || process_state(th->tid) == 'Z')
			continue;
		if (!th->event_stop)
			return th->tid;
		alive = 0;
	}
	return alive;
}

/* All threads are stopped: load each process's image and insert the
 * breakpoints. */
static int trace_images(struct tracer *tr)
{
	int ret;

	for (size_t i = 0; i < tr->nprocs; i++) {
		struct process *p = tr->procs[i];
		pid_t tid = injection_thread(tr, p);

		/* every thread inside a system call (a clone in progress):
		 * let them out of it and stop them again */
		for (int again = 0; tid == 0 && again < 20; again++) {
			tracer_resume_all(tr);
			if (!tracer_quiesce(tr))
				return -1;
			tid = injection_thread(tr, p);
		}
		if (p->exited)
			continue;
		if (tid < 0) {
			error_msg("cannot attach to %d: the process exited "
				  "while being attached", (int)p->pid);
			return -1;
		}
		p->exec_seen = true;
		if (process_open_files(tr, p) != 0) {
			error_msg("cannot attach to %d: /proc/%d: %s",
				  (int)p->pid, (int)p->pid, strerror(errno));
			return -1;
		}
		tr->world_stopped = true;
		ret = process_sync_modules(tr, p, tid, true);
		tr->world_stopped = false;
		if (ret != 0 || tracer_started(tr, p) != 0)
			return -1;
	}
	return 0;
}

static bool any_alive(const struct tracer *tr)
{
	for (size_t i = 0; i < tr->nprocs; i++)
		if (!tr->procs[i]->exited)
			return true;
	return false;
}

int tracer_attach(const pid_t *pids, size_t npids, struct report *shared,
		  const struct tracer_opts *opts, struct trace_result *res)
{
	struct tracer tr = { .opts = opts, .shared = shared, .res = res,
			     .attach_mode = true };
	int ret = 0;

	memset(res, 0, sizeof(*res));
	for (size_t i = 0; i < npids; i++)
		if (check_attachable(pids[i]) != 0)
			return EXIT_ATTACH;
	tracer_signals(&tr);
	tracer_start_clock(&tr);
	tracer_set_live(&tr);
	for (size_t i = 0; i < npids && ret == 0; i++) {
		char *cmd = tracer_read_cmdline(pids[i]);
		struct process *p = process_new(&tr, pids[i], NULL, cmd);

		free(cmd);
		if (seize_all_threads(&tr, p) < 0)
			ret = EXIT_ATTACH;
		tracer_set_wake(pids[i]);
	}
	/* stop them all, then change their memory, then let them run */
	if (ret == 0)
		ret = stop_all_threads(&tr);
	if (ret == 0 && !any_alive(&tr)) {
		error_msg("cannot attach to %d: the process exited while "
			  "being attached", (int)pids[0]);
		ret = EXIT_ATTACH;
	}
	if (ret == 0 && trace_images(&tr) != 0)
		ret = tr.exit_code ? tr.exit_code : EXIT_ATTACH;
	if (ret == 0 && tr.list_done) {
		/* --list-funcs: the list is out; leave the processes be */
		tr.detaching = true;
		tracer_detach_all(&tr);
		tracer_free(&tr);
		return 0;
	}
	if (ret != 0) {
		tr.detaching = true;
		tracer_quiesce(&tr);
		tracer_detach_all(&tr);
		tracer_free(&tr);
		return ret;
	}
	tracer_resume_all(&tr);
	tracer_run(&tr);
	if (tr.fatal && !tr.detaching) {
		/* an error mid-run: still leave the processes unharmed */
		tr.detaching = true;
		tracer_quiesce(&tr);
		tracer_detach_all(&tr);
		ret = EXIT_IPROFMEM;
	}
	tracer_free(&tr);
	return ret;
}
