/* Processes: the traced address spaces, their /proc files and RSS. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "report/report.h"
#include "tracer/arch.h"
#include "tracer/internal.h"
#include "tracer/memio.h"
#include "util.h"

char *tracer_read_cmdline(pid_t pid)
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
	return xstrdup(procfs_cmdline(buf, (size_t)n));
}

struct process *process_new(struct tracer *tr, pid_t pid,
			    const struct report *keys_from, const char *cmdline)
{
	struct process *p = xcalloc(1, sizeof(*p));
	struct trace_result *res = tr->res;

	p->pid = pid;
	p->memfd = -1;
	p->pagemap = -1;
	p->rss.fd = -1;
	p->rep = tr->shared;
	if (tr->opts->per_process) {
		p->rep = keys_from ? report_clone_keys(keys_from) : report_new();
		if (!p->rep) {
			out_of_memory();
		}
		report_set_flat(p->rep, report_is_flat(tr->shared));
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

struct process *process_find(struct tracer *tr, pid_t pid)
{
	for (size_t i = 0; i < tr->nprocs; i++)
		if (tr->procs[i]->pid == pid && !tr->procs[i]->exited)
			return tr->procs[i];
	return NULL;
}

void process_close_files(struct process *p)
{
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	if (p->pagemap >= 0)
		close(p->pagemap);
	p->pagemap = -1;
	p->restorer = 0;
	p->restorer_looked = false;
	rss_close(&p->rss);
}

int process_open_files(struct tracer *tr, struct process *p)
{
	process_close_files(p);
	p->memfd = mem_open(p->pid);
	if (p->memfd < 0 || rss_open(&p->rss, p->pid, tr->opts->rss_source) != 0)
		return -1;
	return 0;
}

void process_set_cmdline(struct tracer *tr, struct process *p)
{
	struct traced_process *r;

	if (!tr->opts->per_process)
		return;
	r = &tr->res->procs[p->result];
	free(r->cmdline);
	r->cmdline = tracer_read_cmdline(p->pid);
}

void process_end(struct process *p)
{
	p->exited = true;
	process_close_files(p);
	process_forget_modules(p);
}

/* RSS of the process.  The leader's /proc file reads zero once the leader
 * thread has exited while others run on: then read through this thread. */
int64_t process_rss(struct tracer *tr, struct process *p, pid_t tid)
{
	int64_t rss = rss_read(&p->rss);

	if (rss > 0)
		return rss - p->rss_bias;
	rss_close(&p->rss);
	if (rss_open(&p->rss, tid, tr->opts->rss_source) != 0)
		return -1;
	rss = rss_read(&p->rss);
	return rss < 0 ? rss : rss - p->rss_bias;
}

/* Remove every thread of p (exec: the other threads are gone). */
void process_drop_threads(struct tracer *tr, struct process *p)
{
	for (size_t i = 0; i < tr->threads.n; ) {
		struct thread *th = &tr->threads.threads[i];

		if (th->proc == p)
			thread_remove(&tr->threads, th->tid);
		else
			i++;
	}
}

uint64_t sig_bit(int sig)
{
	return 1ull << (sig - 1);
}

bool read_proc_file(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

uint64_t status_mask(pid_t tid, const char *field)
{
	char buf[8192];

	return read_proc_file(tid, "status", buf, sizeof(buf)) ?
	       procfs_status_mask(buf, field) : 0;
}

int signal_still_due(pid_t tid, int sig)
{
	char buf[8192];

	if (sig != SIGSTOP && sig != SIGTSTP && sig != SIGTTIN &&
	    sig != SIGTTOU)
		return sig;
	if (!read_proc_file(tid, "status", buf, sizeof(buf)))
		return sig;
	/* a handler runs whatever came after */
	if (sig != SIGSTOP && (procfs_status_mask(buf, "SigCgt") & sig_bit(sig)))
		return sig;
	return (procfs_status_mask(buf, "SigPnd") |
		procfs_status_mask(buf, "ShdPnd")) & sig_bit(SIGCONT) ? 0 : sig;
}
